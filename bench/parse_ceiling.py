"""Parse-only ceilings on a recorded AMI byte stream: panoramisk's, and ours.

panoramisk's figure is its own protocol's ``data_received`` (decode, split, build a
``Message`` per AMI frame, route it) with a factory that drops every event: what the
panoramisk client costs before any work on an event starts. Ours is
``telephony.ami.frames.FrameParser``, which the bridge plugs into that protocol.
Both are fed the stream in 64 KiB reads, as a socket would hand it over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from panoramisk.ami_protocol import AMIProtocol

from telephony.ami.frames import AmiMessage, FrameParser

CHUNK = 64 * 1024


@dataclass(frozen=True)
class ParseRate:
    messages: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0


class _Sink:
    """Stands in for panoramisk's Manager: counts what the protocol hands over."""

    def __init__(self) -> None:
        self.count = 0

    def dispatch(self, message: Any) -> None:
        self.count += 1


def _chunks(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def panoramisk_once(chunks: list[bytes]) -> ParseRate:
    protocol = AMIProtocol()
    protocol.connection_made(transport=None)
    sink = _Sink()
    protocol.factory = sink
    started = time.perf_counter()
    for chunk in chunks:
        protocol.data_received(chunk)
    return ParseRate(sink.count, time.perf_counter() - started)


def ours_once(chunks: list[bytes]) -> ParseRate:
    parser = FrameParser()
    count = 0
    started = time.perf_counter()
    for chunk in chunks:
        for frame in parser.feed(chunk):
            if isinstance(frame, AmiMessage):
                count += 1
    return ParseRate(count, time.perf_counter() - started)


def best_of(runs: int, measure: Callable[[list[bytes]], ParseRate], data: bytes) -> ParseRate:
    """The fastest of ``runs`` passes: the ceiling, with the least interference."""
    chunks = _chunks(data)
    return min((measure(chunks) for _ in range(runs)), key=lambda rate: rate.seconds)
