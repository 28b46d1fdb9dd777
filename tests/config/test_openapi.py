import json
from typing import Any

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from openapi_spec_validator import validate

from tests.conftest import build_floor


def test_schema_is_valid_openapi_and_covers_the_api() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    paths = set(schema["paths"])
    for expected in [
        "/api/v1/auth/token/",
        "/api/v1/auth/token/refresh/",
        "/api/v1/agents/",
        "/api/v1/agents/{id}/state/",
        "/api/v1/agent-state-log/",
        "/api/v1/queues/",
        "/api/v1/queue-memberships/",
        "/api/v1/dispositions/",
        "/api/v1/calls/",
        "/api/v1/calls/{id}/",
        "/api/v1/members/",
        "/api/v1/organization/",
        "/api/v1/me/",
        "/api/v1/asterisk-connections/",
        "/api/v1/twilio-accounts/",
        "/api/v1/contacts/",
        "/api/v1/cases/",
        "/api/v1/case-categories/",
        "/api/v1/notifications/",
        "/api/v1/wallboard/",
    ]:
        assert expected in paths, expected
    # Secrets are write-only: they appear in request bodies, never in responses.
    components = schema["components"]["schemas"]
    assert "secret" not in components["AsteriskConnection"]["properties"]
    assert "secret" in components["AsteriskConnectionRequest"]["properties"]
    assert "auth_token" not in components["TwilioAccount"]["properties"]


@pytest.mark.django_db
def test_schema_and_swagger_ui_are_served() -> None:
    client = Client()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI is served from our own static files (no CDN is reachable in production
    # networks that block egress).
    assert b"swagger-ui" in docs.content
    assert b"cdn." not in docs.content


def _served_schema() -> dict[str, Any]:
    client = Client()
    # Signed in: the schema may be for members only (API_DOCS_PUBLIC).
    client.force_login(build_floor("Schema reader").agent_member.user)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema: dict[str, Any] = json.loads(response.content)
    return schema


@pytest.mark.django_db
def test_served_schema_passes_a_standard_openapi_validator() -> None:
    # drf-spectacular's own check passed while openapi-spec-validator refused the
    # schema: an e-mail field with the default '' and lists whose validation errors were
    # an empty oneOf (filters that cannot fail).
    validate(_served_schema())


@pytest.mark.django_db
def test_operations_are_tagged_by_resource_with_clean_operation_ids() -> None:
    schema = _served_schema()
    operations = [op for item in schema["paths"].values() for op in item.values()]
    tags = {tag for op in operations for tag in op["tags"]}
    assert {"contacts", "cases", "calls", "queues", "agents", "wallboard", "auth"} <= tags
    assert "v1" not in tags
    ids = {op["operationId"] for op in operations}
    assert not [i for i in ids if i.startswith("v1")]
    assert {"contacts_list", "contacts_create", "wallboard_retrieve", "auth_token_create"} <= ids
    assert schema["paths"]["/api/v1/contacts/"]["get"]["tags"] == ["contacts"]


@pytest.mark.django_db
def test_schema_declares_bearer_jwt_and_the_token_pair_answer() -> None:
    schema = _served_schema()
    # Our JWTAuthentication subclasses simplejwt's: the scheme must still be declared.
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert {"jwtAuth": []} in schema["paths"]["/api/v1/contacts/"]["get"]["security"]
    answer = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][ref]["properties"]) == {"access", "refresh"}
