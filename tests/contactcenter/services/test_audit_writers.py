"""Every service that writes leaves an audit entry.

The services are found, not listed by hand: every public function of every module
under contactcenter/services, crm/services and telephony's services is either in
WRITERS (called here on a small organization, and the entry it must leave checked)
or in NOT_WRITERS with the reason it writes nothing of its own. A new function in
those packages is in neither, and this test fails until it says which it is.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

import contactcenter.services
import crm.services
from contactcenter import facts as te
from contactcenter.enums import AgentState, CallStatus, Role
from contactcenter.models import (
    Agent,
    AuditEntry,
    Call,
    Callback,
    CallDisposition,
    CallQueue,
    Organization,
    QueueMembership,
    Recording,
    Voicemail,
)
from contactcenter.models.audit import ActorKind
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
    media_links,
    monitoring,
    organizations,
    queue_alerts,
    recording_files,
    recording_retention,
    recordings,
    reports,
    sessions,
    signin,
    sweep,
    voicemail_files,
    voicemail_retention,
    voicemails,
)
from contactcenter.services.telephony import apply, stopped
from contactcenter.services.telephony.callbacks import keep_requested_callbacks
from contactcenter.services.telephony.calls import Lookups
from crm.enums import NotificationKind
from crm.models import Case, CaseCategory, Contact, Notification, OutboundEmail
from crm.services import (
    cases,
    categories,
    contacts,
    dispositions,
    emails,
    erasure,
    legal_hold,
    notifications,
    overdue,
    trash,
)
from crm.services.voicemails import case_from_voicemail
from telephony.models import TwilioAccount
from telephony.twilio import accounts as twilio_accounts
from tests.conftest import Floor, build_floor
from tests.contactcenter.recorded import ended_recording
from tests.contactcenter.telephony_calls import KEY as CALL_KEY
from tests.contactcenter.telephony_calls import answered_call
from tests.contactcenter.voicemailed import leave_voicemail, queue_with
from tests.factories import make_call, make_queue

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-pass-phrase-9"

# Modules of telephony that hold services (telephony is otherwise the edge).
TELEPHONY_SERVICE_MODULES = ["telephony.twilio.accounts"]


@dataclass
class World:
    floor: Floor
    queue: CallQueue
    contact: Contact
    case: Case
    category: CaseCategory
    disposition: CallDisposition

    @property
    def org(self) -> Organization:
        return self.floor.org


def _world() -> World:
    floor = build_floor("Audited")
    org = floor.org
    category = categories.case_category_create(organization=org, name="Billing")
    return World(
        floor=floor,
        queue=make_queue(org),
        contact=contacts.contact_create(organization=org, first_name="Ada"),
        case=cases.case_create(organization=org, actor=None, title="First"),
        category=category,
        disposition=config.config_row_create(
            model=CallDisposition,
            organization=org,
            values={"name": "Sale", "code": "sale", "requires_case_creation": True},
        ),
    )


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


def _open_call(w: World, hours: int = 0) -> Any:
    call = make_call(
        w.org, status=CallStatus.IN_PROGRESS, started_at=timezone.now() - timedelta(hours=hours)
    )
    call.connection_key = "asterisk:1"
    call.save(update_fields=["connection_key"])
    return call


def _notification(w: World) -> Notification:
    return notifications.notification_create(
        organization_id=w.org.pk,
        user_id=w.floor.agent_member.user.pk,
        kind=NotificationKind.CASE_ASSIGNED,
        title="Hello",
    )


def _email(w: World) -> OutboundEmail:
    return emails.email_queue(
        organization_id=w.org.pk,
        user_id=None,
        to_address="a@example.com",
        kind=NotificationKind.CASE_ASSIGNED,
        subject="s",
        body="b",
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
    call = _open_call(w)
    Call.objects.filter(pk=call.pk).update(answered_at=timezone.now())
    Callback.objects.filter(pk=callback.pk).update(placed_call_sid=call.external_id)
    return callback_offers.callback_attempts_settle(organization_id=w.org.pk, now=timezone.now())


def _callback_requested(w: World) -> int:
    call = make_call(w.org, queue=w.queue, status=CallStatus.QUEUED)
    fact = te.CallbackRequested(
        call_key=call.external_id,
        at=timezone.now(),
        dedup_key="cb1",
        queue=w.queue.pbx_queue_name,
        number="+15557650001",
    )
    lookups = Lookups(agents={}, queues={w.queue.pbx_queue_name: w.queue})
    return keep_requested_callbacks(w.org.pk, [fact], lookups, "asterisk:1")


def _alerting_queue(w: World) -> CallQueue:
    """The world's queue with a caller waiting, over its threshold of none."""
    CallQueue.objects.filter(pk=w.queue.pk).update(alert_callers_waiting=0)
    call = make_call(w.org, queue=w.queue, status=CallStatus.QUEUED)
    Call.objects.filter(pk=call.pk).update(queued_at=timezone.now() - timedelta(seconds=10))
    return w.queue


