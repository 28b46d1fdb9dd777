"""Registering an organization's Twilio account: claimed only with proof of holding it.

An account SID is unique across organizations (a webhook is matched to its organization
by it), so a SID given without proof would let one tenant learn that another registered
it ("already exists") or claim a SID before its owner does. The proof is Twilio's own:
``GET /2010-04-01/Accounts/{sid}.json`` with the SID and auth token as basic auth
answers 200 only when the token is that account's. It is asked whenever the SID or
the token is set; ``TWILIO_API_BASE_URL`` says where Twilio's REST API is (tests run a
fake one on a local port).

Refused credentials and a SID another organization holds get the same answer, so the
answer says nothing about other tenants; the operator finds the second case in the log.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient

from contactcenter.errors import ApplicationError
from contactcenter.models import Organization
from contactcenter.services import audit
from telephony.models import TwilioAccount

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
REFUSED = (
    "Twilio did not accept this auth token for this account SID (or the account cannot "
    "be registered here): check both in the Twilio console."
)


def credentials_accepted(
    *, account_sid: str, auth_token: str, http_client: HttpClient | None = None
) -> bool:
    """Whether Twilio's REST API takes ``auth_token`` for ``account_sid``. Raises
    ApplicationError (503) when Twilio cannot be asked."""
    if not (auth_token.isascii() and auth_token.isprintable()):
        return False  # no Twilio token is anything else, and basic auth could not carry it
    client = http_client or TwilioHttpClient(timeout=TIMEOUT_SECONDS)
    url = f"{settings.TWILIO_API_BASE_URL.rstrip('/')}/2010-04-01/Accounts/{account_sid}.json"
    try:
        response = client.request("GET", url, auth=(account_sid, auth_token))
    except requests.RequestException as exc:
        logger.warning("Twilio credentials check for %s failed: %s", account_sid, exc)
        raise ApplicationError(
            "Twilio could not be reached to check the credentials; try again later.",
            code="twilio_unreachable",
            status=503,
        ) from None
    if response.status_code in (401, 403, 404):
        return False
    if response.status_code != 200:
        logger.warning(
            "Twilio credentials check for %s: HTTP %s", account_sid, response.status_code
        )
        raise ApplicationError(
            "Twilio could not check the credentials; try again later.",
            code="twilio_unreachable",
            status=503,
        )
    return True


def _refused() -> ApplicationError:
    return ApplicationError(REFUSED, code="twilio_credentials_refused", field="auth_token")


def _save(
    account: TwilioAccount,
    *,
    prove: bool,
    http_client: HttpClient | None,
    before: dict[str, Any] | None = None,
) -> TwilioAccount:
    # The database's own uniqueness of the SID is checked by the insert below, not by
    # full_clean: its message would say the SID is registered elsewhere.
    account.full_clean(validate_unique=False)
    if prove and not credentials_accepted(
        account_sid=account.account_sid, auth_token=account.auth_token, http_client=http_client
    ):
        raise _refused()
    elsewhere = TwilioAccount.objects.filter(account_sid=account.account_sid).exclude(
        organization_id=account.organization_id
    )
    if elsewhere.exists():
        logger.warning(
            "Twilio account %s is registered by another organization; refused for "
            "organization %s (an operator may move it)",
            account.account_sid,
            account.organization_id,
        )
        raise _refused()
    try:
        with transaction.atomic():
            account.save()
            if before is None:
                audit.created(account)  # the auth token and key secret redacted
            else:
                audit.updated(account, before)
    except IntegrityError as exc:
        if elsewhere.exists():  # another organization won the race for the SID
            raise _refused() from None
        raise ApplicationError(
            "This conflicts with an existing record.", code="conflict", status=409
        ) from exc
    return account


def twilio_account_create(
    *, organization: Organization, values: dict[str, Any], http_client: HttpClient | None = None
) -> TwilioAccount:
    """Register the organization's Twilio account once Twilio accepts its credentials."""
    account = TwilioAccount(organization=organization, **values)
    return _save(account, prove=True, http_client=http_client)


def twilio_account_update(
    *, account: TwilioAccount, values: dict[str, Any], http_client: HttpClient | None = None
) -> TwilioAccount:
    """Change the account; a new SID or auth token is proved again."""
    prove = any(
        field in values and values[field] != getattr(account, field)
        for field in ("account_sid", "auth_token")
    )
    before = audit.snapshot(account)
    for field, value in values.items():
        setattr(account, field, value)
    return _save(account, prove=prove, http_client=http_client, before=before)
