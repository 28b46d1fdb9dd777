"""Input refused at the edge, per kind: whatever the operation, signed in or not, a body
too large, JSON nested too deep, or text no database column keeps (NUL, a lone
surrogate) gets a 4xx in the API's error shape, never a 500; on the WebSocket, an
``error`` message (the socket stays up) or a documented close code, never a 1011.

Every operation of the OpenAPI schema that takes a body is a candidate; hypothesis
picks the operation, where the bad part sits in an otherwise ordinary body, and how
deep or how large. Over the in-process test client and communicator for speed: the
real socket is tests/realtime/test_real_socket.py.
"""

from __future__ import annotations

import asyncio
import json
import re
from functools import cache
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import RefreshToken

from contactcenter.safejson import MAX_DEPTH
from tests.conftest import Floor, build_floor
from tests.realtime.support import ConnectionClosed, Socket, open_agent, session_cookie

FUZZ = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@cache
def _operations() -> list[tuple[str, str]]:
    """(method, path with ids filled in) of every operation that takes a JSON body."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put", "patch") and "requestBody" in operation:
                found.append((method, re.sub(r"\{[^}]+\}", "0", path)))
    assert ("post", "/api/v1/auth/token/") in found
    return sorted(found)


def _answered(response: Any, caller: str, path: str, status: int) -> None:
    """The body's refusal, unless the request was refused before its body was read (no
    credentials, not allowed, no row 0): nothing reached the database then either. A
    signed-in admin's writes to a collection always read the body."""
    if response.status_code in (401, 403, 404) and (caller == "anonymous" or "/0/" in path):
        return
    _refused(response, status)


@pytest.fixture
def callers(db: None) -> dict[str, Client]:
    floor = build_floor("Org A")
    signed_in = Client(
        HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(floor.admin.user).access_token}"
    )
    return {"anonymous": Client(), "admin": signed_in}


def _send(client: Client, method: str, path: str, body: str | bytes) -> Any:
    return getattr(client, method)(path, body, content_type="application/json")


def _refused(response: Any, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert body["type"] in ("client_error", "validation_error"), body
    assert body["errors"] and {"code", "detail", "attr"} <= set(body["errors"][0]), body


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
bad_text = st.tuples(
    st.text(max_size=5),
    st.sampled_from(["\x00", "\ud800", "\udfff", "\udc80"]),
    st.text(max_size=5),
).map("".join)


def _with_bad_text(value: Any, bad: str, as_key: bool, path: list[int]) -> Any:
    """``value`` with ``bad`` put in (as a key or a value), at a place ``path`` picks."""
    if isinstance(value, dict) and value and path:
        key = sorted(value)[path[0] % len(value)]
        return {**value, key: _with_bad_text(value[key], bad, as_key, path[1:])}
    if isinstance(value, list) and value and path:
        index = path[0] % len(value)
        return [
            *value[:index],
            _with_bad_text(value[index], bad, as_key, path[1:]),
            *value[index + 1 :],
        ]
    return {bad: value} if as_key else {"field": bad, "other": value}


def _dumps(value: Any) -> str:
    # ensure_ascii: a lone surrogate is written as the \ud800 escape a client would send.
    return json.dumps(value, ensure_ascii=True)


@given(data=st.data())
@FUZZ
def test_text_no_column_keeps_is_a_400(callers: dict[str, Client], data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(_operations()))
    caller = data.draw(st.sampled_from(sorted(callers)))
    value = data.draw(json_values)
    bad = data.draw(bad_text)
    body = _with_bad_text(
        value, bad, data.draw(st.booleans()), data.draw(st.lists(st.integers(0, 9)))
    )
    response = _send(callers[caller], method, path, _dumps(body))
    _answered(response, caller, path, 400)


# Bodies each resource accepts (201), so the only fault in a variant is the bad text: a
# NUL in custom_fields was a DataError (500) at save time.
VALID_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/contacts/": {
        "first_name": "Ann",
        "last_name": "Lee",
        "company": "Acme",
        "tags": ["vip", "new"],
        "custom_fields": {"plan": "gold", "notes": {"seen": ["x", "y"]}},
        "phones": [{"number": "+15550001111"}],
    },
    "/api/v1/cases/": {"title": "Broken", "description": "It broke."},
    "/api/v1/case-categories/": {"name": "Billing"},
    "/api/v1/dispositions/": {"name": "Sold", "code": "sold"},
}


