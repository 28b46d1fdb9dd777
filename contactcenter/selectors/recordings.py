"""Reads about recordings: which answered calls the policy records."""

from __future__ import annotations

from collections.abc import Sequence

from contactcenter.enums import RecordingPolicy, RecordingStatus
from contactcenter.models import Call, CallQueue, Organization, Recording


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


def call_recordings(*, call: Call) -> list[Recording]:
    """A call's recordings, oldest first (the caller has checked it may see the call)."""
    return list(
        Recording.objects.for_organization(call.organization_id)
        .filter(call=call)
        .select_related("agent")
        .order_by("started_at", "id")
    )


def recording_for_media(*, recording_id: int, organization_id: int) -> Recording | None:
    """A stored recording of that organization, or None."""
    return (
        Recording.objects.for_organization(organization_id)
        .filter(pk=recording_id, status=RecordingStatus.DONE)
        .exclude(storage_key="")
        .first()
    )
