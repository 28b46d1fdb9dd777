"""What the AMI client writes goes through our serializer: a field with a line break is
never written, whatever the database holds, so no field can inject a line (the probe's
``"secret": "x\\r\\nSET injected 1\\r\\n"`` ran a Redis command). Over real sockets: a
tiny server records every byte the client sends."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from provisioning.demo import seed_demo
from telephony.ami import client as ami_client
from telephony.ami.bridge import AmiBridge
from telephony.ami.client import AmiEndpoint, AmiSession, LoginFailed, UnsafeAction
from telephony.ami.frames import FrameError, FrameParser
from telephony.ami.simulator import AmiSimulator
from telephony.ami.targets import BridgeTarget, record_targets
from telephony.models import AsteriskConnection
from telephony.ratelog import RateLimitedLog
from tests.telephony.bridge_harness import FAST, running_bridge
from tests.telephony.conftest import SECRET, fast_config
from tests.telephony.wire import RecordingServer

INJECTED = "x\r\nSET injected 1\r\n"


def _session(port: int, *, username: str = "bridge", secret: str = SECRET) -> AmiSession:
    return AmiSession(
        AmiEndpoint("127.0.0.1", port, username, secret), events=set(), queue=asyncio.Queue()
    )


@pytest.mark.parametrize(
    ("username", "secret"),
    [
        ("bridge", INJECTED),
        ("bridge\r\nAction: Originate\r\nChannel: PJSIP/1001", "s"),
        ("bridge", "s\nAction: Logoff"),
    ],
)
async def test_a_login_with_a_line_break_is_never_written(username: str, secret: str) -> None:
    async with RecordingServer().running() as server:
        session = _session(server.port, username=username, secret=secret)
        with pytest.raises(LoginFailed, match="not sent"):
            await session.open()
        session.close()
        await server.wait_closed(1)
    assert server.connections == 1
    assert bytes(server.received) == b""  # not the login, not a line of it


async def test_an_action_with_a_line_break_is_refused_and_the_session_goes_on() -> None:
    async with RecordingServer().running() as server:
        session = _session(server.port)
        await session.open()
        with pytest.raises(UnsafeAction):
            await session.action(
                {
                    "Action": "QueuePause",
                    "Interface": "PJSIP/1001",
                    "Reason": "lunch\r\nAction: Originate\r\nChannel: PJSIP/1001",
                }
            )
        await session.ping(5)
        session.close()
        await server.wait_closed(1)
    assert [m.get("Action") for m in server.actions()] == ["Login", "Ping"]
    assert b"Originate" not in server.received


@pytest.mark.django_db(transaction=True)
async def test_a_bad_row_is_not_opened_and_its_login_never_written(settings: Any) -> None:
    """A row written around the validators (straight SQL, an old release): record_targets
    skips it; and a bridge given such an endpoint anyway writes nothing of it."""
    async with RecordingServer().running() as server:
        settings.AMI_ALLOWED_TARGETS = [f"127.0.0.1:{server.port}"]  # the target is fine

        def rows() -> list[BridgeTarget]:
            organization = seed_demo().organization
            for name, fields in {"bad-secret": {"secret": INJECTED}, "ok": {}}.items():
                AsteriskConnection.objects.create(
                    organization=organization,
                    name=name,
                    host="127.0.0.1",
                    port=server.port,
                    username="bridge",
                    secret=fields.get("secret", SECRET),
                )
            return record_targets()

        targets = await sync_to_async(rows)()
        assert [t.endpoint.secret for t in targets] == [SECRET]

        bad = BridgeTarget(
            endpoint=AmiEndpoint("127.0.0.1", server.port, "bridge", INJECTED),
            organization_id=targets[0].organization_id,
            connection_key="asterisk:bad",
            trusted=True,
        )
        bridge = AmiBridge(bad, FAST)
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        await asyncio.wait_for(server.wait_closed(2), 10)  # two attempts, both refused
        stop.set()
        await asyncio.wait_for(task, 10)
        await sync_to_async(connections.close_all)()
    assert bytes(server.received) == b""
    assert "LoginFailed" in bridge.stats.last_error


@pytest.mark.django_db(transaction=True)
async def test_a_console_command_with_a_line_break_sends_nothing() -> None:
    simulator = AmiSimulator(fast_config(dialplan_events=False))
    async with simulator, running_bridge(simulator) as running:
        session = await asyncio.wait_for(simulator.next_session(), 10)
        result = await running.bridge.execute(
            "queue_pause",
            {
                "agent": "PJSIP/1001",
                "paused": True,
                "reason": "lunch\r\nAction: Originate\r\nChannel: PJSIP/1001\r\nExten: 900",
            },
        )
        assert (result["ok"], result["error"]) == (False, "invalid")
        await running.bridge.synced()  # a Ping answered: everything before it was read
    assert session.action_count("queuepause") == 0
    assert session.action_count("originate") == 0


async def test_a_flood_of_garbage_logs_a_few_lines_and_the_session_goes_on(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2 MB of garbage once wrote 8,128 warning lines: now a few per minute, with the
    exact count of skipped AMI frames kept by the client."""
    monkeypatch.setattr(ami_client, "_skipped_frames", RateLimitedLog(ami_client.logger))
    garbage = b"".join(b"garbage line %06d, no colon\r\n\r\n" % i for i in range(70_000))
    assert len(garbage) >= 2_000_000
    expected = sum(isinstance(f, FrameError) for f in FrameParser().feed(garbage + b"\r\n"))
    async with AmiSimulator(fast_config(dialplan_events=False)) as simulator:
        session = _session(simulator.port)
        await session.open()
        server = await asyncio.wait_for(simulator.next_session(), 10)
        with caplog.at_level(logging.WARNING, logger=ami_client.logger.name):
            server.write(garbage + b"\r\n")
            await session.ping(10)  # answered after the garbage written before it
        frame_errors = session._manager.frame_errors
        session.close()
    lines = [r for r in caplog.records if "skipped a frame" in r.getMessage()]
    assert expected > 1000
    assert frame_errors == expected
    assert 1 <= len(lines) <= 5


def test_the_rate_limited_log_says_how_many_lines_it_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    log = RateLimitedLog(
        logging.getLogger("test.ratelog"), burst=2, interval=10, clock=lambda: now[0]
    )
    with caplog.at_level(logging.WARNING, logger="test.ratelog"):
        sent = [log.warning("bad %d", i) for i in range(5)]
        now[0] = 10.0
        log.warning("bad %d", 5)
    assert sent == [True, True, False, False, False]
    assert [r.getMessage() for r in caplog.records] == [
        "bad 0",
        "bad 1",
        "bad 5 (3 more like this suppressed)",
    ]
