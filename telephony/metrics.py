"""Prometheus metrics of the AMI bridge (docs/operations.md, "What to watch").

Nearly all of them are read from each bridge's ``BridgeStats`` at scrape time, so the
hot path pays nothing for them: a plain ``int`` increment it does anyway. The
exceptions are two histograms observed once per stored batch (not per event): the
event lag, for the batch's oldest frame, AMI ``Timestamp`` header to commit, which
includes any clock skew between the PBX and this host; and the batch's own time in the
writer, its transaction from the first statement to the commit (near the time between
two batches, the writer is saturated: events wait for the batch before theirs).

Series (label ``connection``: the bridge's connection key, one per PBX):

- ``cc_ami_connected`` gauge, 1 while logged in to the PBX
- ``cc_ami_connects_total`` counter, successful logins (reconnects show as increases)
- ``cc_ami_events_received_total`` counter, AMI events taken off the socket
- ``cc_ami_translate_errors_total`` counter, frames that could not be translated
- ``cc_ami_dials_refused_total`` counter, connects refused by the target policy
  (AMI_ALLOWED_TARGETS, telephony/egress.py): the record's PBX is never dialled
- ``cc_bridge_facts_applied_total`` / ``cc_bridge_batches_total`` counters
- ``cc_bridge_backlog`` gauge, events received but not yet stored
- ``cc_cel_backfills_total``, ``cc_cel_facts_total``, ``cc_cel_calls_created_total``,
  ``cc_cel_calls_completed_total``, ``cc_cel_errors_total`` counters: the backfill from
  the PBX's CEL after each resync (telephony/cel/)
- ``cc_bridge_event_lag_seconds`` histogram, no label
- ``cc_bridge_batch_seconds`` histogram, no label
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, Histogram, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector, CollectorRegistry

from config.scrape import scrape_permitted

if TYPE_CHECKING:
    from telephony.ami.bridge import AmiBridge

logger = logging.getLogger(__name__)

EVENT_LAG = Histogram(
    "cc_bridge_event_lag_seconds",
    "Seconds from an AMI frame's Timestamp to the commit of the batch that stored it "
    "(observed once per batch, for its oldest frame).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

BATCH_SECONDS = Histogram(
    "cc_bridge_batch_seconds",
    "Seconds the bridge's writer spent on one stored batch: its transaction, first "
    "statement to commit (a retry on a new connection included).",
    buckets=(0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)


class BridgeCollector(Collector):
    """Reads the stats of every bridge alive in this process when Prometheus scrapes."""

    def __init__(self) -> None:
        self._bridges: weakref.WeakSet[AmiBridge] = weakref.WeakSet()

    def watch(self, bridge: AmiBridge) -> None:
        self._bridges.add(bridge)

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Any] = {
            "connected": GaugeMetricFamily(
                "cc_ami_connected",
                "1 while the bridge is logged in to the PBX.",
                labels=["connection"],
            ),
            "connects": CounterMetricFamily(
                "cc_ami_connects", "Successful AMI logins.", labels=["connection"]
            ),
            "events_received": CounterMetricFamily(
                "cc_ami_events_received", "AMI events received.", labels=["connection"]
            ),
            "translate_errors": CounterMetricFamily(
                "cc_ami_translate_errors",
                "AMI frames that could not be translated (logged, skipped).",
                labels=["connection"],
            ),
            "dials_refused": CounterMetricFamily(
                "cc_ami_dials_refused",
                "Connects the operator's target policy refused (AMI_ALLOWED_TARGETS).",
                labels=["connection"],
            ),
            "facts_applied": CounterMetricFamily(
                "cc_bridge_facts_applied", "Telephony facts stored.", labels=["connection"]
            ),
            "batches": CounterMetricFamily(
                "cc_bridge_batches", "Batches stored (one transaction each).", labels=["connection"]
            ),
            "cel_backfills": CounterMetricFamily(
                "cc_cel_backfills",
                "Outage windows read from the PBX's CEL after a resync (telephony/cel/).",
                labels=["connection"],
            ),
            "cel_facts": CounterMetricFamily(
                "cc_cel_facts", "Facts the CEL backfill stored.", labels=["connection"]
            ),
            "cel_calls_created": CounterMetricFamily(
                "cc_cel_calls_created",
                "Calls only the PBX's CEL knew of (began and ended during an outage).",
                labels=["connection"],
            ),
            "cel_calls_completed": CounterMetricFamily(
                "cc_cel_calls_completed",
                "Calls the CEL backfill gave their real end.",
                labels=["connection"],
            ),
            "cel_errors": CounterMetricFamily(
                "cc_cel_errors",
                "CEL backfills that could not read the PBX's log database.",
                labels=["connection"],
            ),
            "backlog": GaugeMetricFamily(
                "cc_bridge_backlog",
                "Events received but not stored yet (the bridge's queue).",
                labels=["connection"],
            ),
        }
        for bridge in list(self._bridges):
            key = [bridge.target.connection_key]
            stats = bridge.stats
            for name, family in families.items():
                if name == "backlog":
                    family.add_metric(key, bridge.queue.qsize())
                else:
                    family.add_metric(key, float(getattr(stats, name, 0)))
        yield from families.values()


_collector = BridgeCollector()
REGISTRY.register(_collector)


def watch_bridges(bridges: Iterable[AmiBridge]) -> None:
    """Expose these bridges' stats on this process's registry."""
    for bridge in bridges:
        _collector.watch(bridge)


def batch_stored(batch: Sequence[Any]) -> None:
    """After a batch is committed: observe the lag of its oldest timestamped frame.

    The batch holds AMI messages in arrival order (and the bridge's own markers); the
    first few are looked at, never the whole batch.
    """
    for item in batch[:4]:
        get = getattr(item, "get", None)
        stamp = get("Timestamp") if get is not None else None
        if stamp:
            try:
                EVENT_LAG.observe(max(0.0, time.time() - float(stamp)))
            except (TypeError, ValueError):
                return  # a PBX without timestampevents, or a malformed header: no lag
            return


def serve(port: int, addr: str, registry: CollectorRegistry = REGISTRY) -> None:
    """Serve /metrics of this process on ``port`` (the bridge's METRICS_PORT), in a thread.

    The same rule as the server processes' /metrics (config/scrape.py): an allowed
    network, and the bearer token when METRICS_TOKEN is set; anyone else gets 403.
    """
    expose = make_wsgi_app(registry)

    def guarded(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if scrape_permitted(environ.get("REMOTE_ADDR", ""), environ.get("HTTP_AUTHORIZATION", "")):
            return expose(environ, start_response)
        start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Forbidden\n"]

    class Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET

    httpd = make_server(addr, port, guarded, Server, handler_class=_QuietHandler)
    threading.Thread(target=httpd.serve_forever, name="metrics", daemon=True).start()
    logger.info("metrics on http://%s:%d/metrics", addr, port)


class _QuietHandler(WSGIRequestHandler):
    """No access line per scrape on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass
