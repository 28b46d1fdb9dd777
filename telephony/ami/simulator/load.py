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

Shape (all off by default, and then no random number is drawn for them, so a seed
gives the same calls as before they existed):

* ``queues``: inbound calls spread over the PBX's queues by weight (else ``support``);
* ``known_callers`` and ``known_share``: that share of the customers (callers, and the
  numbers click-to-call dials) are these numbers, e.g. a CRM's contacts, so that
  screen pops find someone; the others are random numbers nobody knows;
* ``wave_period`` and ``wave_depth``: the call rate swings around its mean as a sine,
  by ``wave_depth`` of it, over ``wave_period`` real seconds: calm, then pressure.
  Arrivals stay a Poisson process, of varying rate (drawn by thinning).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from telephony.ami.simulator.catalog import click_to_call_request
from telephony.ami.simulator.clock import USEC, Agenda, Script, ScriptHandle
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.scenarios import (
    InboundPlan,
    OutboundPlan,
    TransferPlan,
    free_phones,
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
# Random customers' caller ID names: none is a demo contact's, so a caller the CRM does
# not know never shows a known name on the console (the known ones come from known_callers).
_NAMES = ("DANIEL MOORE", "NORTHWIND LLC", "SOFIA ROSSI", "ANAND RAO", "", "", "EMMA WILSON")


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
    queues: Mapping[str, float] | None = None
    known_callers: tuple[tuple[str, str], ...] = ()  # (number, caller ID name)
    known_share: float = 0.0
    wave_period: float | None = None
    wave_depth: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.known_share <= 1.0:
            raise ValueError("known_share is a share: between 0 and 1")
        if self.known_share > 0 and not self.known_callers:
            raise ValueError("known_share needs known_callers")
        if not 0.0 <= self.wave_depth < 1.0:
            raise ValueError("wave_depth must be at least 0 and below 1")
        if self.wave_period is not None and self.wave_period <= 0:
            raise ValueError("wave_period must be positive")
        if self.queues is not None and (
            not self.queues or min(self.queues.values()) < 0 or sum(self.queues.values()) <= 0
        ):
            raise ValueError("queues needs at least one positive weight, none negative")

    def rate_factor(self, seconds: float) -> float:
        """The call rate ``seconds`` (real) after the start, as a multiple of the mean."""
        if self.wave_period is None or not self.wave_depth:
            return 1.0
        return 1.0 + self.wave_depth * math.sin(2 * math.pi * seconds / self.wave_period)


@dataclass(frozen=True)
class LoadReport:
    calls: int
    calls_by_kind: dict[str, int]
    events: int
    events_by_type: dict[str, int]
    elapsed: float
    calls_by_queue: dict[str, int] = field(default_factory=dict)  # inbound calls
    known_customers: int = 0  # calls whose customer was one of the known callers

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed if self.elapsed > 0 else 0.0


class LoadGenerator:
    def __init__(self, pbx: PbxModel, agenda: Agenda, config: LoadConfig) -> None:
        unknown = set(config.mix) - set(DEFAULT_MIX)
        if unknown:
            raise ValueError(f"unknown call kinds in the mix: {sorted(unknown)}")
        missing = set(config.queues or ()) - set(pbx.queues)
        if missing:
            raise ValueError(f"no such queues on this PBX: {sorted(missing)}")
        self.pbx = pbx
        self.agenda = agenda
        self.config = config
        self.rng = random.Random(config.seed)  # noqa: S311 - a seeded simulation, not secrets
        self.calls_by_kind: Counter[str] = Counter()
        self.calls_by_queue: Counter[str] = Counter()
        self.known_customers = 0
        self._handles: list[ScriptHandle] = []
        self._stopped = False
        self._start_counts: Counter[str] = Counter()
        self._started = 0.0
        self.started_usec = pbx.clock.now()  # simulated time when calls started
        self._saved_speed: float | None = pbx.clock.speed
        self._task: asyncio.Task[LoadReport] | None = None

    @property
    def calls(self) -> int:
        return sum(self.calls_by_kind.values())

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._start_counts = Counter(self.pbx.counts)
        self._started = loop.time()
        self.started_usec = self.pbx.clock.now()
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
            agents = max(1, len(self.pbx.directory.agent_phones))
            per_simulated_second = agents / 150.0
        else:
            per_simulated_second = rate / speed if speed is not None else rate
        if self.config.wave_period is None or not self.config.wave_depth:
            return self.rng.expovariate(per_simulated_second)
        # Thinning (Lewis and Shedler): candidates come at the peak rate and each is kept
        # with the rate of its moment over the peak, which gives the varying rate exactly.
        real_per_simulated = 1.0 / speed if speed is not None else 1.0
        now = (self.pbx.clock.now() - self.started_usec) / USEC
        peak = 1.0 + self.config.wave_depth
        waited = 0.0
        while True:
            waited += self.rng.expovariate(per_simulated_second * peak)
            factor = self.config.rate_factor((now + waited) * real_per_simulated)
            if self.rng.random() * peak < factor:
                return waited

    def _arrivals(self) -> Script:
        limit = self.config.max_calls
        while not self._stopped and (limit is None or self.calls < limit):
            kind = self.rng.choices(list(self.config.mix), weights=list(self.config.mix.values()))[
                0
            ]
            script = self._call(kind)
            if script is not None:  # None: nobody was free to place it
                self.calls_by_kind[kind] += 1
                self._handles.append(self.agenda.spawn(script, name=f"load-{kind}"))
            yield self._gap()

    def _queue(self) -> str:
        queues = self.config.queues
        if not queues:
            queue = "support"
        elif len(queues) == 1:
            queue = next(iter(queues))
        else:
            queue = self.rng.choices(list(queues), weights=list(queues.values()))[0]
        self.calls_by_queue[queue] += 1
        return queue

    def _customer(self, number: str, name: str) -> tuple[str, str]:
        """A known caller for ``known_share`` of the calls, else the random one given."""
        if self.config.known_share and self.rng.random() < self.config.known_share:
            self.known_customers += 1
            return self.rng.choice(self.config.known_callers)
        return number, name

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
            calls_by_queue=dict(self.calls_by_queue),
            known_customers=self.known_customers,
        )
        logger.info(
            "load: %d calls, %d events in %.2f s (%.0f events/s)",
            report.calls,
            report.events,
            report.elapsed,
            report.events_per_second,
        )
        return report

    def _call(self, kind: str) -> Script | None:
        rng, config = self.rng, self.config
        phones = [phone.number for phone in self.pbx.directory.agent_phones]
        if kind == "click_to_call":
            number, _ = self._customer(f"+1212555{rng.randrange(10_000):04d}", "")
            # Nobody dials out while on a call: the phone drawn if free, else the next
            # free one; none free, no call. The draws stay the same either way, so a
            # seed still gives the same calls.
            drawn = rng.choice(phones)
            at = phones.index(drawn)
            free = free_phones(self.pbx, phones[at:] + phones[:at])
            request = click_to_call_request(free[0] if free else drawn, number)
            outbound = OutboundPlan(
                request,
                agent_answers=rng.random() < 0.9,
                agent_ring=rng.uniform(1.0, 6.0),
                customer_answers=rng.random() < 0.85,
                customer_ring=rng.uniform(3.0, 15.0),
                talk=rng.uniform(*config.talk),
                hangup_by=rng.choice(("agent", "customer")),
            )
            return outbound_call(self.pbx, outbound) if free else None
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
        caller_num, caller_name = self._customer(
            f"+1555{rng.randrange(10_000_000):07d}", rng.choice(_NAMES)
        )
        plan = InboundPlan(
            caller_num=caller_num,
            caller_name=caller_name,
            queue=self._queue(),
            no_answer_first=1 if kind == "ring_no_answer" else 0,
            answer_after=patience + 30 if kind == "abandoned" else rng.uniform(2.0, 10.0),
            patience=patience,
            talk=talk,
            hangup_by=rng.choice(("caller", "agent")),
            holds=((rng.uniform(5.0, talk / 2), rng.uniform(5.0, 30.0)),) if kind == "hold" else (),
            transfer=transfer,
        )
        return inbound_call(self.pbx, plan)
