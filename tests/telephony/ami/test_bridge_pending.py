"""The bridge's hand-off from translation to the writer: late batches, in order."""

from __future__ import annotations

import asyncio
from typing import Any

from telephony.ami.handoff import Pending


def _facts(*names: str) -> list[Any]:
    return list(names)  # the hand-off never looks inside a fact


async def test_the_writer_takes_everything_translated_so_far_in_order() -> None:
    pending = Pending()
    pending.add(_facts("a1", "a2"), ["m1", "m2", "m3"])  # a noise AMI frame gave no fact
    pending.add(
        _facts(), ["m4"]
    )  # an AMI frame that failed to translate: acknowledged all the same
    pending.add(_facts("c1"), ["m5"])
    facts, items = await pending.take(100)
    assert facts == ["a1", "a2", "c1"]
    assert items == ["m1", "m2", "m3", "m4", "m5"]


async def test_a_batch_stops_at_whole_chunks_near_the_limit_and_always_takes_one() -> None:
    pending = Pending()
    pending.add(_facts("a1", "a2", "a3"), ["m1"])  # more than the limit on its own
    pending.add(_facts("b1"), ["m2"])
    pending.add(_facts("c1", "c2"), ["m3"])
    assert await pending.take(2) == (["a1", "a2", "a3"], ["m1"])
    assert await pending.take(2) == (["b1"], ["m2"])  # b and c together would be 3
    assert await pending.take(2) == (["c1", "c2"], ["m3"])


async def test_the_writer_waits_for_the_next_translation() -> None:
    pending = Pending()
    taking = asyncio.ensure_future(pending.take(10))
    await asyncio.sleep(0)
    assert not taking.done()
    pending.add(_facts("x"), ["m"])
    assert await asyncio.wait_for(taking, timeout=5) == (["x"], ["m"])
