import pytest

from tests.conftest import Floor, client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_organization_read_by_all_changed_by_admin(floor_a: Floor) -> None:
    assert (
        client_for(floor_a.agent_member).get("/api/v1/organization/").json()["id"] == floor_a.org.pk
    )
    assert (
        client_for(floor_a.supervisor)
        .patch("/api/v1/organization/", {"time_zone": "Europe/Paris"})
        .status_code
        == 403
    )
    resp = client_for(floor_a.admin).patch("/api/v1/organization/", {"time_zone": "Europe/Paris"})
    assert resp.status_code == 200
    assert resp.json()["time_zone"] == "Europe/Paris"
    bad = client_for(floor_a.admin).patch("/api/v1/organization/", {"time_zone": "Mars/Olympus"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "time_zone"


def test_whether_agents_see_monitoring_is_the_admins_to_set(floor_a: Floor) -> None:
    assert (
        client_for(floor_a.admin).get("/api/v1/organization/").json()["agents_see_monitoring"]
        is False
    )
    body = {"agents_see_monitoring": True}
    supervisor = client_for(floor_a.supervisor).patch("/api/v1/organization/", body)
    assert supervisor.status_code == 403
    resp = client_for(floor_a.admin).patch("/api/v1/organization/", body, format="json")
    assert resp.status_code == 200
    assert resp.json()["agents_see_monitoring"] is True
    floor_a.org.refresh_from_db()
    assert floor_a.org.agents_see_monitoring is True


def test_members_managed_by_admin(floor_a: Floor) -> None:
    assert client_for(floor_a.agent_member).get("/api/v1/members/").status_code == 403
    assert client_for(floor_a.supervisor).get("/api/v1/members/").status_code == 200
    payload = {"username": "dana", "password": PASSWORD + "x", "role": "agent"}
    assert client_for(floor_a.supervisor).post("/api/v1/members/", payload).status_code == 403
    resp = client_for(floor_a.admin).post("/api/v1/members/", payload)
    assert resp.status_code == 201, resp.content
    assert "password" not in resp.json()
    weak = client_for(floor_a.admin).post(
        "/api/v1/members/", {"username": "eve", "password": "123", "role": "agent"}
    )
    assert weak.status_code == 400
    assert weak.json()["errors"][0]["attr"] == "password"
    taken = client_for(floor_a.admin).post("/api/v1/members/", payload)
    assert taken.status_code == 400
    assert taken.json()["errors"][0]["attr"] == "username"


def test_last_admin_cannot_be_demoted(floor_a: Floor) -> None:
    resp = client_for(floor_a.admin).patch(
        f"/api/v1/members/{floor_a.admin.pk}/", {"role": "agent"}
    )
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "role"
    promoted = client_for(floor_a.admin).patch(
        f"/api/v1/members/{floor_a.supervisor.pk}/", {"role": "admin"}
    )
    assert promoted.status_code == 200
    assert (
        client_for(floor_a.admin)
        .patch(f"/api/v1/members/{floor_a.admin.pk}/", {"role": "agent"})
        .status_code
        == 200
    )
