"""Celery tasks of the domain core: thin, take ids, call one service each.

Scheduled by celery beat (``CELERY_BEAT_SCHEDULE`` in
config/settings_parts/redis_celery.py). Each is idempotent, so a redelivered or
overlapping run changes nothing; transient database errors are retried with
exponential backoff, and a failure is logged by Celery with the task name and id.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from contactcenter.models import Organization
from contactcenter.services.audit_purge import audit_purge
from contactcenter.services.queue_alerts import queue_alerts_evaluate_all
from contactcenter.services.recording_files import recordings_collect
from contactcenter.services.recording_retention import recordings_purge_expired
from contactcenter.services.reports import stats_rollup_recent
from contactcenter.services.sessions import tokens_flush_expired
from contactcenter.services.sweep import calls_sweep_stale
from contactcenter.services.voicemail_files import voicemails_collect
from contactcenter.services.voicemail_retention import voicemails_purge_expired

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    name="contactcenter.flush_expired_tokens",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def flush_expired_tokens() -> int:
    """Drop expired refresh-token records (one per sign-in and refresh, kept for the
    blacklist): services/sessions.py."""
    return tokens_flush_expired()


@shared_task(name="contactcenter.queue_alerts_evaluate")
def queue_alerts_evaluate() -> int:
    """Judge every organization's queue alerts (services/queue_alerts.py). Not retried:
    the next run, seconds later, does the same."""
    return queue_alerts_evaluate_all()


@shared_task(
    name="contactcenter.sweep_stale_calls",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def sweep_stale_calls() -> int:
    """Close calls whose hangup was never seen (services/sweep.py)."""
    closed = calls_sweep_stale()
    if closed:
        logger.warning("stale-call sweep closed %d call(s) whose hangup was never seen", closed)
    return closed


@shared_task(
    name="contactcenter.rollup_recent_stats",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def rollup_recent_stats() -> int:
    """Queue one roll-up of yesterday and today per active organization."""
    ids = list(Organization.objects.filter(is_active=True).values_list("pk", flat=True))
    for organization_id in ids:
        rollup_organization_stats.delay(organization_id)
    return len(ids)


@shared_task(
    name="contactcenter.rollup_organization_stats",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def rollup_organization_stats(organization_id: int) -> list[str]:
    """Roll up one organization's yesterday and today (services/reports.py)."""
    organization = Organization.objects.filter(pk=organization_id, is_active=True).first()
    if organization is None:  # deleted or deactivated since it was queued
        return []
    return [day.isoformat() for day in stats_rollup_recent(organization=organization)]


@shared_task(
    name="contactcenter.audit_purge",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def audit_purge_task() -> int:
    """Delete audit entries past their organization's retention (services/audit_purge.py)."""
    return audit_purge()


@shared_task(
    name="contactcenter.recordings_collect",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def collect_recordings() -> dict[str, int]:
    """Store the files of ended recordings; fail the ones that never arrive
    (services/recording_files.py)."""
    result = recordings_collect()
    if result.failed:
        logger.warning("%d recording(s) failed: their file never arrived", result.failed)
    return {"stored": result.stored, "failed": result.failed, "waiting": result.waiting}


@shared_task(
    name="contactcenter.voicemails_collect",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def collect_voicemails() -> dict[str, int]:
    """Store the audio of Asterisk voicemails; fail the ones that never arrive
    (services/voicemail_files.py)."""
    result = voicemails_collect()
    if result.failed:
        logger.warning("%d voicemail(s) have no audio: the file never arrived", result.failed)
    return {"stored": result.stored, "failed": result.failed, "waiting": result.waiting}


@shared_task(
    name="contactcenter.recordings_purge_expired",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def purge_expired_recordings() -> int:
    """Recordings past their organization's retention, legal holds kept
    (services/recording_retention.py)."""
    return recordings_purge_expired()


@shared_task(
    name="contactcenter.voicemails_purge_expired",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def purge_expired_voicemails() -> int:
    """Voicemails dealt with longer ago than their organization's retention, legal holds
    kept (services/voicemail_retention.py)."""
    return voicemails_purge_expired()