def _twilio_account(w: World) -> TwilioAccount:
    return TwilioAccount.objects.create(
        organization=w.org, account_sid="AC" + "7" * 32, auth_token="secret-token"
    )


# (module, function) -> (call it on the world, the action its entry has). The entry must
# be of the world's organization unless the action says "(no organization)".
Writer = tuple[Callable[[World], object], str]
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
    "contactcenter.services.telephony.callbacks.keep_requested_callbacks": (
        _callback_requested,
        "create (by the PBX)",
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
        lambda w: (_open_call(w, hours=30), sweep.calls_sweep_stale(max_age_hours=12)),
        "close_stale",
    ),
    "contactcenter.services.telephony.apply.telephony_apply": (
        lambda w: apply.telephony_apply(
            organization_id=w.org.pk,
            connection_key="asterisk:1",
            events=answered_call(w.floor.agent.interface),
        ),
        "create",
    ),
    "contactcenter.services.recordings.recording_facts_apply": (
        lambda w: (
            apply.telephony_apply(
                organization_id=w.org.pk,
                connection_key="asterisk:1",
                events=answered_call(w.floor.agent.interface)[:4],
            ),
            recordings.recording_facts_apply(
                organization_id=w.org.pk,
                connection_key="asterisk:1",
                facts=[
                    te.RecordingStarted(
                        call_key=CALL_KEY, at=timezone.now(), dedup_key="r1", leg_id="L1"
                    )
                ],
            ),
        ),
        "recording.create",
    ),
    "contactcenter.services.monitoring.monitor_facts_apply": (
        lambda w: (
            apply.telephony_apply(
                organization_id=w.org.pk,
                connection_key="asterisk:1",
                events=answered_call(w.floor.agent.interface)[:4],
            ),
            monitoring.monitor_facts_apply(
                organization_id=w.org.pk,
                connection_key="asterisk:1",
                facts=[
                    te.MonitorStarted(
                        call_key=CALL_KEY,
                        at=timezone.now(),
                        dedup_key="m1",
                        session="S1",
                        phone="P",
                    )
                ],
            ),
        ),
        "monitor.started",
    ),
    "contactcenter.services.monitoring.monitor_mode_changed": (
        lambda w: (
            apply.telephony_apply(
                organization_id=w.org.pk,
                connection_key="asterisk:1",
                events=answered_call(w.floor.agent.interface)[:4],
            ),
            monitoring.monitor_mode_changed(
                call=Call.objects.get(organization=w.org, external_id=CALL_KEY),
                session="S1",
                mode="whisper",
                previous="listen",
                phone="P",
                supervisor=w.floor.supervisor,
            ),
        ),
        "monitor.mode_changed",
    ),
    "contactcenter.services.recording_files.recordings_collect": (
        lambda w: (
            ended_recording(w.org, w.floor.agent, ago=10**6),
            recording_files.recordings_collect(),
        ),
        "recording.fail",
    ),
    "contactcenter.services.recording_files.recording_file_store": (
        lambda w: _stored_recording(w),
        "recording.store",
    ),
    "contactcenter.services.recording_files.recording_file_fail": (
        lambda w: recording_files.recording_file_fail(
            recording_id=ended_recording(w.org, w.floor.agent).pk, reason="gone"
        ),
        "recording.fail",
    ),
    "contactcenter.services.recording_retention.recordings_purge_for_calls": (
        lambda w: (
            rec := ended_recording(w.org, w.floor.agent),
            recording_retention.recordings_purge_for_calls(
                organization_id=w.org.pk, call_ids=[rec.call_id], reason="erasure"
            ),
        ),
        "recording.purge",
    ),
    "contactcenter.services.recording_retention.recordings_purge_expired": (
        lambda w: (
            Organization.objects.filter(pk=w.org.pk).update(recording_retention_days=1),
            rec := ended_recording(w.org, w.floor.agent, ago=10**6),
            Recording.objects.filter(pk=rec.pk).update(status="failed"),
            recording_retention.recordings_purge_expired(),
        ),
        "recording.purge",
    ),
    "crm.services.legal_hold.case_set_legal_hold": (
        lambda w: legal_hold.case_set_legal_hold(case=w.case, held=True),
        "legal_hold",
    ),
    "contactcenter.services.voicemails.voicemail_facts_apply": (
        lambda w: _voicemail(w),
        "voicemail.create",
    ),
    "contactcenter.services.voicemails.voicemail_claim": (
        lambda w: voicemails.voicemail_claim(voicemail=_voicemail(w), agent=w.floor.agent),
        "voicemail.claim",
    ),
    "contactcenter.services.voicemails.voicemail_to_callback": (
        lambda w: voicemails.voicemail_to_callback(voicemail=_voicemail(w), agent=None),
        "voicemail.callback",
    ),
    "contactcenter.services.voicemails.voicemail_to_case": (
        lambda w: voicemails.voicemail_to_case(voicemail=_voicemail(w), agent=None, user=None),
        "voicemail.case",
    ),
    "contactcenter.services.voicemails.voicemail_close": (
        lambda w: voicemails.voicemail_close(voicemail=_voicemail(w), agent=None),
        "voicemail.close",
    ),
    "crm.services.voicemails.case_from_voicemail": (
        lambda w: case_from_voicemail(voicemail=_voicemail(w), user=None, agent=None, title="t"),
        "create",
    ),
    "contactcenter.services.voicemail_files.voicemails_collect": (
        lambda w: (
            Voicemail.objects.filter(pk=_voicemail(w).pk).update(
                left_at=timezone.now() - timedelta(days=1)
            ),
            voicemail_files.voicemails_collect(),
        ),
        "voicemail.fail",
    ),
    "contactcenter.services.voicemail_files.voicemail_file_store": (
        lambda w: _stored_voicemail(w),
        "voicemail.store",
    ),
    "contactcenter.services.voicemail_files.voicemail_media_fail": (
        lambda w: voicemail_files.voicemail_media_fail(voicemail_id=_voicemail(w).pk, reason="x"),
        "voicemail.fail",
    ),
    "contactcenter.services.voicemail_files.voicemail_media_failed": (
        lambda w: voicemail_files.voicemail_media_failed(voicemail=_voicemail(w), reason="x"),
        "voicemail.fail",
    ),
    "contactcenter.services.media_links.media_played#voicemail": (
        lambda w: media_links.media_played(media=_voicemail(w), user=w.floor.supervisor.user),
        "voicemail.play",
    ),
    "contactcenter.services.voicemail_retention.voicemails_erase_for_calls": (
        lambda w: voicemail_retention.voicemails_erase_for_calls(
            organization_id=w.org.pk, call_ids=[_voicemail(w).call_id]
        ),
        "voicemail.purge",
    ),
    "contactcenter.services.voicemail_retention.voicemails_purge_expired": (
        lambda w: (
            Organization.objects.filter(pk=w.org.pk).update(recording_retention_days=1),
            voicemails.voicemail_close(voicemail=_voicemail(w), agent=None),
            Voicemail.objects.update(left_at=timezone.now() - timedelta(days=3)),
            voicemail_retention.voicemails_purge_expired(),
        ),
        "voicemail.purge",
    ),
    "contactcenter.services.media_links.media_played#recording": (
        lambda w: media_links.media_played(
            media=ended_recording(w.org, w.floor.agent), user=w.floor.supervisor.user
        ),
        "recording.play",
    ),
    "contactcenter.services.telephony.stopped.calls_end_for_stopped_pbx": (
        lambda w: (
            _open_call(w),
            stopped.calls_end_for_stopped_pbx(
                organization_id=w.org.pk, connection_key="asterisk:1", reason="stopped"
            ),
        ),
        "update",
    ),
    "crm.services.cases.case_create": (
        lambda w: cases.case_create(organization=w.org, actor=None, title="New"),
        "create",
    ),
    "crm.services.cases.case_update": (
        lambda w: cases.case_update(case=w.case, actor=None, title="Changed"),
        "update",
    ),
    "crm.services.cases.case_delete": (lambda w: cases.case_delete(case=w.case), "delete"),
    "crm.services.cases.case_note_add": (
        lambda w: cases.case_note_add(case=w.case, author=None, body="note"),
        "create",
    ),
    "crm.services.categories.case_category_create": (
        lambda w: categories.case_category_create(organization=w.org, name="Other"),
        "create",
    ),
    "crm.services.categories.case_category_update": (
        lambda w: categories.case_category_update(category=w.category, name="Renamed"),
        "update",
    ),
    "crm.services.categories.case_category_delete": (
        lambda w: categories.case_category_delete(category=w.category),
        "delete",
    ),
    "crm.services.contacts.contact_create": (
        lambda w: contacts.contact_create(organization=w.org, first_name="Bob"),
        "create",
    ),
    "crm.services.contacts.contact_update": (
        lambda w: contacts.contact_update(contact=w.contact, company="Acme"),
        "update",
    ),
    "crm.services.contacts.contact_delete": (
        lambda w: contacts.contact_delete(contact=w.contact),
        "delete",
    ),
    "crm.services.dispositions.call_disposition_apply": (
        lambda w: dispositions.call_disposition_apply(
            call_id=_disposed_call(w).pk, disposition_id=w.disposition.pk
        ),
        "create",
    ),
    "crm.services.emails.email_queue": (_email, "create"),
    "crm.services.emails.email_send": (lambda w: emails.email_send(email_id=_email(w).pk), "send"),
    "crm.services.notifications.notification_create": (_notification, "create"),
    "crm.services.notifications.notification_mark_read": (
        lambda w: notifications.notification_mark_read(notification=_notification(w)),
        "read",
    ),
    "crm.services.notifications.notification_mark_all_read": (
        lambda w: (
            _notification(w),
            notifications.notification_mark_all_read(
                user_id=w.floor.agent_member.user.pk, organization_id=w.org.pk
            ),
        ),
        "read_all",
    ),
    "crm.services.notifications.notification_delete": (
        lambda w: notifications.notification_delete(notification=_notification(w)),
        "delete",
    ),
    "crm.services.notifications.user_notify": (
        lambda w: notifications.user_notify(
            organization_id=w.org.pk,
            user_id=w.floor.agent_member.user.pk,
            kind=NotificationKind.CASE_ASSIGNED,
            title="t",
        ),
        "create",
    ),
    "crm.services.notifications.floor_notify_queue_alert": (
        lambda w: notifications.floor_notify_queue_alert(
            organization_id=w.org.pk,
            alert_id=1,
            queue_id=w.queue.pk,
            queue_name=w.queue.name,
            kind="callers_waiting",
            text="Callers waiting: 1 (above 0)",
        ),
        "create",
    ),
    "crm.services.notifications.notification_preference_set": (
        lambda w: notifications.notification_preference_set(
            organization_id=w.org.pk,
            user_id=w.floor.agent_member.user.pk,
            kind=NotificationKind.CASE_ASSIGNED,
            in_app=False,
        ),
        "update",
    ),
    "crm.services.overdue.case_overdue_mark": (
        lambda w: (
            cases.case_update(case=w.case, actor=None, due_at=timezone.now() - timedelta(hours=1)),
            overdue.case_overdue_mark(),
        ),
        "overdue",
    ),
    "crm.services.trash.contact_trash": (
        lambda w: trash.contact_trash(contact=w.contact, actor=None),
        "trash",
    ),
    "crm.services.trash.contact_restore": (
        lambda w: (
            trash.contact_trash(contact=w.contact, actor=None),
            trash.contact_restore(contact=w.contact),
        ),
        "restore",
    ),
    "crm.services.trash.case_trash": (
        lambda w: trash.case_trash(case=w.case, actor=None),
        "trash",
    ),
    "crm.services.trash.case_restore": (
        lambda w: (trash.case_trash(case=w.case, actor=None), trash.case_restore(case=w.case)),
        "restore",
    ),
    "crm.services.trash.trashed_delete": (
        lambda w: (
            trash.case_trash(case=w.case, actor=None),
            trash.trashed_delete(row=Case.all_objects.get(pk=w.case.pk)),
        ),
        "delete",
    ),
    "crm.services.trash.trash_purge": (
        lambda w: (
            trash.contact_trash(contact=w.contact, actor=None),
            Contact.all_objects.filter(pk=w.contact.pk).update(
                deleted_at=timezone.now() - timedelta(days=5000)
            ),
            trash.trash_purge(),
        ),
        "delete",
    ),
    "crm.services.erasure.contact_erase": (
        lambda w: erasure.contact_erase(contact=w.contact),
        "erase",
    ),
    "contactcenter.services.anonymize.calls_anonymize": (
        lambda w: anonymize.calls_anonymize(
            organization_id=w.org.pk, call_ids=[make_call(w.org).pk], identifiers=["x"]
        ),
        "anonymize",
    ),
    "telephony.twilio.accounts.twilio_account_update": (
        lambda w: twilio_accounts.twilio_account_update(
            account=_twilio_account(w), values={"caller_id": "+15551230000"}
        ),
        "update",
    ),
}

