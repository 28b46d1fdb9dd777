"""Console commands: each answered with ack or error carrying its id."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from contactcenter import publish
from contactcenter.enums import AgentState
from contactcenter.models import AuditEntry, Call, CallDisposition
from crm.enums import NotificationKind
from crm.services import notification_create
from tests.crm.factories import make_case
from tests.factories import make_call
from tests.realtime.fakebridge import FakeBridge, connect_pbx, refusal
from tests.realtime.script import CallScript, apply
from tests.realtime.support import open_agent, session_cookie, sync

pytestmark = pytest.mark.django_db(transaction=True)


async def live_call(desk: Any, connection: str) -> tuple[CallScript, int]:
    """A call the desk's agent is talking on, reported by ``connection``."""
    call = CallScript()
    await apply(
        desk.org,
        call.started(),
        call.queued(),
        call.answered(desk.agent.interface),
        connection=connection,
    )
    pk = await sync(lambda: Call.objects.get(external_id=call.key).pk)()
    return call, pk


async def test_set_state_without_a_pbx(desk: Any) -> None:
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    ack = await socket.command("agent.set_state", {"state": "paused", "reason": "lunch"})
    assert ack["type"] == "ack"
    assert ack["data"]["id"] == "c1"
    assert ack["data"]["result"]["agent"]["state"] == AgentState.PAUSED
    assert ack["data"]["result"]["pbx"] is None  # no PBX connection to tell
    state = await socket.until(lambda f: f["type"] == "agent.state")
    assert state["data"]["agent"]["state_reason"] == "lunch"
    for state_name in ("wrap_up", "offline", "available"):
        ack = await socket.command("agent.set_state", {"state": state_name}, id_=state_name)
        assert ack["data"]["result"]["agent"]["state"] == state_name
    await socket.close()


async def test_set_state_refusals(desk: Any) -> None:
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    error = await socket.command("agent.set_state", {"state": "paused"})
    assert error["type"] == "error"
    assert error["data"] == {
        "id": "c1",
        "code": "invalid",
        "message": "A pause needs a reason.",
        "details": {"field": "reason"},
    }
    error = await socket.command("agent.set_state", {"state": "on_call"}, id_="c2")
    assert error["data"]["code"] == "invalid"
    assert error["data"]["details"]["errors"][0]["field"] == "state"
    await socket.close()


async def test_set_state_pauses_in_the_pbx(desk: Any) -> None:
    key = await connect_pbx(desk.org)
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    async with FakeBridge(desk.org.pk, key) as bridge:
        ack = await socket.command("agent.set_state", {"state": "paused", "reason": "lunch"})
        assert ack["data"]["result"]["pbx"] == {"ok": True, "error": "", "message": "Success"}
        ack = await socket.command("agent.set_state", {"state": "available"}, id_="c2")
        assert ack["data"]["result"]["pbx"]["ok"] is True
    interface = desk.agent.interface
    assert bridge.received == [
        ("queue_pause", {"agent": interface, "paused": True, "reason": "lunch"}),
        ("queue_pause", {"agent": interface, "paused": False, "reason": ""}),
    ]
    await socket.close()


async def test_set_state_reports_a_silent_pbx(desk: Any, settings: Any) -> None:
    settings.REALTIME_PBX_TIMEOUT_SECONDS = 0.2
    await connect_pbx(desk.org)
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    ack = await socket.command("agent.set_state", {"state": "available"})
    # The state is set; the ack says the PBX did not confirm the unpause.
    assert ack["data"]["result"]["agent"]["state"] == "available"
    assert ack["data"]["result"]["pbx"]["ok"] is False
    assert ack["data"]["result"]["pbx"]["error"] == "timeout"
    await socket.close()


async def test_click_to_call(desk: Any) -> None:
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    error = await socket.command("call.originate", {"number": "+15557654321"})
    assert error["data"]["code"] == "no_pbx"
    key = await connect_pbx(desk.org)
    async with FakeBridge(desk.org.pk, key) as bridge:
        ack = await socket.command("call.originate", {"number": "+15557654321"}, id_="c2")
        assert ack["data"]["result"]["call_key"] == "1741950123.42"
    assert bridge.received == [
        ("originate", {"agent": desk.agent.interface, "number": "+15557654321"})
    ]
    async with FakeBridge(desk.org.pk, key, refusal):
        error = await socket.command("call.originate", {"number": "100"}, id_="c3")
    assert error["data"]["code"] == "pbx_failed"
    assert error["data"]["details"]["pbx"]["error"] == "refused"
    error = await socket.command("call.originate", {"number": "1; Hangup"}, id_="c4")
    assert error["data"]["code"] == "invalid"
    await socket.close()


async def test_hang_up_and_transfer(desk: Any) -> None:
    key = await connect_pbx(desk.org)
    call, pk = await live_call(desk, key)
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    async with FakeBridge(desk.org.pk, key) as bridge:
        assert (await socket.command("call.hangup", {"call_id": pk}))["type"] == "ack"
        blind = {"call_id": pk, "target": "1002", "kind": "blind"}
        assert (await socket.command("call.transfer", blind, id_="c2"))["type"] == "ack"
        attended = {**blind, "kind": "attended"}
        assert (await socket.command("call.transfer", attended, id_="c3"))["type"] == "ack"
    me = desk.agent.interface
    assert bridge.received == [
        ("hangup", {"call": call.key, "agent": me}),
        ("blind_transfer", {"call": call.key, "agent": me, "target": "1002"}),
        ("attended_transfer", {"call": call.key, "agent": me, "target": "1002"}),
    ]
    await socket.close()
    # Who asked the PBX is in the audit trail (what the PBX then did is the PBX's).
    asked = await sync(
        lambda: list(
            AuditEntry.objects.filter(object_id=str(pk), action__startswith="pbx.")
            .order_by("id")
            .values_list("action", "actor_user_id", "details")
        )
    )()
    user = desk.agent_member.user.pk
    assert [(action, who) for action, who, _ in asked] == [
        ("pbx.hangup", user),
        ("pbx.blind_transfer", user),
        ("pbx.attended_transfer", user),
    ]
    assert asked[1][2] == {"agent": desk.agent.pk, "target": "1002", "ok": True}


