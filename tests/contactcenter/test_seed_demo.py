import pytest
from django.core.management import call_command

from contactcenter.demo import DEMO_PASSWORD
from contactcenter.models import Agent, CallDisposition, CallQueue, Membership, QueueMembership
from crm.models import CaseCategory, Contact, ContactPhone

pytestmark = pytest.mark.django_db

MODELS = [
    Membership,
    Agent,
    CallQueue,
    QueueMembership,
    CallDisposition,
    CaseCategory,
    Contact,
    ContactPhone,
]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_is_idempotent_and_complete() -> None:
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    assert first["Agent"] == 3
    assert first["Contact"] == 5
    assert set(Agent.objects.values_list("interface", flat=True)) == {
        "PJSIP/1001",
        "PJSIP/1002",
        "PJSIP/1003",
    }
    alice = Membership.objects.get(user__username="alice")
    assert alice.user.check_password(DEMO_PASSWORD)
    assert alice.user.agent.extension == "1001"
    assert CallDisposition.objects.filter(requires_case_creation=True).count() >= 2
    assert ContactPhone.objects.filter(number="+15557654321").exists()
