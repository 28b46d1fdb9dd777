"""The simulator side of bench/ingest.py, in its own process.

Serves the AMI simulator on a free port, waits for one client (the bridge) to log in,
starts the load at full speed and records every byte sent to that client in a file,
so the parse-only ceiling is measured on exactly the stream the bridge read. It
speaks to the driver in JSON lines on stdout and stops when its stdin closes.

    python -m bench.ingest_simulator --seconds 20 --record /tmp/stream.ami
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any, BinaryIO

from telephony.ami.simulator import AmiSimulator, LoadConfig, SimulatorConfig


class _Tee:
    """A StreamWriter that also keeps what it writes (in memory; saved at the end)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.chunks.append(data)
        self._writer.write(data)

    def save(self, out: BinaryIO) -> int:
        data = b"".join(self.chunks)
        out.write(data)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


def _say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def _stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


async def main(options: argparse.Namespace) -> None:
    config = SimulatorConfig(
        port=0,
        secret=options.secret,
        speed=None,  # as fast as the client reads
        seed=options.seed,
        agents=options.agents,
        dialplan_events=True,  # the noise a real dialplan emits: VarSet, Newexten, ...
    )
    async with AmiSimulator(config) as simulator:
        _say(port=simulator.port)
        session = await simulator.next_session()
        tee = _Tee(session.writer)
        session.writer = tee  # type: ignore[assignment]
        await simulator.wait_logged_in(1)
        cpu0 = time.process_time()
        _say(started=time.time())
        load = simulator.start_load(
            LoadConfig(duration=options.seconds, seed=options.seed, drain=True)
        )
        report = await load.wait()
        _say(
            finished=time.time(),
            calls=report.calls,
            calls_by_kind=report.calls_by_kind,
            events=report.events,
            events_by_type=report.events_by_type,
            elapsed=report.elapsed,
            cpu=time.process_time() - cpu0,
        )
        await _stdin_closed()
        with open(options.record, "wb") as out:
            size = tee.save(out)
        _say(recorded=size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--secret", default="bench")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--record", required=True)
    asyncio.run(main(parser.parse_args()))
