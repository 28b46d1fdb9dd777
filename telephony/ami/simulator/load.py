"""The load generator: random but seedable realistic calls at a given rate.

Rates:

* ``calls_per_second``: new calls per real second (the clock's ``speed`` compresses
  call durations, so speed=30 plays a 2-minute call in 4 s);
* ``events_per_second``: at most this many events per real second; the calls run
  on simulated time as fast as that allows;
* neither: as fast as the clients read (benchmarks).

It stops placing calls after ``duration`` real seconds or ``max_calls`` calls, then
(``drain=True``) plays the calls still in progress to their end at full speed, so
every Newchannel gets its Hangup. The report counts what the PBX emitted meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from telephony.ami.simulator.catalog import click_to_call_request
from telephony.ami.simulator.clock import Agenda, Script, ScriptHandle
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.scenarios import (
    InboundPlan,
    OutboundPlan,
    TransferPlan,
    inbound_call,
    outbound_call,
)

logger = logging.getLogger(__name__)

DEFAULT_MIX: dict[str, float] = {
    "answered": 0.45,
    "abandoned": 0.12,
    "ring_no_answer": 0.10,
    "hold": 0.12,
    "blind_transfer": 0.07,
    "attended_transfer": 0.05,
    "click_to_call": 0.09,
}
_NAMES = ("JOHN SMITH", "ACME LTD", "MARIA GARCIA", "LI WEI", "", "", "OLIVIA BROWN")


@dataclass(frozen=True)
class LoadConfig:
    calls_per_second: float | None = None
    events_per_second: float | None = None
    duration: float | None = None
    max_calls: int | None = None
    seed: int = 0
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    talk: tuple[float, float] = (20.0, 180.0)
    patience: tuple[float, float] = (30.0, 120.0)
    drain: bool = True


@dataclass(frozen=True)
class LoadReport:
    calls: int
    calls_by_kind: dict[str, int]
    events: int
    events_by_type: dict[str, int]
    elapsed: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed if self.elapsed > 0 else 0.0


class LoadGenerator:
    def __init__(self, pbx: PbxModel, agenda: Agenda, config: LoadConfig) -> None:
        unknown = set(config.mix) - set(DEFAULT_MIX)
        if unknown:
            raise ValueError(f"unknown call kinds in the mix: {sorted(unknown)}")
        self.pbx = pbx
        self.agenda = agenda
        self.config = config
        self.rng = random.Random(config.seed)  # noqa: S311 - a seeded simulation, not secrets
        self.calls_by_kind: Counter[str] = Counter()
        self._handles: list[ScriptHandle] = []
        self._stopped = False
        self._start_counts: Counter[str] = Counter()
        self._started = 0.0
        self._saved_speed: float | None = pbx.clock.speed
        self._task: asyncio.Task[LoadReport] | None = None

    @property
    def calls(self) -> int:
        return sum(self.calls_by_kind.values())

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._start_counts = Counter(self.pbx.counts)
        self._started = loop.time()
        self._saved_speed = self.pbx.clock.speed
        if self.config.events_per_second is not None:
            # Simulated time runs free; the throttle alone sets the pace.
            self.pbx.clock.set_speed(None)
            self.agenda.throttle = self._throttle
        arrivals = self.agenda.spawn(self._arrivals(), name="load-arrivals")
        if self.config.duration is not None:
            loop.call_later(self.config.duration, self.stop)
        self._task = loop.create_task(self._finish(arrivals), name="ami-load")

    def stop(self) -> None:
        """Place no more calls (calls in progress go on)."""
        self._stopped = True

    async def wait(self) -> LoadReport:
        if self._task is None:
            raise RuntimeError("start() the generator first")
        return await asyncio.shield(self._task)

    def _throttle(self) -> float:
        rate = self.config.events_per_second
        if rate is None:
            return 0.0
        emitted = self.pbx.counts.total() - self._start_counts.total()
        due = self._started + emitted / rate
        return due - asyncio.get_running_loop().time()

    def _gap(self) -> float:
        """Simulated seconds to the next arrival (exponential: a Poisson process)."""
        rate = self.config.calls_per_second
        speed = self.pbx.clock.speed
        if rate is None:
            # No call rate given: offer about one call per agent every 150 simulated
            # seconds, so queues neither sit idle nor overflow with abandons.
            agents = max(1, len(self.pbx.directory.phones))
            return self.rng.expovariate(agents / 150.0)
        per_simulated_second = rate / speed if speed is not None else rate
        return self.rng.expovariate(per_simulated_second)

    def _arrivals(self) -> Script:
        limit = self.config.max_calls
        while not self._stopped and (limit is None or self.calls < limit):
            kind = self.rng.choices(list(self.config.mix), weights=list(self.config.mix.values()))[
                0
            ]
            self.calls_by_kind[kind] += 1
            self._handles.append(self.agenda.spawn(self._call(kind), name=f"load-{kind}"))
            yield self._gap()

    async def _finish(self, arrivals: ScriptHandle) -> LoadReport:
        await arrivals.wait()
        self.agenda.throttle = None
        if self.config.drain:
            self.pbx.clock.set_speed(None)
            for handle in self._handles:
                await handle.wait()
        self.pbx.clock.set_speed(self._saved_speed)
        emitted = self.pbx.counts - self._start_counts
        report = LoadReport(
            calls=self.calls,
            calls_by_kind=dict(self.calls_by_kind),
            events=emitted.total(),
            events_by_type=dict(emitted),
            elapsed=asyncio.get_running_loop().time() - self._started,
        )
        logger.info(
            "load: %d calls, %d events in %.2f s (%.0f events/s)",
            report.calls,
            report.events,
            report.elapsed,
            report.events_per_second,
        )
        return report

    def _call(self, kind: str) -> Script:
        rng, config = self.rng, self.config
        phones = [phone.number for phone in self.pbx.directory.phones]
        if kind == "click_to_call":
            number = f"+1212555{rng.randrange(10_000):04d}"
            request = click_to_call_request(rng.choice(phones), number)
            outbound = OutboundPlan(
                request,
                agent_answers=rng.random() < 0.9,
                agent_ring=rng.uniform(1.0, 6.0),
                customer_answers=rng.random() < 0.85,
                customer_ring=rng.uniform(3.0, 15.0),
                talk=rng.uniform(*config.talk),
                hangup_by=rng.choice(("agent", "customer")),
            )
            return outbound_call(self.pbx, outbound)
        talk = rng.uniform(*config.talk)
        patience = rng.uniform(*config.patience)
        transfer = None
        if kind in ("blind_transfer", "attended_transfer") and len(phones) > 1:
            transfer = TransferPlan(
                kind="blind" if kind == "blind_transfer" else "attended",
                to=rng.choice(phones),
                after=rng.uniform(10.0, 60.0),
                ring=rng.uniform(2.0, 8.0),
                consult=rng.uniform(5.0, 20.0),
                talk=talk,
                hangup_by=rng.choice(("caller", "target")),
            )
        plan = InboundPlan(
            caller_num=f"+1555{rng.randrange(10_000_000):07d}",
            caller_name=rng.choice(_NAMES),
            no_answer_first=1 if kind == "ring_no_answer" else 0,
            answer_after=patience + 30 if kind == "abandoned" else rng.uniform(2.0, 10.0),
            patience=patience,
            talk=talk,
            hangup_by=rng.choice(("caller", "agent")),
            holds=((rng.uniform(5.0, talk / 2), rng.uniform(5.0, 30.0)),) if kind == "hold" else (),
            transfer=transfer,
        )
        return inbound_call(self.pbx, plan)
