"""Asterisk connection records: no control characters, and a target the operator allows.

A tenant admin once made the shared bridge log in to the installation's own Redis with
``"secret": "x\\r\\nSET injected 1\\r\\n"``. Here each field refuses line breaks, and a
loopback, private or own-service target is a 400 with no row created, unless the
operator lists it in AMI_ALLOWED_TARGETS; the Django admin applies the same rules.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from contactcenter.models import User
from telephony.egress import TargetRefused, check_target, parse_allowed
from telephony.models import AsteriskConnection
from tests.conftest import Floor, client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/asterisk-connections/"
# A public address (TEST-NET ranges are not public): never dialled by these tests.
PUBLIC = "93.184.215.14"
AMI = {"name": "pbx", "host": PUBLIC, "port": 5038, "username": "bridge", "secret": "s3cr3t"}
INJECTIONS = [
    "x\r\nSET injected 1\r\n",
    "x\nAction: Originate",
    "x\rAction: Logoff",
    "x\u2028y",
    "x\x1b[2K",
]


def _errors(response: Any) -> dict[str, str]:
    body = response.json()
    assert body["type"] == "validation_error", body
    return {error["attr"]: error["code"] for error in body["errors"]}


@pytest.mark.parametrize("field", ["name", "host", "username", "secret"])
@pytest.mark.parametrize("bad", INJECTIONS)
def test_control_characters_are_refused_in_every_field(
    floor_a: Floor, field: str, bad: str
) -> None:
    client = client_for(floor_a.admin)
    value = PUBLIC + bad if field == "host" else bad
    response = client.post(URL, {**AMI, field: value}, format="json")
    assert response.status_code == 400, response.content
    assert field in _errors(response)
    assert not AsteriskConnection.objects.exists()


def test_a_bad_field_cannot_be_patched_in_either(floor_a: Floor) -> None:
    record = AsteriskConnection.objects.create(organization=floor_a.org, **AMI)
    client = client_for(floor_a.admin)
    response = client.patch(f"{URL}{record.pk}/", {"secret": INJECTIONS[0]}, format="json")
    assert response.status_code == 400
    record.refresh_from_db()
    assert record.secret == "s3cr3t"


@pytest.mark.parametrize(
    ("host", "port"),
    [
        ("127.0.0.1", 6379),  # the probe's target: loopback Redis
        ("localhost", 5038),  # a name is resolved: every address must pass
        ("::1", 5038),
        ("::ffff:127.0.0.1", 5038),  # loopback inside an IPv6 address
        ("0.0.0.0", 5038),
        ("10.0.0.5", 5038),
        ("192.168.1.20", 5038),
        ("172.16.0.1", 5038),
        ("169.254.169.254", 80),  # a cloud's metadata service
        ("100.64.0.1", 5038),
        ("fd00::1", 5038),
        ("fe80::1", 5038),
        ("224.0.0.1", 5038),
        ("pbx.example.com:5038", 5038),  # not a host name
        ("ami://pbx.example.com", 5038),
    ],
)
def test_targets_the_operator_did_not_allow_are_refused(
    floor_a: Floor, host: str, port: int
) -> None:
    response = client_for(floor_a.admin).post(URL, {**AMI, "host": host, "port": port})
    assert response.status_code == 400, response.content
    assert "host" in _errors(response)
    assert not AsteriskConnection.objects.exists()


def test_the_installations_own_services_are_refused(floor_a: Floor, settings: Any) -> None:
    # Redis (channel layer, broker) on a public address: still ours, still refused, also
    # inside a network the operator allowed, unless an entry names that port.
    settings.REDIS_URL = f"redis://{PUBLIC}:6379/0"
    settings.METRICS_PORT, settings.METRICS_ADDR = 9100, PUBLIC
    client = client_for(floor_a.admin)
    for port in (6379, 9100):
        response = client.post(URL, {**AMI, "port": port})
        assert response.status_code == 400, (port, response.content)
        assert "host" in _errors(response)
    settings.AMI_ALLOWED_TARGETS = [f"{PUBLIC}/24"]
    assert client.post(URL, {**AMI, "port": 6379}).status_code == 400
    assert client.post(URL, {**AMI, "port": 5038}).status_code == 201  # the PBX port is not ours
    assert AsteriskConnection.objects.count() == 1


def test_an_operator_listed_target_is_allowed(floor_a: Floor, settings: Any) -> None:
    client = client_for(floor_a.admin)
    settings.AMI_ALLOWED_TARGETS = ["10.20.0.0/16", "192.168.1.20:5038", "[fd00::7]:5038"]
    for host, port in [("10.20.3.4", 5038), ("192.168.1.20", 5038), ("fd00::7", 5038)]:
        response = client.post(URL, {**AMI, "name": host, "host": host, "port": port})
        assert response.status_code == 201, (host, response.content)
    # The entry's port is part of it.
    assert (
        client.post(URL, {**AMI, "name": "x", "host": "192.168.1.20", "port": 22}).status_code
        == 400
    )
    assert AsteriskConnection.objects.count() == 3


def test_disabling_a_record_the_policy_no_longer_allows_still_works(floor_a: Floor) -> None:
    record = AsteriskConnection.objects.create(
        organization=floor_a.org, **{**AMI, "host": "10.9.9.9"}
    )
    client = client_for(floor_a.admin)
    response = client.patch(f"{URL}{record.pk}/", {"is_enabled": False}, format="json")
    assert response.status_code == 200, response.content
    # Changing the target is checked, though.
    assert client.patch(f"{URL}{record.pk}/", {"port": 5039}, format="json").status_code == 400


def test_the_admin_form_applies_the_same_rules(floor_a: Floor) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-9f3k2"))
    form = {**AMI, "organization": floor_a.org.pk, "is_enabled": "on"}
    for bad in ({"secret": INJECTIONS[0]}, {"host": "127.0.0.1"}, {"username": "a\nb"}):
        response = client.post("/admin/telephony/asteriskconnection/add/", {**form, **bad})
        assert response.status_code == 200  # the form again, with its errors
        assert response.context["adminform"].form.errors, bad
    assert not AsteriskConnection.objects.exists()
    response = client.post("/admin/telephony/asteriskconnection/add/", form)
    assert response.status_code == 302
    assert AsteriskConnection.objects.get().host == PUBLIC


@pytest.mark.parametrize(
    ("entry", "network", "hostname", "port"),
    [
        ("10.0.0.0/8", "10.0.0.0/8", "", None),
        ("10.1.2.3:5038", "10.1.2.3/32", "", 5038),
        ("10.1.2.0/24:5038", "10.1.2.0/24", "", 5038),
        ("[fd00::/8]:5038", "fd00::/8", "", 5038),
        ("fd00::1", "fd00::1/128", "", None),
        ("PBX.lan:5038", None, "pbx.lan", 5038),
    ],
)
def test_allow_list_entries(entry: str, network: str | None, hostname: str, port: int) -> None:
    allowed = parse_allowed(entry)
    assert allowed.network == (ipaddress.ip_network(network) if network else None)
    assert (allowed.hostname, allowed.port) == (hostname, port)


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "pbx:0", "pbx:99999", "[::1", "a b", "x:y"])
def test_a_bad_allow_list_entry_stops_the_process(entry: str, settings: Any) -> None:
    settings.AMI_ALLOWED_TARGETS = [entry]
    with pytest.raises(ImproperlyConfigured):
        check_target(PUBLIC, 5038)
    from telephony.egress import check_settings

    assert [error.id for error in check_settings()] == ["telephony.E001"]


def test_an_unresolvable_name_is_refused_and_marked_so() -> None:
    with pytest.raises(TargetRefused) as refused:
        check_target("no-such-host.invalid", 5038)
    assert refused.value.resolvable is False
