"""Actions against the PBX model: their responses, and the events they cause.

Calls here run on a real-time clock so that a test can act while a call is in a
given state; the test waits for the event that marks that state, never for time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from telephony.ami.frames import AmiMessage
from telephony.ami.simulator import AmiSimulator, InboundPlan, OriginateBehaviour
from tests.telephony.amiclient import AmiTestClient
from tests.telephony.conftest import SECRET, fast_config

LONG = 600.0  # seconds: "for the rest of the test"


@pytest.fixture
async def live() -> AsyncIterator[AmiSimulator]:
    behaviour = OriginateBehaviour(agent_ring=0.05, customer_ring=0.05, consult=0.05, talk=LONG)
    async with AmiSimulator(fast_config(speed=1.0, originate=behaviour)) as sim:
        yield sim


@pytest.fixture
async def agent(live: AmiSimulator) -> AsyncIterator[AmiTestClient]:
    client = await AmiTestClient.connect(live.port)
    await client.login(secret=SECRET)
    await client.wait_for(lambda m: m.event == "FullyBooted")
    yield client
    await client.close()


def after(client: AmiTestClient, reply: AmiMessage) -> list[AmiMessage]:
    """The events that arrived after ``reply``."""
    index = client.messages.index(reply)
    return [m for m in client.messages[index + 1 :] if m.event is not None]


async def talking(live: AmiSimulator, client: AmiTestClient, agent: str = "1001") -> AmiMessage:
    """A queue call answered by ``agent`` that stays up; returns its AgentConnect."""
    live.start_call(
        InboundPlan("+15557654321", "JOHN SMITH", agents=(agent,), answer_after=0.05, talk=LONG)
    )
    connect = await client.wait_for(lambda m: m.event == "AgentConnect")
    await client.wait_for(lambda m: m.event == "BridgeEnter" and m["BridgeNumChannels"] == "2")
    return connect


async def test_core_show_channels_lists_a_live_call(
    live: AmiSimulator, agent: AmiTestClient
) -> None:
    connect = await talking(live, agent)
    reply = await agent.request_list("CoreShowChannels")
    ack, *items, done = reply
    assert [(k, v) for k, v in ack.fields if k != "ActionID"] == [
        ("Response", "Success"),
        ("EventList", "start"),
        ("Message", "Channels will follow"),
    ]
    assert [m.fields[1][0] for m in items] == ["ActionID", "ActionID"]
    by_channel = {m["Channel"]: m for m in items}
    caller, leg = by_channel[connect["Channel"]], by_channel[connect["DestChannel"]]
    assert (caller["Application"], leg["Application"]) == ("Queue", "AppQueue")
    assert caller["BridgeId"] == leg["BridgeId"] != ""
    assert caller["Duration"].count(":") == 2
    assert (done.event, done["EventList"], done["ListItems"]) == (
        "CoreShowChannelsComplete",
        "Complete",
        "2",
    )


async def test_a_caller_waiting_in_sales_is_listed_with_sales_queue_data(
    live: AmiSimulator, agent: AmiTestClient
) -> None:
    # The bridge's resync reads a waiting call's queue from Queue()'s ApplicationData.
    live.start_call(InboundPlan("+15559876543", queue="sales", agents=("1001",), answer_after=LONG))
    await agent.wait_for(lambda m: m.event == "QueueCallerJoin" and m["Queue"] == "sales")
    app = await agent.wait_for(lambda m: m.event == "Newexten" and m["Application"] == "Queue")
    assert app["AppData"].split(",")[0] == "sales"
    _ack, *items, _done = await agent.request_list("CoreShowChannels")
    caller = next(m for m in items if m["Application"] == "Queue")
    assert caller["ApplicationData"].split(",")[0] == "sales"


async def test_queue_status_and_summary(live: AmiSimulator, agent: AmiTestClient) -> None:
    live.start_call(InboundPlan("+15559876543", agents=("1003",), answer_after=LONG))
    await agent.wait_for(lambda m: m.event == "DialState")
    ack, *items, done = await agent.request_list("QueueStatus", Queue="support")
    assert ack.get("Message") == "Queue status will follow"
    assert [m.event for m in items] == ["QueueParams"] + ["QueueMember"] * 3 + ["QueueEntry"]
    # app_queue puts ActionID last in these items.
    assert all(m.fields[-1][0] == "ActionID" for m in items)
    member = {m["Location"]: m for m in items if m.event == "QueueMember"}
    assert member["PJSIP/1003"]["Status"] == "6"
    entry = items[-1]
    assert (entry["Position"], entry["CallerIDName"]) == ("1", "unknown")
    assert done["ListItems"] == "5"
    _ack, summary, done = await agent.request_list("QueueSummary", Queue="support")
    assert (summary["LoggedIn"], summary["Available"], summary["Callers"]) == ("3", "2", "1")
    assert summary.fields[-1][0] == "ActionID"
    assert done.event == "QueueSummaryComplete"


async def test_queue_pause_everywhere_then_one_queue(agent: AmiTestClient) -> None:
    reply = await agent.request("QueuePause", Interface="PJSIP/1001", Paused="true", Reason="Lunch")
    assert reply.get("Message") == "Interface paused successfully"
    await agent.wait_for(lambda m: m.get("Device") == "Queue:sales_avail")
    events = after(agent, reply)
    pauses = [m for m in events if m.event == "QueueMemberPause"]
    assert [(m["Queue"], m["Paused"], m["PausedReason"]) for m in pauses] == [
        ("support", "1", "Lunch"),
        ("sales", "1", "Lunch"),
    ]
    assert [m["Device"] for m in events if m.event == "DeviceStateChange"] == [
        "Queue:support_pause_PJSIP/1001",
        "Queue:sales_pause_PJSIP/1001",
        "Queue:sales_avail",
    ]
    reply = await agent.request(
        "QueuePause", Interface="PJSIP/1001", Paused="false", Queue="support"
    )
    assert reply.get("Message") == "Interface unpaused successfully"
    unpause = await agent.wait_for(lambda m: m.event == "QueueMemberPause" and m["Paused"] == "0")
    assert (unpause["Queue"], unpause["PausedReason"]) == ("support", "")
    _ack, *items, _done = await agent.request_list("QueueStatus", Member="PJSIP/1001")
    paused = {m["Queue"]: m["Paused"] for m in items if m.event == "QueueMember"}
    assert paused == {"support": "0", "sales": "1"}


async def test_queue_pause_errors(agent: AmiTestClient) -> None:
    reply = await agent.request("QueuePause", Interface="PJSIP/1009", Paused="true")
    assert (reply.response, reply.get("Message")) == ("Error", "Interface not found")
    reply = await agent.request("QueuePause", Interface="PJSIP/1001")
    assert reply.get("Message") == "Need 'Interface' and 'Paused' parameters."
    await agent.sync()
    assert not agent.events["QueueMemberPause"]


async def test_queue_remove_and_add(agent: AmiTestClient) -> None:
    reply = await agent.request("QueueRemove", Queue="support", Interface="PJSIP/1003")
    assert reply.get("Message") == "Removed interface from queue"
    removed = await agent.wait_for(lambda m: m.event == "QueueMemberRemoved")
    assert removed["MemberName"] == "Carol White"
    again = await agent.request("QueueRemove", Queue="support", Interface="PJSIP/1003")
    assert again.get("Message") == "Unable to remove interface: Not there"
    reply = await agent.request(
        "QueueAdd",
        Queue="support",
        Interface="PJSIP/1003",
        MemberName="Carol White",
        StateInterface="PJSIP/1003",
        Penalty="0",
        Paused="false",
    )
    assert reply.get("Message") == "Added interface to queue"
    added = await agent.wait_for(lambda m: m.event == "QueueMemberAdded")
    assert (added["CallsTaken"], added["Status"], added["Membership"]) == ("0", "1", "dynamic")
    twice = await agent.request("QueueAdd", Queue="support", Interface="PJSIP/1003")
    assert twice.get("Message") == "Unable to add interface: Already there"
    nowhere = await agent.request("QueueAdd", Queue="nope", Interface="PJSIP/1003")
    assert nowhere.get("Message") == "Unable to add interface to queue: No such queue"


async def test_async_originate_acks_then_reports_with_the_same_action_id(
    agent: AmiTestClient,
) -> None:
    reply = await agent.request(
        "Originate",
        Channel="PJSIP/1003",
        Context="from-internal",
        Exten="+12125550147",
        Priority="1",
        CallerID='"Click2Call" <+12125550147>',
        Timeout="30000",
        Async="true",
    )
    assert (reply.response, reply.get("Message")) == ("Success", "Originate successfully queued")
    result = await agent.wait_for(lambda m: m.event == "OriginateResponse")
    assert result.action_id == reply.action_id
    assert (result["Response"], result["Reason"]) == ("Success", "4")
    leg = await agent.wait_for(
        lambda m: m.event == "Newchannel" and m["Channel"] == result["Channel"]
    )
    assert leg.get("Uniqueid") == result["Uniqueid"]
    trunk = await agent.wait_for(lambda m: m.event == "DialEnd" and m.get("Channel") is not None)
    assert trunk["DestChannel"].startswith("PJSIP/trunk-")
    assert trunk["DestLinkedid"] == result["Uniqueid"]


async def test_sync_originate_answers_after_the_leg_is_up(agent: AmiTestClient) -> None:
    reply = await agent.request(
        "Originate", Channel="PJSIP/1002", Context="from-internal", Exten="1003", Priority="1"
    )
    assert reply.get("Message") == "Originate successfully queued"
    # Events the action caused come after its response, and no OriginateResponse.
    assert after(agent, reply)[0].event == "Newchannel"
    await agent.wait_for(lambda m: m.event == "BridgeEnter" and m["BridgeNumChannels"] == "2")
    assert not agent.events["OriginateResponse"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Channel not specified"),
        ({"Channel": "PJSIP/1001", "Exten": "1002"}, "Originate with 'Exten' requires"),
        ({"Channel": "PJSIP/9999", "Exten": "1", "Context": "c", "Priority": "1"}, "failed"),
    ],
)
async def test_originate_errors(agent: AmiTestClient, fields: dict[str, str], message: str) -> None:
    reply = await agent.request("Originate", **fields)
    assert reply.response == "Error"
    assert message in (reply.get("Message") or "")


async def test_hangup_of_a_queued_caller_is_an_abandon(
    live: AmiSimulator, agent: AmiTestClient
) -> None:
    live.start_call(InboundPlan("+15559876543", agents=("1002",), answer_after=LONG))
    ringing = await agent.wait_for(lambda m: m.event == "DialState")
    reply = await agent.request("Hangup", Channel=ringing["Channel"])
    assert reply.get("Message") == "Channel Hungup"
    await agent.wait_for(lambda m: m.event == "Hangup" and m["Channel"] == ringing["Channel"])
    names = [m.event for m in after(agent, reply)]
    for expected in ("DialEnd", "QueueCallerAbandon", "QueueCallerLeave", "Hangup"):
        assert expected in names
    assert names.index("QueueCallerAbandon") < names.index("QueueCallerLeave")
    _ack, *channels, _done = await agent.request_list("CoreShowChannels")
    assert channels == []


async def test_hangup_of_the_agent_completes_the_call(
    live: AmiSimulator, agent: AmiTestClient
) -> None:
    connect = await talking(live, agent)
    reply = await agent.request("Hangup", Channel=connect["DestChannel"])
    complete = await agent.wait_for(lambda m: m.event == "AgentComplete")
    assert complete["Reason"] == "agent"
    await agent.wait_for(lambda m: m.event == "Hangup" and m["Channel"] == connect["Channel"])
    missing = await agent.request("Hangup", Channel="PJSIP/x-1")
    assert missing.get("Message") == "No such channel"
    assert reply.response == "Success"


async def test_blind_transfer_action(live: AmiSimulator, agent: AmiTestClient) -> None:
    connect = await talking(live, agent)
    reply = await agent.request(
        "BlindTransfer", Channel=connect["DestChannel"], Exten="1002", Context="from-internal"
    )
    assert reply.get("Message") == "Transfer succeeded"
    transfer = await agent.wait_for(lambda m: m.event == "BlindTransfer")
    assert (transfer["IsExternal"], transfer["Extension"]) == ("Yes", "1002")
    assert transfer["TransfereeChannel"] == connect["Channel"]
    complete = await agent.wait_for(lambda m: m.event == "AgentComplete")
    assert complete["Reason"] == "transfer"
    answered = await agent.wait_for(
        lambda m: (
            m.event == "DialEnd"
            and m["DialStatus"] == "ANSWER"
            and m["DestChannel"].startswith("PJSIP/1002-")
        )
    )
    assert answered["DestLinkedid"] == connect["Linkedid"]
    refused = await agent.request("BlindTransfer", Channel=connect["Channel"], Exten="1003")
    assert refused.get("Message") == "Transfer not permitted"


async def test_atxfer_action(live: AmiSimulator, agent: AmiTestClient) -> None:
    connect = await talking(live, agent)
    reply = await agent.request("Atxfer", Channel=connect["DestChannel"], Exten="1003")
    assert reply.get("Message") == "Atxfer successfully queued"
    transfer = await agent.wait_for(lambda m: m.event == "AttendedTransfer")
    assert (transfer["IsExternal"], transfer["DestType"]) == ("No", "Bridge")
    swap = await agent.wait_for(lambda m: m.event == "BridgeEnter" and m.get("SwapUniqueid"))
    assert swap["Linkedid"] == connect["Linkedid"]
    assert swap["Channel"].startswith("PJSIP/1003-")


async def test_redirect_of_the_caller_to_another_agent(
    live: AmiSimulator, agent: AmiTestClient
) -> None:
    connect = await talking(live, agent)
    reply = await agent.request(
        "Redirect", Channel=connect["Channel"], Context="from-internal", Exten="1002", Priority="1"
    )
    assert reply.get("Message") == "Redirect successful"
    await agent.wait_for(lambda m: m.event == "Hangup" and m["Channel"] == connect["DestChannel"])
    bridged = await agent.wait_for(
        lambda m: m.event == "BridgeEnter" and m["Channel"].startswith("PJSIP/1002-")
    )
    assert bridged["Linkedid"] == connect["Linkedid"]
    missing = await agent.request("Redirect", Channel="PJSIP/nope-1", Exten="1")
    assert missing.get("Message") == "No such channel"


async def test_redirect_of_a_waiting_caller_into_another_queue(
    live: AmiSimulator, agent: AmiTestClient
) -> None:
    """<queue>@cc-queues, as the sample dialplan: the caller leaves support and joins
    sales, whose member is then rung (the first queue's ring ends at once)."""
    live.start_call(InboundPlan("+15559876543", agents=("1002",), answer_after=LONG))
    ringing = await agent.wait_for(lambda m: m.event == "DialState")
    joined = await agent.wait_for(lambda m: m.event == "QueueCallerJoin")
    caller = joined["Channel"]
    unknown = await agent.request("Redirect", Channel=caller, Context="cc-queues", Exten="nope")
    assert unknown.response == "Error"
    reply = await agent.request(
        "Redirect", Channel=caller, Context="cc-queues", Exten="sales", Priority="1"
    )
    assert reply.get("Message") == "Redirect successful"
    left = await agent.wait_for(lambda m: m.event == "QueueCallerLeave" and m["Queue"] == "support")
    assert left["Channel"] == caller
    await agent.wait_for(lambda m: m.event == "Hangup" and m["Channel"] == ringing["DestChannel"])
    await agent.wait_for(
        lambda m: m.event == "QueueCallerJoin" and m["Queue"] == "sales" and m["Channel"] == caller
    )
    # Sales' one member, 1001, rings for the caller.
    rung = await agent.wait_for(
        lambda m: m.event == "AgentCalled" and m["Queue"] == "sales" and m["Channel"] == caller
    )
    assert rung["Interface"] == "PJSIP/1001"


async def test_play_dtmf_received_switches_a_chanspy(
    live: AmiSimulator, agent: AmiTestClient
) -> None:
    connect = await talking(live, agent)
    spied = connect["DestChannel"]
    reply = await agent.request(
        "Originate",
        Channel="PJSIP/1003",
        Application="ChanSpy",
        Data=f"{spied},qdE",
        Async="true",
        ChannelId="spy-1",
    )
    assert reply.response == "Success"
    start = await agent.wait_for(lambda m: m.event == "ChanSpyStart")
    spyer = start["SpyerChannel"]
    reply = await agent.request("PlayDTMF", Channel=spyer, Digit="5", Receive="true")
    assert reply.get("Message") == "DTMF successfully queued"
    end = await agent.wait_for(lambda m: m.event == "DTMFEnd" and m["Channel"] == spyer)
    assert (end["Digit"], end["Direction"]) == ("5", "Received")
    channel = live.pbx.channel(spyer)
    assert channel is not None and channel.app_data == f"{spied},qwdE"
    await agent.request("PlayDTMF", Channel=spyer, Digit="6", Receive="true")
    assert channel.app_data == f"{spied},qBdE"
    await agent.request("PlayDTMF", Channel=spyer, Digit="4", Receive="true")
    assert channel.app_data == f"{spied},qdE"
    # Sent out to the phone (no Receive): ChanSpy hears nothing of it.
    await agent.request("PlayDTMF", Channel=spyer, Digit="5")
    assert channel.app_data == f"{spied},qdE"
    missing = await agent.request("PlayDTMF", Channel="PJSIP/nope-1", Digit="5")
    assert missing.get("Message") == "Channel not found"


async def test_action_events_are_broadcast_to_other_clients(
    live: AmiSimulator, agent: AmiTestClient
) -> None:
    other = await AmiTestClient.connect(live.port)
    await other.login(secret=SECRET)
    await live.wait_logged_in(2)
    await agent.request("QueuePause", Interface="PJSIP/1002", Paused="true", Reason="Break")
    pause = await other.wait_for(lambda m: m.event == "QueueMemberPause")
    assert pause["MemberName"] == "Bob Jones"
    assert pause.action_id is None
    await other.close()


async def test_hanging_up_the_caller_mid_consultation_leaves_nothing_behind(
    live: AmiSimulator, agent: AmiTestClient
) -> None:
    connect = await talking(live, agent)
    await agent.request("Atxfer", Channel=connect["DestChannel"], Exten="1003")
    await agent.wait_for(
        lambda m: m.event == "DialState" and m["DestChannel"].startswith("PJSIP/1003")
    )
    await agent.request("Hangup", Channel=connect["Channel"])
    await agent.sync()
    _ack, *channels, _done = await agent.request_list("CoreShowChannels")
    assert channels == []
    assert agent.events["Newchannel"] == agent.events["Hangup"]
    assert agent.events["BridgeCreate"] == agent.events["BridgeDestroy"]


async def test_hangup_by_regex_lists_what_it_hung_up(
    live: AmiSimulator, agent: AmiTestClient
) -> None:
    connect = await talking(live, agent)
    ack, *items, done = await agent.request_list("Hangup", Channel="/^PJSIP/trunk-/")
    assert ack.get("Message") == "Channels hung up will follow"
    assert [m["Channel"] for m in items] == [connect["Channel"]]
    assert (done.event, done["ListItems"]) == ("ChannelsHungupListComplete", "1")
