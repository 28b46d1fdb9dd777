"""Recordings that need an operator, as Prometheus gauges read when ``/metrics`` is
scraped (the files are collected by a Celery worker, which serves no metrics).

- ``cc_recordings_waiting_files`` gauge: ended recordings whose file is not stored yet
- ``cc_recordings_failed_files`` gauge: recordings failed in the last 24 hours because
  their file never arrived (or was named outside the monitor directory): alert on > 0

Every server process reports the same figures (one database): take ``max``, not ``sum``.
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

from contactcenter.enums import RecordingStatus
from contactcenter.models import Recording

logger = logging.getLogger(__name__)


class RecordingFilesCollector(Collector):
    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "cc_recordings_waiting_files", "Ended recordings whose file is not stored yet."
            ),
            GaugeMetricFamily(
                "cc_recordings_failed_files",
                "Recordings failed in the last 24 hours: their file never reached the store.",
            ),
        )

    def collect(self) -> Iterator[Metric]:
        waiting, failed = self._families()
        since = timezone.now() - timedelta(hours=24)
        try:
            waiting.add_metric([], Recording.objects.filter(status=RecordingStatus.ENDED).count())
            failed.add_metric(
                [],
                Recording.objects.filter(
                    status=RecordingStatus.FAILED, updated_at__gte=since
                ).count(),
            )
        except (DatabaseError, RuntimeError, SynchronousOnlyOperation) as exc:
            # No database here, it is down, or the registry is read from an event loop's
            # thread (a coroutine): the other series are still served.
            logger.warning("metrics: cannot read the recordings: %s", exc)
            return
        yield waiting
        yield failed


REGISTRY.register(RecordingFilesCollector())