# Functions not called here, and why: they write nothing of their own, or their entry
# is shown where what they need runs (a bridge).
NOT_WRITERS: dict[str, str] = {
    "contactcenter.services.apikeys.api_key_authenticate": "a read",
    "contactcenter.services.apikeys.writable_resources": "a read of the URLconf",
    "contactcenter.services.invitations.invitation_usable": "a check",
    "contactcenter.services.signin.client_address": "reads the request",
    "contactcenter.services.signin.lock_seconds": "arithmetic",
    "contactcenter.services.signin.printable_username": "text",
    "contactcenter.services.signin.signin_wait": "a cache read",
    "contactcenter.services.signin.too_many_message": "text",
    "contactcenter.services.signin.signin_refused": "a try refused while locked: counted "
    "nowhere (the failures that set the lock were audited); a flood must not write rows",
    "contactcenter.services.telephony.agents.apply_agent_facts": "a step of telephony_apply, "
    "whose entries it returns (AgentApplyResult.changes)",
    "contactcenter.services.telephony.agents.derive_agent_state": "arithmetic",
    "contactcenter.services.telephony.calls.apply_call_fact": "in memory, for telephony_apply",
    "contactcenter.services.telephony.calls.apply_transfer": "in memory, for telephony_apply",
    "contactcenter.services.telephony.calls.close_unseen": "in memory, for telephony_apply",
    "contactcenter.services.telephony.calls.new_call": "in memory, for telephony_apply",
    "contactcenter.services.telephony.derive.derive_status": "arithmetic",
    "contactcenter.services.telephony.derive.finish_durations": "arithmetic",
    "contactcenter.services.telephony.derive.is_answered": "arithmetic",
    "contactcenter.services.telephony.derive.whole_seconds": "arithmetic",
    "crm.services._common.ensure_same_organization": "a check",
    "crm.services.cases.case_number_allocate": "a step of case_create (the counter)",
    "crm.services.cases.case_summary_text": "text",
    "crm.services.trash.purge_at": "arithmetic",
    "crm.services.dispositions.call_disposition_rules_schedule": "queues the task whose "
    "service (call_disposition_apply) writes",
    "contactcenter.services.callback_offers.offer_seconds": "a setting",
    "contactcenter.services.callback_offers.callback_call": "callback_offer_accept "
    "(accept), the PBX's originate (pbx.originate), then the placed call's key (placed) or, "
    "refused, callback_attempt_over (attempt): needs a PBX, so shown with the bridge in "
    "tests/telephony/ami/test_bridge_callbacks.py",
    "contactcenter.services.queue_alerts.clear_after": "a setting",
    "telephony.twilio.accounts.credentials_accepted": "asks Twilio; writes nothing",
    # Commands to the PBX write nothing themselves (the PBX's facts come back through
    # telephony_apply); who asked is audited as pbx.<command>, shown with a bridge in
    # tests/realtime/test_commands.py. The state goes through agent_choose_state.
    "contactcenter.services.call_control.agent_set_state": "agent_choose_state writes",
    "contactcenter.services.call_control.call_command": "pbx.<command>, with a bridge",
    "contactcenter.services.call_control.call_originate": "pbx.originate, with a bridge",
    "contactcenter.services.call_control.pbx_command_audited": "the audit entry itself "
    "(pbx.<command>), a step of the command services",
    "contactcenter.services.call_control.no_pbx_error": "an error to raise",
    "contactcenter.services.recording_control.call_recording_pause": "pbx.recording_pause, "
    "with a bridge (tests/realtime/test_recording_pause.py)",
    "contactcenter.services.recording_control.call_recording_start": "pbx.recording_start, "
    "with a bridge (tests/realtime/test_recording_pause.py)",
    "contactcenter.services.recording_files.recordings_storage": "the storage, no write",
    "contactcenter.services.recordings.calls_show_recordings": "the calls' copy of a "
    "recording's status, for the screens: a step of the recording services, which audit",
    "contactcenter.services.recording_files.spool_path": "a path, checked",
    "contactcenter.services.recording_files.pbx_relative": "a path, checked",
    "contactcenter.services.recording_pull.pull_url": "text",
    "contactcenter.services.recording_pull.pulled_file": "a temporary file, fetched",
    "contactcenter.services.recording_pull.http_download": "a temporary file, fetched",
    "contactcenter.services.recording_files.storage_key": "text",
    "contactcenter.services.media_links.media_grant": "a signature check",
    "contactcenter.services.media_links.media_kind": "a name",
    "contactcenter.services.media_links.media_token": "signs a link",
    "contactcenter.services.voicemail_files.voicemail_spool_path": "a path, checked",
    "contactcenter.services.voicemail_files.voicemail_storage_key": "text",
    **{
        f"contactcenter.services.supervision.{name}": "pbx.<command>, with a bridge "
        "(tests/realtime/test_supervision.py)"
        for name in (
            "supervisor_agent_pause",
            "supervisor_agent_log_out",
            "supervisor_queue_add",
            "supervisor_queue_remove",
            "supervisor_call_hang_up",
            "supervisor_monitor",
            "supervisor_monitor_stop",
            "supervisor_call_move",
            "supervisor_call_move_to_queue",
        )
    },
    "telephony.twilio.accounts.twilio_account_create": "audited by the same _save as "
    "twilio_account_update; it asks Twilio first (tests/telephony/twilio/test_accounts.py)",
}

