"""Feed a transcript's events through the Translator straight into the domain (no socket).

Used by the transcript tests to check the translation itself; the bridge tests do the same
through the simulator and panoramisk over TCP.
"""

from __future__ import annotations

from contactcenter import facts as te
from contactcenter.services.telephony import telephony_apply
from telephony.ami.frames import AmiMessage, parse_frames
from telephony.ami.resync import resync_agents, resync_calls
from telephony.ami.translator import Translator
from tests.telephony.expectations import TRANSCRIPT_DIR


def transcript_messages(name: str, data: bytes | None = None) -> list[AmiMessage]:
    """The file's messages (or those of ``data``, a variant of it)."""
    data = (TRANSCRIPT_DIR / name).read_bytes() if data is None else data
    return [f for f in parse_frames(data) if isinstance(f, AmiMessage)]


def replay(
    name: str,
    organization_id: int,
    agents: set[str],
    batch: int = 50,
    originates: tuple[tuple[str, str], ...] = (),
    data: bytes | None = None,
) -> Translator:
    translator = Translator(is_agent=agents.__contains__)
    for device, number in originates:
        translator.expect_originate(device=device, number=number)
    pending: list[te.Fact] = []
    lists: dict[str, list[AmiMessage]] = {}
    snapshot_at = None
    for msg in transcript_messages(name, data):
        event = msg.event or ""
        if event in ("CoreShowChannel", "QueueParams", "QueueMember", "QueueEntry"):
            lists.setdefault(event, []).append(msg)
            continue
        if event == "CoreShowChannelsComplete":
            facts = resync_calls(
                translator, channels=lists.get("CoreShowChannel", []), connection="offline"
            )
            snapshot_at = facts[-1].at
            pending.extend(facts)
            continue
        if event == "QueueStatusComplete":
            pending.extend(
                resync_agents(
                    queue_status=lists.get("QueueMember", []), at=snapshot_at or translator.clock()
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
