"""The demo shows what the product is for: its callers' screen pops find them, and its
supervisor can listen in on their own phone.

The real demo pieces end to end: ``seed_demo`` (contacts with a past), the demo's
simulated PBX placing its calls over TCP, the AMI bridge storing them, and an agent
console on the real ASGI application receiving the messages with their pops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.models import Q

from contactcenter.models import Call, CallTransfer, Membership, QueueMembership, User
from crm.enums import CaseStatus
from crm.models import Case
from crm.selectors.contacts import contact_lookup_by_phone
from provisioning.demo import SUPERVISOR_EXTENSION, demo_callers
from provisioning.demo_history import HISTORY_PREFIX
from telephony.demo import DemoConfig, DemoPbx, run_demo
from tests.realtime.support import open_agent, open_board, session_cookie, sync
from tests.telephony.amiclient import AmiTestClient

pytestmark = pytest.mark.django_db(transaction=True)

# Calls 30 times faster than life (a call rings, is answered and ends in a few seconds),
# several a second: many calls reach alice in a short run.
SPEED = 30.0
RATE = 2.0
WAIT = 60.0  # an upper bound on the messages awaited, on a loaded machine


@contextlib.asynccontextmanager
async def demo_running(seed: int, speed: float = SPEED) -> AsyncIterator[DemoPbx]:
    config = DemoConfig(speed=speed, calls_per_second=RATE, seed=seed)
    pbx = DemoPbx(config)
    await pbx.start()
    stop = asyncio.Event()
    task = asyncio.create_task(run_demo(config, stop, pbx))
    try:
        yield pbx
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
        # The bridge's database thread keeps a connection; the test database must drop.
        await sync(connections.close_all)()


def popped(message: dict[str, Any]) -> bool:
    return message["type"].startswith("call.") and bool(
        message["data"].get("pop", {}).get("contacts")
    )


async def test_demo_callers_pop_their_contact_with_open_cases_and_last_calls() -> None:
    await sync(call_command)("seed_demo", verbosity=0)
    alice = await sync(User.objects.get)(username="alice")
    console, _ = await open_agent(await session_cookie(alice))
    async with demo_running(seed=7):
        first = await console.until(popped, timeout=WAIT)
        # Then one whose open cases show too (half the contacts have one).
        with_cases = await console.until(
            lambda f: popped(f) and bool(f["data"]["pop"]["open_cases"]), timeout=WAIT
        )
    await console.close()
    for message in (first, with_cases):
        await _check_pop(message["data"], alice)

    @sync
    def floor() -> tuple[set[str], set[str]]:
        live = Call.objects.exclude(external_id__startswith=HISTORY_PREFIX)
        queues = set(live.exclude(queue=None).values_list("queue__pbx_queue_name", flat=True))
        carol = QueueMembership.objects.filter(agent__extension="1003", is_logged_in=True)
        return queues, set(carol.values_list("queue__pbx_queue_name", flat=True))

    queues, carols = await floor()
    # Both queues had callers; carol, the demo PBX's second sales agent, was learned.
    assert queues == {"support", "sales"}
    assert carols == {"support", "sales"}


async def test_the_demo_supervisor_listens_on_their_own_phone() -> None:
    """seed_demo gives the supervisor a phone the demo's PBX knows: listening to a live
    call rings it, it answers, and ChanSpy runs on the agent's channel (no ``no_phone``)."""
    await sync(call_command)("seed_demo", verbosity=0)
    alice = await sync(User.objects.get)(username="alice")
    supervisor = await sync(Membership.objects.select_related("user").get)(
        user__username="supervisor"
    )
    console, _ = await open_agent(await session_cookie(alice))
    # Slower than the pops' test: a call lasts several seconds, long enough to listen in.
    async with demo_running(seed=7, speed=2.0) as pbx:
        watcher = await AmiTestClient.connect(pbx.simulator.port)
        await watcher.login(pbx.config.username, pbx.config.secret)
        answered = await console.until(lambda f: f["type"] == "call.answered", timeout=WAIT)
        board, _ = await open_board(supervisor)
        call_id = answered["data"]["call"]["id"]
        ack = await board.command("call.monitor", {"call_id": call_id, "mode": "listen"})
        assert ack["type"] == "ack", ack
        started = await watcher.wait_for(lambda m: m.event == "ChanSpyStart", timeout=WAIT)
        await board.close()
        await watcher.close()
    await console.close()
    assert (started.get("SpyerChannel") or "").startswith(f"PJSIP/{SUPERVISOR_EXTENSION}-")
    assert (started.get("SpyeeChannel") or "").startswith("PJSIP/1001-")


async def _check_pop(entry: dict[str, Any], alice: User) -> None:
    pop = entry["pop"]
    number = pop["number"]
    assert number == entry["call"]["caller_number"]
    assert number in {n for n, _ in demo_callers()}

    @sync
    def expected() -> tuple[list[int], set[int], set[int], set[int]]:
        org = alice.membership.organization
        agent = alice.agent
        contacts = [c.pk for c in contact_lookup_by_phone(organization=org, phone=number)]
        # An agent sees the unassigned cases and their own (crm's rule).
        cases = Case.objects.filter(
            contact_id__in=contacts, status__in=[CaseStatus.OPEN, CaseStatus.PENDING]
        ).filter(Q(assigned_agent=None) | Q(assigned_agent=agent))
        # ... and the calls they took or that were transferred to or from them.
        moved = CallTransfer.objects.filter(Q(from_agent=agent) | Q(to_agent=agent))
        theirs = Call.objects.filter(caller_number=number).filter(
            Q(agent=agent) | Q(pk__in=moved.values("call_id"))
        )
        past = theirs.filter(external_id__startswith=HISTORY_PREFIX)
        return (
            contacts,
            set(cases.values_list("pk", flat=True)),
            set(theirs.values_list("pk", flat=True)),
            set(past.values_list("pk", flat=True)),
        )

    contacts, cases, theirs, past = await expected()
    assert [c["id"] for c in pop["contacts"]] == contacts
    assert {c["id"] for c in pop["open_cases"]} == cases
    last = {c["id"] for c in pop["last_calls"]}
    assert last <= theirs - {entry["call"]["id"]}
    # The seeded past shows: the pop is never empty where alice has history.
    assert bool(last) or not past
