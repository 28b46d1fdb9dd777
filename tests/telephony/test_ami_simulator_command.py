"""``manage.py ami_simulator`` end to end: it serves a scenario to a real client."""

from __future__ import annotations

import asyncio

from tests.telephony.amiclient import AmiTestClient
from tests.telephony.conftest import SECRET, TRANSCRIPTS
from tests.telephony.simulator_command import listening_port, start_command


async def test_command_runs_a_scenario_for_the_first_client_then_exits() -> None:
    thread, sink = start_command("--speed", "0", "--scenario", "answered", "--exit-when-done")
    client = await AmiTestClient.connect(await listening_port(sink))
    assert (await client.login(secret=SECRET)).response == "Success"
    await client.wait_for(lambda m: m.event == "Cdr")
    await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive()
    assert client.events["Hangup"] == 2
    await client.close()


async def test_command_replays_a_transcript_then_a_load_run() -> None:
    thread, sink = start_command(
        "--speed",
        "0",
        "--replay",
        str(TRANSCRIPTS / "01_inbound_queue_answered.ami"),
        "--max-calls",
        "5",
        "--exit-when-done",
    )
    client = await AmiTestClient.connect(await listening_port(sink))
    await client.login(secret=SECRET)
    await client.wait_for(lambda m: m.event == "Cdr")
    await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive()
    report = "".join(sink.lines.queue)
    assert "load: 5 calls" in report
    await client.close()
