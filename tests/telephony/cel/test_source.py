"""A connection's CEL/CDR source, as a tenant admin sets it (telephony/cel/source.py): the
URL's form, the host under the operator's policy (AMI_ALLOWED_TARGETS), the password
write-only and never in the URL, table names and time zone checked."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.test import Client

from contactcenter.models import User
from provisioning.demo import seed_demo
from telephony.ami.targets import record_targets
from telephony.cel.reconcile import Scope, reconcile_day
from telephony.cel.source import connect, parse_url, source_of_record, source_of_settings
from telephony.egress import TargetRefused
from telephony.models import AsteriskConnection
from tests.conftest import Floor, client_for
from tests.telephony.pbxlogs import PbxLogs

pytestmark = pytest.mark.django_db

AMI = {"name": "pbx1", "host": "10.0.0.5", "port": 5038, "username": "bridge", "secret": "s3cr3t"}
CEL = {"cel_url": "postgresql://cel_reader@10.0.0.6:5432/asterisk", "cel_password": "c3lpw"}


@pytest.fixture(autouse=True)
def operator_allows_the_pbx_lan(settings: Any) -> None:
    settings.AMI_ALLOWED_TARGETS = ["10.0.0.0/24"]


def test_the_source_is_stored_and_its_password_never_shown(floor_a: Floor) -> None:
    client = client_for(floor_a.admin)
    created = client.post("/api/v1/asterisk-connections/", {**AMI, **CEL})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["cel_url"] == CEL["cel_url"] and body["has_cel_password"] is True
    assert "cel_password" not in body
    pk = body["id"]
    assert b"c3lpw" not in client.get(f"/api/v1/asterisk-connections/{pk}/").content
    assert client.patch(f"/api/v1/asterisk-connections/{pk}/", {"port": 5039}).status_code == 200
    record = AsteriskConnection.objects.get(pk=pk)
    assert record.cel_password == "c3lpw"
    # The bridge's target carries the source, password included; its repr shows none.
    (target,) = [t for t in record_targets() if t.connection_key == f"asterisk:{pk}"]
    assert target.cel == source_of_record(record)
    assert target.cel is not None and target.cel.password == "c3lpw"
    assert "c3lpw" not in repr(target.cel)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # Loopback, the metadata service, a private network the operator did not allow.
        ({"cel_url": "postgresql://u@127.0.0.1:5432/asterisk"}, "cel_url"),
        ({"cel_url": "postgresql://u@169.254.169.254/asterisk"}, "cel_url"),
        ({"cel_url": "postgresql://u@192.168.1.10/asterisk"}, "cel_url"),
        # Not a PostgreSQL URL, a password in it, options, no database, a line break.
        ({"cel_url": "mysql://u@10.0.0.6/asterisk"}, "cel_url"),
        ({"cel_url": "postgresql://u:pw@10.0.0.6/asterisk"}, "cel_url"),
        ({"cel_url": "postgresql://u@10.0.0.6/asterisk?sslmode=disable"}, "cel_url"),
        ({"cel_url": "postgresql://u@10.0.0.6/"}, "cel_url"),
        ({"cel_url": "postgresql://u@10.0.0.6/asterisk\r\nx"}, "cel_url"),
        ({"cel_table": 'cel"; DROP TABLE cel; --'}, "cel_table"),
        ({"cel_queue_log_table": "a.b.c"}, "cel_queue_log_table"),
        ({"cel_time_zone": "Mars/Olympus"}, "cel_time_zone"),
    ],
)
def test_a_bad_source_is_refused_with_the_field_named(
    floor_a: Floor, changes: dict[str, str], field: str
) -> None:
    client = client_for(floor_a.admin)
    response = client.post("/api/v1/asterisk-connections/", {**AMI, **CEL, **changes})
    assert response.status_code == 400, response.content
    assert field in response.content.decode()
    assert not AsteriskConnection.objects.exists()


def test_the_operators_own_url_may_carry_its_password() -> None:
    parts = parse_url("postgresql://asterisk:pw%40x@db.pbx.lan:6432/logs", allow_password=True)
    assert (parts.user, parts.password, parts.host, parts.port, parts.dbname) == (
        "asterisk",
        "pw@x",
        "db.pbx.lan",
        6432,
        "logs",
    )
    with pytest.raises(ValidationError):
        parse_url("postgresql://asterisk:pw@db.pbx.lan/logs", allow_password=False)


def test_the_admin_form_checks_the_source_and_keeps_its_password(floor_a: Floor) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-9f3k2"))
    form = {**AMI, **CEL, "organization": floor_a.org.pk, "is_enabled": "on"}
    refused = client.post(
        "/admin/telephony/asteriskconnection/add/",
        {**form, "cel_url": "postgresql://u@127.0.0.1/asterisk"},
    )
    assert refused.status_code == 200 and "cel_url" in refused.context["adminform"].form.errors
    assert client.post("/admin/telephony/asteriskconnection/add/", form).status_code == 302
    record = AsteriskConnection.objects.get()
    assert (record.cel_password, record.cel_table, record.cel_time_zone) == ("c3lpw", "cel", "UTC")
    page = client.get(f"/admin/telephony/asteriskconnection/{record.pk}/change/").content
    assert b"c3lpw" not in page and b"s3cr3t" not in page
    edit = {**form, "cel_password": "", "secret": "", "cel_table": "cel_events"}
    changed = client.post(f"/admin/telephony/asteriskconnection/{record.pk}/change/", edit)
    assert changed.status_code == 302
    record.refresh_from_db()
    assert (record.cel_password, record.cel_table) == ("c3lpw", "cel_events")
    reports = client.get("/admin/telephony/calllogreconciliation/")
    assert reports.status_code == 200


@pytest.mark.parametrize(
    ("name", "value"),
    [("CEL_DATABASE_URL", "mysql://u@db/asterisk"), ("CEL_TIME_ZONE", "UTC -c x=y")],
)
def test_a_bad_operator_source_stops_the_bridge_with_a_clear_error(
    settings: Any, name: str, value: str
) -> None:
    settings.CEL_DATABASE_URL = "postgresql://u:pw@db.pbx.lan/asterisk"
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        source_of_settings(settings)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Asterisk logs to PostgreSQL")
async def test_the_session_is_read_only_in_the_sources_zone(pbx_logs: PbxLogs) -> None:
    """Whatever the role may do on the PBX's database, the contact center writes nothing
    there; the logged times are read in the zone the record names."""
    source = dataclasses.replace(pbx_logs.source, time_zone="Europe/Amsterdam")
    async with await connect(source) as conn:
        shown = await (await conn.execute("SHOW TimeZone")).fetchone()
        assert shown == ("Europe/Amsterdam",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            await conn.execute(
                "INSERT INTO cel (eventtype, eventtime, uniqueid, linkedid)"
                " VALUES ('HANGUP', now(), '1.1', '1.1')"
            )
    assert pbx_logs.rows("SELECT count(*) FROM cel") == [(0,)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Asterisk logs to PostgreSQL")
@pytest.mark.django_db(transaction=True)  # the report is written from another thread
async def test_a_tenants_source_is_checked_again_before_every_read(pbx_logs: PbxLogs) -> None:
    """Saved when allowed, then pointing where the policy says no (its name resolving
    elsewhere, the policy narrowed): refused before any connection, and the nightly
    reconciliation reports it instead of reading."""
    tenants = dataclasses.replace(pbx_logs.source, trusted=False)  # on loopback, not allowed
    with pytest.raises(TargetRefused):
        await connect(tenants)
    org = await sync_to_async(seed_demo)()
    scope = Scope(org.organization.pk, "asterisk:1", tenants)
    report = await sync_to_async(reconcile_day)(scope, date(2026, 3, 1))
    assert report.error.startswith("TargetRefused"), report.error
