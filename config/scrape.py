"""Who may read a ``/metrics`` page: the rule every process's scrape endpoint applies.

A client in ``METRICS_ALLOWED_NETWORKS`` (loopback by default) and, when
``METRICS_TOKEN`` is set, only with ``Authorization: Bearer <token>``. The Daphne
workers apply it in config/metrics.py, the bridge on its ``METRICS_PORT`` in
telephony/metrics.py.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import cache

from django.conf import settings


@cache
def _networks(
    allowed: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in allowed)


def scrape_permitted(address: str, authorization: str) -> bool:
    """From an allowed network, and with the bearer token when one is set."""
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    allowed = _networks(tuple(settings.METRICS_ALLOWED_NETWORKS))
    if not any(client in network for network in allowed):
        return False
    token = settings.METRICS_TOKEN
    if not token:
        return True
    return hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())
