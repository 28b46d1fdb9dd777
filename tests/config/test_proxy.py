"""The client's address: the TCP peer, or the trusted proxy's word for it (config/proxy.py)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.throttling import SimpleRateThrottle

from config.proxy import TrustedProxyMiddleware, forwarded_client


@pytest.mark.parametrize(
    ("header", "trusted", "expected"),
    [
        ("203.0.113.9", 0, None),  # no proxy trusted: the header is never read
        ("203.0.113.9", 1, "203.0.113.9"),
        # nginx's $proxy_add_x_forwarded_for appends: the client's own entry is ignored
        ("1.2.3.4, 203.0.113.9", 1, "203.0.113.9"),
        ("1.2.3.4, 203.0.113.9, 10.0.0.2", 2, "203.0.113.9"),  # load balancer, then nginx
        ("203.0.113.9", 2, None),  # fewer entries than proxies: not through them
        ("1.2.3.4, not-an-address", 1, None),
        (" 2001:db8::1 ", 1, "2001:db8::1"),
        ("", 1, None),
        (None, 1, None),
    ],
)
def test_forwarded_client(header: str | None, trusted: int, expected: str | None) -> None:
    assert forwarded_client(header, trusted) == expected


async def _scope_seen(scope: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.update(scope)

    await TrustedProxyMiddleware(app)(scope, None, None)
    return seen


def _scope(kind: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    scheme = "ws" if kind == "websocket" else "http"
    return {"type": kind, "scheme": scheme, "client": ["10.0.0.5", 50000], "headers": headers}


@pytest.mark.parametrize("kind", ["http", "websocket"])
async def test_without_a_trusted_proxy_the_peer_is_the_client(kind: str, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    forged = (b"x-forwarded-for", b"203.0.113.9")
    seen = await _scope_seen(_scope(kind, forged, (b"x-forwarded-proto", b"https")))
    assert seen["client"] == ["10.0.0.5", 50000]
    assert seen["scheme"] in ("http", "ws")


@pytest.mark.parametrize(("kind", "scheme"), [("http", "https"), ("websocket", "wss")])
async def test_behind_one_proxy_its_entry_is_the_client(
    kind: str, scheme: str, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    forwarded = (b"x-forwarded-for", b"6.6.6.6, 203.0.113.9")
    seen = await _scope_seen(_scope(kind, forwarded, (b"x-forwarded-proto", b"https")))
    assert seen["client"] == ["203.0.113.9", 0]
    assert seen["scheme"] == scheme


async def test_repeated_headers_are_one_list(settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    headers = ((b"x-forwarded-for", b"6.6.6.6"), (b"X-Forwarded-For", b"203.0.113.9"))
    assert (await _scope_seen(_scope("http", *headers)))["client"][0] == "203.0.113.9"


def test_drf_throttles_read_only_remote_addr() -> None:
    """DRF's own rule (NUM_PROXIES unset) took the whole X-Forwarded-For as the ident."""
    request = APIRequestFactory().post(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert SimpleRateThrottle.get_ident(None, request) == "10.0.0.5"  # type: ignore[arg-type]
