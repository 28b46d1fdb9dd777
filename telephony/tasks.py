"""Celery tasks of the telephony edge: thin, take ids, call one service each.

``reconcile_call_logs`` runs nightly (``CELERY_BEAT_SCHEDULE``) for yesterday of every
connection with a log source; ``reconcile_connection_day`` is the same for one
connection and day, on demand (the admin's action, ``manage.py reconcile_call_logs``).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from contactcenter.models import Organization
from telephony.cel.reconcile import reconcile_day, scopes

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)
T = TypeVar("T")

# The Twilio media tasks: a database hiccup retried by Celery itself; a try Twilio could
# not serve (FetchLater, DeleteLater) by retry_unless_eager.
MEDIA_FETCH_RETRIES: dict[str, Any] = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}
MEDIA_DELETE_RETRIES: dict[str, Any] = {
    **MEDIA_FETCH_RETRIES,
    "retry_backoff_max": 3600,
    "max_retries": 10,
}


def retry_unless_eager(task: Task, exc: Exception, *, given_up: T) -> T:
    """Call from a task's ``except``: the try is made again with the task's backoff by a
    worker; with no worker to wait for (Celery eager, the one-process default) it is
    ``given_up`` instead, and the beat's catch-up asks again."""
    if task.app.conf.task_always_eager:
        return given_up
    raise task.retry(exc=exc) from None


def yesterday(organization_id: int) -> date:
    """Yesterday in the organization's time zone (the day a reconciliation covers)."""
    zone = ZoneInfo(Organization.objects.get(pk=organization_id).time_zone)
    return timezone.now().astimezone(zone).date() - timedelta(days=1)


@shared_task(
    name="telephony.reconcile_call_logs",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def reconcile_call_logs() -> int:
    """Yesterday (in each organization's zone) of every connection with a log source."""
    found = scopes()
    for scope in found:
        reconcile_day(scope, yesterday(scope.organization_id))
    return len(found)


@shared_task(
    name="telephony.reconcile_connection_day",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def reconcile_connection_day(organization_id: int, connection_key: str, day: str) -> int:
    """One connection's ``day`` (ISO date); the number of calls repaired."""
    for scope in scopes():
        if (scope.organization_id, scope.connection_key) == (organization_id, connection_key):
            return reconcile_day(scope, date.fromisoformat(day)).repaired
    logger.warning("reconciliation: %s has no log source", connection_key)
    return 0


@shared_task(
    name="telephony.twilio_route", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5
)
def twilio_route(organization_id: int) -> int:
    """Offer the organization's waiting Twilio callers to its free agents."""
    from telephony.twilio.routing.ringing import route

    return len(route(organization_id=organization_id))


@shared_task(name="telephony.twilio_routing_repair")
def twilio_routing_repair() -> int:
    """The beat's safety net: stuck offers expired, every Twilio queue routed."""
    from telephony.twilio.routing.ringing import repair

    return repair()


@shared_task(name="telephony.twilio_recording_fetch", **MEDIA_FETCH_RETRIES)
def twilio_recording_fetch(recording_id: int) -> str:
    """Fetch a completed Twilio recording's media into the store (queued by its
    callback); a failed try is retried with backoff, and the beat's catch-up below asks
    again until the recording's timeout (telephony/twilio/recording_media.py)."""
    from telephony.twilio.recording_media import FetchLater
    from telephony.twilio.recording_media import twilio_recording_fetch as fetch

    try:
        return fetch(recording_id=recording_id)
    except FetchLater as exc:
        return retry_unless_eager(twilio_recording_fetch, exc, given_up="")


@shared_task(name="telephony.twilio_voicemail_fetch", **MEDIA_FETCH_RETRIES)
def twilio_voicemail_fetch(voicemail_id: int) -> str:
    """Fetch a Twilio voicemail's audio into the store (queued by its completed
    recording callback); retried with backoff, then by the beat's catch-up below until the
    timeout (telephony/twilio/voicemail_media.py)."""
    from telephony.twilio.recording_media import FetchLater
    from telephony.twilio.voicemail_media import twilio_voicemail_fetch as fetch

    try:
        return fetch(voicemail_id=voicemail_id)
    except FetchLater as exc:
        return retry_unless_eager(twilio_voicemail_fetch, exc, given_up="")


@shared_task(name="telephony.twilio_voicemail_delete", **MEDIA_DELETE_RETRIES)
def twilio_voicemail_delete(voicemail_id: int) -> bool:
    """Delete a stored voicemail's recording from Twilio (the account's
    ``recordings_delete_after_copy``); retried while Twilio refuses or is unreachable."""
    from telephony.twilio.recording_media import DeleteLater
    from telephony.twilio.voicemail_media import twilio_voicemail_delete as delete

    try:
        return delete(voicemail_id=voicemail_id)
    except DeleteLater as exc:
        return retry_unless_eager(twilio_voicemail_delete, exc, given_up=False)


@shared_task(
    name="telephony.twilio_voicemails_fetch",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def twilio_voicemails_fetch() -> int:
    """The beat's catch-up: Twilio voicemails' audio fetched, or failed once late."""
    from telephony.twilio.voicemail_media import twilio_voicemails_fetch_due

    return twilio_voicemails_fetch_due()


@shared_task(
    name="telephony.twilio_recordings_fetch",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def twilio_recordings_fetch() -> int:
    """The beat's catch-up: ended Twilio recordings fetched, or failed once late."""
    from telephony.twilio.recording_media import twilio_recordings_fetch_due

    return twilio_recordings_fetch_due()


@shared_task(name="telephony.twilio_recording_delete", **MEDIA_DELETE_RETRIES)
def twilio_recording_delete(recording_id: int) -> bool:
    """Delete a stored, checked recording from Twilio (the account's
    ``recordings_delete_after_copy``); retried while Twilio refuses or is unreachable."""
    from telephony.twilio.recording_media import DeleteLater
    from telephony.twilio.recording_media import twilio_recording_delete as delete

    try:
        return delete(recording_id=recording_id)
    except DeleteLater as exc:
        return retry_unless_eager(twilio_recording_delete, exc, given_up=False)
