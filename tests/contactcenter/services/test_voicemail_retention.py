"""Voicemails past their organization's retention go once dealt with (legal holds kept);
a contact's erasure takes the voicemails of their calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from contactcenter.models import AuditEntry, Voicemail, VoicemailMedia
from contactcenter.services.anonymize import calls_anonymize
from contactcenter.services.recording_files import recordings_storage
from contactcenter.services.voicemail_retention import voicemails_purge_expired
from crm.models import Case
from tests.conftest import Floor
from tests.contactcenter.voicemailed import leave_voicemail, queue_with
from tests.crm.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def store(settings: Any, tmp_path: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }


def _voicemail(floor: Floor, *, days_ago: int, status: str = "done") -> Voicemail:
    vm = leave_voicemail(queue_with(floor.org, floor.agent))
    key = recordings_storage().save(f"{floor.org.pk}/voicemail/{vm.pk}.wav", ContentFile(b"RIFF"))
    claimed = status != "new"
    Voicemail.objects.filter(pk=vm.pk).update(
        left_at=timezone.now() - timedelta(days=days_ago),
        status=status,
        claimed_by=floor.agent if claimed else None,
        done_at=timezone.now() if status == "done" else None,
        storage_key=key,
        media=VoicemailMedia.STORED,
    )
    vm.refresh_from_db()
    return vm


def test_done_voicemails_past_the_retention_go_the_rest_stay(floor_a: Floor) -> None:
    floor_a.org.recording_retention_days = 30
    floor_a.org.save()
    old = _voicemail(floor_a, days_ago=40)
    waiting = _voicemail(floor_a, days_ago=40, status="new")
    recent = _voicemail(floor_a, days_ago=10)
    held = _voicemail(floor_a, days_ago=40)
    case = make_case(floor_a.org, source_call=held.call)
    Case.objects.filter(pk=case.pk).update(legal_hold=True)

    assert voicemails_purge_expired() == 1
    assert set(Voicemail.objects.values_list("pk", flat=True)) == {waiting.pk, recent.pk, held.pk}
    assert not recordings_storage().exists(old.storage_key)
    assert recordings_storage().exists(held.storage_key)
    entry = AuditEntry.objects.get(action="voicemail.purge")
    assert (entry.object_id, entry.details) == (str(old.pk), {"reason": "retention"})


def test_without_retention_days_nothing_goes(floor_a: Floor) -> None:
    _voicemail(floor_a, days_ago=4000)
    assert voicemails_purge_expired() == 0
    assert Voicemail.objects.count() == 1


def test_erasing_a_contacts_calls_takes_their_voicemails(floor_a: Floor) -> None:
    theirs = _voicemail(floor_a, days_ago=1, status="new")
    other = _voicemail(floor_a, days_ago=1, status="new")
    assert theirs.call_id is not None
    calls_anonymize(
        organization_id=floor_a.org.pk, call_ids=[theirs.call_id], identifiers=["+15557654321"]
    )
    assert list(Voicemail.objects.values_list("pk", flat=True)) == [other.pk]
    assert not recordings_storage().exists(theirs.storage_key)
    entry = AuditEntry.objects.get(action="voicemail.purge")
    assert entry.details == {"reason": "erasure"}
