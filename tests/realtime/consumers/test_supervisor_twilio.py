"""The supervisor page's commands for a floor our routing serves on Twilio (no PBX
bridge: telephony/twilio/managing.py): acknowledged with the routing's answer as the
bridge's are, the effect on the whole floor sent again."""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.enums import AgentState
from contactcenter.models import AuditEntry, QueueMembership
from contactcenter.services.agents import agent_set_state
from tests.factories import make_queue
from tests.realtime.support import Socket, session_cookie, sync
from tests.telephony.twilio.signed import make_account

pytestmark = pytest.mark.django_db(transaction=True)


def _row(data: dict[str, Any], agent_id: int) -> dict[str, Any]:
    return next(a for a in data["agents"] if a["agent"]["id"] == agent_id)


def _routed(desk: Any) -> None:
    make_account(desk.org.pk)
    agent_set_state(agent=desk.agent, state=AgentState.AVAILABLE)


async def test_pause_and_queue_add_on_a_twilio_floor(desk: Any) -> None:
    await sync(_routed)(desk)
    sales = await sync(make_queue)(desk.org, "sales")
    page = Socket("/ws/supervisor/", cookie=await session_cookie(desk.supervisor.user))
    connected, code = await page.open()
    assert connected, code
    await page.expect("snapshot")

    pause = {"agent_id": desk.agent.pk, "paused": True, "reason": "coaching"}
    ack = await page.command("agent.pause", pause)
    assert ack["type"] == "ack", ack
    result = ack["data"]["result"]
    assert result["pbx"]["ok"] is True
    assert (result["agent"]["state"], result["agent"]["state_reason"]) == ("paused", "coaching")
    await page.until(
        lambda f: (
            f["type"] == "floor.update"
            and _row(f["data"], desk.agent.pk)["agent"]["state"] == "paused"
        )
    )

    add = {"agent_id": desk.agent.pk, "queue_id": sales.pk, "penalty": 3}
    ack = await page.command("agent.queue_add", add, id_="c2")
    assert ack["type"] == "ack", ack
    assert ack["data"]["result"]["pbx"]["ok"] is True
    update = await page.until(
        lambda f: f["type"] == "floor.update" and len(_row(f["data"], desk.agent.pk)["queues"]) == 2
    )
    queues = {q["queue_name"]: q for q in _row(update["data"], desk.agent.pk)["queues"]}
    assert queues["Sales"]["penalty"] == 3
    membership = await sync(QueueMembership.objects.get)(agent=desk.agent, queue=sales)
    # The agent's pause is kept on the new membership: still offered nothing.
    assert (membership.penalty, membership.is_logged_in, membership.paused) == (3, True, True)
    actions = await sync(
        lambda: list(
            AuditEntry.objects.filter(action__startswith="pbx.")
            .order_by("pk")
            .values_list("action", "details__ok")
        )
    )()
    assert actions == [("pbx.queue_pause", True), ("pbx.queue_add", True)]
    await page.close()
