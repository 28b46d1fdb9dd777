"""Access tokens for the Twilio Voice JavaScript SDK in an agent's console.

A token lets its holder register as one Twilio Client identity and place calls through
the organization's TwiML app, so it is minted only for the logged-in agent, as that
agent's own identity, and lives minutes (``TWILIO_TOKEN_TTL_SECONDS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from contactcenter.errors import ApplicationError
from contactcenter.models import Agent
from telephony.models import TwilioAccount


@dataclass(frozen=True)
class VoiceToken:
    token: str
    identity: str
    expires_at: datetime


def agent_identity(agent: Agent) -> str:
    """The agent's stable Twilio Client identity; inbound ``<Client>`` dials use it too."""
    return agent.twilio_identity


def _softphone_accounts(organization_id: int) -> QuerySet[TwilioAccount]:
    return (
        TwilioAccount.objects.for_organization(organization_id)
        .filter(is_enabled=True)
        .exclude(api_key_sid="")
        .exclude(api_key_secret="")
        .exclude(twiml_app_sid="")
    )


def twilio_softphone_ready(*, organization_id: int) -> bool:
    """Whether the organization's agents can get voice tokens (the console asks then)."""
    return bool(_softphone_accounts(organization_id).exists())


def twilio_softphone_account(*, organization_id: int) -> TwilioAccount:
    """The organization's enabled Twilio account, set up for the softphone, or a 409."""
    account = _softphone_accounts(organization_id).first()
    if account is None:
        raise ApplicationError(
            "Your organization has no Twilio account set up for the browser softphone.",
            code="twilio_not_configured",
            status=409,
        )
    return account


def twilio_voice_token_create(*, agent: Agent, now: datetime | None = None) -> VoiceToken:
    """Mint a voice token for ``agent`` (active, of an organization with a softphone
    Twilio account): incoming calls to its identity, outgoing through the TwiML app."""
    if not agent.is_active:
        raise ApplicationError("Your agent profile is not active.", status=403)
    account = twilio_softphone_account(organization_id=agent.organization_id)
    issued = now or timezone.now()
    ttl = settings.TWILIO_TOKEN_TTL_SECONDS
    identity = agent_identity(agent)
    token = AccessToken(
        account.account_sid,
        account.api_key_sid,
        account.api_key_secret,
        identity=identity,
        ttl=ttl,
        nbf=int(issued.timestamp()),
        valid_until=int(issued.timestamp()) + ttl,
    )
    token.add_grant(VoiceGrant(outgoing_application_sid=account.twiml_app_sid, incoming_allow=True))
    return VoiceToken(
        token=token.to_jwt(), identity=identity, expires_at=issued + timedelta(seconds=ttl)
    )
