"""``manage.py ami_simulator`` run in a thread for a test: its output line by line, and the port it
listens on.
"""

from __future__ import annotations

import asyncio
import io
import queue
import re
import threading

from django.core.management import call_command

from tests.telephony.conftest import SECRET


class LineSink(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.lines: queue.Queue[str] = queue.Queue()

    def write(self, text: str) -> int:
        self.lines.put(text)
        return len(text)


def start_command(*args: str) -> tuple[threading.Thread, LineSink]:
    sink = LineSink()
    thread = threading.Thread(
        target=call_command,
        args=("ami_simulator", "--port", "0", "--secret", SECRET, *args),
        kwargs={"stdout": sink},
        daemon=True,
    )
    thread.start()
    return thread, sink


async def listening_port(sink: LineSink) -> int:
    line = await asyncio.to_thread(sink.lines.get, True, 10)
    match = re.search(r"on 127\.0\.0\.1:(\d+) ", line)
    assert match, line
    return int(match.group(1))
