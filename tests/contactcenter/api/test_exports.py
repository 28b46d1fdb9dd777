"""CSV exports of calls and cases: content, time zone, escaping, scoping, streaming."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from drf_spectacular.generators import SchemaGenerator

from contactcenter.api import exports
from contactcenter.enums import CallStatus
from contactcenter.models import AuditEntry, Call, Organization
from tests.conftest import Floor, build_floor, client_for
from tests.crm.factories import make_case, make_contact
from tests.factories import make_call, make_queue

pytestmark = pytest.mark.django_db
CALLS, CASES = "/api/v1/calls/export.csv", "/api/v1/cases/export.csv"
NASTY = ['=HYPERLINK("http://evil","x")', "+15557654321", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def _read(resp: Any) -> list[dict[str, str]]:
    assert resp.status_code == 200, getattr(resp, "content", b"")
    assert resp.streaming
    assert resp["Content-Type"] == "text/csv; charset=utf-8"
    assert resp["Content-Disposition"].startswith("attachment; filename=")
    text = b"".join(resp.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _call(floor: Floor, started: datetime, **fields: Any) -> Call:
    call = make_call(floor.org, started_at=started, **fields)
    return call


def _la(floor: Floor) -> Organization:
    floor.org.time_zone = "America/Los_Angeles"
    floor.org.save()
    return floor.org


def test_calls_csv_has_every_visible_call_in_the_organizations_time_zone(
    floor_a: Floor, floor_b: Floor
) -> None:
    _la(floor_a)
    queue = make_queue(floor_a.org)
    started = datetime(2025, 11, 2, 7, 58, 0, tzinfo=UTC)  # 00:58 PDT, before DST ends
    mine = _call(floor_a, started, agent=floor_a.agent, queue=queue)
    Call.objects.filter(pk=mine.pk).update(
        answered_at=started + timedelta(seconds=30),
        ended_at=started + timedelta(minutes=5),
        wait_seconds=28,
        talk_seconds=270,
        notes='line one\nline two, "quoted"',
    )
    other = _call(floor_a, started + timedelta(hours=1), agent=floor_a.other_agent)
    _call(floor_b, started)  # another organization's: never exported

    rows = _read(client_for(floor_a.supervisor).get(CALLS))
    assert [int(r["id"]) for r in rows] == [other.pk, mine.pk]  # the list's order
    row = rows[1]
    assert row["started_at (America/Los_Angeles)"] == "2025-11-02T00:58:00-07:00"
    assert row["answered_at (America/Los_Angeles)"] == "2025-11-02T00:58:30-07:00"
    assert row["ended_at (America/Los_Angeles)"] == "2025-11-02T01:03:00-07:00"
    assert row["queued_at (America/Los_Angeles)"] == ""
    assert (row["queue"], row["agent_extension"]) == (queue.name, floor_a.agent.extension)
    assert (row["wait_seconds"], row["talk_seconds"]) == ("28", "270")
    assert row["notes"] == 'line one\nline two, "quoted"'  # quoted, not split
    # A caller number starting with "+" is defused like any formula-looking cell.
    assert row["caller_number"] == "'+15557654321"

    # Agents export their own calls only, as the list shows them.
    agent_rows = _read(client_for(floor_a.agent_member).get(CALLS))
    assert [int(r["id"]) for r in agent_rows] == [mine.pk]


def test_calls_csv_applies_the_lists_filters_and_rejects_bad_ones(floor_a: Floor) -> None:
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    done = _call(floor_a, now, status=CallStatus.COMPLETED)
    _call(floor_a, now, status=CallStatus.ABANDONED)
    sup = client_for(floor_a.supervisor)
    rows = _read(sup.get(CALLS + "?status=completed"))
    assert [int(r["id"]) for r in rows] == [done.pk]
    rows = _read(sup.get(CALLS + f"?search={done.external_id}"))
    assert [int(r["id"]) for r in rows] == [done.pk]
    bad = sup.get(CALLS + "?status=nonsense")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "status"
    # A client asking for CSV by Accept gets it too.
    assert _read(sup.get(CALLS, HTTP_ACCEPT="text/csv"))


@pytest.mark.parametrize("path", [CALLS, CASES])
@pytest.mark.parametrize("query", ["ordering=a%00b", "has_recording=%00", "unknown=%00", "a%00=1"])
def test_a_query_with_a_nul_is_a_400_and_no_audit_entry(
    floor_a: Floor, path: str, query: str
) -> None:
    # The export's audit entry keeps its query, and no jsonb holds a NUL: a parameter no
    # filter reads was a 500 (DataError) at the audit write.
    response = client_for(floor_a.admin).get(f"{path}?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "client_error" and body["errors"][0]["code"] == "parse_error", body
    assert not AuditEntry.objects.filter(action="export").exists()


def test_formula_cells_are_defused(floor_a: Floor) -> None:
    for name in NASTY:
        _call(floor_a, datetime(2025, 6, 1, tzinfo=UTC), caller_number="1000")
        Call.objects.filter(caller_number="1000").update(caller_name=name, caller_number="1001")
    make_case(floor_a.org, title="=cmd|' /C calc'!A0", description="@evil")
    calls = _read(client_for(floor_a.supervisor).get(CALLS))
    assert sorted(r["caller_name"] for r in calls) == sorted("'" + n for n in NASTY)
    [case] = _read(client_for(floor_a.supervisor).get(CASES))
    assert case["title"] == "'=cmd|' /C calc'!A0"
    assert case["description"] == "'@evil"


def test_cases_csv_follows_the_case_visibility_rules(floor_a: Floor, floor_b: Floor) -> None:
    _la(floor_a)
    contact = make_contact(floor_a.org, "+15551112222")
    own = make_case(floor_a.org, title="Mine", assigned_agent=floor_a.agent, contact=contact)
    unassigned = make_case(floor_a.org, title="Anyone's")
    theirs = make_case(floor_a.org, title="Not mine", assigned_agent=floor_a.other_agent)
    make_case(floor_b.org, title="Other organization")

    everything = _read(client_for(floor_a.supervisor).get(CASES))
    assert {int(r["id"]) for r in everything} == {own.pk, unassigned.pk, theirs.pk}
    row = next(r for r in everything if int(r["id"]) == own.pk)
    assert row["reference"] == own.reference
    assert row["contact_name"] == contact.display_name
    assert row["assigned_agent_extension"] == floor_a.agent.extension
    zone_column = "created_at (America/Los_Angeles)"
    assert datetime.fromisoformat(row[zone_column]) == own.created_at
    assert row[zone_column].endswith(("-07:00", "-08:00"))

    seen = _read(client_for(floor_a.agent_member).get(CASES))
    assert {int(r["id"]) for r in seen} == {own.pk, unassigned.pk}
    filtered = _read(client_for(floor_a.supervisor).get(CASES + "?unassigned=true"))
    assert [int(r["id"]) for r in filtered] == [unassigned.pk]


def test_rows_are_read_in_batches_and_keep_their_order(floor_a: Floor, monkeypatch: Any) -> None:
    monkeypatch.setattr(exports, "BATCH", 2)
    base = datetime(2025, 6, 1, tzinfo=UTC)
    calls = [_call(floor_a, base + timedelta(minutes=n)) for n in range(5)]
    resp = client_for(floor_a.supervisor).get(CALLS + "?ordering=started_at")
    chunks = list(resp.streaming_content)
    assert len(chunks) == 1 + 3  # the header, then 2 + 2 + 1 rows
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert [int(r["id"]) for r in rows] == [c.pk for c in calls]


def test_who_may_export(floor_a: Floor, api_client: Any) -> None:
    assert api_client.get(CALLS).status_code == 401
    assert api_client.get(CASES).status_code == 401
    for member in (floor_a.admin, floor_a.supervisor, floor_a.agent_member):
        assert client_for(member).get(CALLS).status_code == 200
        assert client_for(member).get(CASES).status_code == 200


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_csv_is_streamed_chunk_by_chunk() -> None:
    floor = await sync_to_async(build_floor)("Async org")
    base = datetime(2025, 6, 1, tzinfo=UTC)
    for n in range(3):
        await sync_to_async(_call)(floor, base + timedelta(minutes=n))
    token = await sync_to_async(lambda: client_for(floor.supervisor)._credentials)()
    client = AsyncClient()
    resp = await client.get(CALLS, headers={"Authorization": token["HTTP_AUTHORIZATION"]})
    assert resp.status_code == 200
    assert resp.is_async  # an async iterator: Django does not buffer it whole
    body = b"".join([chunk async for chunk in resp.streaming_content])
    rows = list(csv.DictReader(io.StringIO(body.decode(), newline="")))
    assert len(rows) == 3


def test_exports_are_in_the_openapi_schema_with_the_lists_filters() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    calls = schema["paths"][CALLS]["get"]
    assert set(calls["responses"]["200"]["content"]) == {"text/csv"}
    assert {"status", "queue", "started_after", "search", "ordering"} <= {
        p["name"] for p in calls["parameters"]
    }
    cases = schema["paths"][CASES]["get"]
    assert {"status", "assigned_agent", "unassigned"} <= {p["name"] for p in cases["parameters"]}
