"""Bad input never gets a 500 and never writes half a change: every mistake is a 4xx OData error naming it."""

from __future__ import annotations

import string
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

CUSTOMER = "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')"


def assert_error(response, status: int, fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert fragment in error["message"], error
    assert error["code"]


@pytest.mark.parametrize(
    ("url", "status", "fragment"),
    [
        ("/data/Nope", 404, "No entity set named 'Nope'"),
        ("/data/CustomersV3?$filter=Nope eq 1", 400, "'Nope' does not exist on CustomersV3"),
        ("/data/CustomersV3?$filter=CreditLimit eq 'lots'", 400, "Cannot compare CreditLimit (Edm.Decimal)"),
        ("/data/CustomersV3?$filter=CustomerAccount eq 5", 400, "put text in single quotes"),
        ("/data/CustomersV3?$filter=OnHoldStatus eq 'Maybe'", 400, "not a value of CustVendorBlocked"),
        ("/data/CustomersV3?$filter=OnHoldStatus gt 'No'", 400, "enumeration"),
        ("/data/CustomersV3?$filter=CreditLimit eq", 400, "$filter"),
        ("/data/CustomersV3?$filter=CreditLimit div 0 gt 1", 400, "Division by zero"),
        ("/data/CustomersV3?$filter=geo.distance(A,B) lt 1", 501, "not supported"),
        ("/data/CustomersV3?$filter=OrganizationName", 400, "not a condition"),
        ("/data/CustomersV3?$filter=year(OrganizationName) eq 2020", 400, "date"),
        ("/data/CustomersV3?$top=-1", 400, "$top must be a non-negative whole number"),
        ("/data/CustomersV3?$top=abc", 400, "$top"),
        ("/data/CustomersV3?$skip=1.5", 400, "$skip"),
        ("/data/CustomersV3?$count=yes", 400, "$count must be true or false"),
        ("/data/CustomersV3?$select=Nope", 400, "not a property of CustomersV3"),
        ("/data/CustomersV3?$select=SalesOrders", 400, "use $expand"),
        ("/data/CustomersV3?$orderby=Nope", 400, "'Nope' does not exist"),
        ("/data/CustomersV3?$orderby=OrganizationName sideways", 400, "asc or desc"),
        ("/data/CustomersV3?$expand=Nope", 400, "not a navigation property"),
        ("/data/CustomersV3?$expand=SalesOrders($expand=SalesOrderLines)", 501, "one level"),
        ("/data/CustomersV3?$Filter=x", 400, "case-sensitive"),
        ("/data/CustomersV3?$bogus=1", 400, "Unknown system query option"),
        ("/data/CustomersV3?$search=contoso", 501, "$search is not supported"),
        ("/data/CustomersV3?$apply=groupby((CustomerGroupId))", 501, "$apply is not supported"),
        ("/data/CustomersV3?$top=1&$top=2", 400, "more than once"),
        ("/data/CustomersV3?cross-company=maybe", 400, "cross-company must be true or false"),
        ("/data/CustomersV3(CustomerAccount='US-404')", 404, "No CustomersV3 record"),
        ("/data/CustomersV3('US-001',dataAreaId='usmf')", 400, "mixes named and unnamed"),
        ("/data/CustomersV3(Colour='red')", 400, "not a key property"),
        ("/data/CustomersV3(CustomerAccount=US-001)", 400, "not a valid literal"),
        ("/data/CustomersV3(CustomerAccount='US-001)", 400, "unterminated"),
        ("/data/SalesOrderLines(dataAreaId='usmf')", 400, "missing InventoryLotId"),
        ("/data/SalesInvoiceLines(dataAreaId='usmf',InvoiceNumber='X',LineNumber='1')", 400, "whole number"),
        (f"{CUSTOMER}/Nope", 404, "no property, navigation property or action"),
        (f"{CUSTOMER}?$filter=CreditLimit gt 1", 400, "apply to collections"),
        ("/data/Metadata/Other", 404, "PublicEntities"),
    ],
)
def test_bad_reads(client: TestClient, url: str, status: int, fragment: str) -> None:
    assert_error(client.get(url), status, fragment)


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "fragment"),
    [
        ("POST", "/data/CustomersV3", {"OrganizationName": "X"}, 400, "needs CustomerGroupId"),
        ("POST", "/data/CustomersV3", {"OrganizationName": "X", "CustomerGroupId": "99"}, 400, "Customer group '99' does not exist"),
        ("POST", "/data/CustomersV3", {"OrganizationName": 5, "CustomerGroupId": "10"}, 400, "must be text"),
        ("POST", "/data/CustomersV3", {"OrganizationName": "X" * 101, "CustomerGroupId": "10"}, 400, "at most 100"),
        ("POST", "/data/CustomersV3", {"OrganizationName": "X", "CustomerGroupId": "10", "CreditLimit": "lots"}, 400, "must be a number"),
        ("POST", "/data/CustomersV3", {"OrganizationName": "X", "CustomerGroupId": "10", "CreditLimit": True}, 400, "must be a number"),
        ("POST", "/data/CustomersV3", {"OrganizationName": "X", "CustomerGroupId": "10", "CreditLimit": -5}, 400, "at least 0"),
        ("POST", "/data/CustomersV3", {"OrganizationName": "X", "CustomerGroupId": "10", "OnHoldStatus": "Later"}, 400, "must be one of"),
        ("POST", "/data/CustomersV3", {"OrganizationName": "X", "CustomerGroupId": "10", "Colour": "red"}, 400, "'Colour' does not exist"),
        ("POST", "/data/CustomersV3", {"OrganizationName": "X", "CustomerGroupId": "10", "SalesOrders": []}, 501, "Deep insert"),
        ("POST", "/data/CustomersV3", {"CustomerAccount": "US-001", "OrganizationName": "X", "CustomerGroupId": "10"}, 409, "already exists"),
        ("POST", "/data/CustomersV3", [1, 2], 400, "JSON object"),
        ("POST", "/data/SalesOrderHeadersV2", {"OrderingCustomerAccountNumber": "US-404"}, 404, "US-404 does not exist"),
        ("POST", "/data/SalesOrderHeadersV2", {"OrderingCustomerAccountNumber": "US-001", "OrderTotalAmount": 5}, 400, "read-only"),
        ("POST", "/data/SalesOrderHeadersV2", {"OrderingCustomerAccountNumber": "US-001", "OrderCreationDate": "yesterday"}, 400, "must be a date"),
        ("POST", "/data/SalesOrderLines", {"ItemNumber": "T0001", "OrderedSalesQuantity": 1}, 400, "SalesOrderNumber"),
        ("POST", "/data/CustomerTransactions", {"Voucher": "X"}, 405, "read-only"),
        ("PATCH", CUSTOMER, {"CustomerAccount": "US-999"}, 400, "cannot be changed"),
        ("PATCH", CUSTOMER, {"dataAreaId": "demf"}, 400, "dataAreaId cannot be changed"),
        ("PATCH", CUSTOMER, {"CustomerGroupId": None}, 400, "cannot be null"),
        ("PATCH", "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-404')", {"CreditLimit": 1}, 404, "No CustomersV3 record"),
        ("PUT", "/data/CustomersV3", {}, 405, "not allowed on the collection"),
        ("POST", CUSTOMER, {}, 405, "not allowed on a record"),
        ("DELETE", "/data/", None, 405, "not allowed"),
    ],
)
def test_bad_writes(client: TestClient, method: str, url: str, body: object, status: int, fragment: str) -> None:
    before = client.get("/data/CustomersV3/$count?cross-company=true").text
    assert_error(client.request(method, url, json=body), status, fragment)
    assert client.get("/data/CustomersV3/$count?cross-company=true").text == before
    assert client.get(CUSTOMER).json()["@odata.etag"] == 'W/"1"'


