"""Queue alerts on the wallboard, through the real path: telephony facts applied, the
commit published, the feed computing the wallboard's figures and judging them, the alert
published to the wallboards (alert.raised), and cleared by itself once the figure has
been back long enough (alert.cleared), with no event needed."""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.models import AuditEntry, CallQueue, QueueAlert
from crm.models import Notification
from tests.factories import make_queue
from tests.realtime.script import CallScript, apply
from tests.realtime.support import Socket, open_agent, open_board, session_cookie, sync

pytestmark = pytest.mark.django_db(transaction=True)


def alert_message(type_: str, kind: str) -> Any:
    def match(message: dict[str, Any]) -> bool:
        return message["type"] == type_ and message["data"]["alert"]["kind"] == kind

    return match


def set_thresholds(queue: CallQueue, **values: int | None) -> None:
    CallQueue.objects.filter(pk=queue.pk).update(**values)


async def test_an_alert_appears_and_clears_by_itself(desk: Any, settings: Any) -> None:
    settings.QUEUE_ALERT_CLEAR_SECONDS = 0.5
    await sync(set_thresholds)(desk.queue, alert_callers_waiting=1)
    board, snapshot = await open_board(desk.supervisor)
    assert snapshot["alerts"] == []

    first, second = CallScript(), CallScript()
    await apply(desk.org, first.started(), first.queued())
    await apply(desk.org, second.started(), second.queued())
    raised = await board.until(alert_message("alert.raised", "callers_waiting"))
    alert = raised["data"]["alert"]
    assert alert["queue_id"] == desk.queue.pk
    assert alert["queue_name"] == "Support"
    assert alert["text"] == "Callers waiting: 2 (above 1)"
    assert (alert["threshold"], alert["value"], alert["cleared_at"]) == (1, 2.0, None)

    # A wallboard opened now shows it in its snapshot.
    late, late_snapshot = await open_board(desk.supervisor)
    assert [a["id"] for a in late_snapshot["alerts"]] == [alert["id"]]
    await late.close()

    # One caller answered: back within the threshold. No further event: the feed looks
    # again when the figure has been good for QUEUE_ALERT_CLEAR_SECONDS.
    await apply(desk.org, first.answered(desk.agent.interface))
    cleared = await board.until(alert_message("alert.cleared", "callers_waiting"))
    assert cleared["data"]["alert"]["id"] == alert["id"]
    assert cleared["data"]["alert"]["cleared_value"] == 1.0
    assert len(board.of_type("alert.raised")) == 1  # raised once, cleared once

    row = await sync(QueueAlert.objects.get)(pk=alert["id"])
    assert row.cleared_at is not None
    actions = await sync(
        lambda: sorted(
            AuditEntry.objects.filter(object_type="contactcenter.queuealert").values_list(
                "action", flat=True
            )
        )
    )()
    assert actions == ["queue_alert.cleared", "queue_alert.raised"]
    await board.close()


async def test_a_growing_wait_raises_its_alert_with_no_event(desk: Any) -> None:
    # The script's caller joined the queue about a minute ago.
    await sync(set_thresholds)(desk.queue, alert_longest_wait_seconds=60)
    board, _ = await open_board(desk.supervisor)
    call = CallScript()
    await apply(desk.org, call.started(), call.queued())
    raised = await board.until(alert_message("alert.raised", "longest_wait"), timeout=8)
    assert raised["data"]["alert"]["value"] > 60
    await board.close()


