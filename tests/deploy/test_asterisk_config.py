"""deploy/asterisk/*.conf against what the code expects of the PBX.

The AMI user's classes must cover every action the bridge sends and every event it
consumes; its event filters must let those events through and keep the noise out; the
queues, phones and dialplan contexts must be the ones seed_demo and the bridge name.
"""

from __future__ import annotations

import re

import pytest

from provisioning.demo import QUEUES, USERS
from telephony.ami.bridge import BridgeSettings
from telephony.ami.commands import QUEUE_CONTEXT
from telephony.ami.translator import Translator
from tests.deploy.asterisk_conf import ASTERISK, ROOT, _values, parse_conf

# Write classes of each AMI action, as Asterisk registers them (manager.c, app_queue.c).
# Checked as "all of them", the stricter of the two readings of the permission check.
ACTION_CLASSES: dict[str, set[str]] = {
    "Login": set(),
    "Logoff": set(),
    "Ping": set(),
    "QueueStatus": set(),
    "QueueSummary": set(),
    "CoreShowChannels": {"system", "reporting"},
    "Originate": {"originate"},
    "Hangup": {"system", "call"},
    "BlindTransfer": {"call"},
    "Atxfer": {"call"},
    "QueuePause": {"agent"},
    "QueueAdd": {"agent"},
    "QueueRemove": {"agent"},
    "MixMonitor": {"system"},
    "MixMonitorMute": {"system", "call"},
    "Redirect": {"call"},
    "PlayDTMF": {"call"},
}
# Read class of each event the translator consumes (the Privilege header's first word).
EVENT_CLASSES: dict[str, str] = {
    "FullyBooted": "system",
    "VarSet": "dialplan",
    "UserEvent": "user",
    **{
        name: "agent"
        for name in [
            "QueueCallerJoin",
            "QueueCallerLeave",
            "QueueCallerAbandon",
            "AgentCalled",
            "AgentRingNoAnswer",
            "AgentConnect",
            "AgentComplete",
            "AgentDump",
            "QueueMemberStatus",
            "QueueMemberPause",
            "QueueMemberAdded",
            "QueueMemberRemoved",
        ]
    },
    **{
        name: "call"
        for name in [
            "Newchannel",
            "Newstate",
            "DialBegin",
            "DialEnd",
            "Hold",
            "Unhold",
            "BlindTransfer",
            "AttendedTransfer",
            "HangupRequest",
            "Hangup",
            "OriginateResponse",
            "MixMonitorStart",
            "MixMonitorMute",
            "MixMonitorStop",
            "Pickup",
            "ChanSpyStart",
            "ChanSpyStop",
            "MessageWaiting",
        ]
    },
}


def _classes(value: str) -> set[str]:
    return {part.strip() for part in value.split(",") if part.strip()}


@pytest.fixture(scope="module")
def manager() -> dict[str, list[tuple[str, str]]]:
    return parse_conf(ASTERISK / "manager.conf")


@pytest.fixture(scope="module")
def user(manager: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str]]:
    users = [name for name in manager if name != "general"]
    assert users == ["contactcenter"]
    return manager["contactcenter"]


def _actions_in_code() -> set[str]:
    sources = [*(ROOT / "telephony" / "ami").glob("*.py")]
    found: set[str] = set()
    for source in sources:
        found |= set(re.findall(r"[\"']Action[\"']\s*:\s*[\"'](\w+)[\"']", source.read_text()))
        # Actions chosen by expression, e.g. "BlindTransfer" if ... else "Atxfer".
        found |= {
            name
            for name in re.findall(r"\"([A-Z][A-Za-z]+)\"", source.read_text())
            if name in ACTION_CLASSES
        }
    return found


def test_timestamps_and_general_settings(manager: dict[str, list[tuple[str, str]]]) -> None:
    general = manager["general"]
    assert _values(general, "enabled") == ["yes"]
    assert _values(general, "timestampevents") == ["yes"]  # dedup keys come from it


def test_write_classes_cover_every_action_the_bridge_sends_and_no_more(
    user: list[tuple[str, str]],
) -> None:
    actions = _actions_in_code()
    assert {"Originate", "Hangup", "QueuePause", "CoreShowChannels"} <= actions
    unknown = actions - set(ACTION_CLASSES)
    assert not unknown, f"add the write classes of {unknown} to this test and manager.conf"
    (write,) = _values(user, "write")
    granted = _classes(write)
    needed = set().union(*(ACTION_CLASSES[a] for a in actions))
    assert needed <= granted
    # Least privilege: nothing the bridge does not use (no command, config, user...).
    assert granted == needed


def test_read_classes_cover_every_event_the_translator_consumes(
    user: list[tuple[str, str]],
) -> None:
    assert set(Translator.EVENTS) <= set(EVENT_CLASSES), "classify the new events here"
    (read,) = _values(user, "read")
    assert _classes(read) == {EVENT_CLASSES[e] for e in Translator.EVENTS}


