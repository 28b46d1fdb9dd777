"""Listening, whispering and barging on Twilio (telephony/twilio/coaching.py), through
twilio-python's own HTTP client against the fake REST API: the participant requests
Twilio receives, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest

from telephony.models import TwilioAccount
from telephony.twilio import coaching
from tests.telephony.twilio.signed import call_sid

pytestmark = pytest.mark.django_db

CONFERENCE = "CF" + "c0" * 16
CUSTOMER, AGENT = call_sid(1), call_sid(2)
SUPERVISOR = "agent-7"


@pytest.fixture
def room(twilio_api: Any) -> Any:
    twilio_api.add("AC" + "ab" * 16, "twilio-auth-token-for-tests")
    # Another call's conference first: the call is found by its participants.
    twilio_api.conferences.add("CF" + "d0" * 16, call_sid(8), call_sid(9))
    return twilio_api.conferences.add(CONFERENCE, CUSTOMER, AGENT)


def test_listen_then_whisper_then_barge_is_one_monitoring_call(
    account: TwilioAccount, room: Any, twilio_api: Any
) -> None:
    listen = coaching.monitor(
        account, where=coaching.conference_with(CUSTOMER), supervisor=SUPERVISOR, mode="listen"
    )
    assert listen.ok, listen.message
    [joined] = twilio_api.conferences.joined
    assert joined == {
        "From": "client:contact-center",
        "To": "client:agent-7",
        "Label": "cc-monitor:agent-7",
        "Beep": "false",
        "EndConferenceOnExit": "false",
        "Muted": "true",
        "Coaching": "false",
    }
    session = listen.call_sid
    assert session in {p.call_sid for p in room.participants}

    whisper = coaching.monitor(
        account, where=coaching.conference_with(CUSTOMER), supervisor=SUPERVISOR, mode="whisper"
    )
    assert (whisper.ok, whisper.call_sid, whisper.message) == (True, session, coaching.SWITCHED)
    barge = coaching.monitor(
        account, where=coaching.conference_with(CUSTOMER), supervisor=SUPERVISOR, mode="barge"
    )
    assert (barge.ok, barge.call_sid) == (True, session)
    assert len(twilio_api.conferences.joined) == 1  # the supervisor's phone rang once
    assert twilio_api.conferences.changed == [
        (
            "cc-monitor:agent-7",
            {"Muted": "false", "Coaching": "true", "CallSidToCoach": AGENT},
        ),
        ("cc-monitor:agent-7", {"Muted": "false", "Coaching": "false"}),
    ]
    supervisor = next(p for p in room.participants if p.call_sid == session)
    assert (supervisor.muted, supervisor.coaching) == (False, False)

    stop = coaching.monitor_stop(
        account, where=coaching.conference_with(CUSTOMER), supervisor=SUPERVISOR
    )
    assert (stop.ok, stop.call_sid) == (True, session)
    assert twilio_api.conferences.removed == ["cc-monitor:agent-7"]
    assert [p.call_sid for p in room.participants] == [CUSTOMER, AGENT]


def test_whisper_coaches_the_agent_not_the_customer(
    account: TwilioAccount, room: Any, twilio_api: Any
) -> None:
    result = coaching.monitor(
        account,
        where=coaching.conference_with(CUSTOMER),
        supervisor="client:agent-7",
        mode="whisper",
        caller_id="+1555",
    )
    assert result.ok, result.message
    [joined] = twilio_api.conferences.joined
    assert (joined["From"], joined["To"]) == ("+1555", "client:agent-7")
    assert (joined["Coaching"], joined["CallSidToCoach"], joined["Muted"]) == (
        "true",
        AGENT,
        "false",
    )


def test_a_call_in_no_conference_is_refused_as_such(account: TwilioAccount, room: Any) -> None:
    # Our routing's <Dial><Client> calls: no conference has them.
    result = coaching.monitor(
        account, where=coaching.conference_with(call_sid(5)), supervisor=SUPERVISOR, mode="listen"
    )
    assert not result.ok
    assert result.message == coaching.NOT_IN_CONFERENCE


def test_a_conference_with_several_agents_is_refused(
    account: TwilioAccount, room: Any, twilio_api: Any
) -> None:
    twilio_api.conferences.add("CF" + "e0" * 16, call_sid(20), call_sid(21), call_sid(22))
    result = coaching.monitor(
        account, where=coaching.conference_with(call_sid(20)), supervisor=SUPERVISOR, mode="listen"
    )
    assert not result.ok
    assert "no single agent" in result.message
    assert twilio_api.conferences.joined == []


def test_stopping_with_no_session_and_an_unknown_mode(account: TwilioAccount, room: Any) -> None:
    stop = coaching.monitor_stop(
        account, where=coaching.conference_with(CUSTOMER), supervisor=SUPERVISOR
    )
    assert (stop.ok, stop.message) == (False, "No monitoring call of yours is live.")
    odd = coaching.monitor(
        account, where=coaching.conference_with(CUSTOMER), supervisor=SUPERVISOR, mode="shout"
    )
    assert not odd.ok


def test_twilio_refusing_is_an_answer_not_an_exception(
    account: TwilioAccount, room: Any, twilio_api: Any
) -> None:
    twilio_api.tokens[account.account_sid] = "another-token"  # the credentials were rotated
    result = coaching.monitor(
        account, where=coaching.conference_with(CUSTOMER), supervisor=SUPERVISOR, mode="listen"
    )
    assert not result.ok
    assert result.code == 20003
