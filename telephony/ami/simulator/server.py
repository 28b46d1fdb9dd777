"""The AMI simulator: a TCP server speaking Asterisk 20's manager protocol.

Typical test use::

    config = SimulatorConfig(port=0, secret="s", speed=None, start_epoch=1741950000)
    async with AmiSimulator(config) as sim:            # sim.port: the port it got
        sim.expect_connection(ConnectionPlan([ReplaySpec.of("01_....ami")]))
        ... connect a client to sim.port and log in ...
        session = await sim.next_session()
        await session.replays_done.wait()             # session.replay_reports
        await sim.run_scenario("blind_transfer").wait()
        report = await sim.start_load(LoadConfig(events_per_second=500, duration=2)).wait()
        report.events_by_type                         # exactly what each client was sent

Live events from the PBX model (scenarios, the load generator, action side
effects) are broadcast to every logged-in session, like real AMI; a replayed
session gets only its transcript unless its plan asks for live events too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field, replace
from types import TracebackType

from telephony.ami.frames import AmiMessage, serialize
from telephony.ami.simulator.actions import ActionHandlers, OriginateBehaviour
from telephony.ami.simulator.catalog import scenario
from telephony.ami.simulator.clock import USEC, Agenda, ScriptHandle, SimClock
from telephony.ami.simulator.directory import AgentPhone, Directory, default_directory
from telephony.ami.simulator.load import LoadConfig, LoadGenerator
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.scenarios import InboundPlan, OutboundPlan, inbound_call, outbound_call
from telephony.ami.simulator.session import AmiSession, ConnectionPlan

logger = logging.getLogger(__name__)

_KEEP_SESSIONS = 1000


@dataclass(frozen=True)
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "bridge"
    secret: str = "secret"
    version: str = "9.0.0"  # AMI_VERSION of Asterisk 20
    # Simulated seconds per real second for live calls; None = as fast as possible.
    speed: float | None = 1.0
    start_epoch: float | None = None
    seed: int = 0
    agents: int = 3
    dialplan_events: bool = True
    # Asterisk sleeps 1 s before refusing; a test does not need to wait that long.
    login_failure_close_delay: float = 0.05
    # Seconds since "boot" at start, for FullyBooted's Uptime/LastReload.
    uptime_at_start: int = 10_790
    originate: OriginateBehaviour = field(default_factory=OriginateBehaviour)
    directory: Directory | None = None
    # Simulator-only AMI actions (control.py), e.g. placing one inbound call on demand.
    control: bool = False
    # Where MixMonitor's files go on this host (the PBX's monitor directory); None: none.
    monitor_dir: str | None = None
    # Phones in no queue beside the agents' (a supervisor's, to listen with).
    extra_phones: tuple[str, ...] = ()


class EventHub:
    """Fans each model event out to the subscribed sessions, serialized only once."""

    def __init__(self) -> None:
        self._sessions: list[AmiSession] = []

    @property
    def sessions(self) -> list[AmiSession]:
        return list(self._sessions)

    def subscribe(self, session: AmiSession) -> None:
        if session not in self._sessions:
            self._sessions.append(session)

    def unsubscribe(self, session: AmiSession) -> None:
        if session in self._sessions:
            self._sessions.remove(session)

    def publish(self, message: AmiMessage) -> None:
        if not self._sessions:
            return
        data = serialize(message)
        event = message.event or ""
        for session in self._sessions:
            session.deliver(event, data)

    async def drain(self) -> None:
        """Wait until every subscriber's transport buffer is below its high-water mark."""
        for session in list(self._sessions):
            await session.drain()


