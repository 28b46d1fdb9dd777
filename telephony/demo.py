"""The live demo's phone side: the AMI simulator placing a trickle of calls, and the
bridge that records them (``manage.py demo``; ``./scripts/run``).

The simulator is the PBX of ``seed_demo`` (PJSIP/1001-1003 in ``support``, 1001 in
``sales``), with 1003 in ``sales`` too: the bridge records that membership from the
PBX's QueueStatus, as it would an agent added in queues.conf. Its agents answer by
themselves, but only when the PBX sees them as available: an agent who pauses from
the console (QueuePause through the bridge) is not rung. Calls arrive as a Poisson
process; the mix (answered, abandoned, ring-no-answer, hold, blind and attended
transfers, click-to-call) is the load generator's.

So that the demo shows what the product is for: about half the customers are the
seeded contacts (who have past calls and open cases, so their screen pops are full),
both queues get calls, and the rate swings slowly around its mean (calm for a couple
of minutes, then pressure: queues build, the service level dips and recovers).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from asgiref.sync import sync_to_async

from contactcenter.services.telephony.stopped import calls_end_for_stopped_pbx
from provisioning.demo import SUPERVISOR_EXTENSION, demo_callers
from telephony import metrics
from telephony.ami.bridge import AmiBridge
from telephony.ami.simulator import AmiSimulator, LoadConfig, LoadGenerator, SimulatorConfig
from telephony.ami.simulator.directory import AgentPhone, Directory, default_directory
from telephony.ami.targets import BridgeTarget, env_target

logger = logging.getLogger(__name__)

# Talk and patience of the demo's callers, in simulated seconds: short enough that the
# console changes every few seconds, long enough to watch a call ring and be answered.
DEMO_TALK = (15.0, 75.0)
DEMO_PATIENCE = (25.0, 90.0)
# Three agents, about a minute a call (rings, transfers, holds and click-to-calls
# included): at the wave's crest (1.75x the mean) a queue builds (up to 5-8 waiting) and
# the service level of those callers falls near 55 %; in its trough (0.25x) the queue
# drains and it is above 80 %. (Measured on the simulator at full speed, ten cycles.)
DEMO_CALLS_PER_SECOND = 0.032
DEMO_WAVE_PERIOD = 300.0
DEMO_WAVE_DEPTH = 0.75
DEMO_KNOWN_SHARE = 0.5
DEMO_QUEUES = {"support": 0.65, "sales": 0.35}
SALES_MEMBERS = ("1001", "1003")
DEMO_STOPPED = "the demo stopped: its simulated PBX hung up"


def demo_directory() -> Directory:
    """The simulator's default PBX with two agents in ``sales``, so that queue's callers
    are not all waiting for the one agent of both queues (``seed_demo`` keeps the
    recorded transcripts' shape, 1001 alone; the bridge learns the second member), and
    the supervisor's phone, in no queue: it rings only for a monitoring call, which it
    answers, so the supervisor page's listen, whisper and barge work in the demo."""
    base = default_directory()
    queues = tuple(
        replace(queue, members=SALES_MEMBERS) if queue.name == "sales" else queue
        for queue in base.queues
    )
    supervisor = AgentPhone(number=SUPERVISOR_EXTENSION, name="Sam Super")
    return replace(base, queues=queues, phones=(*base.phones, supervisor))


@dataclass(frozen=True)
class DemoConfig:
    organization_slug: str = "acme"
    ami_host: str = "127.0.0.1"
    ami_port: int = 0  # 0: any free port (one process); a fixed one for run_bridge
    username: str = "demo"
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    speed: float = 1.0
    calls_per_second: float = DEMO_CALLS_PER_SECOND  # the mean, around which it swings
    seed: int | None = None
    wave_period: float | None = DEMO_WAVE_PERIOD  # real seconds; None: a steady rate
    wave_depth: float = DEMO_WAVE_DEPTH
    known_share: float = DEMO_KNOWN_SHARE

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if self.calls_per_second <= 0:
            raise ValueError("the call rate must be positive")


class DemoPbx:
    """The simulator with its trickle of calls, started once a client logs in."""

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        seed = config.seed if config.seed is not None else secrets.randbelow(2**31)
        self.seed = seed
        self.simulator = AmiSimulator(
            SimulatorConfig(
                host=config.ami_host,
                port=config.ami_port,
                username=config.username,
                secret=config.secret,
                speed=config.speed,
                seed=seed,
                directory=demo_directory(),
            )
        )
        self.load: LoadGenerator | None = None

    @property
    def ami_url(self) -> str:
        user, secret = quote(self.config.username, safe=""), quote(self.config.secret, safe="")
        return f"ami://{user}:{secret}@{self.config.ami_host}:{self.simulator.port}"

    def load_config(self) -> LoadConfig:
        config = self.config
        return LoadConfig(
            calls_per_second=config.calls_per_second,
            seed=self.seed,
            talk=DEMO_TALK,
            patience=DEMO_PATIENCE,
            drain=False,  # on stop, calls in progress are cut, not fast-forwarded
            queues=DEMO_QUEUES,
            known_callers=demo_callers(),
            known_share=config.known_share,
            wave_period=config.wave_period,
            wave_depth=config.wave_depth if config.wave_period else 0.0,
        )

    async def start(self) -> None:
        await self.simulator.start()

    async def run(self, stop: asyncio.Event) -> None:
        """Place calls from the first login until ``stop``; then close the PBX."""
        try:
            logged_in = asyncio.create_task(self.simulator.wait_logged_in(1))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([logged_in, stopping], return_when=asyncio.FIRST_COMPLETED)
            logged_in.cancel()
            if not stop.is_set():
                load = self.load_config()
                self.load = self.simulator.start_load(load)
                logger.info(
                    "demo: placing about %.3f calls/s on average (seed %d)%s",
                    load.calls_per_second,
                    self.seed,
                    f", swinging by {load.wave_depth:.0%} over {load.wave_period:.0f} s"
                    if load.wave_period and load.wave_depth
                    else "",
                )
                await stopping
        finally:
            if self.load is not None:
                self.load.stop()
            await self.simulator.stop()


async def run_demo(config: DemoConfig, stop: asyncio.Event, pbx: DemoPbx) -> None:
    """Bridge and simulator together, until ``stop`` (or one of them fails): the bridge
    stops first (it stores what it received and logs out), then the simulator closes."""
    pbx_stop = asyncio.Event()
    pbx_task = asyncio.create_task(pbx.run(pbx_stop), name="demo-pbx")
    try:
        target = await sync_to_async(env_target)(pbx.ami_url, config.organization_slug)
        bridge = AmiBridge(target)
        metrics.watch_bridges([bridge])
        bridge_stop = asyncio.Event()
        bridge_task = asyncio.create_task(bridge.run(bridge_stop), name="demo-bridge")
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait(
                [stopping, bridge_task, pbx_task], return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stopping.cancel()
            bridge_stop.set()
            await bridge_task
            logger.info("demo: bridge stopped %s", bridge.stats)
            await end_open_calls(target)
    finally:
        pbx_stop.set()
        await pbx_task


async def end_open_calls(target: BridgeTarget) -> None:
    """The simulated PBX stops with the demo and cuts its calls, whose hangups no bridge
    will report: end them now, or they stay open in the database (a caller "queued"
    until the stale-call sweep, hours later)."""
    ended = await sync_to_async(calls_end_for_stopped_pbx)(
        organization_id=target.organization_id,
        connection_key=target.connection_key,
        reason=DEMO_STOPPED,
    )
    if ended:
        logger.info("demo: %d call(s) still open ended with the simulated PBX", ended)