async def test_call_commands_refused(desk: Any, floor_b: Any) -> None:
    key = await connect_pbx(desk.org)
    _, pk = await live_call(desk, key)
    foreign = await sync(make_call)(floor_b.org, agent=floor_b.agent)
    colleagues = await sync(make_call)(desk.org, agent=desk.other_agent)
    twilio = await sync(make_call)(desk.org, agent=desk.agent)
    await sync(Call.objects.filter(pk=twilio.pk).update)(connection_key="twilio:AC1")
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    for call_id in (foreign.pk, colleagues.pk, 999999):
        error = await socket.command("call.hangup", {"call_id": call_id}, id_=str(call_id))
        assert error["data"]["code"] == "not_found", error
        transfer = {"call_id": call_id, "target": "1002", "kind": "blind"}
        error = await socket.command("call.transfer", transfer, id_=f"t{call_id}")
        assert error["data"]["code"] == "not_found", error
        notes = {"call_id": call_id, "notes": "x"}
        error = await socket.command("call.set_notes", notes, id_=f"n{call_id}")
        assert error["data"]["code"] == "not_found", error
    error = await socket.command("call.hangup", {"call_id": twilio.pk}, id_="tw")
    assert error["data"]["code"] == "no_pbx"
    async with FakeBridge(desk.org.pk, key, refusal):
        error = await socket.command("call.hangup", {"call_id": pk}, id_="refused")
    assert error["data"]["code"] == "pbx_failed"
    await socket.close()


async def test_disposition_and_notes(desk: Any, floor_b: Any) -> None:
    @sync
    def prepare() -> tuple[int, int]:
        sale = CallDisposition.objects.create(organization=desk.org, name="Sale", code="sale")
        foreign = CallDisposition.objects.create(organization=floor_b.org, name="X", code="x")
        return sale.pk, foreign.pk

    sale, foreign = await prepare()
    socket, _ = await open_agent(await session_cookie(desk.agent_member.user))
    call = CallScript()
    me = desk.agent.interface
    await apply(desk.org, call.started(), call.queued(), call.answered(me))
    pk = (await socket.until(lambda f: f["type"] == "call.answered"))["data"]["call"]["id"]

    ack = await socket.command("call.set_notes", {"call_id": pk, "notes": "wants a refund"})
    assert ack["data"]["result"]["call"]["notes"] == "wants a refund"
    updated = await socket.until(lambda f: f["type"] == "call.updated")
    assert updated["data"]["call"]["notes"] == "wants a refund"

    await apply(desk.org, call.completed(me), call.ended())
    await socket.until(lambda f: f["type"] == "call.ended")
    error = await socket.command(
        "call.set_disposition", {"call_id": pk, "disposition_id": foreign}, id_="c2"
    )
    assert error["data"]["code"] == "not_found"
    assert error["data"]["details"] == {"field": "disposition_id"}
    ack = await socket.command(
        "call.set_disposition", {"call_id": pk, "disposition_id": sale}, id_="c3"
    )
    assert ack["data"]["result"]["call"]["disposition_id"] == sale
    # Disposed of, the finished call leaves the wrap-up screen.
    removed = await socket.until(lambda f: f["type"] == "call.removed")
    assert removed["data"] == {"call_id": pk}
    await socket.close()


async def test_notifications_and_cases(desk: Any, floor_b: Any) -> None:
    @sync
    def notify_agent() -> int:
        with transaction.atomic():
            notification = notification_create(
                organization_id=desk.org.pk,
                user_id=desk.agent_member.user_id,
                kind=NotificationKind.SYSTEM,
                title="Hello",
            )
            # crm's service does not publish yet; it will call this (see the report).
            publish.notification_created(notification_id=notification.pk)
        return int(notification.pk)

    @sync
    def open_case() -> int:
        with transaction.atomic():
            case = make_case(desk.org, "Callback", assigned_agent=desk.agent)
            publish.case_created(case_id=case.pk)
        return int(case.pk)

    cookie = await session_cookie(desk.agent_member.user)
    socket, _ = await open_agent(cookie)
    other_tab, _ = await open_agent(cookie)
    pk = await notify_agent()
    created = await socket.until(lambda f: f["type"] == "notification.created")
    assert created["data"]["notification"]["id"] == pk
    assert created["data"]["notification"]["read_at"] is None

    case_pk = await open_case()
    case = await socket.until(lambda f: f["type"] == "case.created")
    assert case["data"]["case"]["id"] == case_pk
    assert case["data"]["case"]["reference"].startswith("CASE-")

    ack = await socket.command("notification.mark_read", {"notification_id": pk})
    assert ack["data"]["result"]["notification"]["read_at"] is not None
    read = await other_tab.until(lambda f: f["type"] == "notification.read")
    assert read["data"]["notification_id"] == pk

    foreign = await sync(
        lambda: (
            notification_create(
                organization_id=floor_b.org.pk,
                user_id=floor_b.agent_member.user_id,
                kind=NotificationKind.SYSTEM,
                title="Not yours",
            ).pk
        )
    )()
    error = await socket.command("notification.mark_read", {"notification_id": foreign}, "c2")
    assert error["data"]["code"] == "not_found"
    await socket.close()
    await other_tab.close()
