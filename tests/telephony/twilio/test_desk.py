"""A supervisor monitoring a Twilio call over REST: the service, the telephony port, the
Twilio desk (telephony/twilio/desk.py) and Twilio's REST API (the fake, over HTTP), and
back: the participant Twilio was asked for, the call's timeline and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.enums import CallEventType, CallSource, CallStatus
from contactcenter.models import AuditEntry, Call, CallEvent
from telephony.models import TwilioAccount
from telephony.twilio import coaching
from tests.conftest import Floor, client_for
from tests.factories import make_agent, make_call
from tests.telephony.twilio.signed import ACCOUNT_SID, AUTH_TOKEN, call_sid

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER, AGENT_LEG = call_sid(1), call_sid(2)


def twilio_call(floor: Floor, customer: str = CUSTOMER) -> Call:
    call = make_call(floor.org, agent=floor.agent, status=CallStatus.IN_PROGRESS)
    Call.objects.filter(pk=call.pk).update(
        source=CallSource.TWILIO, external_id=customer, connection_key=f"twilio:{ACCOUNT_SID}"
    )
    return Call.objects.get(pk=call.pk)


@pytest.fixture
def room(floor_a: Floor, account: TwilioAccount, twilio_api: Any) -> Any:
    twilio_api.add(ACCOUNT_SID, AUTH_TOKEN)
    make_agent(floor_a.org, floor_a.supervisor)  # the supervisor's phone (softphone)
    return twilio_api.conferences.add("CF" + "c0" * 16, CUSTOMER, AGENT_LEG)


def test_listen_switch_and_stop_on_a_conference_call(
    floor_a: Floor, room: Any, twilio_api: Any
) -> None:
    call = twilio_call(floor_a)
    supervisor = client_for(floor_a.supervisor)
    identity = floor_a.supervisor.user.agent.twilio_identity

    listen = supervisor.post(f"/api/v1/calls/{call.pk}/monitor/", {"mode": "listen"}, format="json")
    assert listen.status_code == 200, listen.content
    session = listen.json()["session"]
    [joined] = twilio_api.conferences.joined
    assert (joined["To"], joined["Muted"], joined["Coaching"]) == (
        f"client:{identity}",
        "true",
        "false",
    )

    # Whisper: the same monitoring call, coaching the agent's leg (no second ring).
    whisper = supervisor.post(
        f"/api/v1/calls/{call.pk}/monitor/", {"mode": "whisper"}, format="json"
    )
    assert whisper.status_code == 200, whisper.content
    assert whisper.json()["session"] == session
    assert len(twilio_api.conferences.joined) == 1
    assert twilio_api.conferences.changed[-1][1]["CallSidToCoach"] == AGENT_LEG

    stop = supervisor.post(f"/api/v1/calls/{call.pk}/monitor/stop/", format="json")
    assert stop.status_code == 200, stop.content
    assert twilio_api.conferences.removed == [f"cc-monitor:{identity}"]

    timeline = list(CallEvent.objects.filter(call=call).order_by("id"))
    assert [e.type for e in timeline] == [
        CallEventType.MONITOR_STARTED,
        CallEventType.MONITOR_MODE_CHANGED,
        CallEventType.MONITOR_STOPPED,
    ]
    started, switched, stopped = timeline
    assert started.details["session"] == stopped.details["session"] == session
    assert started.details["mode"] == "listen"  # as the session started
    # The participant's update is the switch's record, as ChanSpy's key on Asterisk.
    assert switched.details["session"] == session
    assert (switched.details["from"], switched.details["mode"]) == ("listen", "whisper")
    assert started.details["supervisor"] == {
        "user_id": floor_a.supervisor.user_id,
        "name": started.details["supervisor"]["name"],
    }
    assert "seconds" in stopped.details
    asked = list(
        AuditEntry.objects.filter(action__startswith="pbx.monitor")
        .order_by("id")
        .values_list("action", "details__mode")
    )
    assert asked == [
        ("pbx.monitor", "listen"),
        ("pbx.monitor", "whisper"),
        ("pbx.monitor_stop", None),
    ]


def test_a_dial_client_call_is_refused_with_the_reason(
    floor_a: Floor, room: Any, twilio_api: Any
) -> None:
    call = twilio_call(floor_a, customer=call_sid(5))  # our routing: no conference
    response = client_for(floor_a.supervisor).post(
        f"/api/v1/calls/{call.pk}/monitor/", {"mode": "barge"}, format="json"
    )
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["code"], error["detail"]) == ("pbx_failed", coaching.NOT_IN_CONFERENCE)
    assert twilio_api.conferences.joined == []
    assert not CallEvent.objects.filter(call=call).exists()


def test_agents_and_other_organizations_cannot_monitor_a_twilio_call(
    floor_a: Floor, floor_b: Floor, room: Any, twilio_api: Any
) -> None:
    call = twilio_call(floor_a)
    url = f"/api/v1/calls/{call.pk}/monitor/"
    agent = client_for(floor_a.agent_member).post(url, {"mode": "listen"}, format="json")
    assert agent.status_code == 403
    other = client_for(floor_b.supervisor).post(url, {"mode": "listen"}, format="json")
    assert other.status_code == 404
    assert twilio_api.conferences.joined == []
