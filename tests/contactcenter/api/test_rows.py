"""The call list's rows read by values() give exactly what CallSerializer gives."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework import serializers

from contactcenter.api.calls import CALL_ROWS, CallSerializer
from contactcenter.api.rows import ValuesRepresentation
from contactcenter.enums import CallStatus, HangupParty
from contactcenter.models import Call, CallDisposition, CallQueue
from crm.models import Contact
from tests.conftest import Floor, client_for
from tests.factories import make_call

pytestmark = pytest.mark.django_db


def _calls(floor: Floor) -> list[Call]:
    """A call with every field set, one with every nullable field null, one ringing."""
    queue = CallQueue.objects.create(organization=floor.org, name="Sales", pbx_queue_name="sales")
    disposition = CallDisposition.objects.create(
        organization=floor.org, name="Resolved", code="resolved"
    )
    contact = Contact.objects.create(organization=floor.org, first_name="Ada")
    full = make_call(floor.org, agent=floor.agent, queue=queue)
    at = full.started_at.replace(microsecond=0)  # isoformat without microseconds too
    Call.objects.filter(pk=full.pk).update(
        contact=contact,
        caller_name="Ada \u00e9\u4e2d",
        started_at=at,
        queued_at=at,
        answered_at=at + timedelta(seconds=12, microseconds=5),
        ended_at=at + timedelta(seconds=300),
        wait_seconds=12,
        talk_seconds=288,
        hold_seconds=7,
        hangup_cause=16,
        hangup_cause_text="Normal Clearing",
        hangup_by=HangupParty.CALLER,
        disposition=disposition,
        disposition_set_at=at + timedelta(seconds=301),
        notes="line one\nline two",
        recording_ref="rec/1.wav",
        flags={"recording": True, "nested": {"a": [1, 2.5, None]}},
    )
    bare = make_call(floor.org, status=CallStatus.ABANDONED)
    ringing = make_call(floor.org, agent=floor.other_agent, status=CallStatus.RINGING)
    return [full, bare, ringing]


def _expected(ids: list[int]) -> list[dict[str, Any]]:
    rows = {call.pk: call for call in Call.objects.filter(pk__in=ids)}
    return [dict(CallSerializer(rows[pk]).data) for pk in ids]


def test_the_call_list_is_what_the_serializer_gives(floor_a: Floor) -> None:
    _calls(floor_a)
    body = client_for(floor_a.supervisor).get("/api/v1/calls/").json()
    ids = [row["id"] for row in body["results"]]
    assert len(ids) == 3
    assert body["results"] == _expected(ids)
    assert list(body["results"][0]) == CallSerializer.Meta.fields  # the keys' order too


def test_the_same_in_another_time_zone(floor_a: Floor) -> None:
    calls = _calls(floor_a)
    rows = Call.objects.filter(pk__in=[c.pk for c in calls]).order_by("pk")
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        got = CALL_ROWS.represent(rows.values(*CALL_ROWS.columns))
        want = [dict(CallSerializer(call).data) for call in rows]
    assert got == want
    assert got[0]["started_at"].endswith(("-05:00", "-04:00"))


def test_an_agents_list_and_paging_keep_their_scope(floor_a: Floor, floor_b: Floor) -> None:
    mine = [make_call(floor_a.org, agent=floor_a.agent) for _ in range(3)]
    make_call(floor_a.org, agent=floor_a.other_agent)
    make_call(floor_b.org, agent=floor_b.agent)
    client = client_for(floor_a.agent_member)
    first = client.get("/api/v1/calls/", {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert sorted(ids) == sorted(c.pk for c in mine)
    assert second["next"] is None
    assert first["results"] + second["results"] == _expected(ids)


def test_a_field_it_cannot_stand_in_for_is_refused() -> None:
    class WithMethod(serializers.ModelSerializer[Call]):
        shout = serializers.SerializerMethodField()

        class Meta:
            model = Call
            fields = ["id", "shout"]

        def get_shout(self, call: Call) -> str:
            return call.caller_number.upper()

    class WithPath(serializers.ModelSerializer[Call]):
        queue_name = serializers.CharField(source="queue.name")

        class Meta:
            model = Call
            fields = ["id", "queue_name"]

    with pytest.raises(TypeError, match="shout"):
        _ = ValuesRepresentation(WithMethod).columns
    with pytest.raises(TypeError, match="queue_name"):
        _ = ValuesRepresentation(WithPath).columns


def test_a_page_of_calls_costs_two_queries(floor_a: Floor, django_assert_num_queries: Any) -> None:
    """The user with their membership (the JWT authentication's one read), then the
    page; no filter set is built when no filter is named, and a named one still filters."""
    _calls(floor_a)
    client = client_for(floor_a.supervisor)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/calls/").json()["results"]) == 3
    ringing = client.get("/api/v1/calls/", {"status": CallStatus.RINGING}).json()["results"]
    assert [row["status"] for row in ringing] == [CallStatus.RINGING]
    refused = client.get("/api/v1/calls/", {"started_after": "yesterday"})
    assert refused.status_code == 400


def test_an_agents_page_costs_two_queries_too(
    floor_a: Floor, floor_b: Floor, django_assert_num_queries: Any
) -> None:
    """The agent profile comes with the user (no query of its own); an agent of another
    organization tied to the same user is not taken for this one's."""
    mine = make_call(floor_a.org, agent=floor_a.agent)
    make_call(floor_a.org, agent=floor_a.other_agent)
    client = client_for(floor_a.agent_member)
    with django_assert_num_queries(2):
        rows = client.get("/api/v1/calls/").json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]
    floor_a.agent.organization = floor_b.org
    floor_a.agent.save(update_fields=["organization"])
    assert client.get("/api/v1/calls/").json()["results"] == []


def test_a_member_of_an_inactive_organization_is_still_refused(floor_a: Floor) -> None:
    floor_a.org.is_active = False
    floor_a.org.save(update_fields=["is_active"])
    assert client_for(floor_a.supervisor).get("/api/v1/calls/").status_code == 403
