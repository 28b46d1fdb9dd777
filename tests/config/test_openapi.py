import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema


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
