"""Recorded AMI sessions (``*.ami``) and their ``{{Action#n}}`` ActionID placeholders.

A placeholder ``{{Originate#2}}`` stands for "the ActionID of the 2nd Originate the
client sent" (tests/telephony/transcripts/README.md). Names compare
case-insensitively, as AMI action names do.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from telephony.ami.frames import AmiMessage, Banner, FrameError, parse_frames
from telephony.ami.simulator.clock import USEC

PLACEHOLDER = re.compile(r"\{\{([A-Za-z][A-Za-z0-9_]*)#([0-9]+)\}\}")

ActionKey = tuple[str, int]  # (lower-case action name, 1-based number)


def placeholders_in(message: AmiMessage) -> list[ActionKey]:
    """The placeholders of one message, in order of first appearance."""
    found: list[ActionKey] = []
    for _key, value in message.fields:
        if "{{" not in value:
            continue
        for match in PLACEHOLDER.finditer(value):
            key = (match.group(1).lower(), int(match.group(2)))
            if key not in found:
                found.append(key)
    return found


def parse_timestamp(value: str | None) -> int | None:
    """``1741950000.104512`` -> microseconds; None for a missing or odd value."""
    if not value:
        return None
    seconds, _, fraction = value.partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()):
        return None
    return int(seconds) * USEC + int((fraction + "000000")[:6])


@dataclass(frozen=True)
class Transcript:
    name: str
    banner: str | None
    messages: tuple[AmiMessage, ...]
    placeholders: tuple[tuple[ActionKey, ...], ...]
    errors: tuple[FrameError, ...] = ()

    @classmethod
    def load(cls, path: str | Path) -> Transcript:
        path = Path(path)
        return cls.parse(path.read_bytes(), name=path.name)

    @classmethod
    def parse(cls, data: bytes, *, name: str = "transcript") -> Transcript:
        banner: str | None = None
        messages: list[AmiMessage] = []
        errors: list[FrameError] = []
        for frame in parse_frames(data):
            if isinstance(frame, Banner):
                banner = banner or frame.version
            elif isinstance(frame, FrameError):
                errors.append(frame)
            else:
                messages.append(frame)
        return cls(
            name=name,
            banner=banner,
            messages=tuple(messages),
            placeholders=tuple(tuple(placeholders_in(m)) for m in messages),
            errors=tuple(errors),
        )

    def __len__(self) -> int:
        return len(self.messages)

    def events(self, start: int = 0, stop: int | None = None) -> list[AmiMessage]:
        return [m for m in self.messages[start:stop] if m.event is not None]

    def event_counts(self, start: int = 0, stop: int | None = None) -> Counter[str]:
        return Counter(m.event for m in self.messages[start:stop] if m.event is not None)

    def actions(self) -> list[ActionKey]:
        """Every client action the transcript answers, in the order it needs them."""
        seen: list[ActionKey] = []
        for keys in self.placeholders:
            seen.extend(key for key in keys if key not in seen)
        return seen

    def preamble_length(self) -> int:
        """How many leading messages answer the Login (its Response and FullyBooted)."""
        count = 0
        for message, keys in zip(self.messages, self.placeholders, strict=True):
            if count == 0 and message.response is not None and any(k == "login" for k, _ in keys):
                count = 1
            elif count == 1 and message.event == "FullyBooted" and "Timestamp" not in message:
                return 2
            else:
                break
        return count
