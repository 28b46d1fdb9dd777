"""The AMI actions the supervisor's commands become (telephony/ami/commands.py)."""

from __future__ import annotations

import pytest

from telephony.ami.commands import CommandError, plan
from telephony.ami.tracker import CallTrack, Leg, Spy, Tracker


def _state() -> Tracker:
    state = Tracker()
    caller = Leg("1.1", "PJSIP/trunk-00000001", "PJSIP/trunk", "1.1", is_agent=False)
    agent = Leg("1.2", "PJSIP/1001-00000002", "PJSIP/1001", "1.1", is_agent=True)
    state.legs = {leg.uniqueid: leg for leg in (caller, agent)}
    state.calls["1.1"] = CallTrack(key="1.1", first_leg="1.1", legs={"1.1", "1.2"})
    return state


def test_queue_management_actions() -> None:
    state = _state()
    pause = {"agent": "PJSIP/1002", "paused": True, "reason": "coaching"}
    assert plan("queue_pause", pause, state, context="from-internal").fields == {
        "Action": "QueuePause",
        "Interface": "PJSIP/1002",
        "Paused": "true",
        "Reason": "coaching",
    }
    add = {"agent": "PJSIP/1002", "queue": "sales", "penalty": 3}
    assert plan("queue_add", add, state, context="from-internal").fields == {
        "Action": "QueueAdd",
        "Queue": "sales",
        "Interface": "PJSIP/1002",
        "StateInterface": "PJSIP/1002",
        "MemberName": "PJSIP/1002",
        "Penalty": "3",
        "Paused": "false",
    }
    remove = {"agent": "PJSIP/1002", "queue": "sales"}
    assert plan("queue_remove", remove, state, context="from-internal").fields == {
        "Action": "QueueRemove",
        "Queue": "sales",
        "Interface": "PJSIP/1002",
    }


def test_hangup_call_ends_the_callers_channel() -> None:
    state = _state()
    planned = plan("hangup_call", {"call": "1.1"}, state, context="from-internal")
    assert planned.fields == {"Action": "Hangup", "Channel": "PJSIP/trunk-00000001", "Cause": "16"}
    # The caller's leg gone, any live leg of the call ends it.
    del state.legs["1.1"]
    planned = plan("hangup_call", {"call": "1.1"}, state, context="from-internal")
    assert planned.fields["Channel"] == "PJSIP/1001-00000002"
    del state.legs["1.2"]
    with pytest.raises(CommandError, match="not live"):
        plan("hangup_call", {"call": "1.1"}, state, context="from-internal")
    with pytest.raises(CommandError, match="not live"):
        plan("hangup_call", {"call": "9.9"}, state, context="from-internal")
    with pytest.raises(CommandError, match="'call' is required"):
        plan("hangup_call", {}, state, context="from-internal")


def test_redirect_moves_the_callers_channel() -> None:
    state = _state()
    planned = plan("redirect", {"call": "1.1", "exten": "1002"}, state, context="from-internal")
    assert planned.fields == {
        "Action": "Redirect",
        "Channel": "PJSIP/trunk-00000001",
        "Context": "from-internal",
        "Exten": "1002",
        "Priority": "1",
    }
    del state.legs["1.1"]
    with pytest.raises(CommandError, match="not live"):
        plan("redirect", {"call": "1.1", "exten": "1002"}, state, context="from-internal")


def test_monitor_mode_presses_chanspys_key_on_the_live_spy_leg() -> None:
    state = _state()
    params = {"call": "1.1", "phone": "PJSIP/2001", "mode": "barge"}
    with pytest.raises(CommandError, match="No monitoring call of yours"):
        plan("monitor_mode", params, state, context="from-internal")
    state.spies["spy.1"] = Spy(
        mode="listen",
        channel="PJSIP/2001-00000009",
        call_key="1.1",
        phone="PJSIP/2001",
        started=True,
    )
    planned = plan("monitor_mode", params, state, context="from-internal")
    assert planned.fields == {
        "Action": "PlayDTMF",
        "Channel": "PJSIP/2001-00000009",
        "Digit": "6",
        "Receive": "true",
    }
    assert planned.spy_mode == ("spy.1", "barge")
    for mode, digit in (("listen", "4"), ("whisper", "5")):
        planned = plan("monitor_mode", {**params, "mode": mode}, state, context="x")
        assert planned.fields["Digit"] == digit
    with pytest.raises(CommandError, match="listen, whisper or barge"):
        plan("monitor_mode", {**params, "mode": "spy"}, state, context="from-internal")
    # Another supervisor's phone, or a session already over, is not theirs to switch.
    with pytest.raises(CommandError, match="No monitoring call of yours"):
        plan("monitor_mode", {**params, "phone": "PJSIP/2002"}, state, context="x")
    state.spies["spy.1"].stopped = True
    with pytest.raises(CommandError, match="No monitoring call of yours"):
        plan("monitor_mode", params, state, context="from-internal")


def test_move_to_queue_redirects_the_caller_to_the_queues_extension() -> None:
    state = _state()
    params = {"call": "1.1", "queue": "sales"}
    planned = plan("move_to_queue", params, state, context="from-internal")
    assert planned.fields == {
        "Action": "Redirect",
        "Channel": "PJSIP/trunk-00000001",
        "Context": "cc-queues",  # deploy/asterisk/extensions.conf
        "Exten": "sales",
        "Priority": "1",
    }
    with pytest.raises(CommandError, match="'queue' is required"):
        plan("move_to_queue", {"call": "1.1"}, state, context="from-internal")
    del state.legs["1.1"]
    with pytest.raises(CommandError, match="not live"):
        plan("move_to_queue", params, state, context="from-internal")


def test_monitor_originates_chanspy_on_the_agents_channel() -> None:
    state = _state()
    params = {"call": "1.1", "agent": "PJSIP/1001", "phone": "PJSIP/2001", "mode": "whisper"}
    planned = plan("monitor", params, state, context="from-internal")
    channel_id = planned.fields["ChannelId"]
    assert planned.fields == {
        "Action": "Originate",
        "Channel": "PJSIP/2001",
        "Application": "ChanSpy",
        "Data": "PJSIP/1001-00000002,qwdE",
        "CallerID": '"Whisper 1001" <1001>',
        "Timeout": "30000",
        "Async": "true",
        "ChannelId": channel_id,
        "Variable": f"PJSIP_HEADER(add,X-CC-Monitor)={channel_id}",
    }
    assert planned.spy == (channel_id, "whisper")
    for mode, options in (("listen", "qdE"), ("barge", "qBdE")):
        planned = plan("monitor", {**params, "mode": mode}, state, context="from-internal")
        assert planned.fields["Data"] == f"PJSIP/1001-00000002,{options}"
    with pytest.raises(CommandError, match="listen, whisper or barge"):
        plan("monitor", {**params, "mode": "spy"}, state, context="from-internal")
    with pytest.raises(CommandError, match="not on that call"):
        plan("monitor", {**params, "agent": "PJSIP/1003"}, state, context="from-internal")
    with pytest.raises(CommandError, match="No monitoring call"):
        plan("monitor_stop", {"phone": "PJSIP/2001"}, state, context="from-internal")