class AmiSimulator:
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock = SimClock(start_epoch=self.config.start_epoch, speed=self.config.speed)
        self.hub = EventHub()
        directory = self.config.directory or default_directory(
            agents=self.config.agents, dialplan_events=self.config.dialplan_events
        )
        if self.config.extra_phones:
            extra = tuple(
                AgentPhone(number, f"Phone {number}") for number in self.config.extra_phones
            )
            directory = replace(directory, phones=(*directory.phones, *extra))
        self.pbx = PbxModel(directory, self.clock, self.hub.publish, seed=self.config.seed)
        self.agenda: Agenda | None = None
        self.actions: ActionHandlers | None = None
        self.sessions: list[AmiSession] = []
        self.default_plan = ConnectionPlan()
        self._plans: deque[ConnectionPlan] = deque()
        self._new_sessions: asyncio.Queue[AmiSession] = asyncio.Queue()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._booted_usec = self.clock.now()
        self._login_changed = asyncio.Event()
        self._index = 0

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        self.agenda = Agenda(self.clock, after_step=self.pbx.flush_devices, drain=self.hub.drain)
        self.agenda.start()
        self.actions = ActionHandlers(
            self.pbx,
            self.agenda,
            self.config.originate,
            control=self.config.control,
            monitor_dir=self.config.monitor_dir,
        )
        self._server = await asyncio.start_server(self._accept, self.config.host, self.config.port)
        logger.info("AMI simulator listening on %s:%d", self.config.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            session.close()
        # Closing a session's transport ends its read loop; cancelling the accept task
        # instead would make asyncio's stream callback log a CancelledError.
        if self._tasks:
            _done, late = await asyncio.wait(list(self._tasks), timeout=2.0)
            for task in late:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.agenda is not None:
            await self.agenda.stop()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> AmiSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the simulator is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    def uptime_seconds(self) -> int:
        return self.config.uptime_at_start + (self.clock.now() - self._booted_usec) // USEC

    # -- connections -------------------------------------------------------------

    def expect_connection(self, plan: ConnectionPlan) -> None:
        """The next new connection gets ``plan``; later ones fall back to ``default_plan``."""
        self._plans.append(plan)

    async def next_session(self) -> AmiSession:
        """The next connection accepted (in accept order)."""
        return await self._new_sessions.get()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        plan = self._plans.popleft() if self._plans else self.default_plan
        self._index += 1
        session = AmiSession(self, reader, writer, plan, self._index)
        if len(self.sessions) >= _KEEP_SESSIONS:
            # A long-running simulator with a client that keeps reconnecting: keep the
            # open sessions and only the latest closed ones.
            self.sessions = [s for s in self.sessions if not s.closed.is_set()][-_KEEP_SESSIONS:]
        self.sessions.append(session)
        if self._new_sessions.qsize() >= _KEEP_SESSIONS:
            self._new_sessions.get_nowait()
        self._new_sessions.put_nowait(session)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await session.serve()
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def handle_action(
        self, session: AmiSession, action: AmiMessage
    ) -> list[AmiMessage] | None:
        if self.actions is None:
            return None
        return await self.actions.handle(action)

    # -- live traffic ------------------------------------------------------------

    def run_scenario(self, name: str) -> ScriptHandle:
        """Start a named scenario (catalog.py); ``await handle.wait()`` for its end."""
        if self.agenda is None:
            raise RuntimeError("start the simulator first")
        logger.info("scenario %s started", name)
        return self.agenda.spawn(scenario(name)(self.pbx), name=name)

    def start_call(self, plan: InboundPlan | OutboundPlan) -> ScriptHandle:
        """Start one call described by a plan (scenarios.py), e.g. a call that stays up."""
        if self.agenda is None:
            raise RuntimeError("start the simulator first")
        if isinstance(plan, InboundPlan):
            return self.agenda.spawn(inbound_call(self.pbx, plan), name="inbound")
        return self.agenda.spawn(outbound_call(self.pbx, plan), name="outbound")

    def start_load(self, config: LoadConfig) -> LoadGenerator:
        """Start placing random calls; ``await generator.wait()`` returns the report."""
        if self.agenda is None:
            raise RuntimeError("start the simulator first")
        generator = LoadGenerator(self.pbx, self.agenda, config)
        generator.start()
        return generator

    def logged_in(self) -> list[AmiSession]:
        return [s for s in self.sessions if s.authenticated.is_set() and not s.closed.is_set()]

    def notify_login(self) -> None:
        self._login_changed.set()

    async def wait_logged_in(self, count: int = 1) -> None:
        """Until ``count`` sessions are logged in at once (the CLI waits for its client)."""
        while len(self.logged_in()) < count:
            self._login_changed.clear()
            await self._login_changed.wait()
