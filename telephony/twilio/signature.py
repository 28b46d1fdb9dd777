"""Is this request from Twilio, and for which of our accounts?

Twilio signs each webhook with the account's auth token over the full URL it called
plus the sorted form fields (``X-Twilio-Signature``). The URL must therefore be the
public one: behind a TLS-terminating proxy Django sees ``http://`` unless
``SECURE_PROXY_SSL_HEADER`` (set in production) says otherwise, and the proxy's host
unless it passes ``Host`` through (or ``USE_X_FORWARDED_HOST`` is on).

Setting-free fallback: when the request does not look secure we also try the
``https://`` form of the same URL, because a proxy that terminates TLS without telling
Django is the common reason for a mismatch. That widens nothing an attacker can use:
the HMAC still has to match the auth token over the same host, path and fields. A
proxy that rewrites the host or the path cannot be guessed at; configure it instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.http import HttpRequest
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator

from telephony.models import TwilioAccount

logger = logging.getLogger(__name__)

SIGNATURE_META = "HTTP_X_TWILIO_SIGNATURE"
_SETTINGS_META = "HTTP_" + SIGNATURE_SETTINGS_HEADER.upper().replace("-", "_")


@dataclass(frozen=True, slots=True)
class Verdict:
    account: TwilioAccount | None
    reason: str = ""  # why it was refused, for the log only (never for the caller)


def candidate_urls(request: HttpRequest) -> list[str]:
    """The URLs Twilio may have signed for this request, most likely first."""
    url = request.build_absolute_uri()
    if not request.is_secure() and url.startswith("http://"):
        return [url, "https://" + url.removeprefix("http://")]
    return [url]


def verify(request: HttpRequest) -> Verdict:
    """The enabled account a correctly signed request belongs to, or why there is none."""
    signature = request.META.get(SIGNATURE_META, "")
    if not signature:
        return Verdict(None, "no X-Twilio-Signature header")
    if request.META.get(_SETTINGS_META):
        # Signed with a webhook SharedKey, whose secret we do not store: the auth token
        # cannot check it. Say so plainly rather than report a "bad signature".
        return Verdict(None, "signed with a webhook shared key, which is not supported")
    account_sid = request.POST.get("AccountSid", "")
    account = (
        TwilioAccount.objects.filter(account_sid=account_sid, is_enabled=True).first()
        if account_sid
        else None
    )
    if account is None:
        return Verdict(None, f"no enabled Twilio account {account_sid!r}")
    validator = RequestValidator(account.auth_token)
    for url in candidate_urls(request):
        if validator.validate(url, request.POST, signature):
            return Verdict(account)
    return Verdict(None, f"signature does not match for {candidate_urls(request)[0]}")


def log_refusal(request: HttpRequest, verdict: Verdict) -> None:
    logger.warning(
        "Twilio webhook %s refused: %s (from %s)",
        request.path,
        verdict.reason,
        request.META.get("REMOTE_ADDR", "?"),
    )
