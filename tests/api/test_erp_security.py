"""The ERP security matrix over HTTP: roles × entity privileges × legal entities through the /data API, $expand,
navigation, $count, $batch change sets, and the database log readable as the DatabaseLogs entity.

Token authentication is built elsewhere; here the caller's identity (object id) comes in a test header and the ERP
service's ``context`` turns it into ``erp_context(...)`` — the same ``CallContext`` the real authentication will
produce. The app is built from the system's own ERP service, so every request runs the production code paths.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from isthmus import audit
from isthmus.api.erp_odata import ErpODataService
from isthmus.api.http import guarded
from isthmus.erp.security import erp_context
from isthmus.errors import AuthenticationError
from isthmus.storage import CallContext
from isthmus.system import System
from tests.erp.test_security import oid, set_up_security

HEADER = "X-Test-Principal"
US001 = "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')"
DE001 = "/data/CustomersV3(dataAreaId='demf',CustomerAccount='DE-001')"
ACTION = "Microsoft.Dynamics.DataEntities"


class HeaderAuthenticatedErp(ErpODataService):
    def context(self, request: Request) -> CallContext:
        principal = request.headers.get(HEADER)
        if principal is None:
            raise AuthenticationError("No identity was presented.")
        return erp_context(self.service.database, principal, default_company=self.settings.default_company)


@pytest.fixture
def app_client(system: System) -> Iterator[TestClient]:
    database = system.erp_database
    audit.create_schema(database)
    audit.install(database)
    set_up_security(database)
    api = HeaderAuthenticatedErp(system.entities, system.settings)
    endpoint = guarded(api.handle)
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    app = Starlette(routes=[Route("/data", endpoint, methods=methods), Route("/data/{rest:path}", endpoint, methods=methods)])
    with TestClient(app, base_url="http://isthmus.test") as client:
        yield client
    audit.uninstall(database)


class As:
    """Requests as one identity."""

    def __init__(self, client: TestClient, name: str) -> None:
        self.client = client
        self.headers = {HEADER: oid(name) if name != "stranger" else str(uuid.UUID(int=7))}

    def get(self, url: str):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers=self.headers)

    def post(self, url: str, body: dict | None = None):  # type: ignore[no-untyped-def]
        return self.client.post(url, json=body, headers=self.headers)

    def patch(self, url: str, body: dict):  # type: ignore[no-untyped-def]
        return self.client.patch(url, json=body, headers=self.headers)

    def delete(self, url: str):  # type: ignore[no-untyped-def]
        return self.client.delete(url, headers=self.headers)

    def batch(self, body: str):  # type: ignore[no-untyped-def]
        return self.client.post(
            "/data/$batch", content=body.encode(), headers={**self.headers, "Content-Type": "multipart/mixed; boundary=b"}
        )


def error(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["message"]


# --- who may read what ---------------------------------------------------------------------------------------------

READS = [
    # (user, url, status, fragment of the answer)
    ("clerk", "/data/CustomersV3", 200, None),
    ("clerk", "/data/ReleasedProductsV2", 200, None),
    ("clerk", "/data/GeneralJournalAccountEntries", 403, "grants the Read privilege on GeneralJournalAccountEntries"),
    ("clerk", "/data/CustomerTransactions/$count", 403, "You may not read CustomerTransactions in company usmf"),
    ("clerk", DE001, 403, "You have no access to company demf."),
    ("clerk", "/data/SystemUsers", 403, "You may not read SystemUsers"),
    ("clerk", "/data/DatabaseLogs", 403, "You may not read DatabaseLogs"),
    ("clerk", "/data/CustomersV3?$expand=CustomerTransactions", 403, "You may not read CustomerTransactions"),
    ("clerk", f"{US001}/CustomerTransactions", 403, "You may not read CustomerTransactions"),
    ("csr", "/data/CustomersV3?$expand=SalesOrders,CustomerTransactions", 200, None),
    ("csr", "/data/SalesOrderHeadersV2", 200, None),
    ("csr", "/data/FiscalYears", 403, "the Read privilege on FiscalYears"),
    ("accountant", "/data/GeneralJournalAccountEntries", 200, None),
    ("accountant", DE001, 200, None),
    ("manager", DE001, 200, None),
    ("manager", "/data/GeneralJournalAccountEntries", 403, "GeneralJournalAccountEntries"),
    ("admin", "/data/SystemUsers", 200, None),
    ("admin", "/data/SecurityRoles('SalesClerk')/EntityPrivileges", 200, None),
    ("norole", "/data/CustomersV3", 403, "You have no access to company usmf."),
    ("stranger", "/data/CustomersV3", 403, "No ERP user is mapped to identity 00000000-0000-0000-0000-000000000007"),
    ("gone", "/data/CustomersV3", 403, "is disabled"),
]


@pytest.mark.parametrize(("user", "url", "status", "fragment"), READS)
def test_read_matrix(app_client: TestClient, user: str, url: str, status: int, fragment: str | None) -> None:
    response = As(app_client, user).get(url)
    assert response.status_code == status, response.text
    if fragment:
        body = response.json()["error"]
        assert body["code"] == "Forbidden" and fragment in body["message"]


def test_no_identity_is_401(app_client: TestClient) -> None:
    response = app_client.get("/data/CustomersV3")
    assert response.status_code == 401 and response.json()["error"]["code"] == "Unauthorized"


def test_cross_company_silently_covers_the_allowed_companies(app_client: TestClient) -> None:
    def companies(user: str, url: str) -> set[str]:
        response = As(app_client, user).get(url)
        assert response.status_code == 200, response.text
        return {r["dataAreaId"] for r in response.json()["value"]}

    url = "/data/CustomersV3?cross-company=true&$select=CustomerAccount,dataAreaId"
    assert companies("admin", url) == {"usmf", "demf"}
    assert companies("clerk", url) == {"usmf"}
    assert companies("manager", url) == {"usmf", "demf"}
    assert companies("csr", url) == {"usmf"}
    assert As(app_client, "clerk").get("/data/CustomersV3/$count?cross-company=true").text == "3"
    # the default company of a user without access to it falls back to one they may access
    assert companies("demfclerk", "/data/CustomersV3") == {"demf"}
    # a filter naming a forbidden company finds nothing rather than failing
    assert companies("clerk", f"{url}&$filter=dataAreaId eq 'demf'") == set()


# --- who may write what --------------------------------------------------------------------------------------------


def test_customer_master_matrix(app_client: TestClient) -> None:
    new = {"OrganizationName": "Northwind", "CustomerGroupId": "10"}
    assert As(app_client, "clerk").post("/data/CustomersV3", new).status_code == 403
    assert As(app_client, "csr").post("/data/CustomersV3", new).status_code == 403
    created = As(app_client, "manager").post("/data/CustomersV3", new)
    assert created.status_code == 201
    assert As(app_client, "manager").post("/data/CustomersV3", {**new, "dataAreaId": "demf"}).status_code == 201
    assert As(app_client, "clerk").post("/data/CustomersV3", {**new, "dataAreaId": "demf"}).status_code == 403

    refused = As(app_client, "clerk").patch(US001, {"CreditLimit": 9000})
    assert refused.status_code == 403 and "You may not update CustomersV3 in company usmf" in error(refused)
    refused = As(app_client, "csr").patch(US001, {"CreditLimit": 9000, "PrimaryContactPhone": "1"})
    assert refused.status_code == 403 and "You may not change CreditLimit of CustomersV3" in error(refused)
    assert refused.json()["error"]["target"] == "CreditLimit"
    assert As(app_client, "csr").patch(US001, {"PrimaryContactPhone": "+1 555 0177"}).status_code == 204
    assert As(app_client, "manager").patch(US001, {"CreditLimit": 9000}).status_code == 204
    assert As(app_client, "accountant").patch(US001, {"OnHoldStatus": "All"}).status_code == 403
    assert As(app_client, "csr").patch(DE001, {"PrimaryContactPhone": "1"}).status_code == 403

    assert As(app_client, "manager").delete(US001).status_code == 403
    assert As(app_client, "clerk").delete("/data/CustomersV3(CustomerAccount='US-003')").status_code == 403
    assert As(app_client, "admin").delete("/data/CustomersV3(CustomerAccount='US-003')").status_code == 204
    row = As(app_client, "admin").get(US001).json()
    assert row["CreditLimit"] == 9000 and row["PrimaryContactPhone"] == "+1 555 0177" and row["OnHoldStatus"] == "No"


def test_order_to_cash_matrix(app_client: TestClient) -> None:
    clerk, accountant, csr = As(app_client, "clerk"), As(app_client, "accountant"), As(app_client, "csr")
    assert csr.post("/data/SalesOrderHeadersV2", {"OrderingCustomerAccountNumber": "US-002"}).status_code == 403
    order = clerk.post("/data/SalesOrderHeadersV2", {"OrderingCustomerAccountNumber": "US-002"})
    assert order.status_code == 201
    number = order.json()["SalesOrderNumber"]
    url = f"/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='{number}')"
    line = clerk.post("/data/SalesOrderLines", {"SalesOrderNumber": number, "ItemNumber": "T0001", "OrderedSalesQuantity": 2})
    assert line.status_code == 201
    assert accountant.post(f"{url}/{ACTION}.Confirm").status_code == 403
    assert clerk.post(f"{url}/{ACTION}.Confirm").status_code == 200
    assert clerk.post(f"{url}/{ACTION}.PostPackingSlip").status_code == 200
    refused = clerk.post(f"{url}/{ACTION}.PostInvoice")
    assert refused.status_code == 403 and "run the action PostInvoice on SalesOrderHeadersV2" in error(refused)
    invoiced = accountant.post(f"{url}/{ACTION}.PostInvoice")
    assert invoiced.status_code == 200, invoiced.text
    assert csr.post(f"{US001.replace('US-001', 'US-002')}/{ACTION}.PostPayment", {"Amount": 300}).status_code == 403
    paid = accountant.post(f"{US001.replace('US-001', 'US-002')}/{ACTION}.PostPayment", {"Amount": 300})
    assert paid.status_code == 200, paid.text
    assert clerk.get(f"/data/SalesInvoiceHeadersV2?$filter=SalesOrderNumber eq '{number}'").status_code == 200
    assert accountant.get("/data/CustomerTransactions?$filter=CustomerAccount eq 'US-002'").json()["value"]


def test_batch_change_sets_go_through_the_same_checks(app_client: TestClient) -> None:
    def part(request_line: str, body: dict | None = None, content_id: str | None = None) -> str:
        head = "Content-Type: application/http\nContent-Transfer-Encoding: binary\n"
        if content_id:
            head += f"Content-ID: {content_id}\n"
        payload = "" if body is None else json.dumps(body)
        headers = "Content-Type: application/json\n" if body is not None else ""
        return f"{head}\n{request_line} HTTP/1.1\n{headers}\n{payload}\n"

    def batch(*parts: str, changeset: list[str]) -> str:
        inner = "".join(f"--cs\n{p}" for p in changeset) + "--cs--\n"
        chunks = [f"--b\nContent-Type: multipart/mixed; boundary=cs\n\n{inner}", *(f"--b\n{p}" for p in parts)]
        return ("".join(chunks) + "--b--\n").replace("\n", "\r\n")

    clerk = As(app_client, "clerk")
    logged_before = len(As(app_client, "admin").get("/data/DatabaseLogs?cross-company=true").json()["value"])
    response = clerk.batch(batch(changeset=[
        part("POST SalesOrderHeadersV2", {"OrderingCustomerAccountNumber": "US-002", "CustomersOrderReference": "BATCH-1"}, "1"),
        part("PATCH CustomersV3(dataAreaId='usmf',CustomerAccount='US-002')", {"CreditLimit": 1}, "2"),
    ]))
    assert response.status_code == 200
    assert [int(s) for s in re.findall(r"HTTP/1\.1 (\d{3})", response.text)] == [403]
    assert "You may not update CustomersV3" in response.text
    orders = clerk.get("/data/SalesOrderHeadersV2?$filter=CustomersOrderReference eq 'BATCH-1'").json()["value"]
    assert orders == []
    # the rolled-back change set left nothing in the database log either
    assert len(As(app_client, "admin").get("/data/DatabaseLogs?cross-company=true").json()["value"]) == logged_before

    allowed = clerk.batch(batch(
        part("GET CustomersV3(dataAreaId='demf',CustomerAccount='DE-001')"),
        changeset=[part("POST SalesOrderHeadersV2", {"OrderingCustomerAccountNumber": "US-002", "CustomersOrderReference": "BATCH-2"}, "1")],
    ))
    assert [int(s) for s in re.findall(r"HTTP/1\.1 (\d{3})", allowed.text)] == [201, 403]
    assert "You have no access to company demf." in allowed.text


# --- the database log through the API ------------------------------------------------------------------------------


def test_database_log_shows_who_changed_what(app_client: TestClient) -> None:
    assert As(app_client, "manager").patch(US001, {"CreditLimit": 7500}).status_code == 204
    assert As(app_client, "csr").patch(US001, {"PrimaryContactEmail": "ap@contoso.example"}).status_code == 204
    assert As(app_client, "manager").patch(DE001, {"CreditLimit": 100}).status_code == 204
    admin = As(app_client, "admin")
    response = admin.get("/data/DatabaseLogs?$filter=TableName eq 'custtable' and LogType eq "
                         "Microsoft.Dynamics.DataEntities.DatabaseLogType'Update'&$orderby=LogId desc")
    assert response.status_code == 200, response.text
    entries = response.json()["value"]
    assert [e["UserId"] for e in entries] == ["csr", "manager"]  # usmf only: demf is another company
    email, credit = entries
    assert email["UserObjectId"] == oid("csr") and email["ChangedFields"] == "email" and email["dataAreaId"] == "usmf"
    assert orjson.loads(email["Changes"]) == {"changedAttributes": [
        {"logicalName": "email", "oldValue": "sandiego@contoso.example", "newValue": "ap@contoso.example"}]}
    assert orjson.loads(credit["Changes"])["changedAttributes"] == [
        {"logicalName": "creditmax", "oldValue": "2000", "newValue": "7500"}]
    assert credit["LogType"] == "Update" and credit["Origin"] == "api" and credit["CreatedDateTime"].endswith("Z")
    one = admin.get(f"/data/DatabaseLogs(dataAreaId='usmf',LogId={credit['LogId']})")
    assert one.status_code == 200 and one.json()["RecordId"] == credit["RecordId"]
    everywhere = admin.get("/data/DatabaseLogs?cross-company=true&$filter=TableName eq 'custtable'").json()["value"]
    assert {e["dataAreaId"] for e in everywhere} == {"usmf", "demf"}
    refused = admin.post("/data/DatabaseLogs", {"TableName": "x"})
    assert refused.status_code == 405
