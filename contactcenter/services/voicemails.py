"""Voicemails: stored as the PBX reports them, claimed by one agent, turned into work.

A caller who reaches a queue's voicemail exit leaves a message: the PBX's facts
(``VoicemailLeft``: Asterisk's ``MessageWaiting``/``VMSTATUS``, Twilio's ``<Record>``
callbacks) meet on one row per caller leg, in any order, any number of times. The
queue's agents are told (``publish.voicemails_changed``), exactly one of them claims it
(``voicemail_claim``: a conditional UPDATE, so two agents at once cannot both win), and
it becomes a callback (``voicemail_to_callback``) or a case (``voicemail_to_case``,
through crm's hook), or is closed (``voicemail_close``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import PurePosixPath

from django.db import transaction
from django.utils import timezone

from contactcenter import facts as te
from contactcenter import hooks, publish
from contactcenter.enums import CallSource
from contactcenter.errors import ApplicationError
from contactcenter.models import (
    Agent,
    Call,
    User,
    Voicemail,
    VoicemailMedia,
    VoicemailStatus,
)
from contactcenter.services import audit
from contactcenter.services.callbacks import callback_schedule
from contactcenter.services.telephony.audited import pbx_actor

logger = logging.getLogger(__name__)

_FIELDS = [
    "mailbox",
    "left_at",
    "duration_seconds",
    "pbx_filename",
    "recording_sid",
    "format",
    "media",
    "failure",
    "transcription",
    "transcription_status",
    "updated_at",
]


def _merge(vm: Voicemail, fact: te.VoicemailLeft) -> bool:
    """What ``fact`` adds to ``vm``; True when something changed. Commutative: facts
    only fill in what they know, so their order does not matter."""
    before = [getattr(vm, f) for f in _FIELDS]
    vm.left_at = min(vm.left_at, fact.at)
    if fact.mailbox:
        vm.mailbox = fact.mailbox[:200]
    if fact.filename and not vm.storage_key:
        vm.pbx_filename = fact.filename[:500]
        if vm.source == CallSource.ASTERISK:
            vm.format = PurePosixPath(fact.filename).suffix.lstrip(".")[:16]
    if fact.recording_sid:
        vm.recording_sid = fact.recording_sid[:64]
    if fact.duration_seconds is not None:
        vm.duration_seconds = fact.duration_seconds
    if fact.transcription is not None:
        vm.transcription = fact.transcription
    if fact.transcription_status:
        vm.transcription_status = fact.transcription_status[:16]
    if fact.failed and vm.media == VoicemailMedia.WAITING:
        vm.media = VoicemailMedia.FAILED
        vm.failure = fact.failed[:200]
    return before != [getattr(vm, f) for f in _FIELDS]


def voicemail_facts_apply(
    *, organization_id: int, connection_key: str, facts: Sequence[te.VoicemailLeft]
) -> set[int]:
    """Store what the PBX said of voicemails left; the ids of the rows that changed.

    Must run in the caller's transaction (``telephony_apply``'s). A message whose call we
    never saw is logged and skipped. Audits ``voicemail.create`` / ``voicemail.update``
    (the PBX of ``connection_key`` as the actor); after commit, the queue's agents are
    told (``publish.voicemails_changed``) and its figures refresh.
    """
    if not facts:
        return set()
    calls = {
        (c.source, c.external_id): c
        for c in Call.objects.for_organization(organization_id).filter(
            source__in={f.source for f in facts}, external_id__in={f.call_key for f in facts}
        )
    }
    rows = {
        (v.source, v.leg_id): v
        for v in Voicemail.objects.for_organization(organization_id)
        .filter(source__in={f.source for f in facts}, leg_id__in={f.leg_id for f in facts})
        .select_for_update()
    }
    created: set[int] = set()
    touched: dict[int, Voicemail] = {}
    for fact in facts:
        call = calls.get((fact.source, fact.call_key))
        if call is None or not fact.leg_id:
            logger.warning("voicemail of unknown call %s (%s); skipped", fact.call_key, fact.source)
            continue
        vm = rows.get((fact.source, fact.leg_id))
        if vm is None:
            vm = rows[(fact.source, fact.leg_id)] = Voicemail(
                organization_id=organization_id,
                source=fact.source,
                leg_id=fact.leg_id[:128],
                call=call,
                queue_id=call.queue_id,
                caller_number=call.caller_number,
                caller_name=call.caller_name[:200],
                left_at=fact.at,
            )
            created.add(id(vm))
        if _merge(vm, fact) or id(vm) in created:
            touched[id(vm)] = vm
    for vm in touched.values():
        vm.save()
    audit.record_many(
        [
            audit.Entry(
                action="voicemail.create" if id(vm) in created else "voicemail.update",
                organization_id=organization_id,
                object_type="contactcenter.voicemail",
                object_id=vm.pk,
                object_label=_label(vm),
                changes={"media": vm.media, "file": vm.pbx_filename},
            )
            for vm in touched.values()
        ],
        actor=pbx_actor(connection_key),
    )
    changed = list(touched.values())
    _announce(organization_id, changed)
    return {vm.pk for vm in changed}


def _label(vm: Voicemail) -> str:
    # Kind and id, as for every row with a personal field: never the caller's number.
    return audit.label_of(vm)


def _announce(organization_id: int, voicemails: Sequence[Voicemail]) -> None:
    """After commit: the voicemails to their queues' agents, and those queues' figures."""
    if not voicemails:
        return
    publish.voicemails_changed(
        organization_id=organization_id, voicemail_ids={vm.pk for vm in voicemails}
    )
    queues = {vm.queue_id for vm in voicemails if vm.queue_id is not None}
    if queues:
        publish.calls_changed(organization_id=organization_id, queue_ids=queues)


def voicemail_claim(*, voicemail: Voicemail, agent: Agent) -> Voicemail:
    """``agent`` takes ``voicemail`` (the caller checked the agent may see it).

    Exactly one agent wins: the claim is one ``UPDATE ... WHERE status = 'new'``, so of
    two agents claiming at once the second changes nothing and is refused
    (``already_claimed``, 409). Claiming one's own claim again is a no-op. Audited
    (``voicemail.claim``); the queue's agents see it taken.
    """
    now = timezone.now()
    with transaction.atomic():
        won = (
            Voicemail.objects.for_organization(voicemail.organization_id)
            .filter(pk=voicemail.pk, status=VoicemailStatus.NEW)
            .update(
                status=VoicemailStatus.CLAIMED, claimed_by=agent, claimed_at=now, updated_at=now
            )
        )
        current = Voicemail.objects.get(pk=voicemail.pk)
        if not won:
            if current.status == VoicemailStatus.CLAIMED and current.claimed_by_id == agent.pk:
                return current
            raise ApplicationError(
                "Someone else has taken this voicemail."
                if current.status == VoicemailStatus.CLAIMED
                else "This voicemail is already dealt with.",
                code="already_claimed",
                status=409,
            )
        audit.record(
            action="voicemail.claim",
            organization_id=current.organization_id,
            obj=current,
            object_label=_label(current),
            changes={"status": current.status, "claimed_by": agent.pk},
        )
        _announce(current.organization_id, [current])
    return current


def _locked_for_work(voicemail: Voicemail, agent: Agent | None) -> Voicemail:
    """The row, locked, when the person may turn it into work: its claimer, or a
    supervisor (``agent`` None) whatever its state short of done."""
    vm = Voicemail.objects.select_for_update().get(pk=voicemail.pk)
    if vm.status == VoicemailStatus.DONE:
        raise ApplicationError(
            "This voicemail is already dealt with.", code="voicemail_done", status=409
        )
    if agent is not None and (vm.status != VoicemailStatus.CLAIMED or vm.claimed_by_id != agent.pk):
        raise ApplicationError(
            "Claim this voicemail first.", code="voicemail_not_claimed", status=409
        )
    return vm


def _finish(vm: Voicemail, action: str, **details: object) -> Voicemail:
    vm.status = VoicemailStatus.DONE
    vm.done_at = timezone.now()
    vm.save(update_fields=["status", "done_at", "callback", "case", "updated_at"])
    audit.record(
        action=action,
        organization_id=vm.organization_id,
        obj=vm,
        object_label=_label(vm),
        changes={"status": vm.status},
        details=details,
    )
    _announce(vm.organization_id, [vm])
    return vm


@transaction.atomic
def voicemail_to_callback(*, voicemail: Voicemail, agent: Agent | None) -> Voicemail:
    """Call the caller back: a callback in the voicemail's queue, keeping the caller's
    place in line (contactcenter/services/callbacks.py); the voicemail is done.
    ``agent``: the agent acting (who must have claimed it), None for a supervisor."""
    vm = _locked_for_work(voicemail, agent)
    queue = vm.queue
    if queue is None:
        raise ApplicationError(
            "This voicemail has no queue to call back from.", code="no_queue", status=409
        )
    if not vm.caller_number:
        raise ApplicationError(
            "The caller's number is unknown.", code="no_number", field="number", status=409
        )
    vm.callback = callback_schedule(
        queue=queue,
        number=vm.caller_number,
        call=vm.call,
        note=f"voicemail {vm.pk}",
        asked_while_waiting=False,  # the call ended in voicemail: it stays as it ended
    )
    return _finish(vm, "voicemail.callback", callback=vm.callback.pk)


@transaction.atomic
def voicemail_to_case(
    *, voicemail: Voicemail, agent: Agent | None, user: User | None, title: str = ""
) -> Voicemail:
    """Open a case from the voicemail (crm answers ``hooks.voicemail_case_requested``:
    contactcenter does not import crm); the voicemail is done. ``agent`` as for
    ``voicemail_to_callback``; ``user`` is who opens the case."""
    vm = _locked_for_work(voicemail, agent)
    title = (title or "").strip() or f"Voicemail from {vm.caller_number or 'an unknown caller'}"
    answers = [
        case_id
        for _, case_id in hooks.voicemail_case_requested.send(
            sender=Voicemail, voicemail=vm, user=user, agent=agent, title=title[:300]
        )
        if case_id is not None
    ]
    if not answers:
        raise ApplicationError("Cases are not available.", code="no_cases", status=409)
    vm.case_id = answers[0]
    return _finish(vm, "voicemail.case", case=vm.case_id)


@transaction.atomic
def voicemail_close(*, voicemail: Voicemail, agent: Agent | None) -> Voicemail:
    """Done with it, nothing to follow up (a wrong number, a message already answered)."""
    return _finish(_locked_for_work(voicemail, agent), "voicemail.close")
