"""Measured figures live in docs/benchmarks.md, not in the code's prose: a comment or a
docstring says why the code is written as it is and points there ("Figures the code's
comments rest on"), so a new measurement changes one table, not comments scattered
through the packages that go stale one by one.

What is checked is durations below a second (``ms``, ``µs``, ``ns``): what the
measurements quote. Settings and bounds are in seconds (``*_SECONDS``), and strings the
code prints (a benchmark's report) are not prose.
"""

from __future__ import annotations

import re

from tests.source_prose import ROOT, prose, sources

PACKAGES = ("bench", "config", "contactcenter", "crm", "provisioning", "realtime", "telephony")
DURATION = re.compile(
    r"\d[\d,.]*\s?(?:ms|µs|us|ns|milliseconds|microseconds|nanoseconds)\b", re.IGNORECASE
)


def _figures(source: str) -> list[str]:
    return [f"{n}: {line.strip()}" for n, line in prose(source) if DURATION.search(line)]


def test_no_comment_or_docstring_quotes_a_measured_duration() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{where}"
        for path in sources(*PACKAGES)
        for where in _figures(path.read_text())
    ]
    assert not offenders, offenders


def test_the_check_sees_figures_in_comments_and_docstrings_only() -> None:
    source = (
        '"""Module: a read took 0.69 ms."""\n'
        "def f():\n"
        '    """Each costs about 100 µs."""\n'
        "    x = 1  # a collection takes 100-200 ms\n"
        '    print(f"p99 {x} ms; target p99 < 50 ms")\n'
        "    return TIMEOUT_SECONDS  # bounded in seconds\n"
    )
    assert _figures(source) == [
        "4: # a collection takes 100-200 ms",
        "1: Module: a read took 0.69 ms.",
        "3: Each costs about 100 µs.",
    ]
