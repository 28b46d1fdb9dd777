"""The one authentication backend: Django's, behind the sign-in limits.

Every way to sign in with a password calls ``django.contrib.auth.authenticate``: the
REST token (simplejwt), the console's /login/ page and the admin's login. So this is
where the limits of ``contactcenter.services.signin`` are enforced and the attempts
counted and logged, once for all of them. The forms and the token serializer check the
same limits first only to say so clearly (a 429 and its wait, not "wrong password").
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from contactcenter.models import User
from contactcenter.services.signin import (
    client_address,
    signin_failed,
    signin_refused,
    signin_succeeded,
    signin_wait,
)


class SignInLimitedBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not isinstance(username, str) or password is None:
            return None
        address = client_address(request)
        path = request.path if request is not None else ""
        wait = signin_wait(username=username, address=address)
        if wait:
            signin_refused(username=username, address=address, path=path, wait=wait)
            # Stops authenticate() here: the password is not even checked while locked.
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            signin_failed(username=username, address=address, path=path)
            return None
        signin_succeeded(user=user, username=username, address=address, path=path)
        return user
