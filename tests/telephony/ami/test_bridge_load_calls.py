"""The load generator's calls through the bridge: one record per call placed, of its kind.

A few hundred calls of the default mix (a fixed seed, as fast as the bridge reads) go
through the simulator, panoramisk and the bridge over a real socket. Which calls the
generator started is read from the stream itself: an inbound call's first channel comes
from the trunk; a click-to-dial's is the agent's phone, created Down by the Originate,
and its OriginateResponse names the number it dials. The stored calls must be exactly
those (an attended transfer's consultation folds into its customer's call), as many
inbound and outbound as the generator placed of each kind. A click-to-dial whose agent
never answered is an outbound call that failed, from the agent's extension to the
customer's number (docs/telephony.md, "Which leg answers"; issue 26).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from contactcenter.models import Call
from telephony.ami.fields import device_of
from telephony.ami.frames import AmiMessage
from telephony.ami.simulator import AmiSimulator, LoadConfig
from tests.telephony.bridge_harness import running_bridge
from tests.telephony.conftest import fast_config

SEED = 13  # its first calls include click-to-dials whose agent never answers
CALLS = 300


@dataclass
class Placed:
    """The calls the generator started, as the PBX announced them."""

    inbound: set[str] = field(default_factory=set)
    # Click-to-dials by Linkedid: (the agent's extension, the number, agent answered).
    originated: dict[str, tuple[str, str, bool]] = field(default_factory=dict)
    _last: dict[str, str] = field(default_factory=dict)  # device -> its latest originate

    def see(self, message: AmiMessage) -> None:
        event = message.get("Event")
        if event == "Newchannel" and message.get("Uniqueid") == message.get("Linkedid"):
            uniqueid = message.get("Uniqueid") or ""
            device = device_of(message.get("Channel") or "")
            if device.startswith("PJSIP/trunk"):
                self.inbound.add(uniqueid)
            elif message.get("ChannelState") == "0":  # an Originate's leg (Down)
                self._last[device] = uniqueid
                self.originated[uniqueid] = (device.partition("/")[2], "", False)
        elif event == "OriginateResponse":
            # A failure names the device it rang, not the channel (Uniqueid <unknown>).
            device = device_of(message.get("Channel") or "")
            uniqueid = self._last[device]
            extension, _, _ = self.originated[uniqueid]
            answered = message.get("Response") == "Success"
            self.originated[uniqueid] = (extension, message.get("Exten") or "", answered)


@pytest.mark.django_db(transaction=True)
async def test_every_call_placed_is_stored_once_as_the_kind_placed() -> None:
    placed = Placed()
    async with AmiSimulator(fast_config(seed=SEED)) as simulator:
        publish = simulator.pbx.sink

        def tap(message: AmiMessage) -> None:
            placed.see(message)
            publish(message)

        simulator.pbx.sink = tap
        async with running_bridge(simulator) as running:
            session = await asyncio.wait_for(simulator.next_session(), 10)
            await asyncio.wait_for(session.authenticated.wait(), 10)
            await running.bridge.synced()
            load = simulator.start_load(LoadConfig(max_calls=CALLS, seed=SEED))
            report = await asyncio.wait_for(load.wait(), 300)
            await running.bridge.synced(timeout=120)

    def stored() -> dict[str, dict[str, Any]]:
        rows = Call.objects.filter(organization_id=running.organization_id).values(
            "external_id",
            "direction",
            "status",
            "caller_number",
            "callee_number",
            "answered_at",
            "agent__extension",
            "flags",
        )
        calls = {row["external_id"]: dict(row) for row in rows}
        connections.close_all()
        return calls

    calls = await sync_to_async(stored)()
    kinds = report.calls_by_kind
    inbound_kinds = sum(n for kind, n in kinds.items() if kind != "click_to_call")
    assert report.calls == CALLS
    assert (len(placed.inbound), len(placed.originated)) == (inbound_kinds, kinds["click_to_call"])
    # Exactly the calls placed, each once: none split off, none missing.
    assert set(calls) == placed.inbound | set(placed.originated)
    directions = Counter(call["direction"] for call in calls.values())
    assert directions == {"inbound": inbound_kinds, "outbound": kinds["click_to_call"]}
    abandoned = sum(1 for call in calls.values() if call["status"] == "abandoned")
    assert abandoned == report.events_by_type.get("QueueCallerAbandon", 0)

    unanswered = 0
    for linkedid, (extension, number, agent_answered) in placed.originated.items():
        call = calls[linkedid]
        assert number.startswith("+1212555"), (linkedid, number)
        record = (call["caller_number"], call["callee_number"], call["agent__extension"])
        assert record == (extension, number, extension), call
        assert "started_at_unknown" not in call["flags"], call
        if agent_answered:
            assert call["status"] in {"completed", "no_answer"}, call
        else:
            unanswered += 1
            assert (call["status"], call["answered_at"]) == ("failed", None), call
    assert unanswered >= 2  # the seed's mix has them: the rule above was exercised