def _passes(filters: list[str], event_text: str) -> bool:
    """Asterisk's legacy filters: with include filters, an event must match one of them
    (POSIX extended regex over the whole event text), then must match no ``!`` filter."""
    includes = [f for f in filters if not f.startswith("!")]
    excludes = [f[1:] for f in filters if f.startswith("!")]
    if includes and not any(re.search(f, event_text, re.S) for f in includes):
        return False
    return not any(re.search(f, event_text, re.S) for f in excludes)


def _event(name: str, **fields: str) -> str:
    lines = [f"Event: {name}", f"Privilege: {EVENT_CLASSES.get(name, 'call')},all"]
    lines += ["Timestamp: 1741950000.000001", "Channel: PJSIP/1001-00000001"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\r\n".join(lines) + "\r\n"


def test_event_filters_pass_what_the_bridge_consumes_and_drop_the_noise(
    user: list[tuple[str, str]],
) -> None:
    filters = _values(user, "eventfilter")
    for name in Translator.EVENTS - {"VarSet", "UserEvent"}:
        assert _passes(filters, _event(name)), name
    assert _passes(filters, _event("VarSet", Variable="CC_DISPOSITION", Value="refund"))
    assert _passes(filters, _event("VarSet", Variable="__CC_DISPOSITION", Value="refund"))
    recorded = {"Variable": "MIXMONITOR_FILENAME", "Value": "/var/spool/asterisk/monitor/a.wav"}
    assert _passes(filters, _event("VarSet", **recorded))
    asked = {"UserEvent": "CallbackRequest", "Queue": "support", "Number": "+15557650001"}
    assert _passes(filters, _event("UserEvent", **asked))
    assert not _passes(filters, _event("UserEvent", UserEvent="SomethingElse", Queue="support"))
    message = "/var/spool/asterisk/voicemail/queues/support/INBOX/msg0000"
    assert _passes(filters, _event("VarSet", Variable="VM_MESSAGEFILE", Value=message))
    assert _passes(filters, _event("VarSet", Variable="VMSTATUS", Value="SUCCESS"))
    for noise in (
        _event("VarSet", Variable="BRIDGEPEER", Value="PJSIP/1002-00000002"),
        _event("Newexten", Application="Queue", AppData="support,,,,300"),
        _event("DeviceStateChange", Device="PJSIP/1001", State="INUSE"),
        _event("RTCPSent"),
        _event("Cdr"),
    ):
        assert not _passes(filters, noise), noise.splitlines()[0]


def test_access_is_limited_to_known_hosts(user: list[tuple[str, str]]) -> None:
    assert _values(user, "deny") == ["0.0.0.0/0.0.0.0"]
    assert _values(user, "permit")


def test_queues_match_the_demo_organization() -> None:
    queues = parse_conf(ASTERISK / "queues.conf")
    for _name, pbx_name, strategy, _sl, extensions in QUEUES:
        section = queues[pbx_name]
        assert _values(section, "strategy") == [str(strategy)]
        assert _values(section, "ringinuse") == ["no"]
        members = [value.split(",")[0] for value in _values(section, "member")]
        assert members == [f"PJSIP/{ext}" for ext in extensions]
    assert set(queues) - {"general"} == {q[1] for q in QUEUES}


def test_phones_and_dialplan_match_the_agents_and_the_bridge() -> None:
    pjsip = parse_conf(ASTERISK / "pjsip.conf")
    for _username, _role, first, last, ext in USERS:
        if not ext:
            continue
        phone = pjsip[ext]  # endpoint, auth and aor of one extension, from templates
        assert _values(phone, "callerid") == [f'"{first} {last}" <{ext}>']
        assert _values(phone, "aors") == [ext] and _values(phone, "username") == [ext]
    assert _values(pjsip["agent-phone"], "context") == [BridgeSettings().dial_context]
    assert _values(pjsip["trunk"], "context")[0] == "from-trunk"

    dialplan = parse_conf(ASTERISK / "extensions.conf")
    assert BridgeSettings().dial_context in dialplan
    inbound = " ".join(value for _key, value in dialplan["from-trunk"])
    assert "Queue(support" in inbound
    internal = " ".join(value for _key, value in dialplan["from-internal"])
    assert "_10XX" in internal and "Dial(PJSIP/${EXTEN}" in internal
    # A supervisor's move of a waiting caller into another queue: one extension per queue.
    moves = dialplan[QUEUE_CONTEXT]
    for _name, pbx_name, *_rest in QUEUES:
        (entry,) = [v for k, v in moves if k == "exten" and v.startswith(f"{pbx_name},1,")]
        assert entry.startswith(f"{pbx_name},1,Queue({pbx_name},")
