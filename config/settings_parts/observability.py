"""Observability (docs/operations.md): logs and Prometheus metrics."""

from __future__ import annotations

from ipaddress import ip_network

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_list, env_str
from config.logging import logging_config

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "plain")  # "json": one JSON object per line
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
# Prometheus: /metrics on every server process; the bridge serves its own on this port.
METRICS_PORT = env_int("METRICS_PORT", 0)
METRICS_ADDR = env_str("METRICS_ADDR", "127.0.0.1")
METRICS_CELERY_QUEUES = env_list("METRICS_CELERY_QUEUES", ["celery"])
# Who may scrape a server process's /metrics (config/metrics.py): clients in these
# networks, with "Authorization: Bearer <METRICS_TOKEN>" when a token is set.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
try:
    _metrics_networks = [ip_network(network, strict=False) for network in METRICS_ALLOWED_NETWORKS]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from exc
