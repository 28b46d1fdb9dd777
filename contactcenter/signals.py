"""What Django itself does to a user that must end their sessions (docs: services.sessions).

Our own code calls ``user_revoke_sessions`` from its services. Two changes come from
Django's code, not ours, so they are caught here:

- a sign-out (``user_logged_out``: the /logout/ page, the admin's): all the user's
  sessions, tokens and sockets end, not only this browser's session;
- a password set by Django's forms or commands (the admin's password form,
  ``changepassword``, ``PasswordChangeForm``): ``set_password`` leaves the raw password
  on the instance until it is saved, which is how Django itself tells a change from
  the hash upgrade ``check_password`` saves; a password made unusable counts too.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save

from contactcenter.models import User
from contactcenter.services.sessions import PASSWORD_CHANGED, SIGNED_OUT, user_revoke_sessions

_CHANGED = "_password_changed"


def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if isinstance(user, User):
        user_revoke_sessions(user=user, reason=SIGNED_OUT)


def _before_save(sender: Any, instance: User, raw: bool, update_fields: Any, **kwargs: Any) -> None:
    if raw or instance._state.adding or (update_fields and "password" not in update_fields):
        return
    if instance._password is None and instance.has_usable_password():  # type: ignore[attr-defined]
        return  # not set_password(): untouched, or a hash upgrade
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    setattr(instance, _CHANGED, stored is not None and stored != instance.password)


def _after_save(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    if not created and instance.__dict__.pop(_CHANGED, False):
        user_revoke_sessions(user=instance, reason=PASSWORD_CHANGED)


def connect() -> None:
    user_logged_out.connect(_signed_out, dispatch_uid="contactcenter.signed_out")
    pre_save.connect(_before_save, sender=User, dispatch_uid="contactcenter.password_before")
    post_save.connect(_after_save, sender=User, dispatch_uid="contactcenter.password_after")
