"""config.serve: a signal while a stopped process exits is ignored quietly.

Runs ``serve`` and ``run_until_signal`` in subprocesses of their own (they take the
process's signal handlers).
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import os, signal
from config.serve import serve

async def app(scope, receive, send):
    raise RuntimeError("no request is made")

async def work(stop):
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, once the port is open
    await stop.wait()

result = serve(app, host="127.0.0.1", port=0, work=work)
print("signals", result.signals)
print("wakeup fd", signal.set_wakeup_fd(-1))
os.kill(os.getpid(), signal.SIGTERM)  # the group's second signal, while exiting
print("exited quietly")
"""


def test_a_second_signal_after_the_server_stopped_is_ignored() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == ["signals ['SIGINT']", "wakeup fd -1", "exited quietly"], done.stdout
    assert "Exception ignored" not in done.stderr
    assert "Traceback" not in done.stderr


RUN_SCRIPT = """
import asyncio, os, signal
from asyncio import selector_events
from config.serve import run_until_signal

close_self_pipe = selector_events.BaseSelectorEventLoop._close_self_pipe

def close_then_signal(loop):
    close_self_pipe(loop)
    # The group's second signal, in the loop's close: its self-pipe is gone, its
    # handlers not yet removed.
    os.kill(os.getpid(), signal.SIGTERM)

selector_events.BaseSelectorEventLoop._close_self_pipe = close_then_signal

async def main(stop):
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
    await stop.wait()
    return "stopped"

print(run_until_signal(main))
"""


def test_a_second_signal_while_the_loop_closes_is_ignored() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN_SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["stopped"], done.stdout
    assert "Exception ignored" not in done.stderr
    assert "Traceback" not in done.stderr
