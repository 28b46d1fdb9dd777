"""``manage.py ami_simulator --cel-database``: the call it plays is logged as Asterisk
would log it (CEL, queue_log, CDR), in tables it creates."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from django.db import connection

from tests.telephony.amiclient import AmiTestClient
from tests.telephony.conftest import SECRET
from tests.telephony.pbxlogs import PbxLogs, pbx_log_database
from tests.telephony.simulator_command import listening_port, start_command

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Asterisk logs to PostgreSQL"),
]


@pytest.fixture
def pbx_logs() -> Iterator[PbxLogs]:
    with pbx_log_database() as logs:
        logs.execute("DROP TABLE cel, queue_log, cdr")  # the command creates them
        yield logs


async def test_the_answered_scenario_is_logged(pbx_logs: PbxLogs) -> None:
    thread, sink = start_command(
        "--speed", "0", "--scenario", "answered", "--exit-when-done", "--cel-database", pbx_logs.dsn
    )
    client = await AmiTestClient.connect(await listening_port(sink))
    assert (await client.login(secret=SECRET)).response == "Success"
    await client.wait_for(lambda m: m.event == "Cdr")
    await asyncio.to_thread(thread.join, 20)
    assert not thread.is_alive()  # it flushed its rows before exiting
    await client.close()
    events = [kind for (kind,) in pbx_logs.rows("SELECT eventtype FROM cel ORDER BY id")]
    assert events.count("CHAN_START") == events.count("HANGUP") == client.events["Hangup"]
    assert events[-1] == "LINKEDID_END" and events.count("LINKEDID_END") == 1
    assert "ANSWER" in events and "BRIDGE_ENTER" in events
    queue_log = [e for (e,) in pbx_logs.rows("SELECT event FROM queue_log ORDER BY id")]
    assert queue_log[0] == "ENTERQUEUE" and "CONNECT" in queue_log
    assert queue_log[-1] in ("COMPLETECALLER", "COMPLETEAGENT")
    (cdr,) = pbx_logs.rows("SELECT disposition, answer IS NOT NULL FROM cdr")
    assert cdr == ("ANSWERED", True)
