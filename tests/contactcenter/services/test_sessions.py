"""What a user signed in with ends when they sign out or their access changes
(contactcenter/services/sessions.py): refresh tokens, access tokens, sessions.

The sockets' side is in tests/realtime/test_revocation.py (in process) and
tests/realtime/test_revocation_processes.py (real servers).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from rest_framework.test import APIClient

from contactcenter.models import User
from contactcenter.services.organizations import agent_update, member_update
from tests.conftest import Floor
from tests.contactcenter.signed import Signed, api
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-pass-8h2j"


def test_a_refresh_token_works_once(floor_a: Floor) -> None:
    signed = Signed(floor_a.agent_member)
    first = api().post("/api/v1/auth/token/refresh/", {"refresh": signed.refresh})
    assert first.status_code == 200, first.content
    rotated = first.json()["refresh"]
    assert rotated != signed.refresh and first.json()["access"]
    # The probe used one refresh token three times: the second use is refused.
    again = api().post("/api/v1/auth/token/refresh/", {"refresh": signed.refresh})
    assert again.status_code == 401
    assert again.json()["errors"][0]["code"] == "token_not_valid"
    # Only a copy can be used after rotation: the whole family is revoked with it.
    later = api().post("/api/v1/auth/token/refresh/", {"refresh": rotated})
    assert later.status_code == 401
    assert signed.api() == 401


def test_the_rotated_token_goes_on(floor_a: Floor) -> None:
    signed = Signed(floor_a.agent_member)
    token = signed.refresh
    for _ in range(3):
        answer = api().post("/api/v1/auth/token/refresh/", {"refresh": token})
        assert answer.status_code == 200, answer.content
        token = answer.json()["refresh"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access']}")
    assert client.get("/api/v1/me/").status_code == 200


def test_a_password_changed_in_the_admin_ends_tokens_and_other_sessions(floor_a: Floor) -> None:
    signed = Signed(floor_a.agent_member)
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    admin = Client()
    admin.force_login(root)
    answer = admin.post(
        f"/admin/contactcenter/user/{signed.user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert answer.status_code == 302, answer.content
    signed.assert_all_ended()
    assert admin.get("/admin/").status_code == 200  # the admin's own session is not touched
    fresh = api().post(
        "/api/v1/auth/token/", {"username": signed.user.username, "password": NEW_PASSWORD}
    )
    assert fresh.status_code == 200


def test_changing_ones_own_password_keeps_only_this_session(floor_a: Floor) -> None:
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    here, elsewhere = Client(), Client()
    here.force_login(root)
    elsewhere.force_login(root)
    answer = here.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert answer.status_code == 302, answer.content
    assert here.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302  # to the admin's login


def test_a_password_made_unusable_ends_the_sessions(floor_a: Floor) -> None:
    signed = Signed(floor_a.agent_member)
    user = User.objects.get(pk=signed.user.pk)
    user.set_unusable_password()
    user.save()
    signed.assert_all_ended()


def test_a_password_hash_upgrade_is_not_a_change(floor_a: Floor, settings: Any) -> None:
    user = floor_a.agent_member.user
    # Stored with another hasher than the preferred one: the next sign-in rehashes it.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    signed = Signed(floor_a.agent_member)  # signing in rehashed it to MD5
    assert User.objects.get(pk=user.pk).password.startswith("md5$")
    assert Signed(floor_a.agent_member).api() == 200
    signed.assert_all_hold()


def test_deactivating_a_member_ends_everything(floor_a: Floor) -> None:
    signed = Signed(floor_a.agent_member)
    member_update(membership=floor_a.agent_member, is_active=False)
    signed.assert_all_ended()


def test_a_role_change_ends_everything(floor_a: Floor) -> None:
    signed = Signed(floor_a.supervisor)
    member_update(membership=floor_a.supervisor, role="agent")
    signed.assert_all_ended()
    other = Signed(floor_a.admin)
    member_update(membership=floor_a.supervisor, role="supervisor")  # not the admin's
    other.assert_all_hold()


def test_deactivating_or_moving_an_agent_profile_ends_its_users_sessions(floor_a: Floor) -> None:
    signed = Signed(floor_a.agent_member)
    agent_update(agent=floor_a.agent, is_active=False)
    signed.assert_all_ended()
    again = Signed(floor_a.agent_member)
    agent_update(agent=floor_a.agent, is_active=True)  # nothing taken away
    again.assert_all_hold()
    agent_update(agent=floor_a.agent, user=None)
    again.assert_all_ended()


def test_the_api_routes_role_and_activation_changes_through_the_service(floor_a: Floor) -> None:
    signed = Signed(floor_a.agent_member)
    admin = Signed(floor_a.admin)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin.access}")
    answer = client.patch(f"/api/v1/members/{floor_a.agent_member.pk}/", {"role": "supervisor"})
    assert answer.status_code == 200, answer.content
    signed.assert_all_ended()


def test_the_admin_routes_role_activation_and_deletion_through_the_service(
    floor_a: Floor,
) -> None:
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    admin = Client()
    admin.force_login(root)
    supervisor = Signed(floor_a.supervisor)
    membership = floor_a.supervisor
    answer = admin.post(
        f"/admin/contactcenter/membership/{membership.pk}/change/",
        {"user": membership.user_id, "organization": membership.organization_id, "role": "agent"},
    )
    assert answer.status_code == 302, answer.content
    supervisor.assert_all_ended()

    agent = Signed(floor_a.agent_member)
    answer = admin.post(
        f"/admin/contactcenter/membership/{floor_a.agent_member.pk}/delete/", {"post": "yes"}
    )
    assert answer.status_code == 302, answer.content
    agent.assert_all_ended()


def test_rest_sign_out_ends_the_token_or_everything(floor_a: Floor) -> None:
    signed = Signed(floor_a.agent_member)
    other_device = Signed(floor_a.agent_member)
    answer = api().post("/api/v1/auth/logout/", {"refresh": signed.refresh})
    assert answer.status_code == 204, answer.content
    other_device.assert_all_hold()
    assert other_device.refreshes() == 200
    answer = api().post("/api/v1/auth/logout/", {"refresh": signed.refresh, "all": True})
    assert answer.status_code == 401  # signed out already: not a credential any more

    third = Signed(floor_a.agent_member)
    answer = api().post("/api/v1/auth/logout/", {"refresh": third.refresh, "all": True})
    assert answer.status_code == 204, answer.content
    third.assert_all_ended()
    assert other_device.api() == 401


def test_a_signed_out_refresh_token_used_again_revokes_everything(floor_a: Floor) -> None:
    """Only a copy can use it after the sign-out: as after a rotation."""
    signed = Signed(floor_a.agent_member)
    other_device = Signed(floor_a.agent_member)
    assert api().post("/api/v1/auth/logout/", {"refresh": signed.refresh}).status_code == 204
    assert signed.refreshes() == 401
    other_device.assert_all_ended()


def test_rest_sign_out_needs_a_valid_refresh_token(floor_a: Floor) -> None:
    answer = api().post("/api/v1/auth/logout/", {"refresh": "not.a.token", "all": True})
    assert answer.status_code == 401
    signed = Signed(floor_a.agent_member)
    assert api().post("/api/v1/auth/logout/", {"refresh": signed.access}).status_code == 401
    signed.assert_all_hold()


def test_the_logout_page_ends_every_session_and_token(floor_a: Floor) -> None:
    signed = Signed(floor_a.agent_member)
    page = Client()
    page.force_login(signed.user)
    assert page.post("/logout/").status_code == 302
    signed.assert_all_ended()


def test_expired_refresh_token_records_are_flushed_by_beat(floor_a: Floor, settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    from contactcenter.tasks import flush_expired_tokens

    signed = Signed(floor_a.agent_member)
    stale = Signed(floor_a.agent_member)
    jti = {
        name: RefreshToken(one.refresh)["jti"] for name, one in [("kept", signed), ("stale", stale)]
    }
    OutstandingToken.objects.filter(jti=jti["stale"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert flush_expired_tokens.delay().get() == 1
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [jti["kept"]]
    assert signed.refreshes() == 200
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "contactcenter.flush_expired_tokens" in schedule
