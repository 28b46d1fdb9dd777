"""The nightly job (telephony/tasks.py) runs for every connection with a log source, and
what it found is served as metrics by the web processes (telephony/cel/metrics.py)."""

from __future__ import annotations

from typing import Any

import pytest
from celery.schedules import crontab
from django.db import connection
from prometheus_client import REGISTRY, generate_latest

import config.metrics  # noqa: F401  (the web processes' registry, the findings in it)
from config.celery import app
from provisioning.demo import DEMO_ORG_SLUG, seed_demo
from telephony.models import CallLogReconciliation
from telephony.tasks import reconcile_call_logs
from tests.telephony.pbxlogs import PbxLogs

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Asterisk logs to PostgreSQL"),
]


def _series(name: str) -> dict[str, float]:
    text = generate_latest(REGISTRY).decode()
    return {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith(name + "{")
    }


def test_the_nightly_job_reconciles_yesterday_and_the_metrics_say_what_it_found(
    pbx_logs: PbxLogs, settings: Any
) -> None:
    org = seed_demo().organization
    settings.AMI_URL = "ami://bridge:x@127.0.0.1:5038"
    settings.AMI_ORGANIZATION = DEMO_ORG_SLUG
    settings.CEL_DATABASE_URL = pbx_logs.dsn
    assert reconcile_call_logs() == 1
    report = CallLogReconciliation.objects.get(organization=org, connection_key="asterisk:env")
    assert (report.pbx_calls, report.missing, report.error) == (0, 0, "")
    label = f'connection="{org.pk}/asterisk:env"'
    found = _series("cc_call_log_findings")
    assert found[f'cc_call_log_findings{{{label},kind="missing"}}'] == 0, found
    assert _series("cc_call_log_reconcile_failed")[f"cc_call_log_reconcile_failed{{{label}}}"] == 0

    settings.CEL_CDR_TABLE = "no_such_table"
    reconcile_call_logs()
    report.refresh_from_db()
    assert "no_such_table" in report.error
    assert _series("cc_call_log_reconcile_failed")[f"cc_call_log_reconcile_failed{{{label}}}"] == 1


def test_without_a_log_source_the_job_does_nothing(settings: Any) -> None:
    settings.CEL_DATABASE_URL = ""
    assert reconcile_call_logs() == 0
    assert not CallLogReconciliation.objects.exists()


def test_the_nightly_job_is_on_the_beat_once_a_night(settings: Any) -> None:
    """Celery beat runs it (the admin's action and the command are for a day on demand)."""
    (entry,) = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == reconcile_call_logs.name
    ]
    assert reconcile_call_logs.name in app.tasks
    # Every day at CALL_LOG_RECONCILE_HOUR (UTC; 3 unless set), a quarter past.
    assert entry["schedule"] == crontab(hour=3, minute=15)
