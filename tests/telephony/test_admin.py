"""The operator's admin of the telephony records (telephony/admin.py): the on-demand
reconciliation of a connection's yesterday, and the read-only reports it leaves.

(The connection form's CEL source and passwords: tests/telephony/cel/test_source.py.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from contactcenter.models import User
from telephony.models import AsteriskConnection, CallLogReconciliation
from telephony.tasks import yesterday
from tests.conftest import Floor
from tests.telephony.pbxlogs import PbxLogs

pytestmark = pytest.mark.django_db


def _operator() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-9f3k2"))
    return client


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Asterisk logs to PostgreSQL")
def test_the_action_reconciles_the_connections_yesterday_now(
    floor_a: Floor, floor_b: Floor, pbx_logs: PbxLogs, settings: Any
) -> None:
    logs = pbx_logs.source
    # The PBX's documentation network, and the test's log database on this machine: the
    # operator lets tenants reach both.
    settings.AMI_ALLOWED_TARGETS = ["203.0.113.0/24", f"{logs.host}:{logs.port}"]
    record, _ = (
        AsteriskConnection.objects.create(
            organization=floor.org,
            name="pbx1",
            host="203.0.113.5",
            port=5038,
            username="bridge",
            secret="s3cr3t",
            cel_url=f"postgresql://{logs.user}@{logs.host}:{logs.port}/{logs.dbname}",
            cel_password=logs.password,
        )
        for floor in (floor_a, floor_b)
    )
    # Only the selected connection (not the other organization's) is reconciled.
    response = _operator().post(
        "/admin/telephony/asteriskconnection/",
        {"action": "reconcile_yesterday", "_selected_action": [record.pk]},
    )
    assert response.status_code == 302, response.content
    report = CallLogReconciliation.objects.get()
    assert (report.organization_id, report.connection_key, report.day) == (
        floor_a.org.pk,
        f"asterisk:{record.pk}",
        yesterday(floor_a.org.pk),
    )
    assert report.error == "" and report.pbx_calls == 0


def test_a_report_lists_its_findings_escaped_and_cannot_be_changed(floor_a: Floor) -> None:
    # The call ids come from the PBX's log database, a tenant's: shown as text, never markup.
    hostile = "<script>alert(1)</script>"
    report = CallLogReconciliation.objects.create(
        organization=floor_a.org,
        connection_key="asterisk:7",
        day=date(2026, 3, 1),
        pbx_calls=12,
        stored_calls=11,
        missing=1,
        different=1,
        repaired=1,
        details={"missing": ["1741950849.15"], "different": [hostile]},
    )
    client = _operator()
    listed = client.get("/admin/telephony/calllogreconciliation/")
    assert listed.status_code == 200
    assert "asterisk:7" in listed.content.decode()
    page = client.get(f"/admin/telephony/calllogreconciliation/{report.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "1741950849.15" in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert hostile not in text
    # A report is what was found: the admin neither edits nor adds one.
    changed = client.post(
        f"/admin/telephony/calllogreconciliation/{report.pk}/change/", {"missing": "0"}
    )
    assert changed.status_code == 403
    report.refresh_from_db()
    assert report.missing == 1
    assert client.get("/admin/telephony/calllogreconciliation/add/").status_code == 403
