"""The AMI actions the supervisor's commands become (telephony/ami/commands.py)."""

from __future__ import annotations

import pytest

from telephony.ami.commands import CommandError, plan
from telephony.ami.tracker import CallTrack, Leg, Tracker


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
