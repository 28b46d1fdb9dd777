"""The admin's writes are audited; the audit trail is read only in the admin."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from contactcenter.admin_audit import AuditedAdmin, ReadOnlyAdmin
from contactcenter.models import AuditEntry, CallQueue, User
from contactcenter.services import audit
from tests.conftest import Floor

pytestmark = pytest.mark.django_db

OUR_APPS = {"contactcenter", "crm", "telephony"}


@pytest.fixture
def root(db: None) -> tuple[Client, User]:
    user = User.objects.create_superuser("root", "root@example.com", "pw-9f3k2")
    client = Client()
    client.force_login(user)
    return client, user


def test_every_admin_class_of_our_apps_is_audited_or_read_only() -> None:
    ours = {
        model._meta.label: type(model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS
    }
    assert len(ours) > 20
    loose = sorted(
        label for label, cls in ours.items() if not issubclass(cls, AuditedAdmin | ReadOnlyAdmin)
    )
    assert not loose, f"Admin classes that would write without an audit entry: {loose}"


def test_an_admin_change_is_an_entry_with_before_and_after(
    root: tuple[Client, User], floor_a: Floor
) -> None:
    client, user = root
    queue = CallQueue.objects.create(organization=floor_a.org, name="Sales", pbx_queue_name="s")
    page = client.get(f"/admin/contactcenter/callqueue/{queue.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in ((n, form[n].value()) for n in form.fields)
        if not isinstance(value, bool) or value
    }
    data.update({"name": "Sales EMEA"})
    data.update(
        {
            f"{prefix}-{key}": "0"
            for prefix in ("memberships", "queuemembership_set")
            for key in ("TOTAL_FORMS", "INITIAL_FORMS")
        }
    )
    response = client.post(
        f"/admin/contactcenter/callqueue/{queue.pk}/change/", data, REMOTE_ADDR="203.0.113.5"
    )
    assert response.status_code == 302, response.content[:2000]
    entry = AuditEntry.objects.get(object_type="contactcenter.callqueue", action="update")
    assert entry.changes["name"] == ["Sales", "Sales EMEA"]
    assert (entry.actor_user_id, entry.client_address) == (user.pk, "203.0.113.5")
    assert entry.organization_id == floor_a.org.pk
    client.post(f"/admin/contactcenter/callqueue/{queue.pk}/delete/", {"post": "yes"})
    assert AuditEntry.objects.filter(
        object_type="contactcenter.callqueue", object_id=str(queue.pk), action="delete"
    ).exists()


def test_the_audit_trail_cannot_be_changed_in_the_admin(
    root: tuple[Client, User], floor_a: Floor
) -> None:
    client, _ = root
    entry = audit.record(action="x", organization_id=floor_a.org.pk)
    assert client.get("/admin/contactcenter/auditentry/").status_code == 200
    assert client.get(f"/admin/contactcenter/auditentry/{entry.pk}/change/").status_code == 200
    client.post(f"/admin/contactcenter/auditentry/{entry.pk}/change/", {"action": "y"})
    assert client.post(f"/admin/contactcenter/auditentry/{entry.pk}/delete/").status_code == 403
    assert client.get("/admin/contactcenter/auditentry/add/").status_code == 403
    entry.refresh_from_db()
    assert entry.action == "x"
    assert client.get("/admin/contactcenter/apikey/").status_code == 200


def test_a_role_changed_in_the_admin_is_a_role_change(
    root: tuple[Client, User], floor_a: Floor
) -> None:
    client, _ = root
    membership = floor_a.agent_member
    url = f"/admin/contactcenter/membership/{membership.pk}/change/"
    data = {
        "user": membership.user_id,
        "organization": membership.organization_id,
        "role": "supervisor",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    entry = AuditEntry.objects.get(action="role_change")
    assert entry.changes["role"] == ["agent", "supervisor"]
