"""The Content-Security-Policy of every page (django-csp), and what some pages add.

The policy (``CONTENT_SECURITY_POLICY`` in settings): scripts, styles, images and
fonts from this server only, no plugins, no framing, forms posting here only. Our
pages carry no inline script or style; the softphone's SDKs (JsSIP, Twilio Voice) are
vendored under ``static/``. Pages that need more say so:

- the agent console connects to the PBX's SIP-over-WebSocket endpoint (the agent's or
  ``SOFTPHONE_SIP_WEBSOCKET_URL``) and to Twilio (signalling over ``wss://*.twilio.com``,
  the SDK's event gateway over https, its ring sounds from ``sdk.twilio.com``):
  ``console_allowances``;
- pages we do not write, the admin and the Swagger UI (``/api/docs/``), each hold one
  inline ``<style>`` block: ``'unsafe-inline'`` styles there only (never scripts).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts

TWILIO_CONNECT = ["wss://*.twilio.com", "https://*.twilio.com"]
TWILIO_MEDIA = ["https://sdk.twilio.com"]
INLINE_STYLE_PATHS = ("/admin/", "/api/docs/")


def origin_of(url: str) -> str | None:
    """``wss://pbx.example.com:8089`` of ``wss://pbx.example.com:8089/ws``."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def console_allowances(sip_websocket_urls: list[str]) -> dict[str, list[str]]:
    """What the console page adds to the policy (django-csp's ``_csp_update``)."""
    sip = sorted({o for o in (origin_of(u) for u in sip_websocket_urls if u) if o})
    return {"connect-src": [*sip, *TWILIO_CONNECT], "media-src": TWILIO_MEDIA}


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, with inline styles allowed on INLINE_STYLE_PATHS."""

    def get_policy_parts(
        self, request: Any, response: Any, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(INLINE_STYLE_PATHS):
            update = dict(parts.update or {})
            update["style-src"] = [*update.get("style-src", []), UNSAFE_INLINE]
            parts.update = update
        return parts
