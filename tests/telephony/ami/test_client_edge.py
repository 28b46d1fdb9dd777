"""The bridge's AMI edge: noise dropped before parsing, nothing it needs lost.

FrameParser's ``keep`` test sees each raw message; ``edge_filter`` is the test the
bridge uses. Events the translator reads, replies to our actions (ActionID) and the
events the client itself acts on must all get through; dialplan noise must not.
"""

from __future__ import annotations

import asyncio

import pytest

from telephony.ami.bridge import _EDGE_CHECKS
from telephony.ami.client import AmiEndpoint, AmiSession, edge_filter
from telephony.ami.frames import AmiMessage, FrameError, FrameParser
from telephony.ami.simulator import AmiSimulator
from tests.telephony.conftest import SECRET, fast_config

KEEP = edge_filter(
    frozenset({"Hangup", "VarSet"}), {"VarSet": lambda raw: "CC_DISPOSITION" in raw.upper()}
)


def frames(data: bytes) -> list[AmiMessage]:
    parser = FrameParser(keep=KEEP)
    out = parser.feed(data)
    return [f for f in out if isinstance(f, AmiMessage)]


def test_noise_is_dropped_and_wanted_events_kept_in_order() -> None:
    data = (
        b"Event: Newexten\r\nChannel: PJSIP/1-1\r\nApplication: Queue\r\n\r\n"
        b"Event: Hangup\r\nUniqueid: 1.1\r\nCause: 16\r\n\r\n"
        b"Event: VarSet\r\nVariable: QUEUEPOSITION\r\nValue: 1\r\n\r\n"
        b"Event: VarSet\r\nVariable: __cc_disposition\r\nValue: refund\r\n\r\n"
        b"Event: DeviceStateChange\r\nDevice: PJSIP/1001\r\nState: INUSE\r\n\r\n"
        b"Event: Hangup\r\nUniqueid: 1.2\r\nCause: 16\r\n\r\n"
    )
    kept = frames(data)
    assert [(m.event, m.get("Uniqueid") or m.get("Value")) for m in kept] == [
        ("Hangup", "1.1"),
        ("VarSet", "refund"),
        ("Hangup", "1.2"),
    ]


def test_replies_to_actions_and_client_events_always_get_through() -> None:
    data = (
        b"Response: Success\r\nActionID: a1\r\nMessage: Pong\r\n\r\n"
        b"Event: CoreShowChannel\r\nActionID: a2\r\nChannel: PJSIP/1-1\r\n\r\n"
        b"Event: QueueMember\r\nactionid: a3\r\nName: x\r\n\r\n"
        b"Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n"
        b"Event: Shutdown\r\nShutdown: Cleanly\r\n\r\n"
    )
    kept = frames(data)
    assert [m.get("ActionID") or m.event for m in kept] == [
        "a1",
        "a2",
        "a3",
        "FullyBooted",
        "Shutdown",
    ]


def test_a_message_the_filter_cannot_judge_is_parsed() -> None:
    # Not "Event: " on the first line: parsed in full, errors reported as before.
    out = FrameParser(keep=KEEP).feed(
        b"event: Hangup\r\nUniqueid: 2.1\r\n\r\nno colon here\r\n\r\n"
    )
    assert [type(f) for f in out] == [AmiMessage, FrameError]
    assert isinstance(out[0], AmiMessage) and out[0].get("uniqueid") == "2.1"


def test_ami_message_items_keep_every_pair() -> None:
    message = AmiMessage.of(("Event", "X"), ("Variable", "a"), ("Variable", "b"))
    assert message.items() == [("Event", "X"), ("Variable", "a"), ("Variable", "b")]


async def test_session_gets_wanted_events_only_and_actions_still_answer() -> None:
    """Through panoramisk over TCP: a banner glued to nothing, noise, events, a Ping."""
    async with AmiSimulator(fast_config(dialplan_events=True)) as simulator:
        queue: asyncio.Queue[object] = asyncio.Queue()
        session = AmiSession(
            AmiEndpoint("127.0.0.1", simulator.port, simulator.config.username, SECRET),
            events={"Hangup", "FullyBooted"},
            queue=queue,
        )
        await session.open()
        server = await asyncio.wait_for(simulator.next_session(), 10)
        server.write(
            b"Event: Newexten\r\nChannel: PJSIP/1-1\r\n\r\n"
            b"Event: Hangup\r\nUniqueid: 9.9\r\nCause: 16\r\n\r\n"
        )
        await session.ping(5)  # answered after the events written before it
        names = []
        while not queue.empty():
            item: AmiMessage = queue.get_nowait()  # type: ignore[assignment]
            names.append(item.get("Event"))
        assert names == ["FullyBooted", "Hangup"]
        session.close()


@pytest.mark.parametrize("split", [1, 7, 64])
def test_keep_sees_whole_messages_whatever_the_reads(split: int) -> None:
    data = b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\nEvent: Newexten\r\nX: y\r\n\r\n" * 3
    parser = FrameParser(keep=KEEP)
    out = []
    for i in range(0, len(data), split):
        out += parser.feed(data[i : i + split])
    assert [f.get("Uniqueid") for f in out if isinstance(f, AmiMessage)] == ["1.1"] * 3


async def test_a_login_answered_before_open_resumes_is_a_login(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a busy loop the login's reply can be handled before ``open`` resumes after the
    connection, and panoramisk has forgotten the login's future by then. That session is
    logged in; it was once taken for a failed login, closed and tried again."""
    from panoramisk import Manager

    connect = Manager.connect

    def late_connect(manager: Manager, *args: object, **kwargs: object) -> asyncio.Future[None]:
        connected = connect(manager, *args, **kwargs)
        resumed = asyncio.get_running_loop().create_future()

        async def after_login() -> None:
            await connected
            while manager.authenticated_future is not None:  # until the reply is handled
                await asyncio.sleep(0)
            resumed.set_result(None)

        resumed.task = asyncio.ensure_future(after_login())  # type: ignore[attr-defined]
        return resumed

    monkeypatch.setattr(Manager, "connect", late_connect)
    async with AmiSimulator(fast_config()) as simulator:
        session = AmiSession(
            AmiEndpoint("127.0.0.1", simulator.port, simulator.config.username, SECRET),
            events={"FullyBooted"},
            queue=asyncio.Queue(),
        )
        await asyncio.wait_for(session.open(), 10)
        assert session._manager.authenticated
        await session.ping(5)
        assert len(simulator.sessions) == 1
        session.close()


@pytest.mark.parametrize(
    ("variable", "kept"),
    [
        ("__cc_disposition", True),
        ("CC_DISPOSITION", True),
        ("MIXMONITOR_FILENAME", True),
        ("vm_messagefile", True),
        ("VMSTATUS", True),
        ("QUEUEPOSITION", False),
        ("DIALSTATUS", False),
    ],
)
def test_the_bridges_varset_check_keeps_only_the_variables_it_reads(
    variable: str, kept: bool
) -> None:
    check = _EDGE_CHECKS["VarSet"]
    raw = f"Event: VarSet\r\nChannel: PJSIP/1001-1\r\nVariable: {variable}\r\nValue: x\r\n"
    assert check(raw) is kept
