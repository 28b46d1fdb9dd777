"""The call list's rows written as JSON by PostgreSQL: the bytes DRF would render."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contactcenter.api import rows
from contactcenter.enums import HangupParty
from contactcenter.models import Call, CallDisposition, CallQueue
from crm.models import Contact
from tests.conftest import Floor, client_for
from tests.factories import make_call

pytestmark = pytest.mark.django_db

AWKWARD = (
    'quote " backslash \\ tab \t nul-ish \x01 del \x7f sep \u2028 \u2029 \u00e9\u4e2d \U0001f600'
)


def _floor_calls(floor: Floor) -> list[Call]:
    queue = CallQueue.objects.create(organization=floor.org, name="Sales", pbx_queue_name="sales")
    disposition = CallDisposition.objects.create(
        organization=floor.org, name="Resolved", code="resolved"
    )
    contact = Contact.objects.create(organization=floor.org, first_name="Ada")
    at = timezone.now().replace(microsecond=0)
    calls = []
    for index in range(12):
        # Ties on started_at (the cursor's offset), with and without microseconds.
        started = at - timedelta(seconds=index // 3, microseconds=(index % 2) * 120000)
        calls.append(make_call(floor.org, agent=floor.agent, queue=queue, started_at=started))
    Call.objects.filter(pk=calls[0].pk).update(
        contact=contact,
        caller_name=AWKWARD,
        answered_at=at + timedelta(seconds=12, microseconds=5),
        ended_at=at + timedelta(seconds=300),
        talk_seconds=288,
        hangup_cause=16,
        hangup_by=HangupParty.CALLER,
        disposition=disposition,
        disposition_set_at=at.replace(year=999),
        notes="line one\nline two\r\n",
    )
    return calls


def _python_path(monkeypatch: pytest.MonkeyPatch, client: Any, url: str, **extra: Any) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(rows, "in_utc", lambda: False)
        return client.get(url, **extra)


@pytest.mark.parametrize("who", ["supervisor", "agent_member"])
def test_the_bytes_are_those_of_the_values_path(
    floor_a: Floor, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    _floor_calls(floor_a)
    client = client_for(getattr(floor_a, who))
    for url in ["/api/v1/calls/", "/api/v1/calls/?page_size=5", "/api/v1/calls/?ordering=-id"]:
        with CaptureQueriesContext(connection) as queries:
            fast = client.get(url)
        assert any("to_char(" in q["sql"] for q in queries)  # written by PostgreSQL
        slow = _python_path(monkeypatch, client, url)
        assert (fast.status_code, slow.status_code) == (200, 200)
        assert fast.content == slow.content
        assert fast["Content-Type"] == slow["Content-Type"] == "application/json"
    assert b"\\u2028" in fast.content and "\u2028".encode() not in fast.content


def test_the_pages_walk_the_same_rows(floor_a: Floor, monkeypatch: pytest.MonkeyPatch) -> None:
    _floor_calls(floor_a)
    client = client_for(floor_a.supervisor)
    for start in ["/api/v1/calls/?page_size=5", "/api/v1/calls/?page_size=4&ordering=started_at"]:
        walked = []
        url: str | None = start
        while url:
            body = client.get(url).json()
            assert body == _python_path(monkeypatch, client, url).json()
            walked += [row["id"] for row in body["results"]]
            url = body["next"]
        assert len(walked) == len(set(walked)) == 12


def test_another_rendering_decodes_the_rows(
    floor_a: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    _floor_calls(floor_a)
    Call.objects.filter(organization=floor_a.org).update(flags={"recording": True, "n": [1, 2.5]})
    client = client_for(floor_a.supervisor)
    indented = client.get("/api/v1/calls/", HTTP_ACCEPT="application/json; indent=2")
    slow = _python_path(
        monkeypatch, client, "/api/v1/calls/", HTTP_ACCEPT="application/json; indent=2"
    )
    assert indented.content == slow.content
    assert b'\n  "next"' in indented.content
    # Compact: a JSON column is PostgreSQL's text of the same value.
    fast = client.get("/api/v1/calls/")
    assert json.loads(fast.content) == json.loads(
        _python_path(monkeypatch, client, "/api/v1/calls/").content
    )


def test_another_time_zone_goes_through_python(floor_a: Floor) -> None:
    _floor_calls(floor_a)
    with CaptureQueriesContext(connection) as queries, timezone.override("America/New_York"):
        body = client_for(floor_a.supervisor).get("/api/v1/calls/").json()
    assert not any("to_char(" in q["sql"] for q in queries)
    assert body["results"][0]["started_at"].endswith(("-05:00", "-04:00"))


def test_another_database_goes_through_python(
    floor_a: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SQL is PostgreSQL's own: SQLite (the embedded default) reads values().
    _floor_calls(floor_a)
    client = client_for(floor_a.supervisor)
    expected = client.get("/api/v1/calls/").content
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/calls/")
    assert not any("to_char(" in q["sql"] for q in queries)
    assert response.content == expected
