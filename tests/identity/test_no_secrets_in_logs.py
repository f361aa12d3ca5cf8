"""No secret reaches a log: not a password, not a client secret, not an access token, not a signing key — whether
the sign-in succeeds or fails, and with every logger (SQLAlchemy's statement log included) at DEBUG."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from isthmus.identity import ERP, Authentication, Directory, TokenService, ensure_demo_identities, token_route
from isthmus.identity.instance import SIGNING_KEY, stored_value

PROTECTED = {"/data": ERP}


@pytest.fixture
def http(tokens: TokenService) -> Iterator[TestClient]:
    app = Authentication(Starlette(routes=[token_route(tokens)]), tokens, protected=PROTECTED)
    with TestClient(app) as client:
        yield client


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    return text + "\n" + caplog.text


def test_secrets_and_tokens_never_reach_a_log(http: TestClient, directory: Directory, tokens: TokenService,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        demo = {d.name: d for d in ensure_demo_identities(directory)}
        password, secret = demo["accountant@isthmus.local"].secret, demo["isthmus-integration"].secret
        assert password and secret
        wrong_password, wrong_secret = "Wrong-Password-4711", "Wrong-Client-Secret-4711-xyz"
        issued = []
        for form in (
            {"grant_type": "password", "username": "accountant@isthmus.local", "password": wrong_password},
            {"grant_type": "password", "username": "accountant@isthmus.local", "password": password},
            {"grant_type": "client_credentials", "client_id": "isthmus-integration", "client_secret": wrong_secret},
            {"grant_type": "client_credentials", "client_id": "isthmus-integration", "client_secret": secret},
            {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": secret},
        ):
            response = http.post("/oauth2/token", data={**form, "scope": "api://isthmus/erp/.default"})
            if response.status_code == 200:
                issued.append(response.json()["access_token"])
        http.post("/oauth2/token", auth=("isthmus-integration", wrong_secret),
                  data={"grant_type": "client_credentials", "scope": "api://isthmus/erp/.default"})
        for token in issued:
            http.get("/data/Customers", headers={"Authorization": f"Bearer {token}"})
            http.get("/data/Customers", headers={"Authorization": f"Bearer {token[:-4]}AAAA"})
        http.get("/data/Customers", headers={"Authorization": f"Basic {base64.b64encode(secret.encode()).decode()}"})
        from isthmus.identity import reset_secret
        new_secret = reset_secret(directory, "isthmus-dualwrite")
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

    assert len(issued) == 2
    logged = _logged(caplog)
    assert "identity: issued a token for user accountant@isthmus.local" in logged  # the log does say what happened
    assert "token request refused: invalid_client" in logged and "INSERT INTO identity_principal" in logged
    key = stored_value(directory.database, SIGNING_KEY, lambda: "unused")
    for secret_value in (password, secret, wrong_password, wrong_secret, new_secret, *issued, key,
                         *(d.secret for d in demo.values() if d.secret)):
        assert secret_value not in logged
    for token in issued:
        assert token.split(".")[2] not in logged  # not even the signature part
