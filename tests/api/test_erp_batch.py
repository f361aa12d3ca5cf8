"""$batch on /data against the real database: change sets commit or roll back whole, Content-ID references work,
CRLF and LF bodies both parse."""

from __future__ import annotations

import json
import re

import pytest
from starlette.testclient import TestClient


def _part(request_line: str, body: dict | None = None, content_id: str | None = None) -> str:
    head = "Content-Type: application/http\nContent-Transfer-Encoding: binary\n"
    if content_id:
        head += f"Content-ID: {content_id}\n"
    payload = "" if body is None else json.dumps(body)
    headers = "Content-Type: application/json\n" if body is not None else ""
    return f"{head}\n{request_line} HTTP/1.1\n{headers}\n{payload}\n"


def _batch(*parts: str, changeset: list[str] | None = None, eol: str = "\r\n") -> str:
    chunks = []
    if changeset:
        inner = "".join(f"--cs\n{p}" for p in changeset) + "--cs--\n"
        chunks.append(f"--b\nContent-Type: multipart/mixed; boundary=cs\n\n{inner}")
    chunks += [f"--b\n{p}" for p in parts]
    return ("".join(chunks) + "--b--\n").replace("\n", eol)


def _statuses(text: str) -> list[int]:
    return [int(s) for s in re.findall(r"HTTP/1\.1 (\d{3})", text)]


def post(client: TestClient, body: str):  # type: ignore[no-untyped-def]
    return client.post("/data/$batch", content=body.encode(), headers={"Content-Type": "multipart/mixed; boundary=b"})


@pytest.mark.parametrize("eol", ["\r\n", "\n"])
def test_change_set_with_content_id_reference_commits(client: TestClient, eol: str) -> None:
    body = _batch(
        _part("GET /data/CustomersV3?$filter=OrganizationName%20eq%20'Batchco'&$select=CreditLimit"),
        changeset=[
            _part("POST CustomersV3", {"OrganizationName": "Batchco", "CustomerGroupId": "10"}, "1"),
            _part("PATCH $1", {"CreditLimit": 750}, "2"),
        ],
        eol=eol,
    )
    response = post(client, body)
    assert response.status_code == 200 and response.headers["content-type"].startswith("multipart/mixed")
    assert _statuses(response.text) == [201, 204, 200]
    assert '"CreditLimit":750' in response.text


def test_failing_change_set_writes_nothing(client: TestClient) -> None:
    body = _batch(
        changeset=[
            _part("POST CustomersV3", {"OrganizationName": "Ghost", "CustomerGroupId": "10"}, "1"),
            _part("PATCH CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')", {"CreditLimit": 1}, "2"),
            _part("POST CustomersV3", {"OrganizationName": "Broken", "CustomerGroupId": "99"}, "3"),
        ]
    )
    response = post(client, body)
    assert _statuses(response.text) == [400]
    assert "Customer group '99' does not exist" in response.text
    assert client.get("/data/CustomersV3?$filter=OrganizationName eq 'Ghost'").json()["value"] == []
    assert client.get("/data/CustomersV3(CustomerAccount='US-001')").json()["CreditLimit"] == 2000


def test_requests_outside_change_sets_stop_at_first_error_unless_continue(client: TestClient) -> None:
    parts = (
        _part("GET CustomersV3(CustomerAccount='US-404')"),
        _part("GET CustomersV3(CustomerAccount='US-001')?$select=CustomerAccount"),
    )
    assert _statuses(post(client, _batch(*parts)).text) == [404]
    response = client.post(
        "/data/$batch", content=_batch(*parts).encode(),
        headers={"Content-Type": "multipart/mixed; boundary=b", "Prefer": "odata.continue-on-error"},
    )
    assert _statuses(response.text) == [404, 200]


def test_business_actions_in_one_change_set(client: TestClient) -> None:
    order = client.post("/data/SalesOrderHeadersV2", json={"OrderingCustomerAccountNumber": "US-002"}).json()
    number = order["SalesOrderNumber"]
    url = f"SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='{number}')"
    body = _batch(changeset=[
        _part("POST SalesOrderLines", {"SalesOrderNumber": number, "ItemNumber": "T0001", "OrderedSalesQuantity": 1}, "1"),
        _part(f"POST {url}/Microsoft.Dynamics.DataEntities.Confirm", {}, "2"),
        _part(f"POST {url}/Microsoft.Dynamics.DataEntities.PostInvoice", {"InvoiceDate": "2026-01-15"}, "3"),
    ])
    response = post(client, body)
    assert _statuses(response.text) == [201, 200, 200], response.text
    assert client.get(f"/data/{url}").json()["SalesOrderStatus"] == "Invoiced"


@pytest.mark.parametrize(
    ("content_type", "body", "status", "fragment"),
    [
        ("multipart/mixed", "--b--", 400, "boundary"),
        ("application/json", "{}", 415, "multipart/mixed"),
        ("multipart/mixed; boundary=b", "--b\nContent-Type: application/http\n\nNOT A REQUEST\n--b--\n", 400, "request line"),
    ],
)
def test_malformed_batches_are_400(client: TestClient, content_type: str, body: str, status: int, fragment: str) -> None:
    response = client.post("/data/$batch", content=body.encode(), headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]["message"]