# Whole modules that are the machinery of writing, not writers of their own.
NOT_WRITER_MODULES = {
    "contactcenter.services.audit": "the audit trail itself",
    "contactcenter.services.telephony.audited": "the batch's audit entries",
    "contactcenter.services.telephony.bulk": "the statements telephony_apply writes with",
}


def _stored_recording(w: World) -> Any:
    rec = ended_recording(w.org, w.floor.agent)
    with tempfile.TemporaryDirectory() as store:
        recordings = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
        stores = {**settings.STORAGES, "recordings": {**recordings, "OPTIONS": {"location": store}}}
        with override_settings(STORAGES=stores):
            return recording_files.recording_file_store(recording_id=rec.pk, path=Path(__file__))


def _voicemail(w: World) -> Any:
    return leave_voicemail(queue_with(w.org, w.floor.agent))


def _stored_voicemail(w: World) -> Any:
    vm = _voicemail(w)
    with tempfile.TemporaryDirectory() as store:
        recordings = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
        stores = {**settings.STORAGES, "recordings": {**recordings, "OPTIONS": {"location": store}}}
        with override_settings(STORAGES=stores):
            return voicemail_files.voicemail_file_store(
                voicemail_id=vm.pk, path=Path(__file__), fmt="wav"
            )


def _disposed_call(w: World) -> Any:
    call = make_call(w.org, agent=w.floor.agent)
    call.disposition = w.disposition
    call.disposition_set_at = timezone.now()
    call.save(update_fields=["disposition", "disposition_set_at"])
    return call


