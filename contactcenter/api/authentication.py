"""REST authentication: simplejwt's, refusing a token issued before a revocation."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

from contactcenter.services.sessions import AUTH_EPOCH_CLAIM


class JWTAuthentication(authentication.JWTAuthentication):
    """The epoch check costs nothing more: simplejwt reads the user row anyway. A token
    without the claim (issued before epochs existed) counts as epoch 0, which the first
    revocation of that user ends."""

    def get_user(self, validated_token: Token) -> Any:
        user = super().get_user(validated_token)
        if validated_token.get(AUTH_EPOCH_CLAIM, 0) != getattr(user, "auth_epoch", None):
            raise AuthenticationFailed(
                "The token was revoked: sign in again.", code="token_revoked"
            )
        return user
