"""Contacts and their phone numbers: the only code that writes them."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from django.db import transaction

from contactcenter.errors import ApplicationError
from contactcenter.models import Organization
from contactcenter.phones import phone_normalize
from contactcenter.services import audit
from crm.enums import PhoneLabel
from crm.models import Contact, ContactPhone
from crm.services._common import UNSET, Unset


class PhoneInput(TypedDict):
    number: str
    label: NotRequired[str]


def _clean_tags(tags: Any) -> list[str]:
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ApplicationError("Tags must be a list of strings.", field="tags")
    # Tags are matched exactly by the filter, so stray spaces and repeats would only hide rows.
    cleaned = [tag.strip() for tag in tags]
    return list(dict.fromkeys(tag for tag in cleaned if tag))


def _clean_custom_fields(custom_fields: Any) -> dict[str, Any]:
    if not isinstance(custom_fields, dict) or not all(isinstance(k, str) for k in custom_fields):
        raise ApplicationError("Custom fields must be an object.", field="custom_fields")
    return custom_fields


def _clean_phones(phones: list[PhoneInput], *, region: str) -> dict[str, str]:
    """E.164 number -> label, in input order; a number written twice is kept once (first)."""
    cleaned: dict[str, str] = {}
    for index, phone in enumerate(phones):
        number = phone_normalize(phone.get("number"), region=region, field=f"phones.{index}.number")
        label = phone.get("label") or PhoneLabel.MOBILE
        if label not in PhoneLabel.values:
            raise ApplicationError(
                f'"{label}" is not a valid choice.',
                code="invalid_choice",
                field=f"phones.{index}.label",
            )
        cleaned.setdefault(number, label)
    return cleaned


def _sync_phones(contact: Contact, phones: dict[str, str]) -> None:
    """Make the contact's phones exactly ``phones``, keeping the rows that stay (their ids)."""
    existing = {phone.number: phone for phone in contact.phones.all()}
    stale = [phone.pk for number, phone in existing.items() if number not in phones]
    if stale:
        ContactPhone.objects.filter(pk__in=stale).delete()
    for number, label in phones.items():
        current = existing.get(number)
        if current is not None and current.label != label:
            current.label = label
            current.save(update_fields=["label"])
    ContactPhone.objects.bulk_create(
        ContactPhone(
            organization_id=contact.organization_id, contact=contact, number=number, label=label
        )
        for number, label in phones.items()
        if number not in existing
    )


def _require_something_to_know_them_by(contact: Contact, *, has_phone: bool) -> None:
    """A contact with no name, phone or e-mail cannot be found nor told apart (it showed
    as "Contact #7"): refused, naming what would do."""
    texts = (contact.first_name, contact.last_name, contact.company, contact.email)
    if not has_phone and not any(texts):
        raise ApplicationError(
            "A contact needs a name (first_name, last_name or company), a phone number "
            "(phones) or an e-mail address (email).",
            code="required",
        )


def _full_clean(contact: Contact) -> None:
    # Lengths and the e-mail format; the organization was set by us, not by the caller.
    contact.full_clean(exclude=["organization"], validate_unique=False, validate_constraints=False)


@transaction.atomic
def contact_create(
    *,
    organization: Organization,
    first_name: str = "",
    last_name: str = "",
    company: str = "",
    email: str = "",
    tags: list[str] | None = None,
    custom_fields: dict[str, Any] | None = None,
    phones: list[PhoneInput] | None = None,
) -> Contact:
    contact = Contact(
        organization=organization,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        company=company.strip(),
        email=email.strip(),
        tags=_clean_tags(tags or []),
        custom_fields=_clean_custom_fields(custom_fields or {}),
    )
    cleaned_phones = _clean_phones(phones or [], region=organization.default_region)
    _require_something_to_know_them_by(contact, has_phone=bool(cleaned_phones))
    _full_clean(contact)
    contact.save()
    _sync_phones(contact, cleaned_phones)
    audit.created(contact, details={"phones": len(cleaned_phones)})
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    first_name: str | Unset = UNSET,
    last_name: str | Unset = UNSET,
    company: str | Unset = UNSET,
    email: str | Unset = UNSET,
    tags: list[str] | Unset = UNSET,
    custom_fields: dict[str, Any] | Unset = UNSET,
    phones: list[PhoneInput] | Unset = UNSET,
) -> Contact:
    """Change the fields passed; ``phones``, when passed, replaces the whole list.

    Returns a fresh instance (the row is re-read under a lock, so concurrent phone
    edits of one contact cannot collide on the unique number).
    """
    contact = Contact.objects.select_for_update().select_related("organization").get(pk=contact.pk)
    before = audit.snapshot(contact)
    phones_before = sorted(contact.phones.values_list("number", flat=True))
    texts = {"first_name": first_name, "last_name": last_name, "company": company, "email": email}
    for name, value in texts.items():
        if not isinstance(value, Unset):
            setattr(contact, name, value.strip())
    if not isinstance(tags, Unset):
        contact.tags = _clean_tags(tags)
    if not isinstance(custom_fields, Unset):
        contact.custom_fields = _clean_custom_fields(custom_fields)
    cleaned_phones = None
    if not isinstance(phones, Unset):
        cleaned_phones = _clean_phones(phones, region=contact.organization.default_region)
    has_phone = bool(cleaned_phones) if cleaned_phones is not None else contact.phones.exists()
    _require_something_to_know_them_by(contact, has_phone=has_phone)
    _full_clean(contact)
    contact.save()
    if cleaned_phones is not None:
        _sync_phones(contact, cleaned_phones)
    phones_changed = cleaned_phones is not None and sorted(cleaned_phones) != phones_before
    audit.updated(contact, before, details={"phones_changed": True} if phones_changed else None)
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    """Delete a contact and its phones; its cases and calls keep existing, unlinked."""
    audit.deleted(contact)
    contact.delete()
