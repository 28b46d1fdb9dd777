"""A Twilio recording's media, fetched into our recordings storage; then, where the
account says so, deleted from Twilio.

The media is asked of Twilio's REST API, ``/2010-04-01/Accounts/{AccountSid}/
Recordings/{RecordingSid}.mp3`` (or ``.wav``, ``TWILIO_RECORDINGS_FORMAT``), with the
account's SID and auth token as basic auth (Twilio's "HTTP auth on media URLs"). The URL
is built from the SIDs, never taken from the callback's ``RecordingUrl``, so nothing a
request says can send the auth token elsewhere. The copy is checked (its Content-Length,
then the stored copy's size and SHA-256 read back: contactcenter/services/
recording_files.py) before the recording is ``done``, and only a ``done`` recording is
deleted from Twilio. A media Twilio does not have yet (404) is asked again later, until
``RECORDINGS_FILE_TIMEOUT_SECONDS`` after the recording ended (or after we learned it
did, if later): then it is ``failed``, as an Asterisk file that never arrives.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from twilio.http import HttpClient

from contactcenter import facts as te
from contactcenter.enums import CallSource, RecordingStatus
from contactcenter.models import Recording
from contactcenter.services import audit
from contactcenter.services.recording_files import (
    NEVER_ARRIVED,
    CopyNotVerified,
    recording_file_fail,
    recording_file_store,
)
from contactcenter.services.recording_pull import PullUnavailable, http_download
from contactcenter.services.telephony import telephony_apply
from telephony.models import TwilioAccount
from telephony.twilio import actions
from telephony.twilio.recording_status import RECORDING_SID, recording_key

logger = logging.getLogger(__name__)

FORMATS = ("mp3", "wav")
NO_ACCOUNT = "no Twilio account to fetch the recording with"


class FetchLater(Exception):
    """Twilio could not give the media this time (an error, a cut transfer): retry."""


class DeleteLater(Exception):
    """Twilio did not delete the recording this time: retry."""


def media_url(account_sid: str, recording_sid: str, media_format: str) -> str:
    base = settings.TWILIO_API_BASE_URL.rstrip("/")
    return f"{base}/2010-04-01/Accounts/{account_sid}/Recordings/{recording_sid}.{media_format}"


def fetch_enqueue(task: Task, waiting: QuerySet[Any]) -> None:
    """Twilio says a media is ready: ``task`` is queued for the row of ``waiting`` (the
    one waiting for it) once the caller's transaction commits (the beat's catch-up if
    this is lost). Nothing when no row waits."""
    pk = waiting.values_list("pk", flat=True).first()
    if pk is not None:
        transaction.on_commit(functools.partial(task.delay, pk), robust=True)


def twilio_recording_fetch_enqueue(*, organization_id: int, recording_sid: str) -> None:
    """Twilio says ``recording_sid``'s media is ready: the fetch of the organization's
    ended recording it belongs to is queued (``fetch_enqueue``)."""
    from telephony.tasks import twilio_recording_fetch as task

    fetch_enqueue(
        task,
        Recording.objects.for_organization(organization_id).filter(
            source=CallSource.TWILIO, leg_id=recording_sid, status=RecordingStatus.ENDED
        ),
    )


def twilio_recording_fetch(*, recording_id: int, now: datetime | None = None) -> str:
    """Fetch an ended Twilio recording's media into the store: ``done`` when stored
    and checked, ``failed`` when it never came in time, '' when it is still to come
    (or the recording is not waiting: already stored, failed, purged). Raises
    FetchLater for an error worth retrying soon. Queues the deletion from Twilio when
    the account deletes after copy."""
    rec = Recording.objects.filter(
        pk=recording_id, source=CallSource.TWILIO, status=RecordingStatus.ENDED
    ).first()
    if rec is None:
        return ""
    now = now or timezone.now()
    # From when the recording ended, or when we learned it (a callback Twilio retried
    # for an hour is not late on arrival).
    since = max(rec.ended_at or rec.started_at, rec.updated_at)
    late = since <= now - timedelta(seconds=settings.RECORDINGS_FILE_TIMEOUT_SECONDS)
    if not RECORDING_SID.match(rec.leg_id):
        return recording_file_fail(recording_id=rec.pk, reason="not a Twilio recording SID")
    account = TwilioAccount.objects.filter(organization_id=rec.organization_id).first()
    if account is None:
        return recording_file_fail(recording_id=rec.pk, reason=NO_ACCOUNT) if late else ""
    media_format = rec.format if rec.format in FORMATS else settings.TWILIO_RECORDINGS_FORMAT
    url = media_url(account.account_sid, rec.leg_id, media_format)
    try:
        # Twilio may redirect the media to its storage: requests drops the credentials
        # on a redirect to another host.
        with http_download(
            url, auth=(account.account_sid, account.auth_token), allow_redirects=True
        ) as path:
            outcome = recording_file_store(recording_id=rec.pk, path=path) if path else ""
    except (PullUnavailable, CopyNotVerified) as exc:
        logger.warning("Twilio recording %s (%s): %s", rec.leg_id, rec.pk, exc)
        if late:
            return recording_file_fail(recording_id=rec.pk, reason=f"{NEVER_ARRIVED} ({exc})")
        raise FetchLater(str(exc)) from None
    if not outcome and late:
        return recording_file_fail(recording_id=rec.pk, reason=NEVER_ARRIVED)
    if outcome == RecordingStatus.DONE and account.recordings_delete_after_copy:
        from telephony.tasks import twilio_recording_delete

        twilio_recording_delete.delay(rec.pk)
    return outcome


# A recording still open this long after its call ended lost its completed callback.
OPEN_AFTER_CALL_SECONDS = 120


def twilio_recordings_end_orphaned(*, now: datetime | None = None, limit: int = 200) -> int:
    """End the Twilio recordings still open ``OPEN_AFTER_CALL_SECONDS`` after their call
    ended (its ``completed`` callback lost, or the row made by a late ``in-progress``):
    each ends at its call's end, under the key of the ``completed`` it stands for, so the
    fetch asks Twilio for the media. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=OPEN_AFTER_CALL_SECONDS)
    rows = list(
        Recording.objects.filter(
            source=CallSource.TWILIO,
            status__in=(RecordingStatus.RECORDING, RecordingStatus.PAUSED),
            call__ended_at__lt=cutoff,
        )
        .select_related("call")
        .order_by("pk")[:limit]
    )
    for rec in rows:
        call = rec.call
        assert call.ended_at is not None  # the filter's
        stopped = te.RecordingStopped(
            call_key=call.external_id,
            at=call.ended_at,
            dedup_key=f"{recording_key(call.external_id, rec.leg_id)}:stopped",
            source=CallSource.TWILIO,
            leg_id=rec.leg_id,
        )
        telephony_apply(
            organization_id=rec.organization_id,
            connection_key=call.connection_key,
            events=[stopped],
        )
    return len(rows)


