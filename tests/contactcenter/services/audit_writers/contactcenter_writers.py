"""contactcenter.services' writers: the organization, its people and their sign-ins,
its configuration, calls, callbacks and queue alerts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from contactcenter.enums import AgentState, CallStatus, Role
from contactcenter.models import Agent, Call, Callback, CallQueue, QueueMembership
from contactcenter.selectors.wallboard import figures_by_queue
from contactcenter.services import (
    agents,
    anonymize,
    apikeys,
    audit,
    audit_purge,
    callback_offers,
    callbacks,
    calls,
    config,
    invitations,
    organizations,
    queue_alerts,
    reports,
    sessions,
    signin,
    sweep,
)
from tests.contactcenter.services.audit_writers.world import PASSWORD, World, Writer, open_call
from tests.factories import make_call


def _invitation(w: World) -> Any:
    return invitations.invitation_create(
        organization=w.org,
        email="new@example.com",
        username="newbie@audited",
        role=Role.AGENT,
        base_url="http://testserver",
    )


def _expired_token(w: World) -> None:
    OutstandingToken.objects.create(
        user=w.floor.agent_member.user,
        jti="expired-one",
        token="x",
        expires_at=timezone.now() - timedelta(days=1),
    )


def _offered(w: World) -> Callback:
    """A due callback offered to the world's agent, a free member of its queue."""
    QueueMembership.objects.create(organization=w.org, queue=w.queue, agent=w.floor.agent)
    Agent.objects.filter(pk=w.floor.agent.pk).update(
        state=AgentState.AVAILABLE, state_changed_at=timezone.now()
    )
    callback = callbacks.callback_schedule(queue=w.queue, number="+15557650001")
    (offered,) = callback_offers.callbacks_offer(organization_id=w.org.pk, now=timezone.now())
    assert offered.pk == callback.pk
    return offered


def _dialing(w: World) -> Callback:
    return callback_offers.callback_offer_accept(callback_id=_offered(w).pk, agent=w.floor.agent)


def _settled(w: World) -> int:
    """A placed callback whose call (on the PBX asterisk:1) was answered, then settled."""
    callback = _dialing(w)
    call = open_call(w)
    Call.objects.filter(pk=call.pk).update(answered_at=timezone.now())
    Callback.objects.filter(pk=callback.pk).update(placed_call_sid=call.external_id)
    return callback_offers.callback_attempts_settle(organization_id=w.org.pk, now=timezone.now())


def _alerting_queue(w: World) -> CallQueue:
    """The world's queue with a caller waiting, over its threshold of none."""
    CallQueue.objects.filter(pk=w.queue.pk).update(alert_callers_waiting=0)
    call = make_call(w.org, queue=w.queue, status=CallStatus.QUEUED)
    Call.objects.filter(pk=call.pk).update(queued_at=timezone.now() - timedelta(seconds=10))
    return w.queue


