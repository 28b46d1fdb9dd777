from datetime import timedelta

import pytest
from django.utils import timezone

from contactcenter.enums import CallEventType, TransferKind
from contactcenter.models import CallDisposition, CallEvent, CallTransfer
from tests.conftest import Floor, client_for
from tests.factories import make_call

pytestmark = pytest.mark.django_db


def _disposition(floor: Floor, code: str = "resolved", **kw: object) -> CallDisposition:
    return CallDisposition.objects.create(
        organization=floor.org, name=code.title(), code=code, **kw
    )


def test_agent_sees_only_own_and_transferred_calls(floor_a: Floor) -> None:
    own = make_call(floor_a.org, agent=floor_a.agent)
    other = make_call(floor_a.org, agent=floor_a.other_agent)
    transferred = make_call(floor_a.org, agent=floor_a.other_agent)
    CallTransfer.objects.create(
        organization=floor_a.org,
        call=transferred,
        kind=TransferKind.BLIND,
        from_agent=floor_a.other_agent,
        to_agent=floor_a.agent,
        requested_at=transferred.started_at,
        dedup_key="t1",
    )
    client = client_for(floor_a.agent_member)
    ids = {row["id"] for row in client.get("/api/v1/calls/").json()["results"]}
    assert ids == {own.pk, transferred.pk}
    assert client.get(f"/api/v1/calls/{other.pk}/").status_code == 404

    floor_ids = {
        row["id"] for row in client_for(floor_a.supervisor).get("/api/v1/calls/").json()["results"]
    }
    assert floor_ids == {own.pk, other.pk, transferred.pk}


def test_call_detail_nests_events_and_transfers(floor_a: Floor) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    CallEvent.objects.create(
        organization=floor_a.org,
        call=call,
        type=CallEventType.ANSWERED,
        occurred_at=call.started_at,
        dedup_key="e1",
    )
    body = client_for(floor_a.agent_member).get(f"/api/v1/calls/{call.pk}/").json()
    assert [e["type"] for e in body["events"]] == ["call.answered"]
    assert body["transfers"] == []


def test_disposition_and_notes_are_writable_and_logged(floor_a: Floor) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    disposition = _disposition(floor_a)
    client = client_for(floor_a.agent_member)
    resp = client.patch(
        f"/api/v1/calls/{call.pk}/", {"disposition": disposition.pk, "notes": "Reset router"}
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["disposition"] == disposition.pk
    assert body["notes"] == "Reset router"
    assert [e["type"] for e in body["events"]] == ["disposition.set", "notes.updated"]
    # Sending the same again records nothing new.
    client.patch(f"/api/v1/calls/{call.pk}/", {"disposition": disposition.pk})
    assert CallEvent.objects.filter(call=call).count() == 2


def test_other_fields_are_read_only(floor_a: Floor) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    client = client_for(floor_a.supervisor)
    client.patch(f"/api/v1/calls/{call.pk}/", {"status": "abandoned", "talk_seconds": 5})
    call.refresh_from_db()
    assert call.status == "completed"
    assert call.talk_seconds is None


def test_bad_disposition_values_are_field_errors(floor_a: Floor, floor_b: Floor) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    foreign = _disposition(floor_b)
    retired = _disposition(floor_a, "old", is_active=False)
    client = client_for(floor_a.agent_member)
    for value in (foreign.pk, 999999, "abc", retired.pk):
        resp = client.patch(f"/api/v1/calls/{call.pk}/", {"disposition": value})
        assert resp.status_code == 400, (value, resp.content)
        assert resp.json()["errors"][0]["attr"] == "disposition"
    call.refresh_from_db()
    assert call.disposition_id is None


def test_calls_cannot_be_created_or_deleted_over_rest(floor_a: Floor) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    client = client_for(floor_a.admin)
    assert client.post("/api/v1/calls/", {}).status_code == 405
    assert client.delete(f"/api/v1/calls/{call.pk}/").status_code == 405


def test_call_filters(floor_a: Floor) -> None:
    answered = make_call(floor_a.org, agent=floor_a.agent)
    abandoned = make_call(floor_a.org, status="abandoned", caller_number="+15559876543")
    client = client_for(floor_a.supervisor)
    rows = client.get("/api/v1/calls/", {"status": "abandoned"}).json()["results"]
    assert [r["id"] for r in rows] == [abandoned.pk]
    rows = client.get("/api/v1/calls/", {"agent": floor_a.agent.pk}).json()["results"]
    assert [r["id"] for r in rows] == [answered.pk]
    rows = client.get("/api/v1/calls/", {"search": "9876543"}).json()["results"]
    assert [r["id"] for r in rows] == [abandoned.pk]
    resp = client.get("/api/v1/calls/", {"started_after": "not-a-date"})
    assert resp.status_code == 400


def test_time_filters_take_any_iso_offset(floor_a: Floor) -> None:
    # Found by the schema fuzzer: PostgreSQL refuses offsets beyond ±15:59 (a 500).
    call = make_call(floor_a.org)
    client = client_for(floor_a.supervisor)
    resp = client.get("/api/v1/calls/", {"started_after": "0234-05-02T18:47:41.4+16:27"})
    assert resp.status_code == 200, resp.content
    assert [r["id"] for r in resp.json()["results"]] == [call.pk]
    resp = client.get("/api/v1/calls/", {"started_before": "2999-01-01T10:00:00-23:59"})
    assert [r["id"] for r in resp.json()["results"]] == [call.pk]
    resp = client.get("/api/v1/calls/", {"started_after": "0001-01-01T00:10:00+16:27"})
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "started_after"
    resp = client.get("/api/v1/cases/", {"due_at_after": "0234-05-02T18:47:41+16:27"})
    assert resp.status_code == 200, resp.content


def test_the_call_list_pages_by_cursor_newest_first_without_counting(floor_a: Floor) -> None:
    """No page numbers and no total (a COUNT of every call per page): next/previous."""
    now = timezone.now()
    made = [make_call(floor_a.org, started_at=now - timedelta(minutes=i)) for i in range(5)]
    client = client_for(floor_a.supervisor)
    first = client.get("/api/v1/calls/", {"page_size": 2}).json()
    assert "count" not in first and first["previous"] is None
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert third["next"] is None
    seen = [row["id"] for page in (first, second, third) for row in page["results"]]
    assert seen == [call.pk for call in made]  # newest first, each once
    back = client.get(second["previous"]).json()
    assert [row["id"] for row in back["results"]] == seen[:2]


def test_the_recorded_calls_filter(floor_a: Floor, floor_b: Floor) -> None:
    """``has_recording``: the calls that have (or had) a recording, by the flag the
    recording services keep; the agent's own only, and never another organization's."""
    recorded = make_call(floor_a.org, agent=floor_a.agent)
    purged = make_call(floor_a.org, agent=floor_a.agent)
    plain = make_call(floor_a.org, agent=floor_a.agent)
    others = make_call(floor_a.org, agent=floor_a.other_agent)
    theirs = make_call(floor_b.org, agent=floor_b.agent)
    for call, state in [(recorded, "done"), (purged, "purged"), (others, "done"), (theirs, "done")]:
        call.flags = {"recording": state}
        call.save(update_fields=["flags"])

    def ids(member: object, query: str) -> set[int]:
        response = client_for(member).get(f"/api/v1/calls/?{query}")  # type: ignore[arg-type]
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(floor_a.agent_member, "has_recording=true") == {recorded.pk, purged.pk}
    assert ids(floor_a.agent_member, "has_recording=false") == {plain.pk}
    assert ids(floor_a.supervisor, "has_recording=true") == {recorded.pk, purged.pk, others.pk}
