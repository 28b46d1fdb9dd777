"""Who hears of a voicemail (realtime/screens/changes.py, publish_voicemails): the
consoles of its queue's members and of its claimer, nobody else, and never across
organizations."""

from __future__ import annotations

import pytest

from contactcenter.services.voicemails import voicemail_claim
from realtime import messages as msgs
from realtime.screens import changes
from realtime.send import Message
from tests.conftest import Floor
from tests.contactcenter.voicemailed import leave_voicemail, queue_with
from tests.factories import make_agent, make_member

pytestmark = pytest.mark.django_db


def _groups(messages: list[Message]) -> set[str]:
    return {group for group, _ in messages}


def test_the_queues_members_hear_of_it_and_then_its_claimer(floor_a: Floor, floor_b: Floor) -> None:
    org = floor_a.org
    colleague = make_agent(org, make_member(org, "agent"))
    queue = queue_with(org, floor_a.agent, colleague)
    queue_with(floor_b.org, floor_b.agent)  # a queue of the same name elsewhere
    vm = leave_voicemail(queue, caller="+15557650009")

    messages = changes.publish_voicemails(org.pk, frozenset({vm.pk}))
    assert _groups(messages) == {f"agent.{floor_a.agent.pk}", f"agent.{colleague.pk}"}
    (_, message), *_ = messages
    assert message["type"] == "voicemail.updated"
    view = msgs.VoicemailUpdatedData.model_validate(message["data"]).voicemail
    assert (view.id, view.status, view.caller_number, view.queue_name) == (
        vm.pk,
        "new",
        "+15557650009",
        "Support",
    )

    # Claimed by an agent who has since left the queue: they still hear of it.
    voicemail_claim(voicemail=vm, agent=floor_a.other_agent)
    claimed = changes.publish_voicemails(org.pk, frozenset({vm.pk}))
    assert f"agent.{floor_a.other_agent.pk}" in _groups(claimed)
    assert {m["data"]["voicemail"]["claimed_by"] for _, m in claimed} == {floor_a.other_agent.pk}

    # Asked with another organization's id, the voicemail is not found: nothing is sent.
    assert changes.publish_voicemails(floor_b.org.pk, frozenset({vm.pk})) == []
