"""panoramisk 1.4 wired the way the bridge will use it (docs/ami.md §9)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from panoramisk import Manager
from panoramisk.message import Message

from tests.telephony.conftest import SECRET

TIMEOUT = 10.0
ORIGINATE = {
    "Action": "Originate",
    "Channel": "PJSIP/1003",
    "Context": "from-internal",
    "Exten": "+12125550147",
    "Priority": "1",
    "CallerID": '"Click2Call" <+12125550147>',
    "Timeout": "30000",
    "Async": "true",
}


class PanoramiskClient:
    """A Manager with plain callbacks, counting the events it dispatches."""

    def __init__(self, port: int, **config: Any) -> None:
        self.events: Counter[str] = Counter()
        self.logins = 0
        self.logged_in = asyncio.Event()
        self._changed = asyncio.Event()
        self.manager = Manager(
            host="127.0.0.1",
            port=port,
            username="bridge",
            secret=SECRET,
            ping_delay=3600,
            loop=asyncio.get_running_loop(),
            on_login=self._on_login,
            **config,
        )
        self.manager.register_event("*", self._on_event)

    def _on_login(self, manager: Manager) -> None:
        self.logins += 1
        self.logged_in.set()
        self._changed.set()

    def _on_event(self, manager: Manager, message: Message) -> None:
        self.events[message.event] += 1
        self._changed.set()

    async def connect(self) -> None:
        await self.manager.connect()
        await asyncio.wait_for(self.logged_in.wait(), TIMEOUT)

    async def send(self, action: dict[str, str], as_list: bool | None = None) -> Any:
        return await asyncio.wait_for(
            self.manager.send_action(dict(action), as_list=as_list), TIMEOUT
        )

    async def wait_until(self, condition: Any) -> None:
        async def loop() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), TIMEOUT)

    def close(self) -> None:
        self.manager.close()
