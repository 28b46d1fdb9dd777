"""The agent console's WebSocket fuzzed: whatever text a client sends, it gets one
documented answer, the socket stays up, and nothing of another organization shows.

Messages mix arbitrary text, arbitrary JSON, and well-formed commands with random
data, aimed at the ids of another organization's call and notification as well as the
agent's own.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contactcenter.models import Call
from crm.services.notifications import notification_create
from realtime.commands import HANDLERS
from tests.conftest import Floor, build_floor
from tests.factories import make_call
from tests.realtime.support import open_agent, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

MARKER = "zq-org-b-private-zq"
ERROR_CODES = {"bad_json", "invalid", "unknown_type", "busy", "not_found", "no_pbx", "pbx_failed"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def _commands(ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    """Commands with the right field names, values now right, now wrong."""
    some_id = st.sampled_from(ids) | json_values
    text = st.text(max_size=40)
    fields: dict[str, dict[str, st.SearchStrategy[Any]]] = {
        "agent.set_state": {
            "state": st.sampled_from(["available", "paused", "wrap_up", "offline", "on_call"])
            | json_values,
            "reason": text,
        },
        "call.originate": {"number": st.sampled_from(["+15551234567", "1002", "*97"]) | text},
        "call.hangup": {"call_id": some_id},
        "call.transfer": {
            "call_id": some_id,
            "target": st.sampled_from(["1002", "+15551234567"]) | text,
            "kind": st.sampled_from(["blind", "attended", "warm"]),
        },
        "call.set_disposition": {"call_id": some_id, "disposition_id": some_id},
        "call.set_notes": {"call_id": some_id, "notes": text},
        "call.recording_pause": {"call_id": some_id, "paused": st.booleans() | json_values},
        "call.recording_start": {"call_id": some_id},
        "notification.mark_read": {"notification_id": some_id},
        "ping": {},
    }
    assert set(fields) - {"ping"} == set(HANDLERS)  # a new command gets fuzzed too
    ids_ = st.text(min_size=1, max_size=64) | st.text(min_size=65, max_size=70) | st.integers()
    return st.sampled_from(sorted(fields)).flatmap(
        lambda kind: st.fixed_dictionaries(
            {
                "type": st.just(kind),
                "id": ids_,
                "data": st.fixed_dictionaries({}, optional=fields[kind]),
            }
        )
    )


def _messages(ids: list[int]) -> st.SearchStrategy[str]:
    # min_size=1: the test communicator cannot send an empty text message.
    return st.one_of(
        st.text(min_size=1, max_size=200),
        json_values.map(json.dumps),
        _commands(ids).map(json.dumps),
    )


@pytest.fixture
def floors(settings: Any) -> tuple[Floor, list[int]]:
    settings.REALTIME_RATE_PER_SECOND = 10_000
    settings.REALTIME_RATE_BURST = 10_000
    a, b = build_floor("Org A"), build_floor("Org B")
    theirs = make_call(b.org, agent=b.agent)
    Call.objects.filter(pk=theirs.pk).update(caller_name=MARKER, notes=MARKER)
    note = notification_create(
        organization_id=b.org.pk, user_id=b.agent_member.user_id, kind="system", title=MARKER
    )
    mine = make_call(a.org, agent=a.agent)
    return a, [theirs.pk, note.pk, mine.pk, 0, -1]


def _answers(message: dict[str, Any]) -> bool:
    return message["type"] in ("ack", "error", "pong")


@given(data=st.data())
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_any_message_gets_one_documented_answer(
    floors: tuple[Floor, list[int]], data: st.DataObject
) -> None:
    floor, ids = floors
    messages = data.draw(st.lists(_messages(ids), min_size=1, max_size=12))
    kinds: list[str] = []

    async def session() -> None:
        socket, snapshot = await open_agent(await session_cookie(floor.agent_member.user))
        assert MARKER not in json.dumps(snapshot)
        for text in messages:
            before = len(socket.messages)
            await socket.send(text)
            answer = await socket.until(_answers, timeout=10)
            if answer["type"] == "error":
                assert answer["data"]["code"] in ERROR_CODES, answer
            kinds.append(answer["data"]["code"] if answer["type"] == "error" else answer["type"])
            for message in socket.messages[before:]:
                assert MARKER not in json.dumps(message), message
        # Still serving after all of it, and one answer per message, no more.
        await socket.send({"type": "ping", "id": "end", "data": {}})
        pong = await socket.until(lambda f: f["type"] == "pong" and f["data"]["id"] == "end")
        assert pong
        assert len([f for f in socket.messages if _answers(f)]) == len(messages) + 1
        await socket.close()

    async_to_sync(asyncio.wait_for)(session(), 60)
    for kind in set(kinds):
        event(kind)  # --hypothesis-show-statistics: which answers the run reached
