"""The AMI wire format: an incremental parser and a serializer.

Pure code: no Django, no asyncio, no panoramisk. A message is a block of
``Key: Value`` lines closed by an empty line (docs/ami.md §2). Keys keep the case
they arrived in, and lookups ignore case. Repeated keys (``ChanVariable``,
``Variable``, ``Output``) stay in arrival order. Anything the parser cannot use is
reported as a :class:`FrameError` and skipped; the stream always goes on.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

BANNER_PREFIX = "Asterisk Call Manager/"
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
# How much of an offending line a FrameError keeps: enough to log, never a whole flood.
_ERROR_SAMPLE_BYTES = 200
_KEY_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class AmiMessage:
    """One AMI message: ordered (key, value) pairs, looked up case-insensitively."""

    fields: tuple[tuple[str, str], ...]
    _index: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, *pairs: tuple[str, str], **named: str) -> AmiMessage:
        """Build from pairs (kept in order) and then keyword fields."""
        return cls(tuple(pairs) + tuple(named.items()))

    def _positions(self) -> dict[str, int]:
        # Built on first lookup only: the hot parse path never pays for it.
        index = self._index
        if index is None:
            index = {}
            for position, (key, _value) in enumerate(self.fields):
                index.setdefault(key.lower(), position)
            object.__setattr__(self, "_index", index)
        return index

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value of ``key`` (any case), or ``default``."""
        position = self._positions().get(key.lower())
        return default if position is None else self.fields[position][1]

    def get_all(self, key: str) -> list[str]:
        """Every value of a repeated key, in wire order."""
        wanted = key.lower()
        return [value for name, value in self.fields if name.lower() == wanted]

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._positions()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def items(self) -> list[tuple[str, str]]:
        """The (key, value) pairs in wire order, repeated keys included."""
        return list(self.fields)

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action(self) -> str | None:
        return self.get("Action")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def with_field(self, key: str, value: str) -> AmiMessage:
        """A copy where the first ``key`` (any case) is ``value``, appended if absent."""
        position = self._positions().get(key.lower())
        if position is None:
            return AmiMessage((*self.fields, (key, value)))
        pairs = list(self.fields)
        pairs[position] = (pairs[position][0], value)
        return AmiMessage(tuple(pairs))

    def without(self, key: str) -> AmiMessage:
        """A copy with every ``key`` (any case) removed."""
        wanted = key.lower()
        return AmiMessage(tuple(pair for pair in self.fields if pair[0].lower() != wanted))


@dataclass(frozen=True, slots=True)
class Banner:
    """The greeting line ``Asterisk Call Manager/<version>`` sent on connect."""

    version: str


class FrameErrorKind(enum.StrEnum):
    MALFORMED_LINE = "malformed_line"
    UNDECODABLE = "undecodable"
    OVERSIZED = "oversized"
    # Not skipped: the line's NULs are replaced and its message kept (FrameParser).
    NUL_REPLACED = "nul_replaced"


@dataclass(frozen=True, slots=True)
class FrameError:
    """Something the parser skipped, or repaired (NUL_REPLACED); ``raw`` is a bounded
    sample of the bytes."""

    kind: FrameErrorKind
    detail: str
    raw: bytes


Frame = AmiMessage | Banner | FrameError


def is_valid_key(key: str) -> bool:
    """Asterisk keys are printable ASCII without spaces (``ChanVariable(x)`` included)."""
    return bool(key) and key.isascii() and key.isprintable() and " " not in key and ":" not in key


def _replace_nul(text: str, out: list[Frame]) -> str:
    for line in text.split("\n"):
        if "\x00" in line:
            sample = line.encode("utf-8")[:_ERROR_SAMPLE_BYTES]
            out.append(FrameError(FrameErrorKind.NUL_REPLACED, "NUL replaced by U+FFFD", sample))
    return text.replace("\x00", "\ufffd")


