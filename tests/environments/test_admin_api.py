"""The admin API over HTTP: environments, links, features, automatic enablement; per-environment URLs; OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from isthmus.config import Settings
from isthmus.system import System


@pytest.fixture
def admin(control_url: str, tmp_path: Path) -> Iterator[TestClient]:
    from isthmus.api.app import create_app

    system = System(Settings(data_dir=tmp_path, control_database_url=control_url, development_mode=True))
    system.prepare()
    with TestClient(create_app(system), base_url="http://isthmus.test") as client:
        yield client
    system.close()


def test_defaults_are_linked_at_start(admin: TestClient) -> None:
    status = admin.get("/admin/fo-environments/default/link").json()
    assert status["state"] == "linked" and status["link"]["power_platform"] == "default"
    history = admin.get("/admin/auto-enablement").json()
    assert history[0]["environment"] == "default" and history[0]["action"] == "linked_new"


def test_environment_lifecycle_over_http(admin: TestClient) -> None:
    created = admin.post("/admin/environments", json={"name": "contoso", "kind": "finance_operations"})
    assert created.status_code == 201
    assert created.json()["erp_url"] == "http://isthmus.test/environments/contoso/data/"
    refused = admin.post("/admin/fo-environments/contoso/features/virtual_entities")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "0x80048d0b"
    assert admin.get("/admin/fo-environments/contoso/link").json()["state"] == "not_linked"
    linked = admin.post("/admin/fo-environments/contoso/link", json={})
    assert linked.status_code == 201 and linked.json()["state"] == "linked"
    companies = admin.get("/environments/contoso/data/LegalEntities").json()
    assert companies["@odata.context"] == "http://isthmus.test/environments/contoso/data/$metadata#LegalEntities"
    assert [c["LegalEntityId"] for c in companies["value"]] == ["dat"]
    who = admin.get("/environments/contoso/api/data/v9.2/WhoAmI")
    assert who.status_code == 200 and who.json()["@odata.context"].startswith("http://isthmus.test/environments/contoso/api/data/v9.2/")
    assert admin.post("/admin/fo-environments/contoso/features/virtual_entities").json()["active"]
    assert admin.delete("/admin/fo-environments/contoso/link").status_code == 409
    assert admin.delete("/admin/fo-environments/contoso/features/virtual_entities").status_code == 204
    assert admin.delete("/admin/fo-environments/contoso/link").status_code == 204
    assert admin.delete("/admin/environments/finance-operations/contoso").status_code == 204
    gone = admin.get("/environments/contoso/data/")
    assert gone.status_code == 404 and "No finance and operations environment named contoso" in gone.json()["error"]["message"]


def test_bad_requests_are_named(admin: TestClient) -> None:
    bad = admin.post("/admin/environments", json={"name": "Not Valid", "kind": "finance_operations"})
    assert bad.status_code == 400 and "lower-case" in bad.json()["error"]["message"]
    invalid = admin.post("/admin/environments", json={"name": "x", "kind": "mainframe"})
    assert invalid.status_code == 422  # FastAPI's validation of the body shape
    assert admin.get("/admin/environments/finance-operations/nope").status_code == 404


def test_openapi_describes_the_admin_api(admin: TestClient) -> None:
    spec = admin.get("/admin/openapi.json").json()
    assert spec["info"]["title"] == "Isthmus admin API"
    assert {"/environments", "/fo-environments/{name}/link", "/auto-enablement"} <= set(spec["paths"])
