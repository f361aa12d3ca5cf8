"""The authorization matrix over HTTP, with tokens from the real token endpoint: no token, expired token, bad
signature, wrong audience, a role without the privilege, a record in another business unit, a company the user may
not access — for the ERP's /data, the Dataverse Web API and the admin API."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from isthmus.config import Settings
from isthmus.identity import ADMIN, DATAVERSE, ERP
from isthmus.system import System

DV = "/api/data/v9.2"
US_CUSTOMER = "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')"
DE_CUSTOMER = "/data/CustomersV3(dataAreaId='demf',CustomerAccount='DE-001')"


@dataclasses.dataclass
class Secured:
    client: TestClient
    system: System
    secrets: dict[str, str]

    def token(self, name: str, resource: str) -> str:
        response = self.client.post("/oauth2/token", data={
            "grant_type": "password", "username": name, "password": self.secrets[name], "scope": f"{resource}/.default",
        })
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def as_(self, name: str, resource: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name, resource)}"}


@pytest.fixture
def secured(database_url: str, tmp_path: Path) -> Iterator[Secured]:
    from isthmus.api.app import create_app

    system = System(Settings(data_dir=tmp_path, erp_database_url=database_url, development_mode=False))
    system.create_schema()
    identities = system.prepare_demo_identities()
    secrets = {i.name: i.secret for i in identities if i.secret}
    with TestClient(create_app(system), base_url="https://isthmus.test") as client:
        yield Secured(client, system, secrets)
    system.close()


def error(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["message"]


def test_no_token_is_401_on_every_api(secured: Secured) -> None:
    for path in ("/data/CustomersV3", f"{DV}/accounts", "/admin/environments", "/environments/default/data/"):
        response = secured.client.get(path)
        assert response.status_code == 401, path
        assert "No token" in error(response)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert secured.client.get("/health").status_code == 200


def test_expired_bad_signature_and_wrong_audience(secured: Secured) -> None:
    record = secured.system.directory.get("admin@isthmus.local")
    expired = secured.system.tokens.issue(record, ERP, lifetime_s=-120).access_token
    response = secured.client.get("/data/CustomersV3", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in error(response)
    good = secured.token("admin@isthmus.local", ERP)
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    response = secured.client.get("/data/CustomersV3", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401 and "signature" in error(response)
    response = secured.client.get(f"{DV}/accounts", headers={"Authorization": f"Bearer {good}"})
    assert response.status_code == 401 and "audience" in error(response) and DATAVERSE in error(response)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert secured.client.get("/data/CustomersV3", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_wrong_secret_gets_no_token(secured: Secured) -> None:
    response = secured.client.post("/oauth2/token", data={
        "grant_type": "password", "username": "csr@isthmus.local", "password": "not-the-password", "scope": f"{ERP}/.default"})
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_grant"


def test_erp_roles_and_companies(secured: Secured) -> None:
    csr = secured.as_("csr@isthmus.local", ERP)
    assert secured.client.get(US_CUSTOMER, headers=csr).status_code == 200
    forbidden_company = secured.client.get(DE_CUSTOMER, headers=csr)
    assert forbidden_company.status_code == 403 and "no access to company demf" in error(forbidden_company)
    everything = secured.client.get("/data/CustomersV3?cross-company=true&$select=dataAreaId", headers=csr).json()["value"]
    assert {r["dataAreaId"] for r in everything} == {"usmf"}
    assert secured.client.patch(US_CUSTOMER, json={"PrimaryContactPhone": "+1 555 0199"}, headers=csr).status_code == 204
    limit = secured.client.patch(US_CUSTOMER, json={"CreditLimit": 9000}, headers=csr)
    assert limit.status_code == 403 and "CreditLimit" in error(limit)
    order = secured.client.post("/data/SalesOrderHeadersV2", json={"OrderingCustomerAccountNumber": "US-002"}, headers=csr)
    assert order.status_code == 403 and "SalesOrderHeadersV2" in error(order)
    manager = secured.as_("salesmanager@isthmus.local", ERP)
    assert secured.client.patch(US_CUSTOMER, json={"CreditLimit": 5000}, headers=manager).status_code == 204
    accountant = secured.as_("accountant@isthmus.local", ERP)
    refused = secured.client.patch(US_CUSTOMER, json={"OrganizationName": "X"}, headers=accountant)
    assert refused.status_code == 403
    assert secured.client.get("/data/GeneralJournalAccountEntries?$top=1", headers=accountant).status_code == 200


def test_dataverse_privileges_and_business_units(secured: Secured) -> None:
    admin = secured.as_("admin@isthmus.local", DATAVERSE)
    sales = secured.as_("sales@isthmus.local", DATAVERSE)
    manager = secured.as_("salesmanager@isthmus.local", DATAVERSE)
    accountant = secured.as_("accountant@isthmus.local", DATAVERSE)
    created = secured.client.post(f"{DV}/accounts", json={"name": "Root unit account"}, headers=admin)
    assert created.status_code == 204
    root_account = created.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    # Salesperson reads accounts org-wide but writes only their own; the manager writes in the Sales unit only.
    assert secured.client.get(f"{DV}/accounts({root_account})?$select=name", headers=sales).status_code == 200
    denied = secured.client.patch(f"{DV}/accounts({root_account})", json={"name": "x"}, headers={**sales, "If-Match": "*"})
    assert denied.status_code == 403 and "Write" in error(denied)
    other_unit = secured.client.patch(f"{DV}/accounts({root_account})", json={"name": "x"}, headers={**manager, "If-Match": "*"})
    assert other_unit.status_code == 403 and "business unit" in error(other_unit)
    own = secured.client.post(f"{DV}/accounts", json={"name": "Sam's account"}, headers=sales)
    assert own.status_code == 204
    own_id = own.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    assert secured.client.patch(f"{DV}/accounts({own_id})", json={"telephone1": "1"}, headers={**manager, "If-Match": "*"}).status_code == 204
    # A role without the privilege: Basic User has no privilege on cases at all.
    no_privilege = secured.client.get(f"{DV}/incidents", headers=accountant)
    assert no_privilege.status_code == 403 and "prvReadIncident" in error(no_privilege)
    # Basic User sees only their own accounts.
    mine = secured.client.get(f"{DV}/accounts?$select=name", headers=accountant).json()["value"]
    assert mine == []
    assert secured.client.get(f"{DV}/audits", headers=sales).status_code == 403
    assert secured.client.get(f"{DV}/audits", headers=admin).status_code == 200
    who = secured.client.get(f"{DV}/WhoAmI", headers=sales).json()
    assert who["UserId"] != secured.client.get(f"{DV}/WhoAmI", headers=admin).json()["UserId"]


def test_admin_api_needs_the_administrator_role(secured: Secured) -> None:
    assert secured.client.get("/admin/environments", headers=secured.as_("admin@isthmus.local", ADMIN)).status_code == 200
    refused = secured.client.get("/admin/environments", headers=secured.as_("csr@isthmus.local", ADMIN))
    assert refused.status_code == 403 and "Administrator role" in error(refused)
    wrong = secured.client.get("/admin/environments", headers=secured.as_("admin@isthmus.local", ERP))
    assert wrong.status_code == 401