WRITERS: dict[str, Writer] = {
    "contactcenter.services.agents.agent_set_state": (
        lambda w: agents.agent_set_state(agent=w.floor.agent, state="available"),
        "state_change",
    ),
    "contactcenter.services.agents.agent_choose_state": (
        lambda w: agents.agent_choose_state(agent=w.floor.agent, state="paused", reason="lunch"),
        "state_change",
    ),
    "contactcenter.services.apikeys.api_key_create": (
        lambda w: apikeys.api_key_create(organization=w.org, name="k"),
        "create",
    ),
    "contactcenter.services.apikeys.api_key_update": (
        lambda w: apikeys.api_key_update(
            api_key=apikeys.api_key_create(organization=w.org, name="k").api_key, name="k2"
        ),
        "update",
    ),
    "contactcenter.services.apikeys.api_key_rotate": (
        lambda w: apikeys.api_key_rotate(
            api_key=apikeys.api_key_create(organization=w.org, name="k").api_key
        ),
        "rotate",
    ),
    "contactcenter.services.apikeys.api_key_revoke": (
        lambda w: apikeys.api_key_revoke(
            api_key=apikeys.api_key_create(organization=w.org, name="k").api_key
        ),
        "revoke",
    ),
    "contactcenter.services.apikeys.api_key_touch": (
        lambda w: apikeys.api_key_touch(
            api_key=apikeys.api_key_create(organization=w.org, name="k").api_key,
            address="192.0.2.1",
        ),
        "api_key.use",
    ),
    "contactcenter.services.audit_purge.audit_purge": (
        lambda w: (
            audit.record_many(
                [
                    audit.Entry(
                        action="old",
                        organization_id=w.org.pk,
                        at=timezone.now() - timedelta(days=5000),
                    )
                ]
            ),
            audit_purge.audit_purge(),
        ),
        "purge",
    ),
    "contactcenter.services.calls.call_set_disposition": (
        lambda w: calls.call_set_disposition(
            call=make_call(w.org), disposition=w.disposition, actor=None
        ),
        "disposition_set",
    ),
    "contactcenter.services.calls.call_update_notes": (
        lambda w: calls.call_update_notes(call=make_call(w.org), notes="n", actor=None),
        "update",
    ),
    "contactcenter.services.config.config_row_create": (
        lambda w: config.config_row_create(
            model=CallQueue, organization=w.org, values={"name": "Q", "pbx_queue_name": "q"}
        ),
        "create",
    ),
    "contactcenter.services.config.config_row_update": (
        lambda w: config.config_row_update(instance=w.queue, values={"name": "Renamed"}),
        "update",
    ),
    "contactcenter.services.config.config_row_delete": (
        lambda w: config.config_row_delete(instance=w.queue),
        "delete",
    ),
    "contactcenter.services.invitations.invitation_create": (_invitation, "create"),
    "contactcenter.services.invitations.invitation_resend": (
        lambda w: invitations.invitation_resend(
            invitation=_invitation(w).invitation, base_url="http://testserver"
        ),
        "resend",
    ),
    "contactcenter.services.invitations.invitation_revoke": (
        lambda w: invitations.invitation_revoke(invitation=_invitation(w).invitation),
        "revoke",
    ),
    "contactcenter.services.invitations.invitation_accept": (
        lambda w: invitations.invitation_accept(
            token=_invitation(w).link.rstrip("/").rsplit("/", 1)[-1], password=PASSWORD
        ),
        "accept",
    ),
    "contactcenter.services.invitations.invitation_send": (
        lambda w: invitations.invitation_send(
            invitation_id=_invitation(w).invitation.pk, link="http://testserver/x"
        ),
        "send",
    ),
    "contactcenter.services.organizations.organization_create": (
        lambda w: organizations.organization_create(name="Another"),
        "create (no organization check)",
    ),
    "contactcenter.services.organizations.organization_update": (
        lambda w: organizations.organization_update(organization=w.org, name="Renamed"),
        "update",
    ),
    "contactcenter.services.organizations.member_create": (
        lambda w: organizations.member_create(
            organization=w.org, username="someone@audited", password=None
        ),
        "create",
    ),
    "contactcenter.services.organizations.member_update": (
        lambda w: organizations.member_update(
            membership=w.floor.agent_member, role=Role.SUPERVISOR
        ),
        "role_change",
    ),
    "contactcenter.services.organizations.agent_create": (
        lambda w: organizations.agent_create(organization=w.org, name="New", extension="4242"),
        "create",
    ),
    "contactcenter.services.organizations.agent_update": (
        lambda w: organizations.agent_update(agent=w.floor.agent, name="Renamed"),
        "update",
    ),
    "contactcenter.services.reports.stats_rollup_day": (
        lambda w: reports.stats_rollup_day(organization=w.org, day=date(2025, 3, 14)),
        "rollup",
    ),
    "contactcenter.services.reports.stats_rollup_recent": (
        lambda w: reports.stats_rollup_recent(organization=w.org),
        "rollup",
    ),
    "contactcenter.services.sessions.users_revoke_sessions": (
        lambda w: sessions.users_revoke_sessions(
            user_ids=[w.floor.agent_member.user.pk], reason=sessions.SIGNED_OUT
        ),
        "sessions_revoke",
    ),
    "contactcenter.services.sessions.user_revoke_sessions": (
        lambda w: sessions.user_revoke_sessions(
            user=w.floor.agent_member.user, reason=sessions.SIGNED_OUT
        ),
        "sessions_revoke",
    ),
    "contactcenter.services.sessions.tokens_flush_expired": (
        lambda w: (_expired_token(w), sessions.tokens_flush_expired()),
        "purge (no organization)",
    ),
    "contactcenter.services.signin.signin_failed": (
        lambda w: signin.signin_failed(
            username=w.floor.agent_member.user.username, address="192.0.2.9", path="/login/"
        ),
        "signin_failed",
    ),
    "contactcenter.services.signin.signin_succeeded": (
        lambda w: signin.signin_succeeded(
            user=w.floor.agent_member.user,
            username=w.floor.agent_member.user.username,
            address="192.0.2.9",
            path="/login/",
        ),
        "signin",
    ),
    "contactcenter.services.sweep.calls_sweep_stale": (
        lambda w: (open_call(w, hours=30), sweep.calls_sweep_stale(max_age_hours=12)),
        "close_stale",
    ),
    "contactcenter.services.anonymize.calls_anonymize": (
        lambda w: anonymize.calls_anonymize(
            organization_id=w.org.pk, call_ids=[make_call(w.org).pk], identifiers=["x"]
        ),
        "anonymize",
    ),
    "contactcenter.services.callbacks.callback_schedule": (
        lambda w: callbacks.callback_schedule(queue=w.queue, number="+15557650001"),
        "create",
    ),
    "contactcenter.services.callbacks.callback_cancel": (
        lambda w: callbacks.callback_cancel(
            callback=callbacks.callback_schedule(queue=w.queue, number="+15557650001")
        ),
        "cancel",
    ),
    "contactcenter.services.callbacks.callback_attempt_over": (
        lambda w: callbacks.callback_attempt_over(
            callback_id=_dialing(w).pk, outcome="busy", at=timezone.now()
        ),
        "attempt",
    ),
    "contactcenter.services.callbacks.callback_attempt_answered": (
        lambda w: callbacks.callback_attempt_answered(
            callback_id=_dialing(w).pk, connection_key="asterisk:1"
        ),
        "attempt (by the PBX)",
    ),
    "contactcenter.services.callback_offers.callbacks_offer": (_offered, "offer"),
    "contactcenter.services.callback_offers.callback_offer_accept": (_dialing, "accept"),
    "contactcenter.services.callback_offers.callback_offer_decline": (
        lambda w: callback_offers.callback_offer_decline(
            callback_id=_offered(w).pk, agent=w.floor.agent
        ),
        "decline",
    ),
    "contactcenter.services.callback_offers.callback_offers_expire": (
        lambda w: (
            _offered(w),
            callback_offers.callback_offers_expire(
                organization_id=w.org.pk, now=timezone.now() + timedelta(minutes=5)
            ),
        ),
        "offer_lapse",
    ),
    "contactcenter.services.callback_offers.callback_attempts_settle": (
        _settled,
        "attempt (by the PBX)",
    ),
    "contactcenter.services.queue_alerts.queue_alerts_evaluate": (
        lambda w: queue_alerts.queue_alerts_evaluate(
            organization_id=w.org.pk,
            figures=figures_by_queue(
                organization=_alerting_queue(w).organization,
                now=timezone.now(),
                with_agents=False,
            ),
        ),
        "queue_alert.raised (by the system)",
    ),
    "contactcenter.services.queue_alerts.queue_alerts_evaluate_organization": (
        lambda w: queue_alerts.queue_alerts_evaluate_organization(
            organization=_alerting_queue(w).organization
        ),
        "queue_alert.raised (by the system)",
    ),
    "contactcenter.services.queue_alerts.queue_alerts_evaluate_all": (
        lambda w: (_alerting_queue(w), queue_alerts.queue_alerts_evaluate_all()),
        "queue_alert.raised (by the system)",
    ),
}
