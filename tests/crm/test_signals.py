"""crm's side of contactcenter's hooks (crm/signals.py, connected by CrmConfig.ready):
contactcenter announces a call's new disposition without importing crm."""

from __future__ import annotations

import pytest
from django.db import transaction

from contactcenter.services.calls import call_set_disposition
from crm.models import Case
from tests.conftest import Floor
from tests.crm.factories import Capture, make_disposition
from tests.factories import make_call

pytestmark = pytest.mark.django_db

RULES = "call_disposition_rules_schedule.<locals>.<lambda>"


def test_a_disposition_queues_the_rules_once_after_the_consoles_update(
    floor_a: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    disposition = make_disposition(floor_a, requires_case_creation=True)
    call = make_call(floor_a.org, agent=floor_a.agent)
    with django_capture_on_commit_callbacks() as callbacks:
        call_set_disposition(call=call, disposition=disposition, actor=floor_a.agent_member.user)
    # As when contactcenter called crm directly: the consoles' call.updated first, then
    # the rules' task, once.
    assert [callback.__qualname__ for callback in callbacks] == ["publish.call_edited", RULES]
    assert not Case.objects.filter(source_call=call).exists()  # nothing before the commit
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[1]()  # Celery runs eagerly in the tests
    assert Case.objects.filter(source_call=call).count() == 1


def test_a_disposition_that_rolls_back_queues_no_rules(
    floor_a: Floor, django_capture_on_commit_callbacks: Capture
) -> None:
    disposition = make_disposition(floor_a, requires_case_creation=True)
    call = make_call(floor_a.org, agent=floor_a.agent)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        call_set_disposition(call=call, disposition=disposition, actor=floor_a.agent_member.user)
        raise RuntimeError("the caller's transaction fails after the disposition")
    assert callbacks == []
    assert not Case.objects.filter(source_call=call).exists()
