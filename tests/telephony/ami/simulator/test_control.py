"""The simulator-only control action: one inbound call placed from another connection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from telephony.ami.simulator import AmiSimulator
from tests.telephony.amiclient import AmiTestClient
from tests.telephony.conftest import SECRET, fast_config


async def _client(sim: AmiSimulator) -> AmiTestClient:
    client = await AmiTestClient.connect(sim.port)
    await client.login(secret=SECRET)
    await client.wait_for(lambda m: m.event == "FullyBooted")
    return client


@pytest.fixture
async def controlled() -> AsyncIterator[AmiSimulator]:
    async with AmiSimulator(fast_config(speed=1.0, control=True)) as sim:
        yield sim


async def test_inbound_call_rings_the_named_agent_and_is_answered(
    controlled: AmiSimulator,
) -> None:
    bridge = await _client(controlled)  # another logged-in client hears the call
    control = await _client(controlled)
    reply = await control.request(
        "SimulatorInboundCall",
        CallerID='"JOHN SMITH" <+15557654321>',
        Queue="support",
        Agents="1002",
        AnswerAfter="0.05",
        Talk="600",
    )
    assert reply.response == "Success", reply.fields
    join = await bridge.wait_for(lambda m: m.event == "QueueCallerJoin")
    assert join["CallerIDNum"] == "+15557654321"
    assert join["CallerIDName"] == "JOHN SMITH"
    assert join["Queue"] == "support"
    called = await bridge.wait_for(lambda m: m.event == "AgentCalled")
    assert called["Interface"] == "PJSIP/1002"
    connect = await bridge.wait_for(lambda m: m.event == "AgentConnect")
    assert connect["Interface"] == "PJSIP/1002"
    await control.close()
    await bridge.close()


async def test_a_caller_who_waits_asks_to_be_called_back(controlled: AmiSimulator) -> None:
    bridge = await _client(controlled)
    control = await _client(controlled)
    reply = await control.request(
        "SimulatorInboundCall",
        CallerID="+15557654321",
        Agents="1002",
        AnswerAfter="600",
        CallbackAfter="0.3",
    )
    assert reply.response == "Success", reply.fields
    join = await bridge.wait_for(lambda m: m.event == "QueueCallerJoin")
    asked = await bridge.wait_for(lambda m: m.event == "UserEvent")
    assert (asked["UserEvent"], asked["Queue"], asked["Number"]) == (
        "CallbackRequest",
        "support",
        "+15557654321",
    )
    assert asked["Privilege"] == "user,all" and asked["Linkedid"] == join["Linkedid"]
    left = await bridge.wait_for(lambda m: m.event in ("QueueCallerLeave", "QueueCallerAbandon"))
    assert left.event == "QueueCallerLeave"  # pressing a key is no abandon
    await bridge.wait_for(lambda m: m.event == "Hangup" and m["Uniqueid"] == join["Uniqueid"])
    await control.close()
    await bridge.close()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "'CallerID' must hold the caller's number"),
        ({"CallerID": "+15550001111", "Queue": "nope"}, "No such queue: nope"),
        ({"CallerID": "+15550001111", "Agents": "1001,9999"}, "No such agent phone: 9999"),
        ({"CallerID": "+15550001111", "Talk": "soon"}, "'Talk' must be a number of seconds"),
        (
            {"CallerID": "+15550001111", "AnswerAfter": "-1"},
            "'AnswerAfter' must be a number of seconds >= 0",
        ),
        (
            {"CallerID": "+15550001111", "Patience": "nan"},
            "'Patience' must be a number of seconds >= 0",
        ),
        (
            {"CallerID": "+15550001111", "CallbackAfter": "later"},
            "'CallbackAfter' must be a number of seconds",
        ),
    ],
)
async def test_bad_fields_are_refused_and_place_nothing(
    controlled: AmiSimulator, fields: dict[str, str], message: str
) -> None:
    control = await _client(controlled)
    reply = await control.request("SimulatorInboundCall", **fields)
    assert (reply.response, reply["Message"]) == ("Error", message)
    assert controlled.pbx.channels == {}
    await control.close()


async def test_without_control_it_is_an_unknown_action_as_on_asterisk() -> None:
    async with AmiSimulator(fast_config(speed=1.0)) as sim:
        client = await _client(sim)
        reply = await client.request("SimulatorInboundCall", CallerID="+15550001111")
        assert (reply.response, reply["Message"]) == ("Error", "Invalid/unknown command")
        assert sim.pbx.channels == {}
        await client.close()
