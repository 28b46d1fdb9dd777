"""Each recorded transcript in tests/telephony/transcripts, translated and applied
straight to the database (no socket).

The same transcripts go through the simulator, panoramisk and the bridge in
test_bridge_transcripts.py; this file pins the translation itself, batch by batch.
"""

import pytest

from contactcenter.models import Agent, Call, CallEvent, CallTransfer
from provisioning.demo import seed_demo
from tests.telephony.expectations import CLICK_TO_CALL, TRANSCRIPTS, check_transcript
from tests.telephony.replay_offline import replay

pytestmark = pytest.mark.django_db


def _replay(name: str, batch: int) -> int:
    org = seed_demo().organization
    agents = set(Agent.objects.filter(organization=org).values_list("interface", flat=True))
    originates = (CLICK_TO_CALL, CLICK_TO_CALL) if name.startswith("06") else ()
    replay(name, org.pk, agents, batch=batch, originates=originates)
    return org.pk


@pytest.mark.parametrize("name", TRANSCRIPTS)
@pytest.mark.parametrize("batch", [1, 1000])
def test_transcript_records(name: str, batch: int) -> None:
    check_transcript(name, _replay(name, batch))


@pytest.mark.parametrize("name", TRANSCRIPTS)
def test_transcript_replayed_twice_changes_nothing(name: str) -> None:
    org_id = _replay(name, 50)
    counts = (Call.objects.count(), CallEvent.objects.count(), CallTransfer.objects.count())
    agents = set(Agent.objects.filter(organization_id=org_id).values_list("interface", flat=True))
    originates = (CLICK_TO_CALL, CLICK_TO_CALL) if name.startswith("06") else ()
    replay(name, org_id, agents, originates=originates)
    assert (Call.objects.count(), CallEvent.objects.count(), CallTransfer.objects.count()) == counts
    check_transcript(name, org_id)


def test_every_call_event_lands_once_in_order() -> None:
    org_id = _replay("01_inbound_queue_answered.ami", 7)
    call = Call.objects.get(organization_id=org_id)
    assert list(call.events.order_by("occurred_at", "id").values_list("type", flat=True)) == [
        "call.created",
        "queue.joined",
        "agent.called",
        "queue.left",
        "call.answered",
        "agent.completed",
        "call.ended",
    ]


def _log(org_id: int, extension: str) -> list[tuple[str, str, str]]:
    from contactcenter.models import AgentStateLog

    return [
        (row.state, row.reason, row.started_at.isoformat())
        for row in AgentStateLog.objects.filter(
            organization_id=org_id, agent__extension=extension
        ).order_by("started_at")
    ]


def test_07_pauses_are_per_queue_and_logged() -> None:
    from contactcenter.models import QueueMembership

    org_id = _replay("07_agent_pause_unpause.ami", 50)

    def member(ext: str, queue: str) -> QueueMembership:
        return QueueMembership.objects.get(
            organization_id=org_id, agent__extension=ext, queue__pbx_queue_name=queue
        )

    assert (member("1001", "support").paused, member("1001", "sales").paused) == (False, True)
    assert member("1001", "sales").paused_reason == "Lunch"
    assert member("1001", "sales").paused_at.isoformat() == "2025-03-14T12:00:00.015522+00:00"
    assert member("1002", "support").paused is False
    carol = member("1003", "support")
    assert (carol.is_logged_in, carol.calls_taken) == (True, 0)
    # 1002 pauses from the phone (*46, a short call, no ActionID): on the phone until the
    # feature call ends, paused after it, available again when unpaused.
    assert _log(org_id, "1002") == [
        ("on_call", "", "2025-03-14T12:02:10.338479+00:00"),
        ("paused", "Break", "2025-03-14T12:02:13.902808+00:00"),
        ("available", "", "2025-03-14T12:14:00.009800+00:00"),
    ]
    assert ("paused", "Lunch", "2025-03-14T12:00:00.015522+00:00") in _log(org_id, "1001")
    # 1003 was never reported before its logout (so it stayed "offline" through it) and is
    # available from its new login.
    assert _log(org_id, "1003") == [("available", "", "2025-03-14T12:15:30.020700+00:00")]


def test_09_resync_picks_up_calls_and_agents() -> None:
    org_id = _replay("09_reconnect_resync.ami", 50)
    logs = {ext: _log(org_id, ext) for ext in ("1001", "1002", "1003")}
    # At the snapshot (12:20:00): 1001 on call, 1002 paused for lunch, 1003 ringing.
    snapshot = "2025-03-14T12:20:00+00:00"
    assert ("on_call", "", snapshot) in logs["1001"]
    assert ("paused", "Lunch", snapshot) in logs["1002"]
    assert ("ringing", "", snapshot) in logs["1003"]
    call_a = Call.objects.get(organization_id=org_id, external_id="1741954705.22")
    resynced = call_a.events.get(type="call.resynced")
    assert resynced.details == {"observed": "in_progress"}
