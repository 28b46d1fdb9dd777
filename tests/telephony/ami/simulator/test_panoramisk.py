"""panoramisk 1.4 against the live PBX model (no transcript)."""

from __future__ import annotations

from collections import Counter

from telephony.ami.simulator import AmiSimulator
from tests.telephony.panoramisk_client import ORIGINATE, PanoramiskClient


async def test_panoramisk_drives_the_model_and_sees_every_event(simulator: AmiSimulator) -> None:
    client = PanoramiskClient(simulator.port)
    try:
        await client.connect()
        status = await client.send({"Action": "QueueStatus", "Queue": "support"})
        assert [m.event for m in status[1:]] == ["QueueParams"] + ["QueueMember"] * 3 + [
            "QueueStatusComplete"
        ]
        removed = await client.send(
            {"Action": "QueueRemove", "Queue": "support", "Interface": "PJSIP/1003"}
        )
        assert removed.message == "Removed interface from queue"
        # as_list=False, or panoramisk 1.4 waits forever for a list that never comes.
        added = await client.send(
            {"Action": "QueueAdd", "Queue": "support", "Interface": "PJSIP/1003"}, as_list=False
        )
        assert added.message == "Added interface to queue"
        ack = await client.send(ORIGINATE, as_list=False)
        assert ack.message == "Originate successfully queued"
        await client.wait_until(lambda: client.events["OriginateResponse"] == 1)
        await simulator.run_scenario("blind_transfer").wait()
        assert (await client.send({"Action": "Ping"})).ping == "Pong"
        assert client.events == simulator.pbx.counts + Counter({"FullyBooted": 1})
    finally:
        client.close()
