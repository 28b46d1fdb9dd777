"""The hand-off between the bridge's reader and its writer.

The reader translates AMI frames as they arrive and adds each chunk of facts here; the
writer, whenever it is free, takes everything added so far (up to a batch size) in
order. So a batch is formed when the writer can start on it, not one write earlier.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from contactcenter import facts as te


class Pending:
    """Translated facts waiting for the writer, with the queue items they came from."""

    def __init__(self) -> None:
        self._chunks: deque[tuple[list[te.Fact], list[Any]]] = deque()
        self._ready = asyncio.Event()

    def add(self, facts: list[te.Fact], items: list[Any]) -> None:
        self._chunks.append((facts, items))
        self._ready.set()

    async def take(self, most: int) -> tuple[list[te.Fact], list[Any]]:
        """Whole chunks in order, until about ``most`` facts (at least one chunk)."""
        await self._ready.wait()
        facts: list[te.Fact] = []
        items: list[Any] = []
        while self._chunks and (not items or len(facts) + len(self._chunks[0][0]) <= most):
            chunk_facts, chunk_items = self._chunks.popleft()
            facts += chunk_facts
            items += chunk_items
        if not self._chunks:
            self._ready.clear()
        return facts, items
