import pytest

from contactcenter.models import CallDisposition, CallQueue
from tests.conftest import Floor, client_for
from tests.crm.factories import error_attrs, make_category
from tests.factories import make_call, make_queue

pytestmark = pytest.mark.django_db


def test_queues_admin_writes_everyone_reads(floor_a: Floor) -> None:
    payload = {"name": "Support", "pbx_queue_name": "support", "service_level_seconds": 30}
    assert client_for(floor_a.supervisor).post("/api/v1/queues/", payload).status_code == 403
    assert client_for(floor_a.agent_member).post("/api/v1/queues/", payload).status_code == 403
    resp = client_for(floor_a.admin).post("/api/v1/queues/", payload)
    assert resp.status_code == 201, resp.content
    assert resp.json()["strategy"] == "rrmemory"
    listed = client_for(floor_a.agent_member).get("/api/v1/queues/").json()["results"]
    assert [q["pbx_queue_name"] for q in listed] == ["support"]


def test_duplicate_pbx_queue_name_is_400_but_other_org_may_reuse(
    floor_a: Floor, floor_b: Floor
) -> None:
    make_queue(floor_a.org, "support")
    payload = {"name": "Again", "pbx_queue_name": "support"}
    resp = client_for(floor_a.admin).post("/api/v1/queues/", payload)
    assert resp.status_code == 400
    assert resp.json()["type"] == "validation_error"
    assert client_for(floor_b.admin).post("/api/v1/queues/", payload).status_code == 201


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": "x", "pbx_queue_name": "q", "service_level_seconds": -1},
        {"name": "x", "pbx_queue_name": "q", "strategy": "fastest"},
        {"name": "x" * 500, "pbx_queue_name": "q"},
        {"name": ["x"], "pbx_queue_name": {"a": 1}},
        {"name": "x", "pbx_queue_name": "q", "max_wait_seconds": 0},
    ],
)
def test_invalid_queue_payloads_are_400_with_fields(floor_a: Floor, payload: dict) -> None:
    resp = client_for(floor_a.admin).post("/api/v1/queues/", payload, format="json")
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["type"] == "validation_error"
    assert all(error["attr"] for error in body["errors"])


def test_non_json_body_is_a_clean_400(floor_a: Floor) -> None:
    resp = client_for(floor_a.admin).generic(
        "POST", "/api/v1/queues/", "{not json", content_type="application/json"
    )
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "parse_error"


def test_supervisor_manages_queue_membership(floor_a: Floor, floor_b: Floor) -> None:
    queue = make_queue(floor_a.org)
    client = client_for(floor_a.supervisor)
    resp = client.post("/api/v1/queue-memberships/", {"queue": queue.pk, "agent": floor_a.agent.pk})
    assert resp.status_code == 201, resp.content
    again = client.post(
        "/api/v1/queue-memberships/", {"queue": queue.pk, "agent": floor_a.agent.pk}
    )
    assert again.status_code == 400
    # Another organization's agent cannot be put in this queue.
    foreign = client.post(
        "/api/v1/queue-memberships/", {"queue": queue.pk, "agent": floor_b.agent.pk}
    )
    assert foreign.status_code == 400
    assert foreign.json()["errors"][0]["attr"] == "agent"
    assert (
        client_for(floor_a.agent_member)
        .post("/api/v1/queue-memberships/", {"queue": queue.pk, "agent": floor_a.other_agent.pk})
        .status_code
        == 403
    )


def test_disposition_in_use_cannot_be_deleted(floor_a: Floor) -> None:
    disposition = CallDisposition.objects.create(organization=floor_a.org, name="Sale", code="sale")
    call = make_call(floor_a.org, agent=floor_a.agent)
    call.disposition = disposition
    call.save()
    resp = client_for(floor_a.admin).delete(f"/api/v1/dispositions/{disposition.pk}/")
    assert resp.status_code == 409
    assert CallDisposition.objects.filter(pk=disposition.pk).exists()


def test_unused_queue_can_be_deleted(floor_a: Floor) -> None:
    queue = make_queue(floor_a.org, "sales")
    assert client_for(floor_a.admin).delete(f"/api/v1/queues/{queue.pk}/").status_code == 204
    assert not CallQueue.objects.filter(pk=queue.pk).exists()


def test_a_dispositions_case_category_is_one_of_the_callers_organization(
    floor_a: Floor, floor_b: Floor
) -> None:
    # The field is built from the model's foreign key to crm's CaseCategory: still
    # scoped to the caller's organization, optional and nullable.
    ours = make_category(floor_a.org, "Complaints")
    theirs = make_category(floor_b.org, "Complaints")
    admin = client_for(floor_a.admin)
    payload = {"name": "Complaint", "code": "complaint", "requires_case_creation": True}
    refused = admin.post("/api/v1/dispositions/", {**payload, "default_case_category": theirs.pk})
    assert refused.status_code == 400, refused.content
    assert error_attrs(refused) == ["default_case_category"]
    assert not CallDisposition.objects.filter(code="complaint").exists()

    created = admin.post("/api/v1/dispositions/", {**payload, "default_case_category": ours.pk})
    assert created.status_code == 201, created.content
    assert created.json()["default_case_category"] == ours.pk
    url = f"/api/v1/dispositions/{created.json()['id']}/"
    cleared = admin.patch(url, {"default_case_category": None})
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["default_case_category"] is None
    assert admin.patch(url, {"default_case_category": 10**9}).status_code == 400

    plain = admin.post("/api/v1/dispositions/", {"name": "Sale", "code": "sale"})
    assert plain.status_code == 201, plain.content
    assert plain.json()["default_case_category"] is None
    assert plain.json()["default_case_priority"] == "normal"
