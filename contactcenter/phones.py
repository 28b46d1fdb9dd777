"""Phone numbers in one form: E.164, so any written form of a number finds the same contact.

Numbers written in national format ("(555) 765-4321", "07700 900123") are read in the
organization's ``default_region``. The calls' numbers and the CRM's contacts both use
this module, so it sits in contactcenter, which crm builds on.

Why ``is_possible_number`` and not ``is_valid_number``: validity checks the number
against the numbering plan's allocated ranges, and rejects fictional ranges such as
North America's 555 numbers, which demos, tests and staging PBXs use
(+15557654321, +15551230000). Allocation also changes over time: a contact's number
must not become unsavable when the metadata moves. Possibility (the right length for
the country) is what normalisation needs to be unambiguous, so that is what we check.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from contactcenter.errors import ApplicationError

# Most of the world dials out with "00". Callers and CSV imports in a region that uses
# another prefix (North America's "011") still write "001 555 ...", so we accept it.
_ITU_INTERNATIONAL_PREFIX = re.compile(r"^\s*00")


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    # LOCAL_ONLY (a seven-digit number without its area code) is not one number.
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return None
    return number


def phone_try_normalize(raw: str | None, *, region: str) -> str | None:
    """The E.164 form of ``raw``, or None when it is not a possible phone number.

    An extension ("x12") is dropped: E.164 has none, and caller ID never carries one,
    so keeping it would stop the number from matching an incoming call.
    """
    if not raw or not raw.strip():
        return None
    return _normalized(raw, region)


# A pure function of its arguments, and parsing is costly (docs/benchmarks.md: the
# figures the code's comments rest on): the bridge asks for the same caller's number
# once per agent a call rings.
@functools.lru_cache(maxsize=4096)
def _normalized(raw: str, region: str) -> str | None:
    number = _parse(raw, region)
    if number is None and _ITU_INTERNATIONAL_PREFIX.match(raw):
        number = _parse(_ITU_INTERNATIONAL_PREFIX.sub("+", raw, count=1), region)
    if number is None:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_normalize(raw: str | None, *, region: str, field: str = "phone") -> str:
    """The E.164 form of ``raw``; ApplicationError on ``field`` when it is not a number."""
    normalized = phone_try_normalize(raw, region=region)
    if normalized is None:
        if not raw or not raw.strip():
            raise ApplicationError("A phone number is required.", code="required", field=field)
        raise ApplicationError(f"{raw!r} is not a phone number.", code="invalid_phone", field=field)
    return normalized
