"""Only requests signed by an enabled account's auth token get in; nothing else writes."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from contactcenter.models import Call, CallEvent, CallQueue
from telephony.models import TwilioAccount
from telephony.twilio.callbacks import Hints, webhook_path
from tests.conftest import Floor
from tests.telephony.twilio import scenarios
from tests.telephony.twilio.signed import (
    AUTH_TOKEN,
    BASE,
    TwilioRequest,
    deliver,
    make_account,
    sign,
)

pytestmark = pytest.mark.django_db


def incoming() -> TwilioRequest:
    return scenarios.inbound_queue_call("1001")[0]


def assert_refused(response: object, status: int = 403) -> None:
    assert response.status_code == status  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["type"] == "client_error"
    assert body["errors"][0]["code"] in ("twilio_signature_invalid", "twilio_invalid_request")
    assert Call.objects.count() == 0
    assert CallEvent.objects.count() == 0


def test_correctly_signed_request_is_applied(account: TwilioAccount, queue: CallQueue) -> None:
    response = deliver(Client(enforce_csrf_checks=True), incoming())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    call = Call.objects.get()
    assert call.connection_key == f"twilio:{account.account_sid}"
    assert call.organization_id == account.organization_id


def test_forged_signature_is_refused_and_logged(
    account: TwilioAccount, queue: CallQueue, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="telephony.twilio.signature"):
        response = deliver(Client(), incoming(), token="not-the-auth-token")
    assert_refused(response)
    assert "signature does not match" in caplog.text
    assert AUTH_TOKEN not in caplog.text


def test_missing_signature_is_refused(account: TwilioAccount, queue: CallQueue) -> None:
    request = incoming()
    assert_refused(Client().post(request.path, request.fields))


def test_tampered_fields_or_query_are_refused(account: TwilioAccount, queue: CallQueue) -> None:
    request = incoming()
    signature = sign(BASE + request.path, request.fields)
    changed = {**request.fields, "From": "+15550000000"}
    assert_refused(Client().post(request.path, changed, HTTP_X_TWILIO_SIGNATURE=signature))
    # Our hints ride in the signed URL: another agent in the query is another URL.
    leg = scenarios.inbound_queue_call("1001")[4]
    signature = sign(BASE + leg.path, leg.fields)
    other = webhook_path("status", Hints(agent="client:9999", queue="support"))
    assert_refused(Client().post(other, leg.fields, HTTP_X_TWILIO_SIGNATURE=signature))


def test_unknown_account_is_refused(account: TwilioAccount, queue: CallQueue) -> None:
    request = incoming()
    fields = {**request.fields, "AccountSid": "AC" + "cd" * 16}
    assert_refused(deliver(Client(), TwilioRequest(request.path, fields)))
    no_sid = {k: v for k, v in request.fields.items() if k != "AccountSid"}
    assert_refused(deliver(Client(), TwilioRequest(request.path, no_sid)))


def test_disabled_account_is_refused(account: TwilioAccount, queue: CallQueue) -> None:
    TwilioAccount.objects.filter(pk=account.pk).update(is_enabled=False)
    assert_refused(deliver(Client(), incoming()))


def test_shared_key_signatures_are_refused(account: TwilioAccount, queue: CallQueue) -> None:
    request = incoming()
    response = Client().post(
        request.path,
        request.fields,
        HTTP_X_TWILIO_SIGNATURE=sign(BASE + request.path, request.fields),
        HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS="key=webhooks_sharedkey_x,algorithm=HMAC_SHA256",
    )
    assert_refused(response)


@pytest.mark.parametrize("name", ["voice", "client", "status", "queue-result", "dial-result"])
def test_only_post(account: TwilioAccount, name: str) -> None:
    for method in ("get", "put", "delete"):
        assert getattr(Client(), method)(webhook_path(name)).status_code == 405
    assert Call.objects.count() == 0


def test_tls_terminated_by_a_proxy_django_was_not_told_about(
    account: TwilioAccount, queue: CallQueue
) -> None:
    """Twilio signed https://...; Django sees http://: the https form is tried too."""
    request = incoming()
    signature = sign("https://testserver" + request.path, request.fields)
    response = Client().post(request.path, request.fields, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200
    assert Call.objects.count() == 1


def test_forwarded_proto_with_secure_proxy_header(
    account: TwilioAccount, queue: CallQueue, settings: object
) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # type: ignore[attr-defined]
    request = incoming()
    https = sign("https://testserver" + request.path, request.fields)
    http = sign("http://testserver" + request.path, request.fields)
    client = Client()
    # Django knows the request came in over https, so an http signature cannot be right.
    refused = client.post(
        request.path, request.fields, HTTP_X_TWILIO_SIGNATURE=http, HTTP_X_FORWARDED_PROTO="https"
    )
    assert_refused(refused)
    accepted = client.post(
        request.path, request.fields, HTTP_X_TWILIO_SIGNATURE=https, HTTP_X_FORWARDED_PROTO="https"
    )
    assert accepted.status_code == 200


def test_another_organizations_account_writes_to_that_organization(
    floor_a: Floor, floor_b: Floor, queue: CallQueue
) -> None:
    make_account(floor_b.org.pk)
    response = deliver(Client(), incoming())
    assert response.status_code == 200
    # Org B has no queue: the caller is told so, and the call is Org B's alone.
    assert b"<Hangup" in response.content
    assert Call.objects.for_organization(floor_b.org).count() == 1
    assert Call.objects.for_organization(floor_a.org).count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("SequenceNumber", "three"),
        ("SequenceNumber", "-1"),
        ("Timestamp", "yesterday at noon"),
        ("Timestamp", "Fri, 14 Mar 2025 99:00:00 +0000"),
        ("CallSid", "CA-not-a-sid"),
        ("CallSid", ""),
        ("ParentCallSid", "XX" + "0" * 32),
        ("CallDuration", "1e9"),
        ("To", "client:1001\x00"),
    ],
)
def test_garbage_fields_are_a_400_not_a_500(
    account: TwilioAccount, queue: CallQueue, field: str, value: str
) -> None:
    for request in scenarios.inbound_queue_call("1001")[:5]:
        fields = {**request.fields, field: value}
        assert_refused(deliver(Client(), TwilioRequest(request.path, fields)), status=400)


def test_garbage_in_our_query_is_a_400(account: TwilioAccount, queue: CallQueue) -> None:
    request = incoming()
    path = webhook_path("voice") + "?queue=" + "x" * 500
    assert_refused(deliver(Client(), TwilioRequest(path, request.fields)), status=400)
