"""The wait's announcement: the caller's position, and the estimated wait from how long
the queue's callers answered in the last hour waited (app_queue's announced holdtime),
else Twilio's average of the callers in line now."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.utils import timezone

from contactcenter.models import CallQueue
from tests.conftest import Floor
from tests.factories import make_call, make_queue
from tests.telephony.twilio.signed import (
    ACCOUNT_SID,
    CALLER,
    OUR_NUMBER,
    TwilioRequest,
    call_sid,
    deliver,
    make_account,
)

pytestmark = pytest.mark.django_db


def answered(queue: CallQueue, *, waited: int, minutes_ago: int) -> None:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    queued = at - timedelta(seconds=waited)
    call = make_call(queue.organization, queue=queue, started_at=queued)
    call.queued_at, call.answered_at, call.wait_seconds = queued, at, waited
    call.save(update_fields=["queued_at", "answered_at", "wait_seconds"])


def said(position: int, average_in_line: int) -> str:
    fields = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": call_sid(1),
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "From": CALLER,
        "To": OUR_NUMBER,
        "QueuePosition": str(position),
        "AvgQueueTime": str(average_in_line),
    }
    request = TwilioRequest("/telephony/twilio/wait/?queue=support", fields)
    document = ElementTree.fromstring(deliver(Client(), request).content)
    return document.findtext("Say") or ""


def test_the_estimate_is_the_answered_callers_average_wait_of_the_last_hour(
    floor_a: Floor, floor_b: Floor
) -> None:
    make_account(floor_a.org.pk)
    support = make_queue(floor_a.org, "support")
    for waited in (60, 120, 180):
        answered(support, waited=waited, minutes_ago=10)
    answered(support, waited=1200, minutes_ago=90)  # too long ago
    answered(make_queue(floor_a.org, "sales"), waited=1200, minutes_ago=5)  # another queue
    answered(make_queue(floor_b.org, "support"), waited=1200, minutes_ago=5)  # another org
    # Twilio's figure (30 s in line on average) would say nothing of the wait.
    assert said(2, 30) == "You are number 2 in line. The wait is about 2 minutes. "


def test_without_answered_calls_twilios_average_of_the_callers_in_line_is_said(
    floor_a: Floor,
) -> None:
    make_account(floor_a.org.pk)
    support = make_queue(floor_a.org, "support")
    answered(support, waited=600, minutes_ago=61)
    assert said(4, 190) == "You are number 4 in line. The wait is about 3 minutes. "
    # Under a minute: no estimate, only the position.
    assert said(1, 20) == "You are number 1 in line. "
