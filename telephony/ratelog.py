"""A log line that a flood cannot multiply.

What the PBX (or anyone on its socket) sends decides how often some warnings fire: 2 MB
of garbage on the AMI socket once wrote 8,128 "skipped a frame" lines. A RateLimitedLog
lets a few lines per interval through and counts the rest; the next line that goes out
says how many were held back. Counters that must be exact are kept by the caller.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable


class RateLimitedLog:
    """At most ``burst`` warnings per ``interval`` seconds; the others are counted."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 5,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.burst = burst
        self.interval = interval
        self._clock = clock
        self._window = -math.inf
        self._sent = 0
        self.suppressed = 0  # held back since the last line that went out

    def warning(self, message: str, *args: object) -> bool:
        """Log ``message % args`` unless this interval's lines are spent; True if logged."""
        now = self._clock()
        if now - self._window >= self.interval:
            self._window, self._sent = now, 0
        if self._sent >= self.burst:
            self.suppressed += 1
            return False
        self._sent += 1
        if self.suppressed:
            message += " (%d more like this suppressed)"
            args = (*args, self.suppressed)
            self.suppressed = 0
        self.logger.warning(message, *args)
        return True