async def test_supervisors_are_notified_on_their_console(desk: Any) -> None:
    """The supervisor's console (they have an agent profile) gets notification.created;
    the agents' do not."""
    from tests.factories import make_agent

    await sync(make_agent)(desk.org, desk.supervisor)
    await sync(set_thresholds)(desk.queue, alert_agents_available=1)
    supervisor_console, _ = await open_agent(await session_cookie(desk.supervisor.user))
    agent_console, _ = await open_agent(await session_cookie(desk.agent_member.user))
    board, _ = await open_board(desk.supervisor)
    call = CallScript()
    await apply(desk.org, call.started(), call.queued())  # a change: the figures judged
    message = await supervisor_console.until(lambda f: f["type"] == "notification.created")
    notification = message["data"]["notification"]
    assert notification["kind"] == "queue.alert"
    assert notification["title"] == "Support — Agents available: 0 (below 1)"
    await agent_console.drain()
    assert agent_console.of_type("notification.created") == []
    count = await sync(Notification.objects.filter(kind="queue.alert").count)()
    assert count == 2  # the supervisor and the admin
    for socket in (supervisor_console, agent_console, board):
        await socket.close()


async def test_a_queue_wallboard_shows_only_its_queue_alerts(desk: Any) -> None:
    sales = await sync(make_queue)(desk.org, "sales")
    await sync(set_thresholds)(desk.queue, alert_callers_waiting=0)
    sales_board, _ = await open_board(desk.supervisor, f"?queue={sales.pk}")
    floor_board, _ = await open_board(desk.supervisor)
    call = CallScript()
    await apply(desk.org, call.started(), call.queued())
    await floor_board.until(alert_message("alert.raised", "callers_waiting"))
    await sales_board.drain()
    assert sales_board.of_type("alert.raised") == []
    _, snapshot = await open_board(desk.supervisor, f"?queue={sales.pk}")
    assert snapshot["alerts"] == []
    for socket in (sales_board, floor_board):
        await socket.close()


async def test_another_organization_never_sees_the_alert(desk: Any, floor_b: Any) -> None:
    await sync(set_thresholds)(desk.queue, alert_callers_waiting=0)
    other_board, _ = await open_board(floor_b.supervisor)
    board, _ = await open_board(desk.supervisor)
    call = CallScript()
    await apply(desk.org, call.started(), call.queued())
    await board.until(alert_message("alert.raised", "callers_waiting"))
    await other_board.drain()
    assert other_board.of_type("alert.raised") == []
    users = await sync(
        lambda: set(
            Notification.objects.filter(kind="queue.alert").values_list("user_id", flat=True)
        )
    )()
    assert users == {desk.supervisor.user_id, desk.admin.user_id}
    for socket in (other_board, board):
        await socket.close()


async def test_the_supervisor_page_lists_the_organizations_alerts(
    desk: Any, settings: Any, floor_b: Any
) -> None:
    settings.QUEUE_ALERT_CLEAR_SECONDS = 0
    sales = await sync(make_queue)(desk.org, "sales")
    await sync(set_thresholds)(sales, alert_callers_waiting=0)
    cookie = await session_cookie(desk.supervisor.user)
    page = Socket("/ws/supervisor/", cookie=cookie)
    assert (await page.open())[0]
    assert (await page.expect("snapshot"))["data"]["alerts"] == []
    other = Socket("/ws/supervisor/", cookie=await session_cookie(floor_b.supervisor.user))
    assert (await other.open())[0]
    await other.expect("snapshot")
    board, _ = await open_board(desk.supervisor)  # the wallboard's figures are judged

    call = CallScript(queue="sales")
    await apply(desk.org, call.started(), call.queued())
    raised = await page.until(alert_message("alert.raised", "callers_waiting"))
    assert raised["data"]["alert"]["queue_id"] == sales.pk
    again = Socket("/ws/supervisor/", cookie=cookie)
    assert (await again.open())[0]
    alerts = (await again.expect("snapshot"))["data"]["alerts"]
    assert [a["id"] for a in alerts] == [raised["data"]["alert"]["id"]]

    await apply(desk.org, call.abandoned(), call.ended())
    await page.until(alert_message("alert.cleared", "callers_waiting"))
    await other.drain()
    assert not [f for f in other.messages if f["type"].startswith("alert.")]
    for socket in (page, other, again, board):
        await socket.close()
