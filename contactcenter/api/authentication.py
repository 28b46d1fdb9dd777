"""REST authentication: simplejwt's, refusing a token issued before a revocation."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

from contactcenter.models import User
from contactcenter.services.sessions import AUTH_EPOCH_CLAIM


class _UsersWithMembership:
    """What simplejwt's ``get_user`` reads its user through (``user_model.objects.get``,
    ``user_model.DoesNotExist``): the user with their membership and its organization in
    the same query, which ``membership_for_user`` then takes instead of a query of its
    own (one round trip less on every REST request: docs/benchmarks.md, REST); their
    agent profile too, for ``agent_for_membership`` (an agent's lists)."""

    DoesNotExist = User.DoesNotExist

    @property
    def objects(self) -> QuerySet[User]:
        return User.objects.select_related("membership__organization", "agent")


class JWTAuthentication(authentication.JWTAuthentication):
    """The epoch check costs nothing more: simplejwt reads the user row anyway. A token
    without the claim (issued before epochs existed) counts as epoch 0, which the first
    revocation of that user ends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithMembership()  # type: ignore[assignment]

    def get_user(self, validated_token: Token) -> Any:
        user = super().get_user(validated_token)
        if validated_token.get(AUTH_EPOCH_CLAIM, 0) != getattr(user, "auth_epoch", None):
            raise AuthenticationFailed(
                "The token was revoked: sign in again.", code="token_revoked"
            )
        return user
