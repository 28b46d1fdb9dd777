"""contactcenter.services.media_links: each link asked for is a new one, so two players
of one recording in a page are two fetches, each audited; one kind's link is no other's."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contactcenter.models import Recording
from contactcenter.services.media_links import media_grant, media_token
from tests.conftest import Floor
from tests.contactcenter.voicemailed import leave_voicemail, queue_with
from tests.factories import make_call

pytestmark = pytest.mark.django_db


def test_two_links_in_the_same_second_differ_and_both_grant_the_same(floor_a: Floor) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    rec = Recording.objects.create(organization=floor_a.org, call=call, started_at=timezone.now())
    first = media_token(media=rec, user_id=7)
    second = media_token(media=rec, user_id=7)
    assert first != second
    grants = [media_grant(kind="recording", token=t) for t in (first, second)]
    assert all(g is not None and (g.object_id, g.user_id) == (rec.pk, 7) for g in grants)
    assert media_grant(kind="recording", token=first[:-2] + "xx") is None


def test_a_recordings_link_is_no_voicemails_and_the_other_way_round(floor_a: Floor) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    rec = Recording.objects.create(organization=floor_a.org, call=call, started_at=timezone.now())
    vm = leave_voicemail(queue_with(floor_a.org, floor_a.agent))
    recording_token = media_token(media=rec, user_id=None)
    voicemail_token = media_token(media=vm, user_id=None)
    assert media_grant(kind="voicemail", token=recording_token) is None
    assert media_grant(kind="recording", token=voicemail_token) is None
    grant = media_grant(kind="voicemail", token=voicemail_token)
    assert grant is not None
    assert (grant.kind, grant.object_id, grant.organization_id, grant.user_id) == (
        "voicemail",
        vm.pk,
        floor_a.org.pk,
        None,
    )
