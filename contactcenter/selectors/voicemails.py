"""Reads about voicemails: who may see which, what the consoles are told, the media."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from contactcenter.models import Agent, QueueMembership, Voicemail, VoicemailMedia


def voicemails_visible(
    queryset: QuerySet[Voicemail], *, agent: Agent | None, floor: bool
) -> QuerySet[Voicemail]:
    """Of an organization's voicemails, those a person may see: supervisors and admins
    (``floor``) all of them; an agent those of the queues they are a member of, and any
    they claimed; someone with neither role nor agent profile none."""
    if floor:
        return queryset
    if agent is None:
        return queryset.none()
    queues = QueueMembership.objects.filter(agent=agent).values("queue_id")
    return queryset.filter(Q(queue_id__in=queues) | Q(claimed_by=agent))


@dataclass(frozen=True)
class VoicemailForScreens:
    voicemail: Voicemail
    agent_ids: tuple[int, ...]  # the consoles to tell: its queue's members, its claimer


def voicemails_for_screens(
    *, organization_id: int, voicemail_ids: Iterable[int]
) -> list[VoicemailForScreens]:
    rows = list(
        Voicemail.objects.for_organization(organization_id)
        .filter(pk__in=list(voicemail_ids))
        .select_related("queue", "claimed_by")
        .order_by("pk")
    )
    queue_ids = {v.queue_id for v in rows if v.queue_id is not None}
    members: dict[int, set[int]] = {}
    for queue_id, agent_id in (
        QueueMembership.objects.for_organization(organization_id)
        .filter(queue_id__in=queue_ids)
        .values_list("queue_id", "agent_id")
    ):
        members.setdefault(queue_id, set()).add(agent_id)
    out = []
    for vm in rows:
        agents = set(members.get(vm.queue_id, set())) if vm.queue_id is not None else set()
        if vm.claimed_by_id is not None:
            agents.add(vm.claimed_by_id)
        out.append(VoicemailForScreens(voicemail=vm, agent_ids=tuple(sorted(agents))))
    return out


def voicemail_for_media(*, voicemail_id: int, organization_id: int) -> Voicemail | None:
    """A voicemail of that organization whose audio is stored, or None."""
    return (
        Voicemail.objects.for_organization(organization_id)
        .filter(pk=voicemail_id, media=VoicemailMedia.STORED)
        .exclude(storage_key="")
        .first()
    )
