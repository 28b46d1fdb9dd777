"""Feed a transcript's events through the Translator straight into the domain (no socket).

Used by the transcript tests to check the translation itself; the bridge tests do the same
through the simulator and panoramisk over TCP.
"""

from __future__ import annotations

from contactcenter.services.telephony import telephony_apply
from telephony.ami.frames import AmiMessage, parse_frames
from telephony.ami.resync import resync_events
from telephony.ami.translator import Translator
from tests.telephony.expectations import SHARED_AMI


def transcript_messages(name: str) -> list[AmiMessage]:
    data = (SHARED_AMI / name).read_bytes()
    return [f for f in parse_frames(data) if isinstance(f, AmiMessage)]


def replay(
    name: str,
    organization_id: int,
    agents: set[str],
    batch: int = 50,
    originates: tuple[tuple[str, str], ...] = (),
) -> Translator:
    translator = Translator(is_agent=agents.__contains__)
    for device, number in originates:
        translator.expect_originate(device=device, number=number)
    pending = []
    lists: dict[str, list[AmiMessage]] = {}
    for msg in transcript_messages(name):
        event = msg.event or ""
        if event in ("CoreShowChannel", "QueueParams", "QueueMember", "QueueEntry"):
            lists.setdefault(msg.action_id or "", []).append(msg)
            continue
        if event == "QueueStatusComplete":
            channels = next((v for v in lists.values() if v[0].event == "CoreShowChannel"), [])
            status = next((v for v in lists.values() if v[0].event != "CoreShowChannel"), [])
            pending.extend(
                resync_events(
                    translator, channels=channels, queue_status=status, connection="offline"
                )
            )
            continue
        pending.extend(translator.translate(msg))
        if len(pending) >= batch:
            telephony_apply(
                organization_id=organization_id, connection_key="offline", events=pending
            )
            pending = []
    telephony_apply(organization_id=organization_id, connection_key="offline", events=pending)
    return translator
