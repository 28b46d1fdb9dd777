"""The records each recorded transcript (tests/telephony/transcripts) must leave, read
from expected_outcomes.json beside them.

One checker for both ways a transcript reaches the database: straight through the
Translator (offline) and through the simulator, panoramisk and the bridge (TCP).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from contactcenter.models import Call, QueueMembership
from tests.telephony.conftest import TRANSCRIPT_NAMES
from tests.telephony.conftest import TRANSCRIPTS as TRANSCRIPT_DIR

EXPECTED: dict[str, Any] = json.loads((TRANSCRIPT_DIR / "expected_outcomes.json").read_text())
TRANSCRIPTS = TRANSCRIPT_NAMES

# Originate parameters of 06, the click-to-call the transcript answers.
CLICK_TO_CALL = ("PJSIP/1003", "+12125550147")


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ext(agent: Any) -> str | None:
    return agent.extension if agent is not None else None


def _close(actual: datetime | None, expected: str, tolerance: float) -> bool:
    return actual is not None and abs(actual - ts(expected)) <= timedelta(seconds=tolerance)


def check_call(call: Call, want: dict[str, Any], *, resynced: bool = False) -> None:
    """Assert ``call`` is what ``want`` (one entry of expected_outcomes.json) describes."""
    label = want.get("linkedid") or want.get("request")
    status = want["status"]
    assert call.status == status, (label, call.status, status)
    if "direction" in want:
        assert call.direction == want["direction"], label
    if "agent" in want:
        assert ext(call.agent) == want["agent"], (label, ext(call.agent))
    if "queue" in want:
        assert call.queue is not None and call.queue.pbx_queue_name == want["queue"], label
    if "from" in want:
        assert call.caller_number == want["from"], label
    if want.get("from_name"):
        assert call.caller_name == want["from_name"], label
    if "to_did" in want:
        assert call.callee_number == want["to_did"], label
    if "to" in want:
        assert call.callee_number == want["to"], label
    # Times the bridge saw happen are exact; ones a resync could only estimate are flagged.
    if "created_at" in want:
        tolerance = 1.0 if resynced else 0.0
        assert _close(call.started_at, want["created_at"], tolerance), (label, call.started_at)
    if "queue_join_at" in want and not resynced:
        assert call.queued_at == ts(want["queue_join_at"]), (label, call.queued_at)
    if "agent_answered_at" in want:
        # The agent's own phone answering a click-to-dial is a timeline entry, not the
        # call's answer.
        connected = call.events.filter(type="agent.connected").values_list("occurred_at", flat=True)
        assert list(connected) == [ts(want["agent_answered_at"])], (label, list(connected))
    if "answered_at" in want:
        if want["answered_at"] is None:
            assert call.answered_at is None, label
        else:
            assert call.answered_at == ts(want["answered_at"]), (label, call.answered_at)
    if "answered_at_derived" in want:
        derived = want["answered_at_derived"].split(" ", 1)[0]
        assert call.answered_at == ts(derived), (label, call.answered_at)
        assert call.flags.get("answered_at_derived") is True, label
    if "ended_at" in want:
        assert call.ended_at == ts(want["ended_at"]), (label, call.ended_at)
    for field, key in (
        ("wait_seconds", "wait_seconds"),
        ("talk_seconds", "talk_seconds"),
        ("hold_seconds", "hold_total_seconds"),
    ):
        if key in want:
            assert getattr(call, field) == want[key], (label, field, getattr(call, field))
    if want.get("linkedid") and "created_at" in want:
        # A start that was seen is never flagged unknown.
        assert not call.flags.get("started_at_unknown"), label
    if "joined_with" in want:
        assert call.flags.get("joined_with") == [want["joined_with"]], (label, call.flags)
    if "hangup_cause" in want:
        assert call.hangup_cause == want["hangup_cause"], (label, call.hangup_cause)
    if "hangup_by" in want:
        assert call.hangup_by == want["hangup_by"], (label, call.hangup_by)
    if "hold_intervals" in want:
        held = list(call.events.filter(type="call.held").values_list("occurred_at", flat=True))
        resumed = list(
            call.events.filter(type="call.resumed").values_list("occurred_at", flat=True)
        )
        assert [[a, b] for a, b in zip(held, resumed, strict=True)] == [
            [ts(a), ts(b)] for a, b in want["hold_intervals"]
        ], label
    if "talk_seconds_first_agent" in want:
        first = call.events.filter(type="agent.completed").order_by("occurred_at").first()
        assert (
            first is not None and first.details["talk_seconds"] == want["talk_seconds_first_agent"]
        ), label
    if "transfers" in want:
        _check_transfers(call, want["transfers"], label)
    if "agent_attempts" in want:
        _check_attempts(call, want["agent_attempts"], label)


def _check_transfers(call: Call, wanted: list[dict[str, Any]], label: Any) -> None:
    transfers = list(call.transfers.order_by("requested_at"))
    assert len(transfers) == len(wanted), (label, transfers)
    for transfer, want in zip(transfers, wanted, strict=True):
        assert transfer.kind == want["type"], label
        assert transfer.status == want.get("status", "completed"), (label, transfer.status)
        if "reason" in want:
            assert transfer.details.get("reason") == want["reason"], (label, transfer.details)
        # The README gives the transfer time to the millisecond (11:20:50.852); the
        # BlindTransfer event itself is stamped .852427, the JSON says .852117.
        assert _close(transfer.requested_at, want["at"], 0.001), (label, transfer.requested_at)
        assert ext(transfer.from_agent) == want["transferer"], label
        if "target_exten" in want:
            target = f"{want['target_exten']}@{want['target_context']}"
            assert transfer.to_number == target, (label, transfer.to_number)
        assert transfer.details["result"] == want["result"], label
        if "to_agent" in want:
            assert ext(transfer.to_agent) == want["to_agent"], (label, transfer.to_agent)
        if "target_answered_at" in want:
            if want["target_answered_at"] is None:
                assert transfer.answered_at is None, (label, transfer.answered_at)
            else:
                assert transfer.answered_at == ts(want["target_answered_at"]), label
        if "completed_at" in want:
            completed = want["completed_at"]
            assert transfer.completed_at == (ts(completed) if completed else None), label
        if "target_channel" in want:
            assert ext(transfer.to_agent) == want["target_channel"].split("/")[1][:4], label


def _check_attempts(call: Call, wanted: list[dict[str, Any]], label: Any) -> None:
    ended = list(
        call.events.filter(type__in=["agent.ring_no_answer", "agent.offer_ended"]).order_by(
            "occurred_at"
        )
    )
    assert [ext(e.agent) for e in ended] == [w["agent"] for w in wanted], label
    for event, want in zip(ended, wanted, strict=True):
        if want["result"] == "ring_no_answer":
            assert event.details["outcome"] == "no_answer", label
            assert event.details["ring_ms"] == want["ring_ms"], label
        else:
            assert event.details["outcome"] == "canceled", label


def check_transcript(name: str, organization_id: int) -> None:
    """Every call the transcript describes, and nothing else."""
    spec = EXPECTED[name]
    calls = Call.objects.filter(organization_id=organization_id)
    wanted = [c for c in spec.get("calls", []) if "status" in c]
    assert calls.count() == len(spec.get("calls", [])), list(
        calls.values_list("external_id", flat=True)
    )
    by_key = {c.external_id: c for c in calls}
    ordered = list(calls.order_by("started_at"))
    resynced = name.startswith("09")
    for index, want in enumerate(wanted):
        call = by_key.get(want["linkedid"]) if "linkedid" in want else ordered[index]
        assert call is not None, want
        check_call(call, want, resynced=resynced)
        if spec.get("receipt_times"):
            # No Timestamp in the stream: every time is when the bridge read the event.
            assert call.flags.get("receipt_times") is True, (want, call.flags)
        if "agent_uniqueid" in want and "linkedid" not in want:
            assert call.external_id == want["agent_uniqueid"], want
    for agent, final in spec.get("agent_final", {}).items():
        membership = QueueMembership.objects.get(
            organization_id=organization_id, agent__extension=agent, queue__pbx_queue_name="support"
        )
        assert membership.paused == final["paused"]
        assert membership.calls_taken == final["calls_taken_support"]
