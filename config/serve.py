"""Run Daphne with more work on the same asyncio loop, and stop it all cleanly.

Daphne runs on Twisted's asyncio reactor, whose loop ``daphne.server`` creates when it
is imported (so it must be imported before anything imports ``twisted.internet.reactor``).
:func:`serve` builds a :class:`daphne.server.Server` without Twisted's signal
handlers, installs its own for SIGINT and SIGTERM, and runs ``work(stop)`` as a task
on the reactor's loop once the port is listening. On a signal, ``stop`` is set, the
work is awaited (bounded by ``grace``), then the reactor stops: Daphne closes its
connections and ``serve`` returns normally.

:func:`run_until_signal` is the same for a process without a server (the bridge, the
simulated PBX): ``asyncio.run(main(stop))`` with ``stop`` set on SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings

logger = logging.getLogger(__name__)

Work = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
T = TypeVar("T")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ServeError(Exception):
    """The server could not start (the port is taken, the work failed at once...)."""


@dataclass
class ServeResult:
    address: tuple[str, int] | None = None
    failure: str = ""
    work_error: BaseException | None = None
    signals: list[str] = field(default_factory=list)


def serve(
    application: Any,
    *,
    host: str,
    port: int,
    work: Work | None = None,
    on_listening: Callable[[str, int], None] | None = None,
    grace: float = 20.0,
) -> ServeResult:
    """Serve ``application`` on host:port until SIGINT/SIGTERM (or ``work`` ends)."""
    from daphne.server import Server  # first: it installs the asyncio reactor
    from twisted.internet import reactor as _reactor

    reactor: Any = _reactor  # Twisted's reactor module object is not typed as a reactor
    result = ServeResult()
    stop = asyncio.Event()
    started = False

    class _Server(Server):
        def listen_success(self, port: Any) -> None:
            nonlocal started
            super().listen_success(port)
            host_port = port.getHost()
            result.address = (host_port.host, host_port.port)
            if not started:
                # A TCP listen succeeds before the reactor (and its loop) runs.
                started = True
                reactor.callWhenRunning(lambda: asyncio.ensure_future(_main()))

        def listen_error(self, failure: Any) -> None:
            result.failure = failure.getErrorMessage()
            super().listen_error(failure)

    async def _main() -> None:
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, _on_signal, signum)
        assert result.address is not None
        if on_listening is not None:
            on_listening(*result.address)
        task = loop.create_task((work or _idle)(stop))
        stopping = loop.create_task(stop.wait())
        try:
            await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            done, _ = await asyncio.wait([task], timeout=grace)
            if not done:
                logger.warning("serve: the work did not stop within %.0f s; cancelling", grace)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            elif task.exception() is not None:
                result.work_error = task.exception()
        finally:
            stopping.cancel()
            # The handlers stay: a second signal while the process exits (a terminal's
            # Ctrl-C reaching the whole group twice) must not raise KeyboardInterrupt.
            reactor.stop()

    async def _idle(stop: asyncio.Event) -> None:
        await stop.wait()

    def _on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        result.signals.append(name)
        if not stop.is_set():
            logger.info("serve: %s received, stopping", name)
            stop.set()

    server = _Server(
        application=application,
        endpoints=[f"tcp:port={port}:interface={host}"],
        signal_handlers=False,
    )
    # Until the port is open Python's own SIGINT handler is in place: a Ctrl-C that
    # early raises KeyboardInterrupt out of run(), with nothing started yet.
    server.run()
    if started:
        # The loop's self-pipe is closed as the process exits, while our handlers stay
        # (see _main): a signal then would write to a closed descriptor ("Exception
        # ignored ... signal wakeup fd"). With no wakeup descriptor it is just ignored.
        signal.set_wakeup_fd(-1)
    if result.failure or result.address is None:
        raise ServeError(result.failure or "the server did not start")
    if result.work_error is not None:
        raise ServeError(f"stopped: {result.work_error!r}") from result.work_error
    return result


def freeze_startup_objects() -> None:
    """Leave what a long-running process built at startup (Django, the app, its modules)
    out of every later garbage collection, and collect the rest less often
    (``BRIDGE_GC_THRESHOLDS``). A full collection walks every tracked object with the
    interpreter lock held: in the bridge and its render worker, every message in flight
    waited for it. And a batch's objects live through the batch, so with Python's
    thresholds they kept setting off full collections that found almost nothing to
    free; the young collections, cheap, stay as they are (docs/benchmarks.md: the
    figures the code's comments rest on). Call once the process is set up."""
    gc.collect()
    gc.freeze()
    if settings.BRIDGE_GC_THRESHOLDS:
        gc.set_threshold(*settings.BRIDGE_GC_THRESHOLDS)


def run_until_signal(main: Callable[[asyncio.Event], Coroutine[Any, Any, T]]) -> T | None:
    """``asyncio.run(main(stop))``, ``stop`` set on SIGINT/SIGTERM; None on an early Ctrl-C.

    Outside the main thread (``call_command`` in a test) no handler can be installed and
    ``stop`` is only set by ``main`` itself.
    """

    async def _main() -> T:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        installed = []
        for signum in STOP_SIGNALS:
            # Refused outside the main thread (RuntimeError, ValueError) and by loops
            # without signal support (NotImplementedError: Windows' proactor loop).
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
                installed.append(signum)
        try:
            return await main(stop)
        finally:
            if installed:
                # Closing the loop closes its self-pipe before it removes the handlers:
                # a signal in between (a terminal's Ctrl-C reaching the group twice) is
                # written to a closed descriptor ("Exception ignored ... signal wakeup
                # fd"). With no wakeup descriptor such a signal is ignored quietly.
                signal.set_wakeup_fd(-1)

    with contextlib.suppress(KeyboardInterrupt):  # a Ctrl-C before the loop ran
        return asyncio.run(_main())
    return None
