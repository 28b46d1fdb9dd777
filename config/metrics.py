"""``/metrics``: this server process's Prometheus metrics, plus the Celery queue depth.

Each process serves its own metrics (per-process ports, no multiprocess mode): every
Daphne worker on ``/metrics`` of its own port, the bridge on ``METRICS_PORT``.
Prometheus scrapes each one and sums (docs/operations.md). The Celery queue depth is
read from the broker when scraped:

- ``cc_celery_queue_length{queue}`` gauge: tasks waiting in the broker's list
- ``cc_celery_broker_up`` gauge: 1 if the broker answered that read, else 0

Both are only reported with a Redis broker; the eager default has no queue.

``/metrics`` answers only a client in ``METRICS_ALLOWED_NETWORKS`` (loopback by
default) and, when ``METRICS_TOKEN`` is set, only with ``Authorization: Bearer
<token>``; anyone else gets 403. The address is the one config/proxy.py settled on; a
server port reachable by others should have the token, which no header can fake.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import cache

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Imported for their side effect: the series they define are registered here too.
import contactcenter.metrics  # noqa: F401
import realtime.metrics  # noqa: F401
import telephony.cel.metrics
import telephony.metrics  # noqa: F401
from config.scrape import scrape_permitted

logger = logging.getLogger(__name__)


@cache
def _broker(url: str) -> redis.Redis | None:
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)


class CeleryQueueCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        broker = _broker(settings.CELERY_BROKER_URL)
        if broker is None:
            return
        up = GaugeMetricFamily("cc_celery_broker_up", "1 if the Celery broker answered.")
        length = GaugeMetricFamily(
            "cc_celery_queue_length", "Tasks waiting in the Celery broker.", labels=["queue"]
        )
        try:
            with broker.pipeline(transaction=False) as pipe:
                for queue in settings.METRICS_CELERY_QUEUES:
                    pipe.llen(queue)
                lengths = pipe.execute()
        except redis.RedisError as exc:
            logger.warning("metrics: cannot read the Celery queues: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for queue, value in zip(settings.METRICS_CELERY_QUEUES, lengths, strict=True):
            length.add_metric([queue], float(value))
        yield up
        yield length


REGISTRY.register(CeleryQueueCollector())


def scrape_allowed(request: HttpRequest) -> bool:
    """config/scrape.py's rule, for the address config/proxy.py settled on."""
    return scrape_permitted(
        request.META.get("REMOTE_ADDR", ""), request.headers.get("Authorization", "")
    )


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for the scraper only (see the module docstring); keep it
    off the public proxy too (deploy/nginx.conf does)."""
    if not scrape_allowed(request):
        return HttpResponseForbidden("Forbidden\n", content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
