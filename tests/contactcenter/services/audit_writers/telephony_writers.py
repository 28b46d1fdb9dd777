"""The writers of what the PBX reports (contactcenter.services.telephony, monitoring)
and of telephony's own services (TELEPHONY_SERVICE_MODULES)."""

from __future__ import annotations

from django.utils import timezone

from contactcenter import facts as te
from contactcenter.enums import CallStatus
from contactcenter.models import Call
from contactcenter.services import monitoring
from contactcenter.services.telephony import apply, stopped
from contactcenter.services.telephony.callbacks import keep_requested_callbacks
from contactcenter.services.telephony.calls import Lookups
from telephony.models import TwilioAccount
from telephony.twilio import accounts as twilio_accounts
from tests.contactcenter.services.audit_writers.world import World, Writer, open_call
from tests.contactcenter.telephony_calls import KEY as CALL_KEY
from tests.contactcenter.telephony_calls import answered_call
from tests.factories import make_call

# Modules of telephony that hold services (telephony is otherwise the edge).
TELEPHONY_SERVICE_MODULES = ["telephony.twilio.accounts"]


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


def _twilio_account(w: World) -> TwilioAccount:
    return TwilioAccount.objects.create(
        organization=w.org, account_sid="AC" + "7" * 32, auth_token="secret-token"
    )


WRITERS: dict[str, Writer] = {
    "contactcenter.services.telephony.callbacks.keep_requested_callbacks": (
        _callback_requested,
        "create (by the PBX)",
    ),
    "contactcenter.services.telephony.apply.telephony_apply": (
        lambda w: apply.telephony_apply(
            organization_id=w.org.pk,
            connection_key="asterisk:1",
            events=answered_call(w.floor.agent.interface),
        ),
        "create",
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
    "contactcenter.services.telephony.stopped.calls_end_for_stopped_pbx": (
        lambda w: (
            open_call(w),
            stopped.calls_end_for_stopped_pbx(
                organization_id=w.org.pk, connection_key="asterisk:1", reason="stopped"
            ),
        ),
        "update",
    ),
    "telephony.twilio.accounts.twilio_account_update": (
        lambda w: twilio_accounts.twilio_account_update(
            account=_twilio_account(w), values={"caller_id": "+15551230000"}
        ),
        "update",
    ),
}
