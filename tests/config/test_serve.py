"""config.serve: a signal while the stopped server process exits is ignored quietly.

Runs ``serve`` in a subprocess of its own (it takes the process's signal handlers).
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
