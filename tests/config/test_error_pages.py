"""Errors under /api/ answer the API's one shape for every status, DEBUG on or off; the
browser gets the site's own pages.

With DEBUG on, Django answered an unknown /api/v1/nope/ with its debug page (every URL
pattern of the project listed); with it off, with an HTML "Not Found".
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import Floor, client_for

pytestmark = pytest.mark.django_db

NOT_FOUND = {
    "type": "client_error",
    "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}],
}
SERVER_ERROR = {
    "type": "server_error",
    "errors": [{"code": "error", "detail": "Server Error (500)", "attr": None}],
}


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: pytest.FixtureRequest, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


def _json(response: Any) -> Any:
    assert response["Content-Type"] == "application/json", response.content[:300]
    return response.json()


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/nope", "/api/v2/contacts/", "/api/"])
def test_an_unknown_api_path_is_a_json_404(debug: bool, method: str, path: str) -> None:
    response = getattr(Client(), method)(path)
    assert response.status_code == 404
    assert _json(response) == NOT_FOUND


def test_an_unknown_api_path_is_a_json_404_for_a_signed_in_member(
    debug: bool, floor_a: Floor
) -> None:
    response = client_for(floor_a.agent_member).get("/api/v1/contacts/1/nope/")
    assert response.status_code == 404
    assert _json(response) == NOT_FOUND


def test_a_known_path_without_its_slash_redirects_a_read_and_names_the_url_otherwise(
    debug: bool,
) -> None:
    read = Client().get("/api/v1/contacts?search=x")
    assert read.status_code == 301
    assert read["Location"] == "/api/v1/contacts/?search=x"
    # A redirect would lose the body of a write.
    write = Client().post("/api/v1/contacts", {"first_name": "Ada"})
    assert write.status_code == 404
    error = _json(write)["errors"][0]
    assert error["code"] == "not_found"
    assert "/api/v1/contacts/" in error["detail"]


def test_a_missing_object_is_a_json_404(debug: bool, floor_a: Floor) -> None:
    response = client_for(floor_a.agent_member).get("/api/v1/contacts/999999999/")
    assert response.status_code == 404
    assert _json(response) == NOT_FOUND


def test_a_method_an_api_view_does_not_allow_is_a_json_405(debug: bool, floor_a: Floor) -> None:
    response = client_for(floor_a.admin).delete("/api/v1/wallboard/")
    assert response.status_code == 405
    body = _json(response)
    assert body["type"] == "client_error"
    assert [e["code"] for e in body["errors"]] == ["method_not_allowed"]


@pytest.mark.urls("tests.config.error_urls")
def test_an_exception_in_an_api_view_is_a_json_500(debug: bool) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/boom/")
    assert response.status_code == 500
    assert _json(response) == SERVER_ERROR
    assert b"boom" not in response.content


@pytest.mark.urls("tests.config.error_urls")
def test_an_exception_outside_drf_under_api_is_a_json_500(settings: Any) -> None:
    settings.DEBUG = False  # with DEBUG on, Django's traceback page is what is asked for
    response = Client(raise_request_exception=False).get("/api/v1/plain-boom/")
    assert response.status_code == 500
    assert _json(response) == SERVER_ERROR


def test_an_unknown_page_is_the_sites_404_page(settings: Any) -> None:
    settings.DEBUG = False
    response = Client().get("/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Not found" in page
    assert "realtime/css/base.css" in page  # the site's look, not Django's bare page
    assert 'href="/"' in page
    # Nothing of the project's URL map (Django's debug page lists every pattern).
    assert "api/v1/" not in page and "URLconf" not in page


@pytest.mark.urls("tests.config.error_urls")
def test_an_exception_on_a_page_is_the_sites_500_page(settings: Any) -> None:
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/page-boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "realtime/css/base.css" in page
    assert "boom" not in page and "Traceback" not in page


@pytest.mark.parametrize(("path", "json_body"), [("/api/v1/contacts/", True), ("/login/", False)])
def test_a_host_not_served_is_a_400_in_the_shape_of_its_path(
    settings: Any, path: str, json_body: bool
) -> None:
    settings.DEBUG = False
    response = Client(HTTP_HOST="evil.example").get(path)
    assert response.status_code == 400
    if json_body:
        assert _json(response)["errors"][0]["code"] == "parse_error"
    else:
        assert "Bad request" in response.content.decode()