def twilio_recordings_fetch_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """The beat's catch-up: end the recordings whose call ended long ago, then fetch
    every ended Twilio recording (a lost callback, a failed try); the late ones fail.
    Returns how many were stored or failed."""
    twilio_recordings_end_orphaned(now=now, limit=limit)
    ids = list(
        Recording.objects.filter(source=CallSource.TWILIO, status=RecordingStatus.ENDED)
        .order_by("ended_at")
        .values_list("pk", flat=True)[:limit]
    )
    settled = 0
    for pk in ids:
        try:
            settled += bool(twilio_recording_fetch(recording_id=pk, now=now))
        except FetchLater:
            continue  # logged; the next run tries again
    return settled


def twilio_copies_delete(
    sender: object, *, organization_id: int, recording_ids: list[int], **kwargs: object
) -> None:
    """The ``recordings_purged`` hook: once the purge commits, delete the Twilio
    recordings among them from Twilio too (whatever the account's setting: what we no
    longer keep, Twilio should not keep for us)."""
    from telephony.tasks import twilio_recording_delete as task

    ids = list(
        Recording.objects.for_organization(organization_id)
        .filter(pk__in=recording_ids, source=CallSource.TWILIO)
        .values_list("pk", flat=True)
    )
    for pk in ids:
        transaction.on_commit(functools.partial(task.delay, pk), robust=True)


def twilio_recording_delete(*, recording_id: int, http_client: HttpClient | None = None) -> bool:
    """Delete a recording's media from Twilio: a stored one (its copy is ours, checked)
    where the account deletes after copy, or a purged one (retention, erasure) whatever
    the account's setting. False when there is nothing to do; raises DeleteLater when
    Twilio refused or could not be reached. Audited as ``recording.twilio_delete``, the
    system as the actor. One Twilio no longer has counts as deleted."""
    rec = Recording.objects.filter(
        pk=recording_id,
        source=CallSource.TWILIO,
        status__in=(RecordingStatus.DONE, RecordingStatus.PURGED),
    ).first()
    if rec is None or not RECORDING_SID.match(rec.leg_id):
        return False
    if rec.status == RecordingStatus.DONE and not rec.storage_key:
        return False
    accounts = TwilioAccount.objects.filter(organization_id=rec.organization_id)
    if rec.status == RecordingStatus.DONE:
        accounts = accounts.filter(recordings_delete_after_copy=True)
    account = accounts.first()
    if account is None:
        return False
    result = actions.delete_recording(account, rec.leg_id, http_client=http_client)
    if not result.ok:
        raise DeleteLater(f"Twilio recording {rec.leg_id}: {result.message}")
    audit.record(
        action="recording.twilio_delete",
        organization_id=rec.organization_id,
        obj=rec,
        object_label=f"call {rec.call_id}",
        details={
            "recording_sid": rec.leg_id,
            "already_gone": result.code == 20404,
            "after": "purge" if rec.status == RecordingStatus.PURGED else "copy",
        },
    )
    return True
