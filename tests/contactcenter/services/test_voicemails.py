"""Voicemails as services: facts in any order and any number of times make one row;
two agents claiming at once, one wins; a voicemail becomes a callback or a case once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from contactcenter.errors import ApplicationError
from contactcenter.models import (
    AuditEntry,
    Callback,
    Voicemail,
    VoicemailMedia,
    VoicemailStatus,
)
from contactcenter.services.telephony import telephony_apply
from contactcenter.services.voicemails import (
    voicemail_claim,
    voicemail_close,
    voicemail_to_callback,
    voicemail_to_case,
)
from crm.models import Case
from tests.conftest import Floor
from tests.contactcenter.voicemailed import leave_voicemail, left_fact, queue_with
from tests.factories import make_call


def _apply(org_id: int, *facts: Any) -> None:
    telephony_apply(organization_id=org_id, connection_key="twilio:AC1", events=list(facts))


@pytest.mark.django_db
def test_facts_in_any_order_and_repeated_make_one_row(floor_a: Floor) -> None:
    queue = queue_with(floor_a.org, floor_a.agent)
    call = make_call(floor_a.org, queue=queue)
    early = timezone.now() - timedelta(minutes=2)
    transcription = left_fact(
        call.external_id,
        "CA1",
        transcription="Please call me back",
        transcription_status="completed",
    )
    completed = left_fact(
        call.external_id, "CA1", at=early, recording_sid="RE1", duration_seconds=14
    )
    # The transcription first, then the recording's status, then both again.
    _apply(floor_a.org.pk, transcription)
    _apply(floor_a.org.pk, completed)
    _apply(floor_a.org.pk, transcription, completed)
    (vm,) = Voicemail.objects.filter(organization=floor_a.org)
    assert (vm.recording_sid, vm.duration_seconds) == ("RE1", 14)
    assert vm.transcription == "Please call me back"
    assert vm.left_at == early  # the earliest time heard
    assert (vm.queue_id, vm.call_id, vm.caller_number) == (queue.pk, call.pk, call.caller_number)
    actions = list(
        AuditEntry.objects.filter(object_type="contactcenter.voicemail")
        .order_by("id")
        .values_list("action", flat=True)
    )
    # A repeat that changes nothing is not audited again.
    assert actions == ["voicemail.create", "voicemail.update"]


@pytest.mark.django_db
def test_a_failed_recording_marks_the_media_but_keeps_the_voicemail(floor_a: Floor) -> None:
    queue = queue_with(floor_a.org, floor_a.agent)
    call = make_call(floor_a.org, queue=queue)
    _apply(floor_a.org.pk, left_fact(call.external_id, "CA2", failed="absent"))
    vm = Voicemail.objects.get(organization=floor_a.org)
    assert (vm.media, vm.failure, vm.status) == (VoicemailMedia.FAILED, "absent", "new")


@pytest.mark.django_db
def test_a_voicemail_of_a_call_never_seen_is_skipped(floor_a: Floor) -> None:
    _apply(floor_a.org.pk, left_fact("CA" + "0" * 32, "CA3"))
    assert not Voicemail.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_agents_claiming_at_once_one_wins(floor_a: Floor) -> None:
    queue = queue_with(floor_a.org, floor_a.agent, floor_a.other_agent)
    vm = leave_voicemail(queue)
    start = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def claim(agent: Any) -> None:
        try:
            start.wait()
            voicemail_claim(voicemail=vm, agent=agent)
            outcomes[agent.pk] = "won"
        except ApplicationError as exc:
            outcomes[agent.pk] = exc.code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=claim, args=(a,)) for a in (floor_a.agent, floor_a.other_agent)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes.values()) == ["already_claimed", "won"]
    winner = next(pk for pk, outcome in outcomes.items() if outcome == "won")
    vm.refresh_from_db()
    assert (vm.status, vm.claimed_by_id) == (VoicemailStatus.CLAIMED, winner)
    assert vm.claimed_at is not None
    claims = AuditEntry.objects.filter(action="voicemail.claim", object_id=str(vm.pk))
    assert claims.count() == 1


@pytest.mark.django_db
def test_claiming_ones_own_claim_again_is_a_no_op(floor_a: Floor) -> None:
    vm = leave_voicemail(queue_with(floor_a.org, floor_a.agent))
    first = voicemail_claim(voicemail=vm, agent=floor_a.agent)
    again = voicemail_claim(voicemail=vm, agent=floor_a.agent)
    assert (again.claimed_by_id, again.claimed_at) == (floor_a.agent.pk, first.claimed_at)


@pytest.mark.django_db
def test_a_claimed_voicemail_becomes_a_callback_keeping_the_callers_place(floor_a: Floor) -> None:
    queue = queue_with(floor_a.org, floor_a.agent, floor_a.other_agent)
    vm = leave_voicemail(queue, caller="+15557654322")
    with pytest.raises(ApplicationError) as unclaimed:
        voicemail_to_callback(voicemail=vm, agent=floor_a.agent)
    assert unclaimed.value.code == "voicemail_not_claimed"
    voicemail_claim(voicemail=vm, agent=floor_a.agent)
    with pytest.raises(ApplicationError) as not_theirs:
        voicemail_to_callback(voicemail=vm, agent=floor_a.other_agent)
    assert not_theirs.value.code == "voicemail_not_claimed"
    done = voicemail_to_callback(voicemail=vm, agent=floor_a.agent)
    assert done.status == VoicemailStatus.DONE and done.done_at is not None
    assert done.callback_id is not None
    callback = Callback.objects.get(pk=done.callback_id)
    assert (callback.queue_id, callback.number, callback.call_id) == (
        queue.pk,
        "+15557654322",
        vm.call_id,
    )
    with pytest.raises(ApplicationError) as twice:
        voicemail_to_case(voicemail=done, agent=floor_a.agent, user=None)
    assert twice.value.code == "voicemail_done"
    assert Callback.objects.count() == 1


@pytest.mark.django_db
def test_a_supervisor_turns_any_voicemail_into_a_case_through_crm(floor_a: Floor) -> None:
    vm = leave_voicemail(queue_with(floor_a.org, floor_a.agent), caller="+15557654323")
    Voicemail.objects.filter(pk=vm.pk).update(transcription="My order never came")
    vm.refresh_from_db()
    done = voicemail_to_case(voicemail=vm, agent=None, user=floor_a.supervisor.user, title="")
    case = Case.objects.get(pk=done.case_id)
    assert case.organization_id == floor_a.org.pk
    assert case.source_call_id == vm.call_id
    assert case.title == "Voicemail from +15557654323"
    assert "My order never came" in case.description
    assert AuditEntry.objects.filter(action="voicemail.case", object_id=str(vm.pk)).exists()


@pytest.mark.django_db
def test_closing_needs_the_claim_for_an_agent(floor_a: Floor) -> None:
    vm = leave_voicemail(queue_with(floor_a.org, floor_a.agent))
    with pytest.raises(ApplicationError):
        voicemail_close(voicemail=vm, agent=floor_a.agent)
    voicemail_claim(voicemail=vm, agent=floor_a.agent)
    assert voicemail_close(voicemail=vm, agent=floor_a.agent).status == VoicemailStatus.DONE
