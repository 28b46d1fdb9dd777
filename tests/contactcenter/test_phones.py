from __future__ import annotations

import pytest

from contactcenter.errors import ApplicationError
from contactcenter.phones import phone_normalize, phone_try_normalize


@pytest.mark.parametrize(
    "raw",
    [
        "+1 555-765-4321",
        "(555) 765-4321",
        "555.765.4321",
        "001 555 765 4321",
        "011 1 555 765 4321",
        "1 555 765 4321",
        "+15557654321",
        "tel:+1-555-765-4321",
        "555-765-4321 x12",
    ],
)
def test_us_forms_are_one_number(raw: str) -> None:
    assert phone_normalize(raw, region="US") == "+15557654321"


@pytest.mark.parametrize("raw", ["+44 7700 900123", "07700 900123", "0044 7700 900123"])
def test_gb_forms_are_one_number(raw: str) -> None:
    assert phone_normalize(raw, region="GB") == "+447700900123"


def test_fictional_555_numbers_are_accepted() -> None:
    # is_valid_number rejects these; the demo PBX and the tests use them.
    assert phone_normalize("+15551230000", region="US") == "+15551230000"
    assert phone_normalize("+15557654321", region="GB") == "+15557654321"


def test_region_decides_national_format() -> None:
    assert phone_normalize("07700 900123", region="GB") == "+447700900123"
    assert phone_try_normalize("07700 900123", region="US") is None


@pytest.mark.parametrize(
    "raw", ["", "   ", "abc", "123", "765-4321", "+999 123", "+1555765432100000", "00"]
)
def test_not_a_number(raw: str) -> None:
    assert phone_try_normalize(raw, region="US") is None
    with pytest.raises(ApplicationError) as excinfo:
        phone_normalize(raw, region="US", field="phones.0.number")
    assert excinfo.value.field == "phones.0.number"
    assert excinfo.value.status == 400


def test_none_is_not_a_number() -> None:
    assert phone_try_normalize(None, region="US") is None