def _service_functions() -> Iterator[str]:
    modules = [*TELEPHONY_SERVICE_MODULES]
    for package in (contactcenter.services, crm.services):
        modules += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    for name in modules:
        if name in NOT_WRITER_MODULES:
            continue
        module = importlib.import_module(name)
        for attr, value in inspect.getmembers(module, inspect.isfunction):
            if value.__module__ == name and not attr.startswith("_"):
                yield f"{name}.{attr}"


def _function(writer: str) -> str:
    """A writer's function: a key may name one case of it after a ``#`` (one function
    serving several kinds, each leaving its own entry)."""
    return writer.partition("#")[0]


def test_every_service_function_is_classified() -> None:
    found = set(_service_functions())
    writers = {_function(name) for name in WRITERS}
    unknown = sorted(found - writers - set(NOT_WRITERS))
    assert not unknown, (
        "New service functions: add each to WRITERS (with a call and the audit entry it "
        f"leaves) or to NOT_WRITERS (with why it writes nothing): {unknown}"
    )
    gone = sorted((writers | set(NOT_WRITERS)) - found)
    assert not gone, f"Listed but no longer there: {gone}"


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_each_writer_leaves_an_audit_entry(name: str) -> None:
    call, action = WRITERS[name]
    world = _world()
    before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with audit.acting(audit.Actor.for_user(world.floor.admin.user, request_id="req-1")):
        call(world)
    entries = AuditEntry.objects.filter(id__gt=before, action=action.split(" ")[0])
    assert entries.exists(), (name, list(AuditEntry.objects.filter(id__gt=before).values()))
    if "(no organization" not in action:
        assert entries.filter(organization_id=world.org.pk).exists(), name
    if action.endswith("(no organization)"):
        assert entries.filter(organization_id=None).exists(), name
    kinds = set(entries.values_list("actor_kind", flat=True))
    if action.endswith("(by the PBX)"):
        assert kinds == {ActorKind.PBX}, (name, kinds)
    elif action.endswith("(by the system)"):
        # Judged on the figures, not done by whoever's process judged them (a wallboard's
        # feed, the scheduled task): named as the system.
        assert kinds == {ActorKind.SYSTEM}, (name, kinds)
    else:
        # The PBX's writes name the PBX; a sign-in names who signed in; the rest, the actor.
        assert kinds <= {ActorKind.USER, ActorKind.PBX}, (name, kinds)
    # No secret reaches an entry.
    written = json.dumps(list(AuditEntry.objects.filter(id__gt=before).values()), default=str)
    assert "secret-token" not in written and PASSWORD not in written
