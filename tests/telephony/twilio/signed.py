"""Signed Twilio requests for tests: built the way Twilio builds them, then delivered.

A request is (path with our query string, form fields). ``deliver`` signs it with the
account's auth token over ``http://testserver`` + path, as Twilio signs the URL it calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from django.http import HttpResponse
from django.test import Client
from twilio.request_validator import RequestValidator

from telephony.models import TwilioAccount

BASE = "http://testserver"
T0 = datetime(2025, 3, 14, 11, 0, 0, tzinfo=UTC)
ACCOUNT_SID = "AC" + "ab" * 16
AUTH_TOKEN = "twilio-auth-token-for-tests"
CALLER = "+15557654321"
OUR_NUMBER = "+15551230000"


@dataclass(frozen=True)
class TwilioRequest:
    path: str
    fields: dict[str, str]

    def __str__(self) -> str:  # names the request in assertion messages
        return f"{self.path} {self.fields.get('CallStatus', '')} {self.fields['CallSid'][-4:]}"


def call_sid(n: int) -> str:
    return f"CA{n:032x}"


def stamp(seconds: float) -> str:
    """Twilio's Timestamp field: RFC 2822, in UTC."""
    return format_datetime(T0 + timedelta(seconds=seconds))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sign(url: str, fields: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, fields)


def deliver(client: Client, request: TwilioRequest, *, token: str = AUTH_TOKEN) -> HttpResponse:
    signature = sign(BASE + request.path, request.fields, token)
    response: HttpResponse = client.post(
        request.path, request.fields, HTTP_X_TWILIO_SIGNATURE=signature
    )
    return response


def make_account(organization_id: int, **kwargs: object) -> TwilioAccount:
    options: dict[str, object] = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    options.update(kwargs)
    return TwilioAccount.objects.create(organization_id=organization_id, **options)
