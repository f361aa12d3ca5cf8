"""The authentication middleware on a tiny Starlette app: protected prefixes (also under /environments/<name>) need
a valid token for their audience, other paths pass untouched, 401s are OData errors with an RFC 6750 challenge, and
development mode lets token-less requests through as the development principal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from isthmus.identity import (
    ADMIN,
    DATAVERSE,
    ERP,
    PROTECTED_PATHS,
    Authentication,
    Directory,
    Principal,
    TokenService,
    development_principal,
    principal_of,
    token_route,
)
from isthmus.identity.principal import SCOPE_KEY

PROTECTED = {"/data": ERP, "/api/data/v9.2": DATAVERSE, "/admin": ADMIN}


async def whoami(request: Request) -> JSONResponse:
    principal = principal_of(request)
    if principal is None:
        return JSONResponse({"principal": None, "in_scope": SCOPE_KEY in request.scope})
    return JSONResponse({"principal": principal.name, "oid": principal.object_id, "audience": principal.audience,
                         "roles": list(principal.directory_roles)})


def _app(tokens: TokenService, **options) -> Authentication:  # type: ignore[no-untyped-def]
    inner = Starlette(routes=[token_route(tokens), Route("/{path:path}", whoami, methods=["GET", "POST"])])
    return Authentication(inner, tokens, protected=options.pop("protected", PROTECTED), **options)


@pytest.fixture
def http(tokens: TokenService) -> Iterator[TestClient]:
    with TestClient(_app(tokens), base_url="https://isthmus.test") as client:
        yield client


def _bearer(tokens: TokenService, record, audience: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {tokens.issue(record, audience).access_token}"}


def _refused(response, message: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["odata-version"] == "4.0"
    error = response.json()["error"]
    assert error["code"] == "Unauthorized" and error["message"].startswith(message)
    assert error["innererror"]["type"] == "AuthenticationError"
    return error


@pytest.mark.parametrize("path", ["/", "/health", "/oauth2/token", "/database", "/datax/y", "/environments/x",
                                  "/environments/x/health", "/api/other"])
def test_unprotected_paths_pass_untouched(http: TestClient, path: str) -> None:
    response = http.get(path)
    assert response.status_code in (200, 405) and response.status_code != 401
    if response.status_code == 200:
        assert response.json() == {"principal": None, "in_scope": False}


@pytest.mark.parametrize(("path", "audience"), [
    ("/data", ERP), ("/data/Customers", ERP), ("/data/$metadata", ERP), ("/DATA/Customers", ERP),
    ("/api/data/v9.2/accounts", DATAVERSE), ("/api/data/v9.2", DATAVERSE), ("/admin/environments", ADMIN),
    ("/environments/x/data/CustomersV3", ERP), ("/environments/contoso-prod/api/data/v9.2/contacts", DATAVERSE),
    ("/environments/x/admin", ADMIN),
])
def test_protected_paths_need_a_token_for_their_audience(http: TestClient, tokens: TokenService, alice,
                                                         path: str, audience: str) -> None:
    _refused(http.get(path), "No token: send Authorization: Bearer <token>.")
    ok = http.get(path, headers=_bearer(tokens, alice, audience))
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"principal": "alice@isthmus.test", "oid": alice.object_id, "audience": audience,
                         "roles": ["Administrator"]}
    other = next(a for a in (ERP, DATAVERSE, ADMIN) if a != audience)
    wrong = http.get(path, headers=_bearer(tokens, alice, other))
    _refused(wrong, f"The token's audience {other} is not valid for this API (expected {audience}).")


def test_a_401_carries_an_rfc6750_challenge(http: TestClient, tokens: TokenService, alice) -> None:
    missing = http.get("/data/Customers")
    assert missing.headers["www-authenticate"] == 'Bearer realm="isthmus", resource_id="api://isthmus/erp"'
    error = _refused(missing, "No token")
    assert error["message"] == ("No token: send Authorization: Bearer <token>. Get one from POST /oauth2/token with "
                                "scope=api://isthmus/erp/.default.")
    wrong = http.get("/data/Customers", headers=_bearer(tokens, alice, ADMIN))
    assert wrong.headers["www-authenticate"] == (
        'Bearer realm="isthmus", resource_id="api://isthmus/erp", error="invalid_token", error_description="The '
        "token's audience api://isthmus/admin is not valid for this API (expected api://isthmus/erp).\"")


@pytest.mark.parametrize(("header", "message"), [
    ("Basic YWxpY2U6c2VjcmV0", "The Authorization header uses the Basic scheme; send Authorization: Bearer <token>."),
    ("Bearer", "The Authorization header has no token after Bearer"),
    ("Bearer    ", "The Authorization header has no token after Bearer"),
    ("Bearer a b", "The Authorization header is malformed"),
    ("Bearer not-a-jwt", "The token is malformed: it is not a signed JWT."),
    ("", "The Authorization header is empty"),
])
def test_malformed_authorization_headers(http: TestClient, header: str, message: str) -> None:
    response = http.get("/data/Customers", headers={"Authorization": header})
    _refused(response, message)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_token_of_a_disabled_or_deleted_principal_is_refused(http: TestClient, tokens: TokenService,
                                                               directory: Directory, alice, robot) -> None:
    user, app = _bearer(tokens, alice, ERP), _bearer(tokens, robot, ERP)
    assert http.get("/data", headers=user).status_code == 200
    directory.disable(alice.object_id)
    _refused(http.get("/data", headers=user), "The token's user alice@isthmus.test is disabled.")
    directory.delete("robot-app")
    _refused(http.get("/data", headers=app), f"The token's principal {robot.object_id} no longer exists")


def test_the_whole_flow_over_http(http: TestClient, alice) -> None:
    from tests.identity.conftest import PASSWORD

    token = http.post("/oauth2/token", data={"grant_type": "password", "username": "alice@isthmus.test",
                                             "password": PASSWORD, "scope": "api://isthmus/erp/.default"})
    response = http.get("/environments/x/data/Customers",
                        headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert response.json()["principal"] == "alice@isthmus.test"


def test_development_mode_lets_tokenless_requests_run_as_the_development_principal(
        tokens: TokenService, directory: Directory, alice, robot) -> None:
    directory.create_user("admin@isthmus.local", "Isthmus Administrator", None, "dev-password", ["Administrator"])
    app = _app(tokens, development_mode=True, development_principal=development_principal(directory))
    with TestClient(app) as client:
        anonymous = client.get("/api/data/v9.2/accounts")
        assert anonymous.status_code == 200
        assert anonymous.json()["principal"] == "admin@isthmus.local"
        assert anonymous.json()["audience"] == DATAVERSE and anonymous.json()["roles"] == ["Administrator"]
        as_robot = client.get("/api/data/v9.2/accounts", headers=_bearer(tokens, robot, DATAVERSE))
        assert as_robot.json()["principal"] == "robot-app"
        _refused(client.get("/api/data/v9.2/accounts", headers=_bearer(tokens, robot, ERP)),
                 "The token's audience api://isthmus/erp is not valid")
        _refused(client.get("/api/data/v9.2/accounts", headers={"Authorization": "Bearer garbage"}),
                 "The token is malformed")
        assert client.get("/health").json()["principal"] is None


def test_development_mode_needs_a_development_principal(tokens: TokenService) -> None:
    with pytest.raises(ValueError, match="development_principal"):
        Authentication(Starlette(), tokens, protected=PROTECTED, development_mode=True)


def test_the_default_protection_covers_every_web_api_version(tokens: TokenService) -> None:
    auth = Authentication(Starlette(), tokens, protected=PROTECTED_PATHS)
    assert auth.audience_for("/api/data/v9.0/accounts") == DATAVERSE
    assert auth.audience_for("/environments/e/api/data/v9.2/") == DATAVERSE
    assert auth.audience_for("/admin") == ADMIN and auth.audience_for("/oauth2/token") is None


@pytest.mark.parametrize("path", ["//data/Customers", "/health/../data/Customers", "/./data", "/x//..//data/",
                                  "/environments/x//data", "/environments/x/../../data/Customers"])
def test_a_path_cannot_dodge_its_prefix_by_spelling(tokens: TokenService, path: str) -> None:
    assert Authentication(Starlette(), tokens, protected=PROTECTED).audience_for(path) == ERP


def test_a_root_path_is_ignored_when_matching(tokens: TokenService, alice) -> None:
    app = _app(tokens)
    with TestClient(app, root_path="/isthmus") as client:
        _refused(client.get("/isthmus/data/Customers"), "No token")


def test_principal_of_reads_a_scope_or_a_request() -> None:
    principal = Principal("oid", "user", "n", "N", None, (), ERP)
    assert principal_of({SCOPE_KEY: principal}) is principal
    assert principal_of({}) is None and principal_of({SCOPE_KEY: "forged"}) is None
    with pytest.raises(AttributeError):
        principal.name = "other"  # type: ignore[misc]


def test_a_websocket_on_a_protected_path_is_closed_without_a_token(tokens: TokenService, alice) -> None:
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"principal": principal_of(websocket).name})  # type: ignore[union-attr]
        await websocket.close()

    app = Authentication(Starlette(routes=[WebSocketRoute("/data/live", echo)]), tokens, protected=PROTECTED)
    with TestClient(app) as client:
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/data/live"):
            pass
        assert closed.value.code == 1008
        with client.websocket_connect("/data/live", headers=_bearer(tokens, alice, ERP)) as socket:
            assert socket.receive_json() == {"principal": "alice@isthmus.test"}
