"""Reads about recordings: which answered calls the policy records."""

from __future__ import annotations

from collections.abc import Sequence

from contactcenter.enums import RecordingPolicy
from contactcenter.models import CallQueue, Organization


def recorded_queues(*, organization_id: int, queues: Sequence[str]) -> dict[str, bool]:
    """For each PBX queue name ("" for a call that came through no queue), whether its
    answered calls are recorded from the start: the queue's policy, else the
    organization's. "On demand" starts nothing by itself."""
    organization_policy = (
        Organization.objects.filter(pk=organization_id)
        .values_list("recording_policy", flat=True)
        .first()
    )
    policies = dict(
        CallQueue.objects.for_organization(organization_id)
        .filter(pbx_queue_name__in=[q for q in queues if q])
        .values_list("pbx_queue_name", "recording_policy")
    )
    return {
        queue: (policies.get(queue) or organization_policy) == RecordingPolicy.ALL
        for queue in queues
    }
