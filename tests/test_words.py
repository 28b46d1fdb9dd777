"""One name per concept (docs/architecture.md, "Words"), held where the words had
drifted: what goes over a WebSocket is a *message* (*wire frames* are AMI bytes,
telephony's; no package but telephony speaks of any other frame), and *metrics* are
Prometheus series only, so outside the modules that serve them (``metrics.py`` on
prometheus_client) the domain, crm and realtime say *figures* for the wallboard's and
reports' numbers. Identifiers that are part of a published contract (the AsyncAPI
titles ``...Frame``, the REST serializers ``...Metrics``) are left as they are; this
reads comments and docstrings only."""

from __future__ import annotations

import re
from pathlib import Path

from tests.source_prose import ROOT, prose, sources

# AMI frames (and wire frames) are the only frames.
FRAME = re.compile(r"(?<!AMI )(?<!wire )\bframes?\b", re.IGNORECASE)
# ``queue.metrics`` (a wire type of protocol version 1) and ``/metrics`` are names.
METRIC = re.compile(r"(?<![./\w])metrics?\b", re.IGNORECASE)


def _uses(pattern: re.Pattern[str], source: str) -> list[str]:
    return [f"{n}: {line.strip()}" for n, line in prose(source) if pattern.search(line)]


def _serves_metrics(path: Path) -> bool:
    """A module of Prometheus series: named metrics.py, and built on prometheus_client."""
    return path.name == "metrics.py" and "prometheus_client" in path.read_text()


def test_what_goes_over_a_websocket_is_a_message_not_a_frame() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{where}"
        for path in sources("config", "contactcenter", "crm", "provisioning", "realtime")
        for where in _uses(FRAME, path.read_text())
    ]
    assert not offenders, offenders


def test_metrics_are_prometheus_only() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{where}"
        for path in sources("contactcenter", "crm", "provisioning", "realtime")
        if not _serves_metrics(path)
        for where in _uses(METRIC, path.read_text())
    ]
    assert not offenders, offenders


def test_the_checks_see_the_words_in_prose_only() -> None:
    source = (
        '"""Renders the frames of a job; nothing of AMI frames or wire frames."""\n'
        "CALL_FRAME_TYPES = ()  # the wallboard metrics; see /metrics and queue.metrics\n"
        'x = "frame"\n'
    )
    assert _uses(FRAME, source) == [
        "1: Renders the frames of a job; nothing of AMI frames or wire frames."
    ]
    assert _uses(METRIC, source) == ["2: # the wallboard metrics; see /metrics and queue.metrics"]
