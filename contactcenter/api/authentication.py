"""REST authentication: simplejwt's, refusing a token issued before a revocation."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

from config.db import roundtrips
from contactcenter.models import User
from contactcenter.services.sessions import AUTH_EPOCH_CLAIM


def _with_membership() -> QuerySet[User]:
    return User.objects.select_related("membership__organization", "agent")


# Every REST request reads its user this way: built and compiled once per process, then
# only bound to the id (building and compiling the query cost more than running it).
_USER = roundtrips.Shape(lambda user_id: _with_membership().filter(pk=user_id))


_BIGINT = range(-(2**63), 2**63)


def _user_id(value: Any) -> int | None:
    """The id as the ORM would take it (``int(value)``), None when it would not."""
    try:
        user_id = int(value)
    except (TypeError, ValueError):
        return None
    return user_id if user_id in _BIGINT else None


class _Users:
    """What simplejwt's ``get_user`` reads its user through (``objects.get(id=...)``,
    ``DoesNotExist``): the user with their membership and its organization in the same
    query, which ``membership_for_user`` then takes instead of a query of its own (one
    round trip less on every REST request: docs/benchmarks.md, REST); their agent
    profile too, for ``agent_for_membership`` (an agent's lists). Read as ``_USER``
    when the id is a number of the column's range (simplejwt writes it as a string);
    through the ORM otherwise, so any other claim fails exactly as it did."""

    DoesNotExist = User.DoesNotExist

    @property
    def objects(self) -> _Users:
        return self

    def get(self, **lookup: Any) -> User:
        ((field, value),) = lookup.items()
        user_id = _user_id(value) if field == "id" else None
        if user_id is None:
            return _with_membership().get(**lookup)
        found = _USER.rows(user_id)
        if not found:
            raise User.DoesNotExist
        user: User = found[0]
        return user


class JWTAuthentication(authentication.JWTAuthentication):
    """The epoch check costs nothing more: simplejwt reads the user row anyway. A token
    without the claim (issued before epochs existed) counts as epoch 0, which the first
    revocation of that user ends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _Users()  # type: ignore[assignment]

    def get_user(self, validated_token: Token) -> Any:
        user = super().get_user(validated_token)
        if validated_token.get(AUTH_EPOCH_CLAIM, 0) != getattr(user, "auth_epoch", None):
            raise AuthenticationFailed(
                "The token was revoked: sign in again.", code="token_revoked"
            )
        return user
