"""A case opened from a voicemail (contactcenter's ``voicemail_case_requested`` hook)."""

from __future__ import annotations

from contactcenter.errors import ApplicationError
from contactcenter.models import Agent, Organization, User, Voicemail
from crm.selectors.contacts import contact_lookup_by_phone
from crm.services.cases import case_create


def case_from_voicemail(
    *, voicemail: Voicemail, user: User | None, agent: Agent | None, title: str
) -> int:
    """Open a case for the caller who left ``voicemail``: their contact when one has the
    number, the voicemail's call as its source, the transcription (when there is one) as
    its description, assigned to ``agent``. Returns the case's id. In the caller's
    transaction (the voicemail's)."""
    organization = Organization.objects.get(pk=voicemail.organization_id)
    contact = None
    if voicemail.caller_number:
        try:
            contact = contact_lookup_by_phone(
                organization=organization, phone=voicemail.caller_number
            ).first()
        except ApplicationError:
            contact = None  # a withheld or garbled number: a case without a contact
    lines = [f"Voicemail left {voicemail.left_at:%Y-%m-%d %H:%M} UTC"]
    if voicemail.caller_number:
        lines.append(f"by {voicemail.caller_number}")
    description = " ".join(lines) + "."
    if voicemail.transcription:
        description += f"\n\n{voicemail.transcription}"
    case = case_create(
        organization=organization,
        actor=user,
        title=title,
        description=description,
        assigned_agent=agent,
        contact=contact,
        source_call=voicemail.call,
    )
    return case.pk
