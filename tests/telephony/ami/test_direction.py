"""A call's direction from which channels are ours (telephony/ami/parties.py): the
defaults, the per-connection configuration (trunks, inbound contexts) over REST and in
the bridge's target, and the same transcript read under both."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from contactcenter.facts import Fact
from contactcenter.models import Agent, Call, User
from contactcenter.services.telephony import telephony_apply
from provisioning.demo import seed_demo
from telephony.ami.frames import AmiMessage, parse_frames
from telephony.ami.parties import Parties
from telephony.ami.targets import record_targets
from telephony.ami.translator import Translator
from telephony.models import AsteriskConnection
from tests.conftest import Floor, client_for
from tests.telephony.conftest import TRANSCRIPTS

pytestmark = pytest.mark.django_db

URL = "/api/v1/asterisk-connections/"
AMI = {"name": "pbx", "host": "93.184.215.14", "port": 5038, "username": "b", "secret": "s"}


@pytest.mark.parametrize(
    ("device", "context", "agent", "internal"),
    [
        ("PJSIP/1001", "from-internal", True, True),
        ("PJSIP/1001", "from-trunk", True, True),  # an agent's phone is always ours
        ("PJSIP/2001", "from-internal", False, True),  # an extension: digits
        ("SIP/201", "from-internal", False, True),
        ("PJSIP/trunk", "from-internal", False, False),  # a named endpoint: a trunk
        ("PJSIP/2001", "from-pstn", False, False),  # created in an inbound context
    ],
)
def test_default_rules(device: str, context: str, agent: bool, internal: bool) -> None:
    assert Parties().is_internal(device, context, is_agent=agent) is internal


def test_configured_rules() -> None:
    parties = Parties.configured(
        trunks="PJSIP/gw-*, SIP/carrier\nPJSIP/1999", inbound_contexts="dids"
    )
    assert parties.trunks == ("PJSIP/gw-*", "SIP/carrier", "PJSIP/1999")
    assert parties.is_internal("PJSIP/reception", "from-internal", is_agent=False)
    assert not parties.is_internal("PJSIP/gw-east", "from-internal", is_agent=False)
    assert not parties.is_internal("PJSIP/1999", "from-internal", is_agent=False)
    assert not parties.is_internal("PJSIP/2001", "dids", is_agent=False)
    # The defaults' contexts are replaced, not added to.
    assert parties.is_internal("PJSIP/2001", "from-trunk", is_agent=False)


def _directions(data: bytes, parties: Parties) -> dict[str, str]:
    org = seed_demo().organization
    agents = set(Agent.objects.filter(organization=org).values_list("interface", flat=True))
    translator = Translator(is_agent=agents.__contains__, parties=parties)
    facts: list[Fact] = []
    for frame in parse_frames(data):
        if isinstance(frame, AmiMessage):
            facts += translator.translate(frame)
    telephony_apply(organization_id=org.pk, connection_key="offline", events=facts)
    return dict(Call.objects.filter(organization=org).values_list("external_id", "direction"))


def test_a_pbx_with_named_extensions_needs_its_trunks_named() -> None:
    # 16_direction.ami with the reception phone named "reception" instead of 2001.
    data = (
        (TRANSCRIPTS / "16_direction.ami").read_bytes().replace(b"PJSIP/2001", b"PJSIP/reception")
    )
    reception_to_agent, reception_out = "1741960800.65", "1741960860.67"
    by_default = _directions(data, Parties())
    # A non-numeric endpoint looks like a trunk: reception calling 1002 looks inbound.
    assert by_default[reception_to_agent] == "inbound"
    Call.objects.all().delete()
    configured = _directions(data, Parties.configured(trunks="PJSIP/trunk"))
    assert configured[reception_to_agent] == "internal"
    assert configured[reception_out] == "outbound"
    assert set(configured.values()) == {"internal", "outbound", "inbound"}


def test_connection_fields_over_rest(floor_a: Floor, settings: Any) -> None:
    client = client_for(floor_a.admin)
    created = client.post(
        URL,
        {**AMI, "trunks": "PJSIP/trunk*\nSIP/carrier", "inbound_contexts": "from-pstn, dids"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["trunks"] == "PJSIP/trunk*\nSIP/carrier"
    record = AsteriskConnection.objects.get()
    (target,) = record_targets()
    assert target.parties == Parties.configured(
        trunks=record.trunks, inbound_contexts=record.inbound_contexts
    )
    assert target.parties.trunks == ("PJSIP/trunk*", "SIP/carrier")
    assert target.parties.inbound_contexts == frozenset({"from-pstn", "dids"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("trunks", "trunk"),  # no technology
        ("trunks", "PJSIP/trunk;rm -rf"),
        ("trunks", "PJSIP/a\r\nAction: Originate"),
        ("trunks", ",".join(f"PJSIP/t{i}" for i in range(51))),
        ("inbound_contexts", "from pstn;x"),
        ("inbound_contexts", "ctx/with/slash"),
    ],
)
def test_bad_direction_settings_are_refused(floor_a: Floor, field: str, value: str) -> None:
    response = client_for(floor_a.admin).post(URL, {**AMI, field: value}, format="json")
    assert response.status_code == 400, response.content
    assert field in {e["attr"] for e in response.json()["errors"]}
    assert not AsteriskConnection.objects.exists()


def test_existing_records_read_with_the_defaults(floor_a: Floor) -> None:
    record = AsteriskConnection.objects.create(organization=floor_a.org, **AMI)
    assert (record.trunks, record.inbound_contexts) == ("", "")
    (target,) = record_targets()
    assert target.parties == Parties()


def test_the_admin_form_validates_them_too(floor_a: Floor) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-9f3k2"))
    form = {
        **AMI,
        "organization": floor_a.org.pk,
        "is_enabled": "on",
        "cel_table": "cel",
        "cel_cdr_table": "cdr",
        "cel_time_zone": "UTC",
    }
    url = "/admin/telephony/asteriskconnection/add/"
    response = client.post(url, {**form, "trunks": "no-technology"})
    assert response.status_code == 200
    assert "trunks" in response.context["adminform"].form.errors
    response = client.post(url, {**form, "trunks": "PJSIP/trunk*", "inbound_contexts": "dids"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    record = AsteriskConnection.objects.get()
    assert (record.trunks, record.inbound_contexts) == ("PJSIP/trunk*", "dids")
