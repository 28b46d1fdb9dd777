"""Rows to message models. Snapshots and published changes use the same functions, so a
field reads the same in both (the snapshot-convergence test depends on it)."""

from __future__ import annotations

from typing import Any

from contactcenter.enums import RecordingPolicy
from contactcenter.models import Agent, Call, CallDisposition
from contactcenter.models.calls import COACHED_FLAG
from contactcenter.models.recordings import RECORDING_FLAG
from contactcenter.models.voicemails import Voicemail
from contactcenter.selectors.recordings import call_recording_policy
from crm.models import Case, Contact, Notification
from realtime import messages as msgs

_STATS_FIELDS = tuple(msgs.QueueStats.model_fields)
_TOTALS_FIELDS = tuple(msgs.BoardTotals.model_fields)
_QUEUE_AGENT_FIELDS = tuple(msgs.QueueAgentView.model_fields)


def agent_view(agent: Agent) -> msgs.AgentView:
    return msgs.AgentView(
        id=agent.pk,
        name=agent.name,
        extension=agent.extension,
        state=agent.state,
        state_reason=agent.state_reason,
        state_changed_at=agent.state_changed_at,
    )


def coached_mode(call: Call) -> str:
    """The supervisor the agent is told of: "whisper", "barge" or ""."""
    flag = call.flags.get(COACHED_FLAG)
    return str(flag.get("mode") or "") if isinstance(flag, dict) else ""


def call_view(call: Call) -> msgs.CallView:
    return msgs.CallView(
        id=call.pk,
        external_id=call.external_id,
        status=call.status,
        direction=call.direction,
        caller_number=call.caller_number,
        caller_name=call.caller_name,
        callee_number=call.callee_number,
        queue_id=call.queue_id,
        agent_id=call.agent_id,
        started_at=call.started_at,
        queued_at=call.queued_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        held_since=call.held_since,
        wait_seconds=call.wait_seconds,
        talk_seconds=call.talk_seconds,
        hold_seconds=call.hold_seconds,
        hangup_by=call.hangup_by,
        disposition_id=call.disposition_id,
        notes=call.notes,
        recording=str(call.flags.get(RECORDING_FLAG, "")),
        coached=coached_mode(call),
        recording_on_demand=call_recording_policy(call=call) == RecordingPolicy.ON_DEMAND,
        updated_at=call.updated_at,
    )


def call_summary(call: Call) -> msgs.CallSummary:
    return msgs.CallSummary(
        id=call.pk,
        started_at=call.started_at,
        status=call.status,
        direction=call.direction,
        agent_id=call.agent_id,
        disposition_id=call.disposition_id,
        talk_seconds=call.talk_seconds,
    )


def contact_view(contact: Contact, phones: list[str]) -> msgs.ContactView:
    """``phones``: the contact's numbers, read with it (realtime.screens.pop)."""
    return msgs.ContactView(
        id=contact.pk,
        display_name=contact.display_name,
        company=contact.company,
        email=contact.email,
        phones=phones,
    )


def case_view(case: Case) -> msgs.CaseView:
    return msgs.CaseView(
        id=case.pk,
        reference=case.reference,
        title=case.title,
        status=case.status,
        priority=case.priority,
        contact_id=case.contact_id,
        assigned_agent_id=case.assigned_agent_id,
        source_call_id=case.source_call_id,
        created_at=case.created_at,
    )


def notification_view(notification: Notification) -> msgs.NotificationView:
    return msgs.NotificationView(
        id=notification.pk,
        kind=notification.kind,
        title=notification.title,
        body=notification.body,
        data=notification.data,
        created_at=notification.created_at,
        read_at=notification.read_at,
    )


def voicemail_view(vm: Voicemail) -> msgs.VoicemailView:
    return msgs.VoicemailView(
        id=vm.pk,
        queue_id=vm.queue_id,
        queue_name=vm.queue.name if vm.queue is not None else "",
        caller_number=vm.caller_number,
        caller_name=vm.caller_name,
        left_at=vm.left_at,
        duration_seconds=vm.duration_seconds,
        transcription=vm.transcription,
        status=vm.status,  # type: ignore[arg-type]
        media=vm.media,  # type: ignore[arg-type]
        claimed_by=vm.claimed_by_id,
        claimed_by_name=vm.claimed_by.name if vm.claimed_by is not None else "",
        callback_id=vm.callback_id,
        case_id=vm.case_id,
    )


def disposition_view(disposition: CallDisposition) -> msgs.DispositionView:
    return msgs.DispositionView(
        id=disposition.pk,
        name=disposition.name,
        code=disposition.code,
        requires_case_creation=disposition.requires_case_creation,
    )


# The figures come from contactcenter.selectors.wallboard as contactcenter.figures
# dataclasses, whose fields the messages take (realtime.messages); each message picks
# its own by name (QueueStats leaves the agents out).


def _pick(source: Any, names: tuple[str, ...]) -> dict[str, Any]:
    values = {name: getattr(source, name) for name in names}
    if "agents_by_state" in values:
        values["agents_by_state"] = dict(values["agents_by_state"])
    return values


def queue_stats(figures: Any) -> msgs.QueueStats:
    return msgs.QueueStats(**_pick(figures, _STATS_FIELDS))


def queue_board(figures: Any) -> msgs.QueueBoard:
    return msgs.QueueBoard(
        **_pick(figures, _STATS_FIELDS),
        agents=[msgs.QueueAgentView(**_pick(a, _QUEUE_AGENT_FIELDS)) for a in figures.agents],
    )


def board_totals(totals: Any) -> msgs.BoardTotals:
    return msgs.BoardTotals(**_pick(totals, _TOTALS_FIELDS))
