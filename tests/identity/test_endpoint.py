"""POST /oauth2/token over HTTP: both grants issue tokens that validate for the requested audience, and every
refusal is RFC 6749 error JSON with the right status and ``Cache-Control: no-store``."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import quote_plus

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from isthmus.identity import ADMIN, DATAVERSE, ERP, Directory, TokenService, token_route
from tests.identity.conftest import CLIENT_SECRET, PASSWORD

URL = "/oauth2/token"


@pytest.fixture
def http(tokens: TokenService) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=[token_route(tokens)]), base_url="https://isthmus.test") as client:
        yield client


def _ok(response) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    return body


def _error(response, status: int, error: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "error_description"} and body["error"] == error
    return body["error_description"]


def test_the_password_grant_issues_a_token_for_the_requested_audience(http: TestClient, tokens: TokenService,
                                                                      alice) -> None:
    body = _ok(http.post(URL, data={"grant_type": "password", "username": "alice@isthmus.test",
                                    "password": PASSWORD, "scope": "api://isthmus/dataverse/.default"}))
    assert body["scope"] == "api://isthmus/dataverse/.default"
    principal = tokens.validate(body["access_token"], DATAVERSE)
    assert (principal.object_id, principal.name, principal.kind) == (alice.object_id, alice.name, "user")


def test_the_client_credentials_grant_with_form_fields(http: TestClient, tokens: TokenService, robot) -> None:
    body = _ok(http.post(URL, data={"grant_type": "client_credentials", "client_id": "robot-app",
                                    "client_secret": CLIENT_SECRET, "scope": "api://isthmus/erp/.default"}))
    principal = tokens.validate(body["access_token"], ERP)
    assert (principal.object_id, principal.kind, principal.claims["appid"]) == (robot.object_id, "application",
                                                                                 "robot-app")


def test_the_client_credentials_grant_with_basic_authentication(http: TestClient, tokens: TokenService,
                                                                directory: Directory) -> None:
    directory.create_application("odd+client", "Odd", "secret with+plus%and:colon")
    raw = http.post(URL, auth=("odd+client", "secret with+plus%and:colon"),
                    data={"grant_type": "client_credentials", "resource": "api://isthmus/admin"})
    assert tokens.validate(_ok(raw)["access_token"], ADMIN).name == "odd+client"
    encoded = base64.b64encode(f"{quote_plus('odd+client')}:{quote_plus('secret with+plus%and:colon')}".encode())
    rfc = http.post(URL, headers={"Authorization": f"Basic {encoded.decode()}"},
                    data={"grant_type": "client_credentials", "scope": "api://isthmus/admin/.default"})
    assert tokens.validate(_ok(rfc)["access_token"], ADMIN).name == "odd+client"


def test_a_wrong_client_secret_is_invalid_client(http: TestClient, robot) -> None:
    form = {"grant_type": "client_credentials", "client_id": "robot-app", "client_secret": "wrong-secret-value",
            "scope": "api://isthmus/erp/.default"}
    response = http.post(URL, data=form)
    assert _error(response, 401, "invalid_client") == "The client id or client secret is incorrect."
    assert "www-authenticate" not in response.headers
    basic = http.post(URL, auth=("robot-app", "wrong-secret-value"),
                      data={"grant_type": "client_credentials", "scope": "api://isthmus/erp/.default"})
    _error(basic, 401, "invalid_client")
    assert basic.headers["www-authenticate"] == 'Basic realm="isthmus"'
    unknown = http.post(URL, data={**form, "client_id": "nobody"})
    assert _error(unknown, 401, "invalid_client") == "The client id or client secret is incorrect."


def test_a_wrong_password_or_disabled_user_is_invalid_grant(http: TestClient, directory: Directory, alice) -> None:
    form = {"grant_type": "password", "username": "alice@isthmus.test", "password": "wrong password",
            "scope": "api://isthmus/erp/.default"}
    assert _error(http.post(URL, data=form), 400, "invalid_grant") == "The user name or password is incorrect."
    directory.disable("alice@isthmus.test")
    description = _error(http.post(URL, data={**form, "password": PASSWORD}), 400, "invalid_grant")
    assert description.startswith("The user alice@isthmus.test is disabled.")


def test_a_disabled_application_is_invalid_client(http: TestClient, directory: Directory, robot) -> None:
    directory.disable("robot-app")
    response = http.post(URL, data={"grant_type": "client_credentials", "client_id": "robot-app",
                                    "client_secret": CLIENT_SECRET, "scope": "api://isthmus/erp/.default"})
    assert _error(response, 401, "invalid_client").startswith("The application robot-app is disabled.")


def test_an_application_cannot_use_the_password_grant(http: TestClient, robot) -> None:
    response = http.post(URL, data={"grant_type": "password", "username": "robot-app", "password": CLIENT_SECRET,
                                    "scope": "api://isthmus/erp/.default"})
    _error(response, 400, "invalid_grant")


def test_a_confidential_client_may_sign_a_user_in_but_must_authenticate(http: TestClient, alice, robot) -> None:
    form = {"grant_type": "password", "username": "alice@isthmus.test", "password": PASSWORD,
            "scope": "api://isthmus/erp/.default", "client_id": "robot-app"}
    _ok(http.post(URL, data={**form, "client_secret": CLIENT_SECRET}))
    _ok(http.post(URL, data=form))  # a public client: client_id alone
    _error(http.post(URL, data={**form, "client_secret": "wrong-secret-value"}), 401, "invalid_client")


@pytest.mark.parametrize(("form", "error", "description"), [
    ({"username": "a", "password": "b", "scope": "api://isthmus/erp/.default"}, "invalid_request",
     "The request needs grant_type (client_credentials or password)."),
    ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type",
     "The grant type authorization_code is not supported; use client_credentials or password."),
    ({"grant_type": "password", "username": "alice@isthmus.test", "password": PASSWORD}, "invalid_request",
     "The request needs a scope"),
    ({"grant_type": "password", "username": "alice@isthmus.test", "password": PASSWORD,
      "scope": "https://graph.microsoft.com/.default"}, "invalid_scope",
     "https://graph.microsoft.com is not a resource of this instance"),
    ({"grant_type": "password", "username": "alice@isthmus.test", "password": PASSWORD,
      "scope": "api://isthmus/erp/.default api://isthmus/admin/.default"}, "invalid_scope",
     "A token is for one resource"),
    ({"grant_type": "password", "username": "alice@isthmus.test", "scope": "api://isthmus/erp/.default"},
     "invalid_request", "The password grant needs username and password."),
    ({"grant_type": "client_credentials", "client_id": "robot-app", "scope": "api://isthmus/erp/.default"},
     "invalid_request", "The client_credentials grant needs client_id and client_secret"),
    ({"grant_type": "client_credentials", "client_secret": CLIENT_SECRET, "scope": "api://isthmus/erp/.default"},
     "invalid_request", "The request needs client_id."),
])
def test_bad_requests_are_rfc6749_errors(http: TestClient, alice, robot, form: dict, error: str,
                                         description: str) -> None:
    assert _error(http.post(URL, data=form), 400, error).startswith(description)


def test_the_request_must_be_a_form_posted_once_per_parameter(http: TestClient, alice) -> None:
    as_json = http.post(URL, json={"grant_type": "password", "username": "alice@isthmus.test", "password": PASSWORD})
    assert _error(as_json, 400, "invalid_request") == (
        "The token request must be application/x-www-form-urlencoded, not application/json.")
    twice = http.post(URL, content="grant_type=password&grant_type=client_credentials",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert _error(twice, 400, "invalid_request") == "The parameter grant_type is sent more than once."
    both = http.post(URL, auth=("robot-app", CLIENT_SECRET),
                     data={"grant_type": "client_credentials", "client_secret": CLIENT_SECRET,
                           "scope": "api://isthmus/erp/.default"})
    assert "not both" in _error(both, 400, "invalid_request")
    bad_basic = http.post(URL, headers={"Authorization": "Basic !!!"},
                          data={"grant_type": "client_credentials", "scope": "api://isthmus/erp/.default"})
    assert "not valid HTTP Basic" in _error(bad_basic, 400, "invalid_request")
    get = http.get(URL)
    assert _error(get, 405, "invalid_request") == "Send the token request with POST, not GET."
    assert get.headers["allow"] == "POST"
