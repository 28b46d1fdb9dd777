"""A replayed stream whose tracker is reset anywhere leaves the records of one run.

Each transcript written for issue 26 is applied once, then again with an empty resync
(the translator forgets every live leg) placed before its k-th message: the second
pass restates facts the first stored, with part of the context lost. The records must
not move: a restated start does not turn an outbound call internal, a transfer's
failure keeps its first reason, a queue's members are known from AgentCalled too.

Known gap: reset between a pickup code's Newchannel and its Pickup event, the picking
phone's own short call (merged away by the first pass) is created again by the second
pass and never folded. A real PBX lists that live channel in its snapshot.
"""

from __future__ import annotations

import pytest

from contactcenter.facts import Fact
from contactcenter.models import Agent, Call
from contactcenter.services.telephony import telephony_apply
from provisioning.demo import seed_demo
from telephony.ami.frames import AmiMessage
from telephony.ami.resync import resync_calls
from telephony.ami.translator import Translator
from tests.telephony.expectations import EXPECTED, check_transcript
from tests.telephony.replay_offline import transcript_messages

pytestmark = pytest.mark.django_db

NAMES = sorted(n for n in EXPECTED if n[:2].isdigit() and int(n[:2]) >= 10)
STEP = 4


def _apply(org_id: int, agents: set[str], messages: list[AmiMessage], reset: int) -> None:
    translator = Translator(is_agent=agents.__contains__)
    facts: list[Fact] = []
    for index, message in enumerate(messages):
        if index == reset:
            facts += resync_calls(translator, channels=[], connection="offline")
        facts += translator.translate(message)
    telephony_apply(organization_id=org_id, connection_key="offline", events=facts)


def _pickup_window(messages: list[AmiMessage]) -> range:
    """Between the picking phone's Newchannel and its Pickup event (the known gap)."""
    pickup = next((i for i, m in enumerate(messages) if m.event == "Pickup"), None)
    if pickup is None:
        return range(0)
    picker = messages[pickup].get("Uniqueid")
    born = next(
        i for i, m in enumerate(messages) if m.event == "Newchannel" and m.get("Uniqueid") == picker
    )
    return range(born + 1, pickup + 1)


@pytest.mark.parametrize("name", NAMES)
def test_a_reset_anywhere_in_a_replay_changes_no_record(name: str) -> None:
    messages = transcript_messages(name)
    org = seed_demo().organization
    agents = set(Agent.objects.filter(organization=org).values_list("interface", flat=True))
    gap = _pickup_window(messages)
    diverged = []
    for reset in range(0, len(messages), STEP):
        if reset in gap:
            continue
        Call.objects.filter(organization=org).delete()
        _apply(org.pk, agents, messages, reset=-1)
        _apply(org.pk, agents, messages, reset=reset)
        try:
            check_transcript(name, org.pk)
        except AssertionError as exc:
            diverged.append((reset, str(exc)[:200]))
    assert not diverged, diverged[:3]


@pytest.mark.parametrize("name", NAMES)
def test_a_replay_read_before_its_reset_changes_no_record(name: str) -> None:
    # The bridge reconnects and the stream comes again before the resync's reply resets
    # the translator: what the first read left (merged calls) must not misplace the second.
    messages = transcript_messages(name)
    org = seed_demo().organization
    agents = set(Agent.objects.filter(organization=org).values_list("interface", flat=True))
    translator = Translator(is_agent=agents.__contains__)
    for _ in range(2):
        facts: list[Fact] = []
        for message in messages:
            facts += translator.translate(message)
        telephony_apply(organization_id=org.pk, connection_key="offline", events=facts)
    check_transcript(name, org.pk)