@given(data=st.data())
@FUZZ
def test_bad_text_anywhere_in_a_valid_body_is_a_400(
    callers: dict[str, Client], data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(sorted(VALID_BODIES)))
    where = data.draw(st.lists(st.integers(0, 9), min_size=1, max_size=4))
    body = _with_bad_text(VALID_BODIES[path], data.draw(bad_text), data.draw(st.booleans()), where)
    _refused(_send(callers["admin"], "post", path, _dumps(body)), 400)


def test_the_valid_bodies_are_valid(callers: dict[str, Client]) -> None:
    for path, body in VALID_BODIES.items():
        response = _send(callers["admin"], "post", path, _dumps(body))
        assert response.status_code == 201, (path, response.content)


@given(data=st.data())
@FUZZ
def test_json_nested_too_deep_is_a_400(callers: dict[str, Client], data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(_operations()))
    caller = data.draw(st.sampled_from(sorted(callers)))
    depth = data.draw(st.integers(MAX_DEPTH + 1, 100_000))
    opening = data.draw(st.sampled_from(["[", '{"a":', '[{"k":']))
    closing = {"[": "]", '{"a":': "}", '[{"k":': "}]"}[opening]
    body = opening * depth + "1" + closing * depth
    response = _send(callers[caller], method, path, body)
    too_large = len(body) > django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    _answered(response, caller, path, 413 if too_large else 400)


@given(data=st.data())
@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_a_body_over_the_limit_is_a_413(callers: dict[str, Client], data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(_operations()))
    caller = data.draw(st.sampled_from(sorted(callers)))
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = data.draw(st.integers(limit + 1, limit + 1_000_000))
    body = _dumps({"username": "x" * size, "password": "y"})
    response = _send(callers[caller], method, path, body)
    _answered(response, caller, path, 413)