def test_malformed_json_and_media_type(client: TestClient) -> None:
    assert_error(client.post("/data/CustomersV3", content=b"{not json", headers={"Content-Type": "application/json"}), 400, "not valid JSON")
    assert_error(client.post("/data/CustomersV3", content=b"", headers={"Content-Type": "application/json"}), 400, "needs a JSON body")
    assert_error(client.post("/data/CustomersV3", content=b"<x/>", headers={"Content-Type": "application/xml"}), 415, "application/json")


def test_oversized_body_is_413(client: TestClient) -> None:
    huge = b'{"OrganizationName": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    assert_error(client.post("/data/CustomersV3", content=huge, headers={"Content-Type": "application/json"}), 413, "bytes")


def test_sql_injection_is_just_text(client: TestClient) -> None:
    nasty = quote("OrganizationName eq 'x'' or 1=1 --'")
    assert client.get(f"/data/CustomersV3?$filter={nasty}").json()["value"] == []
    key = quote("CustomersV3(CustomerAccount='US-001'' or ''1''=''1')")
    assert client.get(f"/data/{key}").status_code == 404


TOKENS = ["CreditLimit", "OrganizationName", "OnHoldStatus", "SalesOrders", " eq ", " gt ", " and ", " or ", "not ",
          "'x'", "''", "1", "-2.5", "null", "true", "(", ")", ",", "/", "any(", "l:", "contains(", "in ", "[", "]",
          "2024-01-01", "Microsoft.Dynamics.CRM.In(", "@p", " add ", "$", "*"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12).map("".join),
    st.text(alphabet=string.printable, max_size=40),
))
def test_random_filters_never_answer_500(client: TestClient, text: str) -> None:
    response = client.get(f"/data/CustomersV3?$filter={quote(text)}&$select=CustomerAccount")
    assert response.status_code in (200, 400, 501), (text, response.text)
    if response.status_code != 200:
        assert response.json()["error"]["message"]
