"""A stream cut anywhere, then read again whole, before the resync's reply resets the
translator: the records must be those of one run. Known gap, kept here as strict
expected failures (issue 24 audit).

tests/telephony/ami/test_bridge_transcripts.py replays each transcript over a connection
the simulator drops, then again on the next one. On a loaded machine the bridge logs in
after the simulator has already sent the whole file and dropped the line (the failing
runs' logs say so); the first session's stream is then read in part (a cut, as
reproduced here), and the second session's stream is translated before the resync's
reply resets the translator. For the blind transfers
(transcripts 03, 12, 19, 21) a first read cut just after the BlindTransfer leaves a
pending transfer that the second read completes: 12's transfer to a busy phone ends
'completed' instead of 'failed', 21's reaches the wrong agent. test_bridge_transcripts
failed so (test_transcript_replayed_twice_leaves_the_same_records,
test_transcript_after_a_drop_between_calls: 6 runs of the file in 8 on a 2-core machine
at a load of 6 to 9, none in 5 at a load of 2 to 3), and test_self_contained with it.
Here the same thing, deterministic and offline. With the translator reset before the
second read (the resync's reply first, as on a quiet machine) the records are right at
every cut.

What a fix needs: the second session's events must not be read with the first
session's live legs; for instance the bridge forgets them (a reset, as the snapshot's)
when a new session logs in, before translating its first event.
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
from tests.telephony.expectations import check_transcript
from tests.telephony.replay_offline import transcript_messages

pytestmark = pytest.mark.django_db

BLIND = [
    "03_blind_transfer.ami",
    "12_blind_transfer_unreached.ami",
    "19_forward_and_blonde_transfer.ami",
    "21_blind_transfer_returned_and_to_queue.ami",
]


def _diverging_cuts(name: str, *, reset_first: bool) -> list[tuple[int, str, str]]:
    messages = transcript_messages(name)
    org = seed_demo().organization
    agents = set(Agent.objects.filter(organization=org).values_list("interface", flat=True))

    def apply(translator: Translator, stream: list[AmiMessage], reset: bool) -> None:
        facts: list[Fact] = []
        if reset:
            facts += resync_calls(translator, channels=[], connection="offline")
        for message in stream:
            facts += translator.translate(message)
        telephony_apply(organization_id=org.pk, connection_key="offline", events=facts)

    diverged = []
    for cut in range(1, len(messages)):
        Call.objects.filter(organization=org).delete()
        translator = Translator(is_agent=agents.__contains__)
        apply(translator, messages[:cut], reset=False)
        apply(translator, messages, reset=reset_first)
        try:
            check_transcript(name, org.pk)
        except AssertionError as exc:
            diverged.append((cut, messages[cut - 1].event or "", str(exc)[:120]))
    return diverged


@pytest.mark.parametrize("name", BLIND)
def test_a_cut_read_then_a_whole_one_after_a_reset_changes_no_record(name: str) -> None:
    assert _diverging_cuts(name, reset_first=True) == []


@pytest.mark.xfail(
    strict=True,
    reason="known gap: a pending blind transfer of a cut first read is completed by the "
    "second read when the resync's reply comes after it (see the module docstring)",
)
@pytest.mark.parametrize("name", BLIND)
def test_a_cut_read_then_a_whole_one_before_the_reset_changes_no_record(name: str) -> None:
    assert _diverging_cuts(name, reset_first=False) == []
