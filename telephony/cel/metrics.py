"""What the last reconciliation of each connection found, as Prometheus gauges.

Read from the reports (CallLogReconciliation) when the server's ``/metrics`` is scraped:
the reconciliation runs in a Celery worker, which serves no metrics of its own.

- ``cc_call_log_findings{connection, kind}`` gauge: calls the last reconciled day of
  that connection found ``missing`` (in the CDRs, not stored), ``estimated`` (closed
  with an estimated end), ``different`` (end differs from the CDR), ``unknown_to_pbx``
  (stored, no CDR), and ``repaired``
- ``cc_call_log_reconcile_failed{connection}`` gauge: 1 if that run could not read the
  PBX's database
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

from django.core.exceptions import SynchronousOnlyOperation
from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from telephony.models import CallLogReconciliation

logger = logging.getLogger(__name__)

KINDS = ("missing", "estimated", "different", "unknown_to_pbx", "repaired")


class ReconciliationCollector(Collector):
    def describe(self) -> Iterator[Metric]:
        """The series, without reading the database (registering asks for them)."""
        yield from self._families()

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        findings = GaugeMetricFamily(
            "cc_call_log_findings",
            "Calls the last reconciliation with the PBX's CDRs found, by kind.",
            labels=["connection", "kind"],
        )
        failed = GaugeMetricFamily(
            "cc_call_log_reconcile_failed",
            "1 if the last reconciliation could not read the PBX's log database.",
            labels=["connection"],
        )
        return findings, failed

    def collect(self) -> Iterator[Metric]:
        findings, failed = self._families()
        since = timezone.now().date() - timedelta(days=7)
        latest: dict[tuple[int, str], CallLogReconciliation] = {}
        try:
            for report in CallLogReconciliation.objects.filter(day__gte=since).order_by("-day"):
                latest.setdefault((report.organization_id, report.connection_key), report)
        except (DatabaseError, RuntimeError, SynchronousOnlyOperation) as exc:
            # A scrape never fails for these: no database here (a thread without one, or
            # an event loop's thread, as when a coroutine reads the registry), or it is
            # down; the other series are still served.
            logger.warning("metrics: cannot read the reconciliations: %s", exc)
            return
        for report in latest.values():
            label = f"{report.organization_id}/{report.connection_key}"
            for kind in KINDS:
                findings.add_metric([label, kind], float(getattr(report, kind)))
            failed.add_metric([label], 1.0 if report.error else 0.0)
        yield findings
        yield failed


REGISTRY.register(ReconciliationCollector())