@cache
def _query_parameters() -> list[tuple[str, str]]:
    """(path, query parameter) of every GET without path parameters, and a name no
    operation reads."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, item in schema["paths"].items():
        operation = item.get("get")
        if operation is None or "{" in path:
            continue
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        found += [(path, name) for name in [*names, "unknown"]]
    assert ("/api/v1/calls/export.csv", "ordering") in found
    return sorted(found)


def test_a_nul_in_any_query_parameter_is_never_a_500(callers: dict[str, Client]) -> None:
    """Every parameter of every GET, walked (not sampled): a NUL, which no column
    holds, as a value and as a name. An export once wrote its query to the audit trail
    as it came: a 500."""
    failures = []
    for path, name in _query_parameters():
        for query in ({name: "a\x00b"}, {name + "\x00": "1"}):
            with transaction.atomic():  # a failure cannot spoil the requests after it
                response = callers["admin"].get(path, query)
            if response.status_code >= 500:
                failures.append((path, query, response.status_code))
            elif response.status_code == 400:
                _refused(response, 400)
    assert not failures, failures


# Credentials a client makes up, each looked up in the database as it came: a NUL
# (sent as is, or as the octal escape a quoted cookie value may hold, which Python's
# cookie parser turns into a NUL) was a 500 before any sign-in, on every page.
FORGED_CREDENTIALS = [
    ("HTTP_COOKIE", "sessionid=abcdefgh\x00ijklmnop"),
    ("HTTP_COOKIE", 'sessionid="abcdefgh\\000ijklmnop"'),
    ("HTTP_COOKIE", "sessionid=abcdefgh\u00e9ijklmnop"),
    ("HTTP_AUTHORIZATION", "Api-Key cck_01234567\x00ab.secret"),
    ("HTTP_AUTHORIZATION", "Api-Key cck_\u00e9\u00e9.secret"),
]


@pytest.mark.parametrize(("header", "value"), FORGED_CREDENTIALS)
def test_forged_credentials_with_bad_text_are_unknown_ones(
    callers: dict[str, Client], header: str, value: str
) -> None:
    forged = Client(**{header: value})
    response = forged.get("/api/v1/me/")
    assert response.status_code == 401, response.content
    _refused(response, 401)
    assert forged.get("/console/").status_code == 302  # to the sign-in page
    assert forged.post("/login/", {"username": "x", "password": "y"}).status_code == 200


# -- the WebSocket ------------------------------------------------------------------------


@pytest.fixture
def agent_floor(transactional_db: None, settings: Any) -> Floor:
    settings.REALTIME_RATE_PER_SECOND = 10_000
    settings.REALTIME_RATE_BURST = 10_000
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.REALTIME_PRESENCE_URL = ""
    return build_floor("Org A")


@given(data=st.data())
@FUZZ
def test_a_message_too_deep_or_with_bad_text_gets_bad_json(
    agent_floor: Floor, data: st.DataObject
) -> None:
    messages = []
    for _ in range(data.draw(st.integers(1, 4))):
        if data.draw(st.booleans()):
            depth = data.draw(st.integers(MAX_DEPTH + 1, 30_000))
            messages.append("[" * depth + "]" * data.draw(st.integers(0, depth)))
        else:
            command = {"type": "call.set_notes", "id": "n", "data": {"call_id": 1, "notes": "x"}}
            messages.append(
                _dumps(
                    _with_bad_text(
                        command,
                        data.draw(bad_text),
                        data.draw(st.booleans()),
                        data.draw(st.lists(st.integers(0, 9))),
                    )
                )
            )

    async def session() -> None:
        socket, _ = await open_agent(await session_cookie(agent_floor.agent_member.user))
        for text in messages:
            await socket.send(text)
            answer = await socket.until(lambda f: f["type"] in ("ack", "error"), timeout=10)
            assert answer["type"] == "error" and answer["data"]["code"] == "bad_json", answer
        await socket.send({"type": "ping", "id": "end", "data": {}})
        assert await socket.until(lambda f: f["type"] == "pong")
        await socket.close()

    async_to_sync(asyncio.wait_for)(session(), 60)


@pytest.mark.parametrize(
    "cookie", [value for header, value in FORGED_CREDENTIALS if header == "HTTP_COOKIE"]
)
def test_a_forged_session_cookie_closes_the_socket_4401(agent_floor: Floor, cookie: str) -> None:
    async def session() -> None:
        socket = Socket("/ws/agent/", cookie=cookie.encode())
        assert await socket.open() == (False, 4401)

    async_to_sync(asyncio.wait_for)(session(), 30)


@given(queue=st.text(max_size=24))
@example(queue="²")  # passes str.isdigit(), int() refuses it: an HTTP 500 at the handshake
@example(queue="١٢")  # Arabic-Indic digits: int() takes them, the id would be 12
@example(queue="9" * 19)  # beyond a bigint
@FUZZ
def test_any_wallboard_queue_parameter_gets_a_documented_answer(
    agent_floor: Floor, queue: str
) -> None:
    from urllib.parse import quote

    async def session() -> None:
        cookie = await session_cookie(agent_floor.supervisor.user)
        socket = Socket(f"/ws/wallboard/?queue={quote(queue, safe='')}", cookie=cookie)
        opened, code = await socket.open()
        if opened:
            assert queue == "" or (queue.isascii() and queue.isdigit()), queue
            await socket.close()
        else:
            assert code in (4400, 4404), (queue, code)

    try:
        async_to_sync(asyncio.wait_for)(session(), 30)
    except ConnectionClosed as exc:  # pragma: no cover - reported with its code
        raise AssertionError(f"?queue={queue!r} closed with {exc.code}") from exc
