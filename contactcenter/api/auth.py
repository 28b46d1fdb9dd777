"""JWT endpoints (simplejwt): sign in, refresh (rotating), sign out.

Signing in goes through ``contactcenter.backends`` like every other sign-in (per-account
and per-address limits, logged); the serializer checks the same limits first only to
answer 429 with the wait instead of a plain 401. On top, DRF's scoped throttle bounds
each address to ``AUTH_THROTTLE_RATE`` requests on these endpoints.

Tokens carry the user's auth epoch (contactcenter.services.sessions): a refresh token
issued before a revocation is refused, and one used twice (it was rotated, or signed
out) revokes all the user's sessions, since only a copy can be used after rotation.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.exceptions import (
    AuthenticationFailed,
    InvalidToken,
    TokenBackendError,
    TokenError,
)
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from contactcenter.models import User
from contactcenter.services.sessions import (
    AUTH_EPOCH_CLAIM,
    REFRESH_REUSED,
    SIGNED_OUT,
    user_revoke_sessions,
)
from contactcenter.services.signin import client_address, signin_wait, too_many_message


def _revoked() -> AuthenticationFailed:
    return AuthenticationFailed("The token was revoked: sign in again.", code="token_revoked")


class TokenObtainSerializer(jwt_serializers.TokenObtainPairSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        wait = signin_wait(
            username=attrs[self.username_field], address=client_address(self.context["request"])
        )
        if wait:
            raise Throttled(wait=wait, detail=too_many_message(wait))
        return super().validate(attrs)

    @classmethod
    def get_token(cls, user: Any) -> Any:
        token = super().get_token(user)
        token[AUTH_EPOCH_CLAIM] = user.auth_epoch
        return token


def _token_user(token: RefreshToken) -> User:
    """The token's user, while the token is still theirs (same epoch, still active)."""
    user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM)).first()
    if user is None or not user.is_active or token.get(AUTH_EPOCH_CLAIM, 0) != user.auth_epoch:
        raise _revoked()
    return user


def _reused_by(raw: str) -> User | None:
    """The user of a genuine, unexpired refresh token that was already used up."""
    try:
        payload = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]
    except TokenBackendError:
        return None
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != "refresh":
        return None
    if not BlacklistedToken.objects.filter(token__jti=payload.get("jti")).exists():
        return None
    user_id = payload.get(api_settings.USER_ID_CLAIM)
    return User.objects.filter(pk=user_id).first() if user_id is not None else None


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    refresh = serializers.CharField()
    access = serializers.CharField(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            refresh = RefreshToken(attrs["refresh"])
        except TokenError as exc:
            reuser = _reused_by(attrs["refresh"])
            if reuser is not None:
                user_revoke_sessions(user=reuser, reason=REFRESH_REUSED)
            raise InvalidToken(exc.args[0]) from exc
        user = _token_user(refresh)
        with transaction.atomic():
            # get_or_create on a unique row: of two requests racing with one token,
            # exactly one creates the blacklist entry and gets the next token.
            created: bool = refresh.blacklist()[1]  # type: ignore[index]
        if not created:
            user_revoke_sessions(user=user, reason=REFRESH_REUSED)
            raise InvalidToken("Token is blacklisted")
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        refresh.outstand()
        return {"access": str(refresh.access_token), "refresh": str(refresh)}


class TokenObtainView(TokenObtainPairView):
    serializer_class = TokenObtainSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class TokenRefreshThrottledView(TokenRefreshView):
    """A refresh token works once; the answer carries the next one (``refresh``)."""

    serializer_class = TokenRefreshSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class LogoutSerializer(serializers.Serializer[Any]):
    refresh = serializers.CharField(help_text="The refresh token to end.")
    all = serializers.BooleanField(
        default=False,
        help_text="End every token, session and socket of the user, not only this token.",
    )


class LogoutView(APIView):
    """Sign out: the refresh token is blacklisted; with ``all``, every token, session and
    socket of its user is revoked. The refresh token is the credential (the access
    token may have expired), so this needs no other authentication."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def get_authenticate_header(self, request: Request) -> str:
        # A refused token is a 401 with its challenge, as on simplejwt's own views (DRF
        # turns a 401 into a 403 on a view that names no authenticator).
        return f'{api_settings.AUTH_HEADER_TYPES[0]} realm="api"'

    @extend_schema(request=LogoutSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = LogoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            refresh = RefreshToken(data.validated_data["refresh"])
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        user = _token_user(refresh)
        if data.validated_data["all"]:
            user_revoke_sessions(user=user, reason=SIGNED_OUT)
        else:
            refresh.blacklist()
        return Response(status=status.HTTP_204_NO_CONTENT)
