"""A Twilio voicemail's audio, fetched into our recordings storage, as a recording's is
(telephony/twilio/recording_media.py): asked of Twilio's REST API by the account's and
the recording's SIDs, with the account's credentials, never from a URL a request named.
Media Twilio does not have yet (404) is asked again later, until
``RECORDINGS_FILE_TIMEOUT_SECONDS`` after the message was left: then the voicemail's
media fails (the voicemail itself stays: its caller can still be called back).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from twilio.http import HttpClient

from contactcenter.enums import CallSource
from contactcenter.models import Voicemail, VoicemailMedia
from contactcenter.services import audit
from contactcenter.services.recording_pull import PullUnavailable, http_download
from contactcenter.services.voicemail_files import (
    NEVER_ARRIVED,
    voicemail_file_store,
    voicemail_media_fail,
)
from telephony.models import TwilioAccount
from telephony.twilio import actions
from telephony.twilio.recording_media import (
    FORMATS,
    DeleteLater,
    FetchLater,
    fetch_enqueue,
    media_url,
)
from telephony.twilio.voicemail import RECORDING_SID

logger = logging.getLogger(__name__)

NO_ACCOUNT = "no Twilio account to fetch the voicemail with"


def twilio_voicemail_fetch_enqueue(*, organization_id: int, call_sid: str) -> None:
    """Twilio says the audio of the voicemail left on ``call_sid`` is ready: the fetch
    of the organization's voicemail waiting for it is queued (``fetch_enqueue``)."""
    from telephony.tasks import twilio_voicemail_fetch as task

    fetch_enqueue(
        task,
        Voicemail.objects.for_organization(organization_id).filter(
            source=CallSource.TWILIO, leg_id=call_sid, media=VoicemailMedia.WAITING
        ),
    )


def twilio_voicemail_fetch(*, voicemail_id: int, now: datetime | None = None) -> str:
    """Fetch a Twilio voicemail's audio: ``stored``, ``failed`` once late, '' while it is
    still to come (or not waited for). Raises FetchLater for an error worth retrying."""
    vm = Voicemail.objects.filter(
        pk=voicemail_id, source=CallSource.TWILIO, media=VoicemailMedia.WAITING
    ).first()
    if vm is None or not RECORDING_SID.match(vm.recording_sid):
        return ""
    now = now or timezone.now()
    since = max(vm.left_at, vm.updated_at)
    late = since <= now - timedelta(seconds=settings.RECORDINGS_FILE_TIMEOUT_SECONDS)
    account = TwilioAccount.objects.filter(organization_id=vm.organization_id).first()
    if account is None:
        return voicemail_media_fail(voicemail_id=vm.pk, reason=NO_ACCOUNT) if late else ""
    media_format = settings.TWILIO_RECORDINGS_FORMAT
    if media_format not in FORMATS:
        media_format = "mp3"
    url = media_url(account.account_sid, vm.recording_sid, media_format)
    try:
        with http_download(
            url, auth=(account.account_sid, account.auth_token), allow_redirects=True
        ) as path:
            outcome = (
                voicemail_file_store(voicemail_id=vm.pk, path=path, fmt=media_format)
                if path
                else ""
            )
    except PullUnavailable as exc:
        logger.warning("Twilio voicemail %s (%s): %s", vm.recording_sid, vm.pk, exc)
        if late:
            return voicemail_media_fail(voicemail_id=vm.pk, reason=f"{NEVER_ARRIVED} ({exc})")
        raise FetchLater(str(exc)) from None
    if not outcome and late:
        return voicemail_media_fail(voicemail_id=vm.pk, reason=NEVER_ARRIVED)
    if outcome == VoicemailMedia.STORED and account.recordings_delete_after_copy:
        from telephony.tasks import twilio_voicemail_delete

        twilio_voicemail_delete.delay(vm.pk)
    return outcome


def twilio_voicemail_delete(*, voicemail_id: int, http_client: HttpClient | None = None) -> bool:
    """Delete a stored voicemail's recording from Twilio, where the account deletes
    after copy (``recordings_delete_after_copy``): our copy is stored. False when there
    is nothing to do; raises DeleteLater when Twilio refused or could not be reached.
    Audited ``voicemail.twilio_delete``, the system as the actor."""
    vm = Voicemail.objects.filter(
        pk=voicemail_id, source=CallSource.TWILIO, media=VoicemailMedia.STORED
    ).first()
    if vm is None or not vm.storage_key or not RECORDING_SID.match(vm.recording_sid):
        return False
    account = TwilioAccount.objects.filter(
        organization_id=vm.organization_id, recordings_delete_after_copy=True
    ).first()
    if account is None:
        return False
    result = actions.delete_recording(account, vm.recording_sid, http_client=http_client)
    if not result.ok:
        raise DeleteLater(f"Twilio voicemail {vm.recording_sid}: {result.message}")
    audit.record(
        action="voicemail.twilio_delete",
        organization_id=vm.organization_id,
        obj=vm,
        details={"recording_sid": vm.recording_sid, "already_gone": result.code == 20404},
    )
    return True


def twilio_voicemails_fetch_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """The beat's catch-up: every Twilio voicemail still waiting for its audio whose
    recording is known; the late ones fail. Returns how many were stored or failed."""
    ids = list(
        Voicemail.objects.filter(source=CallSource.TWILIO, media=VoicemailMedia.WAITING)
        .exclude(recording_sid="")
        .order_by("left_at")
        .values_list("pk", flat=True)[:limit]
    )
    settled = 0
    for pk in ids:
        try:
            settled += bool(twilio_voicemail_fetch(voicemail_id=pk, now=now))
        except FetchLater:
            continue  # logged; the next run tries again
    return settled
