"""A batch's recordings: the answered calls its recording policy records from the start,
and the recording facts and hang-ups handed to the recordings' service."""

from __future__ import annotations

from collections.abc import Sequence

from contactcenter import facts as te
from contactcenter.enums import RecordingPolicy
from contactcenter.services.recordings import recording_facts_apply
from contactcenter.services.telephony.calls import Lookups


def recorded_from_start(
    answered: Sequence[te.CallAnswered], lookups: Lookups, organization_policy: str
) -> set[str]:
    """The answered calls whose queue's policy (blank: the organization's) is "all";
    "on demand" starts nothing by itself."""
    recorded = set()
    for fact in answered:
        queue = lookups.queues.get(fact.queue) if fact.queue else None
        policy = (queue.recording_policy if queue is not None else "") or organization_policy
        if policy == RecordingPolicy.ALL:
            recorded.add(fact.call_key)
    return recorded


def recordings_apply(
    organization_id: int,
    connection_key: str,
    recorded: Sequence[te.RecordingFact],
    ended: Sequence[tuple[str, str]],
) -> set[int]:
    """The batch's recording facts, and the recordings its hang-ups end; the calls they
    changed, which the recordings' service publishes."""
    changed = recording_facts_apply(
        organization_id=organization_id,
        connection_key=connection_key,
        facts=recorded,
        ended_call_keys=ended,
    )
    return changed.call_ids