class FrameParser:
    """Incremental AMI parser: ``feed`` bytes, get back the frames they complete.

    Lines end with CRLF; a bare LF is accepted too. Only complete lines are decoded
    (strictly), so a multi-byte character split across two reads survives, and a line
    that is not UTF-8 is reported instead of silently losing bytes. A message (or a
    line without a newline) larger than ``max_message_bytes`` is reported once and
    skipped up to the next empty line, so garbage cannot grow the buffer without bound.
    A NUL character, valid UTF-8 that no PostgreSQL text column holds, is replaced by
    U+FFFD and the line reported (NUL_REPLACED); its message is kept, so a caller name
    with a NUL cannot make the database refuse the fact that carries it.

    ``keep``, when given, sees each complete message as text (LF line ends, no closing
    empty line) before anything is built from it; a message it refuses is dropped
    there. This is how a client drops the noise it never reads at the cost of a string
    test instead of a parsed message.
    """

    def __init__(
        self,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        keep: Callable[[str], bool] | None = None,
    ) -> None:
        if max_message_bytes < 16:
            raise ValueError("max_message_bytes is too small to hold a message")
        self.max_message_bytes = max_message_bytes
        self.keep = keep
        self._buffer = bytearray()
        # Complete lines (LF-normalised) of a message whose empty line has not come yet.
        self._pending = ""
        # True while dropping the rest of an oversized message (until an empty line).
        self._skipping = False
        # True while dropping the rest of an oversized line (until the next newline).
        self._discard_line = False
        self._valid_keys: set[str] = set()

    @property
    def buffered(self) -> int:
        """Bytes held for an unfinished line plus the unfinished message."""
        return len(self._buffer) + len(self._pending)

    def feed(self, data: bytes) -> list[Frame]:
        out: list[Frame] = []
        buffer = self._buffer
        buffer += data
        if self._discard_line:
            newline = buffer.find(b"\n")
            if newline < 0:
                buffer.clear()
                return out
            del buffer[: newline + 1]
            self._discard_line = False
        last = buffer.rfind(b"\n")
        if last >= 0:
            complete = bytes(buffer[: last + 1])
            del buffer[: last + 1]
            self._text(self._decode(complete, out), out)
        if self._skipping:
            if len(buffer) > self.max_message_bytes:
                # Already reported: keep memory bounded while the flood goes on.
                buffer.clear()
                self._discard_line = True
        elif len(buffer) + len(self._pending) > self.max_message_bytes:
            self._oversized(bytes(buffer[:_ERROR_SAMPLE_BYTES]), out)
            buffer.clear()
            self._discard_line = True
        return out

    def _decode(self, complete: bytes, out: list[Frame]) -> str:
        """Complete lines as LF-terminated text; undecodable lines reported and dropped,
        NULs replaced and their lines reported."""
        try:
            # One decode and one replace for the whole chunk: this is what makes the
            # parser fast. Only a chunk holding a bad byte sequence goes line by line.
            text = complete.decode("utf-8").replace("\r\n", "\n")
        except UnicodeDecodeError:
            text = self._decode_lines(complete, out)
        return _replace_nul(text, out) if "\x00" in text else text

    @staticmethod
    def _decode_lines(complete: bytes, out: list[Frame]) -> str:
        good: list[str] = []
        for raw in complete.split(b"\n")[:-1]:
            line = raw[:-1] if raw.endswith(b"\r") else raw
            try:
                good.append(line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                sample = line[:_ERROR_SAMPLE_BYTES]
                out.append(FrameError(FrameErrorKind.UNDECODABLE, str(exc), sample))
        good.append("")
        return "\n".join(good)

    def _text(self, text: str, out: list[Frame]) -> None:
        if self._skipping:
            # The oversized message ends at the first empty line.
            if text.startswith("\n"):
                text = text[1:]
            else:
                blank = text.find("\n\n")
                if blank < 0:
                    return
                text = text[blank + 2 :]
            self._skipping = False
        text = self._pending + text
        blocks = text.split("\n\n")
        tail = blocks.pop()
        keep = self.keep
        for block in blocks:
            if keep is None or keep(block):
                self._block(block, out)
        if len(tail) > self.max_message_bytes:
            self._oversized(tail[:_ERROR_SAMPLE_BYTES].encode("utf-8"), out)
            tail = ""
        self._pending = tail

    def _block(self, block: str, out: list[Frame]) -> None:
        """One message's lines (no CR, joined by LF); empty lines inside are ignored."""
        if len(block) > self.max_message_bytes:
            self._oversized(block[:_ERROR_SAMPLE_BYTES].encode("utf-8"), out)
            self._skipping = False  # the empty line that ends it is already here
            return
        lines = block.split("\n")
        valid_keys = self._valid_keys
        pairs: list[tuple[str, str]] = []
        append = pairs.append
        # Fast path: every line a "Key: Value" with a key seen before. Anything else
        # (first sight of a key, banner, empty or bad line) goes through the careful path.
        for line in lines:
            key, sep, value = line.partition(": ")
            if sep and key in valid_keys:
                append((key, value))
            else:
                self._careful_block(lines, out)
                return
        out.append(AmiMessage(tuple(pairs)))

    def _careful_block(self, lines: list[str], out: list[Frame]) -> None:
        valid_keys = self._valid_keys
        pairs: list[tuple[str, str]] = []
        for line in lines:
            if not line:
                continue
            key, sep, value = line.partition(": ")
            if not sep:
                if line.endswith(":"):
                    # "Key:" with its trailing space stripped by a proxy or editor.
                    key, value = line[:-1], ""
                elif not pairs and line.startswith(BANNER_PREFIX):
                    out.append(Banner(line[len(BANNER_PREFIX) :].strip()))
                    continue
                else:
                    key = ""
            if key not in valid_keys:
                if not is_valid_key(key):
                    sample = line[:_ERROR_SAMPLE_BYTES].encode("utf-8")
                    out.append(FrameError(FrameErrorKind.MALFORMED_LINE, "no 'Key: Value'", sample))
                    continue
                # Bounded, so a stream of random keys cannot grow memory.
                if len(valid_keys) < _KEY_CACHE_SIZE:
                    valid_keys.add(key)
            pairs.append((key, value))
        if pairs:
            out.append(AmiMessage(tuple(pairs)))

    def _oversized(self, sample: bytes, out: list[Frame]) -> None:
        out.append(
            FrameError(
                FrameErrorKind.OVERSIZED,
                f"message larger than {self.max_message_bytes} bytes",
                sample,
            )
        )
        self._pending = ""
        self._skipping = True


def parse_frames(data: bytes, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> list[Frame]:
    """Parse a complete byte string (a transcript file, a test capture)."""
    parser = FrameParser(max_message_bytes=max_message_bytes)
    frames = parser.feed(data)
    # A last message without its closing empty line is still a message.
    frames.extend(parser.feed(b"\r\n" if data.endswith(b"\n") else b"\r\n\r\n"))
    return frames


def serialize(message: AmiMessage | Iterable[tuple[str, str]]) -> bytes:
    """``Key: Value\\r\\n`` lines plus the closing ``\\r\\n``; empty values keep the space.

    Raises ValueError on a key or value that would break the framing (CR/LF, bad key),
    because writing it would let one field inject whole messages into the stream.
    """
    pairs = message.fields if isinstance(message, AmiMessage) else message
    parts: list[str] = []
    for key, value in pairs:
        if not is_valid_key(key) or "\n" in value or "\r" in value:
            raise ValueError(f"field {key!r} cannot be written on the AMI wire")
        parts.append(f"{key}: {value}\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("utf-8")


def serialize_banner(version: str) -> bytes:
    return f"{BANNER_PREFIX}{version}\r\n".encode("ascii")
