"""JSON from clients, refused at the edge when the rest of the code could not hold it.

Python's parser accepts what PostgreSQL and our own code cannot: a NUL character (text
and jsonb columns refuse it: a DataError at save time), a lone UTF-16 surrogate such as
``"\\ud800"`` (not encodable to UTF-8: the database driver fails), and nesting as deep
as the interpreter's recursion limit (a ``RecursionError`` in the parser itself, or
later when the value is validated or written out again). One check, used by the REST
parsers (``contactcenter.api.parsers``) and the WebSocket protocol
(``realtime.protocol``), so every text and JSON field behind them is covered at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

# Deeper than any document the API or the protocol defines (custom fields, tags, command
# data are at most a few levels), far below the interpreter's recursion limit.
MAX_DEPTH = 32

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class RefusedJSON(ValueError):
    """JSON that parses but is refused; ``code`` is ``too_deep`` or ``invalid_text``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def bad_text(value: str) -> bool:
    """Whether ``value`` holds a NUL or a lone surrogate (text no database column keeps)."""
    return _BAD_TEXT.search(value) is not None


def loads(text: str | bytes, *, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """``json.loads``, then ``check``. Raises ValueError (``RefusedJSON`` included)."""
    try:
        value = json.loads(text, parse_constant=parse_constant)
    except RecursionError:
        raise RefusedJSON("too_deep", f"JSON nested deeper than {MAX_DEPTH} levels.") from None
    check(value)
    return value


def check(value: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and bad text in any key or string.

    Walks with a stack of its own, not by recursion: the value may be nested almost as
    deep as the recursion limit when it gets here.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if bad_text(item):
                raise RefusedJSON(
                    "invalid_text", "Text may not hold NUL characters or lone surrogates."
                )
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise RefusedJSON("too_deep", f"JSON nested deeper than {MAX_DEPTH} levels.")
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
