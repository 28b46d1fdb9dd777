"""Who the caller is: the signed-in check and the membership read together."""

from __future__ import annotations

from typing import Any

import pytest

from contactcenter.models import Membership, Organization, User
from contactcenter.selectors.access import membership_signed_in

pytestmark = pytest.mark.django_db


def test_a_current_member_in_one_query(floor_a: Any, django_assert_num_queries: Any) -> None:
    user = floor_a.agent_member.user
    with django_assert_num_queries(1):
        current, membership = membership_signed_in(user_id=user.pk, auth_epoch=user.auth_epoch)
        assert current
        assert membership is not None
        assert membership.pk == floor_a.agent_member.pk
        assert membership.organization.pk == floor_a.org.pk  # read with it


def test_revoked_or_inactive_is_not_signed_in(floor_a: Any) -> None:
    user = floor_a.agent_member.user
    assert membership_signed_in(user_id=user.pk, auth_epoch=user.auth_epoch + 1) == (False, None)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert membership_signed_in(user_id=user.pk, auth_epoch=user.auth_epoch) == (False, None)


def test_no_active_organization_is_signed_in_without_a_membership(floor_a: Any) -> None:
    user = floor_a.agent_member.user
    Organization.objects.filter(pk=floor_a.org.pk).update(is_active=False)
    assert membership_signed_in(user_id=user.pk, auth_epoch=user.auth_epoch) == (True, None)
    Membership.objects.filter(pk=floor_a.agent_member.pk).delete()
    assert membership_signed_in(user_id=user.pk, auth_epoch=user.auth_epoch) == (True, None)
