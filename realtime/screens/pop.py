"""The screen pop: the CRM record of the customer on a call, as far as the agent may see.

The contact is matched by the customer's number (the caller's, or the callee's on an
outbound call) as crm's ``contact_lookup_by_phone`` does it, batched; open cases follow
crm's visibility rule (``case_visibility_q``); last calls follow the REST API's (an
agent: their own and those transferred to or from them; the floor: all). A pop is
rendered with every message of its call, and calls of the same customer are sent again
when one of them changes (realtime.publish); edits made in the CRM itself (a
contact renamed, a case closed) reach the screen with the call's next message or the
next snapshot. The reads are selectors (contactcenter.selectors.screen_calls,
crm.selectors.pop); this module batches them and builds the pops.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from config.db import roundtrips
from contactcenter.models import Agent, Call, Membership
from contactcenter.phones import phone_try_normalize
from contactcenter.selectors.access import is_floor_role
from contactcenter.selectors.screen_calls import (
    agent_history_reads,
    customer_number,
    last_calls_by_customer,
)
from crm.models import Case, Contact
from crm.selectors.pop import contacts_reads, open_cases_of_contacts
from realtime import messages as msgs
from realtime.screens import render

POP_CONTACTS = 5
POP_CASES = 10
POP_CALLS = 5


class PopBuilder:
    """The screen pops of one batch of calls.

    Per batch, in one round trip: the contacts of all its customers and their phones,
    and which of its agents took or moved calls of which of its customers; per agent
    with such history: one query for the open cases and one for the last calls of all
    of them; never one per call (the publisher renders pops after each batch). A caller
    with reads of its own asks the first two with them: ``contact_reads`` and
    ``history_reads``, whose rows it hands back (``take_contacts``, ``take_history``).
    """

    def __init__(self, calls: Sequence[Call], agents: Sequence[Agent] = ()) -> None:
        self.calls = calls
        self._contacts: dict[tuple[int, str], list[Contact]] | None = None
        self._phones: dict[int, list[str]] = defaultdict(list)
        self._cases: dict[int, dict[int, list[Case]]] = {}
        self._history: dict[int, dict[str, list[Call]]] = {}
        # The agents whose history with the customers is read (set before it is).
        self.agent_ids = {agent.pk for agent in agents}
        # (agent id, customer number as stored) -> ids of calls that put them together
        self._history_pairs: dict[tuple[int, str], set[int]] | None = None
        # The customers' numbers in E.164, by organization (what contacts are found by).
        self._wanted: dict[int, set[str]] = defaultdict(set)
        for call in calls:
            key = e164(call)
            if key:
                self._wanted[call.organization_id].add(key)

    def contacts(self, call: Call) -> list[Contact]:
        """The contacts with the call's customer number (crm's rule: the number in E.164
        against the contacts' phones), looked up for the whole batch at once."""
        contacts = self._contacts if self._contacts is not None else self._load()[0]
        key = e164(call)
        return contacts.get((call.organization_id, key), []) if key else []

    def _load(
        self,
    ) -> tuple[dict[tuple[int, str], list[Contact]], dict[tuple[int, str], set[int]]]:
        """What was not handed over yet, in one round trip."""
        contact_reads = self.contact_reads() if self._contacts is None else []
        history_reads = self.history_reads() if self._history_pairs is None else []
        rows = roundtrips.read_together(*contact_reads, *history_reads)
        if self._contacts is None:
            self.take_contacts(rows[: len(contact_reads)])
        if self._history_pairs is None:
            self.take_history(rows[len(contact_reads) :])
        assert self._contacts is not None and self._history_pairs is not None
        return self._contacts, self._history_pairs

    def contact_reads(self) -> list[roundtrips.Read]:
        """The batch's contacts and their phones: two reads per organization."""
        return [
            read for org, numbers in self._wanted.items() for read in contacts_reads(org, numbers)
        ]

    def take_contacts(self, rows: list[list[Any]]) -> None:
        """The rows of ``contact_reads``, in order."""
        self._contacts = {}
        for (organization_id, numbers), at in zip(
            self._wanted.items(), range(0, len(rows), 2), strict=True
        ):
            contacts, phones = rows[at], rows[at + 1]
            for contact_id, number in phones:
                self._phones[contact_id].append(number)
            for contact in contacts:  # in the model's order, as contact_lookup_by_phone
                for number in self._phones[contact.pk]:
                    if number in numbers:
                        found = self._contacts.setdefault((organization_id, number), [])
                        if len(found) < POP_CONTACTS:
                            found.append(contact)

    def pop(self, call: Call, agent: Agent, membership: Membership | None) -> msgs.ScreenPop:
        number = customer_number(call)
        contacts = self.contacts(call)
        cases: list[Case] = []
        last: list[Call] = []
        if membership is not None:
            by_contact = self._open_cases(agent, membership)
            cases = sorted(
                (case for contact in contacts for case in by_contact.get(contact.pk, [])),
                key=lambda case: (case.created_at, case.pk),
                reverse=True,
            )[:POP_CASES]
            history = (
                self._last_calls(agent, membership)
                if self._may_have_history(agent, membership, call)
                else {}
            )
            last = sorted(
                {
                    c
                    for n in customer_numbers([call])
                    for c in history.get(n, [])
                    if c.pk != call.pk
                },
                key=lambda c: (c.started_at, c.pk),
                reverse=True,
            )[:POP_CALLS]
        return msgs.ScreenPop(
            number=number,
            contacts=[render.contact_view(c, self._phones[c.pk]) for c in contacts],
            open_cases=[render.case_view(c) for c in cases],
            last_calls=[render.call_summary(c) for c in last],
        )

    def _open_cases(self, agent: Agent, membership: Membership) -> dict[int, list[Case]]:
        """Open cases of the batch's contacts that this member may see, by contact."""
        if agent.pk not in self._cases:
            contact_ids = {contact.pk for call in self.calls for contact in self.contacts(call)}
            by_contact: dict[int, list[Case]] = defaultdict(list)
            if contact_ids:
                cases = open_cases_of_contacts(
                    agent=agent, membership=membership, contact_ids=contact_ids
                )
                for case in cases:
                    assert case.contact_id is not None
                    by_contact[case.contact_id].append(case)
            self._cases[agent.pk] = by_contact
        return self._cases[agent.pk]

    def _last_calls(self, agent: Agent, membership: Membership) -> dict[str, list[Call]]:
        """The batch's customers' calls this member may see (as over REST: an agent their
        own and the ones transferred to or from them; the floor all), by number as
        stored: the latest few per number, ranked in one query."""
        if agent.pk not in self._history:
            numbers = customer_numbers(self.calls)
            by_number: dict[str, list[Call]] = defaultdict(list)
            if numbers:
                ranked = last_calls_by_customer(
                    agent=agent,
                    membership=membership,
                    numbers=numbers,
                    limit=POP_CALLS + 1,  # one more: the call itself is left out
                )
                for number, row in ranked:
                    by_number[number].append(row)
            self._history[agent.pk] = by_number
        return self._history[agent.pk]

    def _may_have_history(self, agent: Agent, membership: Membership, call: Call) -> bool:
        """Whether ``agent`` took (or was transferred) any call of ``call``'s customer
        other than ``call`` itself (which a pop never lists).

        Answered for all the batch's agents and customers at once: a queue rings many
        agents at once, and those with no history with the caller (most of them, and
        the one taking a first-time caller's call) then cost no query of their own.
        The floor sees every call: always asks.
        """
        if is_floor_role(membership.role) or agent.pk not in self.agent_ids:
            return True
        pairs = self._history_pairs if self._history_pairs is not None else self._load()[1]
        return any(pairs.get((agent.pk, n), set()) - {call.pk} for n in customer_numbers([call]))

    def history_reads(self) -> list[roundtrips.Read]:
        """Per agent and customer: how many calls the agent took, and the newest one's
        id (with one call only, whether it is the call being popped); and the transfers
        from or to the agent of the customers' calls."""
        numbers = customer_numbers(self.calls)
        if not numbers or not self.agent_ids:
            return []
        organizations = list({c.organization_id for c in self.calls})
        return agent_history_reads(organizations, list(numbers), list(self.agent_ids))

    def take_history(self, rows: list[list[Any]]) -> None:
        """The rows of ``history_reads``, in order."""
        self._history_pairs = defaultdict(set)
        if not rows:
            return
        took, moved = rows
        for agent_id, number, calls, newest in took:
            # Two calls or more: history whichever of them is being popped.
            self._history_pairs[(agent_id, number)].update({newest, -1} if calls > 1 else {newest})
        for source, target, number, call_id in moved:
            for agent_id in (source, target):
                if agent_id:
                    self._history_pairs[(agent_id, number)].add(call_id)


def e164(call: Call) -> str | None:
    number = customer_number(call)
    if not number:
        return None
    return phone_try_normalize(number, region=call.organization.default_region)


def customer_numbers(calls: Iterable[Call]) -> set[str]:
    """The customers' numbers as written and in E.164 (how last calls are matched)."""
    numbers: set[str] = set()
    for call in calls:
        number = customer_number(call)
        if number:
            numbers.add(number)
            normalized = phone_try_normalize(number, region=call.organization.default_region)
            if normalized:
                numbers.add(normalized)
    return numbers
