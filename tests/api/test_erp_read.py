"""Reading the /data API: documents, collections, keys, query options, paging, navigation, cross-company."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

CUSTOMER = "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')"


def values(client: TestClient, url: str, **kw: object) -> list[dict]:
    response = client.get(url, **kw)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.json()["value"]


def test_service_document_lists_entity_sets(client: TestClient) -> None:
    body = client.get("/data/").json()
    names = {v["name"] for v in body["value"]}
    assert {"CustomersV3", "SalesOrderHeadersV2", "SalesOrderLines", "ReleasedProductsV2", "LegalEntities",
            "CustomerGroups", "GeneralJournalAccountEntries", "InventoryTransactions"} <= names
    assert body["@odata.context"] == "http://isthmus.test/data/$metadata"


def test_metadata_is_csdl_with_keys_enums_and_actions(client: TestClient) -> None:
    response = client.get("/data/$metadata")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    xml = response.text
    assert '<EntityType Name="CustomerV3"><Key><PropertyRef Name="dataAreaId"/><PropertyRef Name="CustomerAccount"/></Key>' in xml
    assert '<Property Name="CreditLimit" Type="Edm.Decimal" Precision="32" Scale="6"/>' in xml
    assert '<EnumType Name="NoYes"><Member Name="No" Value="0"/><Member Name="Yes" Value="1"/></EnumType>' in xml
    assert '<Action Name="Confirm" IsBound="true">' in xml
    assert '<EntitySet Name="CustomersV3" EntityType="Microsoft.Dynamics.DataEntities.CustomerV3"/>' in xml


def test_public_entities_metadata(client: TestClient) -> None:
    everything = client.get("/data/Metadata/PublicEntities").json()["value"]
    assert any(e["EntitySetName"] == "CustomersV3" for e in everything)
    one = client.get("/data/Metadata/PublicEntities(Name='CustomerV3')").json()
    keys = [p["Name"] for p in one["Properties"] if p["IsKey"]]
    assert keys == ["dataAreaId", "CustomerAccount"]
    assert client.get("/data/Metadata/PublicEntities(Name='Nope')").status_code == 404


def test_get_by_key_in_any_order_and_with_default_company(client: TestClient) -> None:
    a = client.get(CUSTOMER).json()
    b = client.get("/data/CustomersV3(CustomerAccount='US-001',dataAreaId='usmf')").json()
    c = client.get("/data/CustomersV3(CustomerAccount='US-001')").json()
    assert a == b == c
    assert a["OrganizationName"] == "Contoso Retail San Diego"
    assert a["CreditLimit"] == 2000 and a["CreditLimitIsMandatory"] == "Yes" and a["OnHoldStatus"] == "No"
    assert a["DeliveryAddressCity"] == "San Diego" and a["InvoiceAddressStreet"] == "PO Box 100"
    assert a["@odata.etag"] == 'W/"1"'
    assert client.get("/data/CustomersV3(dataAreaId='USMF',CustomerAccount='US-001')").status_code == 200


def test_default_company_scopes_collections_and_cross_company_widens(client: TestClient) -> None:
    usmf = values(client, "/data/CustomersV3?$select=CustomerAccount,dataAreaId")
    assert {r["dataAreaId"] for r in usmf} == {"usmf"}
    everyone = values(client, "/data/CustomersV3?cross-company=true&$select=CustomerAccount,dataAreaId")
    assert {r["dataAreaId"] for r in everyone} == {"usmf", "demf"}
    demf = values(client, "/data/CustomersV3?cross-company=true&$filter=dataAreaId eq 'demf'")
    assert [r["CustomerAccount"] for r in demf] == ["DE-001"]


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ("CreditLimit gt 1000", ["US-001"]),
        ("CreditLimit ge 0 and CustomerGroupId eq '20'", ["US-002"]),
        ("CustomerGroupId in ('10','30')", ["US-001", "US-003"]),
        ("OrganizationName eq '*retail*'", ["US-001"]),
        ("OrganizationName ne '*retail*'", ["US-002", "US-003"]),
        ("contains(OrganizationName,'FABRIK')", ["US-002"]),
        ("startswith(OrganizationName,'Con') or endswith(OrganizationName,'Doe')", ["US-001", "US-003"]),
        ("PersonLastName eq null", ["US-001", "US-002"]),
        ("PersonLastName ne null", ["US-003"]),
        ("CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'Yes'", ["US-001"]),
        ("CreditLimitIsMandatory eq 'No'", ["US-002", "US-003"]),
        ("PartyType eq 'Person'", ["US-003"]),
        ("not (CustomerGroupId eq '10')", ["US-002", "US-003"]),
        ("CreditLimit add 500 gt 2400", ["US-001"]),
        ("length(OrganizationName) eq 8", ["US-002", "US-003"]),  # Fabrikam, Jane Doe
        ("tolower(OrganizationName) eq 'fabrikam'", ["US-002"]),
        ("toupper(PersonFirstName) eq 'JANE'", ["US-003"]),
        ("substring(CustomerAccount,3) eq '002'", ["US-002"]),
        ("indexof(OrganizationName,'Retail') eq 8", ["US-001"]),
        ("concat(PersonFirstName,PersonLastName) eq 'JaneDoe'", ["US-003"]),
        ("trim(' Fabrikam ') eq OrganizationName", ["US-002"]),
        ("contains(OrganizationName,'100%')", []),
        ("contains(OrganizationName,'_')", []),
        ("matchesPattern(CustomerAccount,'^US-00[13]$')", ["US-001", "US-003"]),
        ("SalesOrders/any()", []),
    ],
)
def test_filters(client: TestClient, filter_: str, expected: list[str]) -> None:
    rows = values(client, f"/data/CustomersV3?$filter={quote(filter_)}&$select=CustomerAccount")
    assert sorted(r["CustomerAccount"] for r in rows) == expected


def test_select_orderby_top_skip_count(client: TestClient) -> None:
    body = client.get(
        "/data/CustomersV3?$select=CustomerAccount,OrganizationName&$orderby=OrganizationName desc&$top=2&$skip=1&$count=true"
    ).json()
    assert body["@odata.count"] == 3
    assert [r["CustomerAccount"] for r in body["value"]] == ["US-002", "US-001"]  # after Jane Doe
    assert set(body["value"][0]) == {"@odata.etag", "CustomerAccount", "OrganizationName"}
    assert body["@odata.context"].endswith("#CustomersV3(CustomerAccount,OrganizationName)")


def test_count_segment_is_plain_text(client: TestClient) -> None:
    response = client.get("/data/CustomersV3/$count?$filter=CustomerGroupId eq '10'")
    assert response.status_code == 200 and response.text == "1"
    assert response.headers["content-type"].startswith("text/plain")


def test_server_driven_paging_follows_next_links(client: TestClient) -> None:
    seen, url, pages = [], "/data/CustomersV3?$select=CustomerAccount&cross-company=true", 0
    while url:
        response = client.get(url, headers={"Prefer": "odata.maxpagesize=1"})
        assert response.headers["Preference-Applied"] == "odata.maxpagesize=1"
        body = response.json()
        seen += [r["CustomerAccount"] for r in body["value"]]
        url = body.get("@odata.nextLink")
        assert url is None or url.startswith("http://isthmus.test/data/")
        pages += 1
    assert pages == 4 and sorted(seen) == ["DE-001", "US-001", "US-002", "US-003"]


def test_top_is_respected_across_pages(client: TestClient) -> None:
    first = client.get("/data/CustomersV3?$top=2&$select=CustomerAccount", headers={"Prefer": "odata.maxpagesize=1"}).json()
    second = client.get(first["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=1"}).json()
    assert len(first["value"]) == 1 and len(second["value"]) == 1 and "@odata.nextLink" not in second


def test_property_and_value(client: TestClient) -> None:
    body = client.get(f"{CUSTOMER}/OrganizationName").json()
    assert body["value"] == "Contoso Retail San Diego"
    assert client.get(f"{CUSTOMER}/CreditLimit/$value").text == "2000.000000"
    assert client.get(f"{CUSTOMER}/PersonLastName").status_code == 204


def _order_with_lines(client: TestClient) -> str:
    order = client.post("/data/SalesOrderHeadersV2", json={"OrderingCustomerAccountNumber": "US-002"}).json()
    number = order["SalesOrderNumber"]
    for item, qty in (("T0001", 2), ("T0002", 5)):
        assert client.post("/data/SalesOrderLines", json={"SalesOrderNumber": number, "ItemNumber": item, "OrderedSalesQuantity": qty}).status_code == 201
    return number


def test_expand_navigation_and_lambda(client: TestClient) -> None:
    number = _order_with_lines(client)
    order_url = f"/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='{number}')"
    body = client.get(f"{order_url}?$expand=SalesOrderLines($select=ItemNumber,LineAmount;$orderby=LineNumber desc;$top=1),Customer($select=OrganizationName)").json()
    assert body["OrderTotalAmount"] == 350
    assert body["SalesOrderLines"] == [{"@odata.etag": 'W/"1"', "ItemNumber": "T0002", "LineAmount": 50}]
    assert body["Customer"]["OrganizationName"] == "Fabrikam"
    lines = values(client, f"{order_url}/SalesOrderLines?$select=ItemNumber")
    assert [r["ItemNumber"] for r in lines] == ["T0001", "T0002"]
    header = client.get(f"/data/SalesOrderLines(dataAreaId='usmf',InventoryLotId='{lines_lot(client, number)}')/SalesOrderHeader").json()
    assert header["SalesOrderNumber"] == number
    any_line = quote("SalesOrderLines/any(l: l/ItemNumber eq 'T0002')")
    found = values(client, f"/data/SalesOrderHeadersV2?$filter={any_line}")
    assert [r["SalesOrderNumber"] for r in found] == [number]
    all_lines = quote("SalesOrderLines/all(l: l/OrderedSalesQuantity gt 3)")
    assert values(client, f"/data/SalesOrderHeadersV2?$filter={all_lines}") == []
    through_header = quote("SalesOrderHeader/OrderingCustomerAccountNumber eq 'US-002'")
    by_customer = values(client, f"/data/SalesOrderLines?$filter={through_header}")
    assert len(by_customer) == 2
    customer_orders = values(client, "/data/CustomersV3?$filter=SalesOrders/any()&$select=CustomerAccount")
    assert [r["CustomerAccount"] for r in customer_orders] == ["US-002"]
    expanded = values(client, "/data/CustomersV3?$expand=SalesOrders($select=SalesOrderNumber)&$select=CustomerAccount")
    assert {r["CustomerAccount"]: len(r["SalesOrders"]) for r in expanded} == {"US-001": 0, "US-002": 1, "US-003": 0}


def lines_lot(client: TestClient, number: str) -> str:
    rows = values(client, f"/data/SalesOrderLines?$filter=SalesOrderNumber eq '{number}'&$select=InventoryLotId")
    return rows[0]["InventoryLotId"]


def test_read_entities_over_joins(client: TestClient) -> None:
    entries = values(client, "/data/GeneralJournalAccountEntries?$filter=MainAccount eq '140200'&$select=Voucher,AccountingDate,AccountingCurrencyAmount,IsCredit")
    assert len(entries) == 2 and {e["AccountingDate"] for e in entries} == {"2024-01-05"}
    assert {e["AccountingCurrencyAmount"] for e in entries} == {80000, 2000}
    periods = values(client, "/data/FiscalPeriods?$filter=FiscalYear eq '2025' and PeriodType eq 'Operating'&$orderby=StartDate")
    assert len(periods) == 12 and periods[0]["PeriodName"] == "Period 1" and periods[0]["PeriodStatus"] == "Open"
    years = values(client, "/data/FiscalYears?$select=FiscalYear,YearEndCloseStatus")
    assert [y["FiscalYear"] for y in years] == ["2023", "2024", "2025", "2026", "2027"]
    stock = values(client, "/data/InventoryTransactions?$filter=ItemNumber eq 'T0001'")
    assert stock[0]["Quantity"] == 1000 and stock[0]["ReceiptStatus"] == "Purchased"


def test_global_entities_have_no_company(client: TestClient) -> None:
    companies = values(client, "/data/LegalEntities?$select=LegalEntityId,AccountingCurrency")
    assert companies == [
        {"@odata.etag": 'W/"1"', "LegalEntityId": "demf", "AccountingCurrency": "EUR"},
        {"@odata.etag": 'W/"1"', "LegalEntityId": "usmf", "AccountingCurrency": "USD"},
    ]
    assert client.get("/data/Currencies('EUR')").json()["Name"] == "Euro"
