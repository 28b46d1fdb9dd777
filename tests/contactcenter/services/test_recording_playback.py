"""contactcenter.services.recording_playback: each link asked for is a new one, so two
players of one recording in a page are two fetches, each audited."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contactcenter.models import Recording
from contactcenter.services.recording_playback import recording_media_grant, recording_media_token
from tests.conftest import Floor
from tests.factories import make_call

pytestmark = pytest.mark.django_db


def test_two_links_in_the_same_second_differ_and_both_grant_the_same(floor_a: Floor) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    rec = Recording.objects.create(organization=floor_a.org, call=call, started_at=timezone.now())
    first = recording_media_token(recording=rec, user_id=7)
    second = recording_media_token(recording=rec, user_id=7)
    assert first != second
    grants = [recording_media_grant(token=t) for t in (first, second)]
    assert all(g is not None and (g.recording_id, g.user_id) == (rec.pk, 7) for g in grants)
    assert recording_media_grant(token=first[:-2] + "xx") is None
