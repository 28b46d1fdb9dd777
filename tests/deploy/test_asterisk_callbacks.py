"""deploy/asterisk's callback sample against the bridge: every queue with an exit
context (queues.conf ``context=``) has it in extensions.conf, where key 1 raises the
``UserEvent: CallbackRequest`` the translator reads, naming that queue."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from contactcenter import facts as te
from telephony.ami.callback_request import callback_requested
from tests.deploy.asterisk_conf import ASTERISK, _values, parse_conf

_USER_EVENT = re.compile(r"UserEvent\(CallbackRequest,(?P<headers>.*)\)$")


def _exit_contexts() -> dict[str, str]:
    queues = parse_conf(ASTERISK / "queues.conf")
    return {
        name: _values(section, "context")[0]
        for name, section in queues.items()
        if name != "general" and _values(section, "context")
    }


def test_the_support_queue_offers_callbacks_through_its_exit_context() -> None:
    exits = _exit_contexts()
    assert exits.get("support") == "callback-support"
    dialplan = parse_conf(ASTERISK / "extensions.conf")
    for queue, context in exits.items():
        lines = [value for _key, value in dialplan[context]]
        assert lines[0].startswith("1,1,"), "key 1 asks for the callback"
        (raised,) = [m for line in lines if (m := _USER_EVENT.search(line))]
        headers = dict(part.split(": ", 1) for part in raised["headers"].split(",") if ": " in part)
        assert headers["Queue"] == queue
        assert set(headers) == {"Queue", "Number", "Position"}


def test_the_sample_event_as_asterisk_sends_it_is_a_callback_request() -> None:
    # The AMI event of the sample's UserEvent: the caller's channel headers, then ours
    # (a blank Number when the caller keyed nothing in).
    event = {
        "Event": "UserEvent",
        "Privilege": "user,all",
        "Channel": "PJSIP/trunk-00000007",
        "CallerIDNum": "+15557654321",
        "Uniqueid": "1741950000.14",
        "Linkedid": "1741950000.14",
        "UserEvent": "CallbackRequest",
        "Queue": "support",
        "Number": "",
        "Position": "3",
    }
    at = datetime(2026, 12, 7, 12, tzinfo=UTC)
    (fact,) = callback_requested(event, call_key="1741950000.14", at=at, key="k")
    assert isinstance(fact, te.CallbackRequested)
    assert (fact.queue, fact.number, fact.position) == ("support", "+15557654321", 3)
    assert callback_requested({**event, "UserEvent": "Other"}, call_key="x", at=at, key="k") == []
    assert callback_requested({**event, "Queue": " "}, call_key="x", at=at, key="k") == []
