"""telephony/metrics.py: the bridge's series move as AMI events flow and are stored."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from prometheus_client import REGISTRY

from telephony import metrics
from telephony.ami.simulator import AmiSimulator
from tests.telephony.bridge_harness import CONNECTION, running_bridge

LABELS = {"connection": CONNECTION}


def _value(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


@pytest.mark.django_db(transaction=True)
async def test_bridge_series_follow_the_connection_and_the_events(
    simulator: AmiSimulator,
) -> None:
    lag_before = _value("cc_bridge_event_lag_seconds_count")
    batches_before = _value("cc_bridge_batch_seconds_count")
    async with running_bridge(simulator) as running:
        metrics.watch_bridges([running.bridge])
        await running.bridge.synced()
        assert _value("cc_ami_connected", LABELS) == 1.0
        assert _value("cc_ami_connects_total", LABELS) == 1.0
        received = _value("cc_ami_events_received_total", LABELS)

        await simulator.run_scenario("answered").wait()
        await running.bridge.synced()
        stats = running.bridge.stats
        assert _value("cc_ami_events_received_total", LABELS) == stats.events_received
        assert stats.events_received > received
        assert _value("cc_bridge_facts_applied_total", LABELS) == stats.facts_applied > 0
        assert _value("cc_bridge_batches_total", LABELS) == stats.batches > 0
        assert _value("cc_bridge_backlog", LABELS) == 0.0
        assert _value("cc_ami_translate_errors_total", LABELS) == 0.0
        # One lag observation per stored batch that carried timestamped AMI frames.
        assert (
            lag_before < _value("cc_bridge_event_lag_seconds_count") <= lag_before + stats.batches
        )
        # And each stored batch's time in the writer.
        assert _value("cc_bridge_batch_seconds_count") == batches_before + stats.batches
        assert _value("cc_bridge_batch_seconds_sum") > 0
    assert _value("cc_ami_connected", LABELS) == 0.0


def _message(**fields: str) -> dict[str, str]:
    # The queue holds the client's messages; anything with ``get`` (AmiMessage, dict).
    return dict(fields)


def test_lag_is_observed_once_per_batch_from_its_oldest_timestamped_frame() -> None:
    count = _value("cc_bridge_event_lag_seconds_count")
    total = _value("cc_bridge_event_lag_seconds_sum")
    now = time.time()
    oldest = _message(Event="Newchannel", Timestamp=f"{now - 2.0:.6f}")
    newer = _message(Event="Newstate", Timestamp=f"{now - 0.5:.6f}")
    metrics.batch_stored([_message(Response="Success"), oldest, newer])
    assert _value("cc_bridge_event_lag_seconds_count") == count + 1
    assert 2.0 <= _value("cc_bridge_event_lag_seconds_sum") - total < 10.0
    # No Timestamp (timestampevents off) or a malformed one: nothing observed, no error.
    metrics.batch_stored([_message(Event="Hangup")])
    metrics.batch_stored([_message(Event="Hangup", Timestamp="yesterday")])
    metrics.batch_stored([object()])
    assert _value("cc_bridge_event_lag_seconds_count") == count + 1


def _scrape(port: int, token: str = "") -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_the_bridges_metrics_port_applies_the_scrape_rule(settings: Any) -> None:
    """METRICS_PORT answers as the servers' /metrics do: allowed networks, then the token."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.METRICS_TOKEN = "scrape-me-7c1"
    metrics.serve(port, "127.0.0.1")
    assert _scrape(port) == (403, b"Forbidden\n")
    assert _scrape(port, "wrong")[0] == 403
    status, body = _scrape(port, "scrape-me-7c1")
    assert status == 200 and b"cc_bridge_batch_seconds" in body
    settings.METRICS_TOKEN = ""
    assert _scrape(port)[0] == 200
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]  # loopback no longer allowed
    assert _scrape(port)[0] == 403
