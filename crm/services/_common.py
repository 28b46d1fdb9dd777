"""Small pieces the crm services share."""

from __future__ import annotations

import enum
from typing import Any

from contactcenter.errors import ApplicationError


class Unset(enum.Enum):
    """Marks a keyword the caller did not pass, so that None can mean "clear it"."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


def ensure_same_organization(obj: Any, *, organization_id: int, field: str) -> None:
    """Refuse a related row of another tenant, worded as if it did not exist.

    The API's TenantRelatedField already refuses these; services check again because
    they are also called from tasks, the bridge and the admin.
    """
    if obj is not None and obj.organization_id != organization_id:
        raise ApplicationError(
            f'Invalid pk "{obj.pk}" - object does not exist.', code="does_not_exist", field=field
        )
