"""The simulator side of bench/latency.py, in its own process.

Serves the AMI simulator (``--agents`` phones in queue ``support``) on a free port,
waits for the bridge to log in and for ``go`` on stdin, then places calls at
``--rate`` AMI events per second for ``--seconds``. Every ``AgentCalled`` and
``AgentConnect`` written to the bridge is noted with the wall-clock time it left
(``writer.write``, which hands the bytes to the kernel at once while the socket is not
backed up): ``[kind, extension, caller number, time]``. Talks JSON lines on stdout; the
notes go to ``--record`` (JSON) when stdin closes.

    python -m bench.latency_simulator --agents 1000 --rate 2000 --seconds 20 --record f
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from telephony.ami.simulator import AmiSimulator, LoadConfig, SimulatorConfig

_PROBES = {b"Event: AgentCalled\r\n": "ringing", b"Event: AgentConnect\r\n": "answered"}


class _Stamp:
    """A StreamWriter that notes when each probe's AMI frame leaves."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self.on = False
        self.notes: list[tuple[str, str, str, float]] = []

    def write(self, data: bytes) -> None:
        self._writer.write(data)
        if self.on:
            for head, kind in _PROBES.items():
                if data.startswith(head):
                    self.notes.append((kind, *_fields(data), time.time()))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


def _fields(data: bytes) -> tuple[str, str]:
    fields = dict(line.split(": ", 1) for line in data.decode().split("\r\n") if ": " in line)
    return fields.get("Interface", "").removeprefix("PJSIP/"), fields.get("CallerIDNum", "")


def _say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def _line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def main(options: argparse.Namespace) -> None:
    config = SimulatorConfig(
        port=0,
        secret=options.secret,
        # Real time once the load stops (the throttle sets the pace while it runs), so
        # the calls still in progress end as a trickle, not as a burst at full speed.
        speed=1.0,
        seed=options.seed,
        agents=options.agents,
        dialplan_events=True,
    )
    async with AmiSimulator(config) as simulator:
        _say(port=simulator.port)
        await simulator.wait_logged_in(1)
        # The session that logged in, not the first accepted: a bridge that gave up on a
        # first connection would leave every probe unnoted.
        (session,) = simulator.logged_in()
        stamp = _Stamp(session.writer)
        session.writer = stamp  # type: ignore[assignment]
        _say(ready=True)
        await _line()  # "go": the consoles are connected
        stamp.on = True
        load = simulator.start_load(
            LoadConfig(
                events_per_second=options.rate,
                duration=options.seconds,
                seed=options.seed,
                drain=False,
            )
        )
        report = await load.wait()
        stamp.on = False
        _say(finished=time.time(), calls=report.calls, events=report.events, elapsed=report.elapsed)
        await _line()  # stdin closed: the driver has what it needs
        with open(options.record, "w") as out:
            json.dump(stamp.notes, out)
        _say(recorded=len(stamp.notes))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--secret", default="bench")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--record", required=True)
    asyncio.run(main(parser.parse_args()))
