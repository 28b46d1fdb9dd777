"""``manage.py reconcile_call_logs``: the reconciliation now, without Celery."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from provisioning.demo import DEMO_ORG_SLUG, seed_demo
from telephony.models import CallLogReconciliation
from tests.telephony.pbxlogs import PbxLogs

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Asterisk logs to PostgreSQL"),
]


def test_it_reconciles_the_day_asked_and_fails_on_an_unreadable_source(
    pbx_logs: PbxLogs, settings: Any
) -> None:
    seed_demo()
    settings.AMI_URL = "ami://bridge:x@127.0.0.1:5038"
    settings.AMI_ORGANIZATION = DEMO_ORG_SLUG
    settings.CEL_DATABASE_URL = pbx_logs.dsn
    out = io.StringIO()
    call_command("reconcile_call_logs", "--day", "2026-03-01", stdout=out)
    assert "asterisk:env 2026-03-01: 0 PBX calls" in out.getvalue()
    assert CallLogReconciliation.objects.get().day.isoformat() == "2026-03-01"
    settings.CEL_CDR_TABLE = "missing_table"
    with pytest.raises(CommandError, match="could not be read"):
        call_command("reconcile_call_logs", "--day", "2026-03-01", stdout=io.StringIO())


def test_without_a_source_it_says_so(settings: Any) -> None:
    settings.CEL_DATABASE_URL = ""
    with pytest.raises(CommandError, match="No connection"):
        call_command("reconcile_call_logs")
