"""Writing through /data: creates, updates, deletes and actions run the business logic and answer like finance and
operations does."""

from __future__ import annotations

from starlette.testclient import TestClient

CUSTOMER = "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')"
ACTION = "Microsoft.Dynamics.DataEntities"


def test_create_customer_returns_201_with_location_and_body(client: TestClient) -> None:
    body = {
        "@odata.type": "Microsoft.Dynamics.DataEntities.CustomerV3",
        "dataAreaId": "usmf",
        "OrganizationName": "Northwind Traders",
        "CustomerGroupId": "20",
        "CreditLimit": 12500.5,
        "CreditLimitIsMandatory": "Yes",
        "DeliveryAddressCity": "Seattle",
        "DeliveryAddressCountryRegionISOCode": "USA",
        "PrimaryContactEmail": "orders@northwind.example",
    }
    response = client.post("/data/CustomersV3", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    account = created["CustomerAccount"]
    assert response.headers["Location"] == f"http://isthmus.test/data/CustomersV3(dataAreaId='usmf',CustomerAccount='{account}')"
    assert created["CreditLimit"] == 12500.5 and created["PaymentTerms"] == "Net30"
    again = client.get(response.headers["Location"]).json()
    assert again["OrganizationName"] == "Northwind Traders" and again["CreditLimitIsMandatory"] == "Yes"


def test_create_in_other_company_by_body(client: TestClient) -> None:
    response = client.post("/data/CustomersV3", json={"dataAreaId": "DEMF", "OrganizationName": "Bäckerei", "CustomerGroupId": "10"})
    assert response.status_code == 201
    assert response.json()["dataAreaId"] == "demf" and response.json()["SalesCurrencyCode"] == "EUR"


def test_patch_updates_and_bumps_etag(client: TestClient) -> None:
    response = client.patch(CUSTOMER, json={"CreditLimit": 5000, "DeliveryAddressStreet": "2 New Street"})
    assert response.status_code == 204 and response.headers["ETag"] == 'W/"2"'
    row = client.get(CUSTOMER).json()
    assert row["CreditLimit"] == 5000 and row["DeliveryAddressStreet"] == "2 New Street" and row["@odata.etag"] == 'W/"2"'


def test_patch_with_representation(client: TestClient) -> None:
    response = client.patch(CUSTOMER, json={"OnHoldStatus": "Invoice"}, headers={"Prefer": "return=representation"})
    assert response.status_code == 200 and response.json()["OnHoldStatus"] == "Invoice"


def test_optimistic_concurrency(client: TestClient) -> None:
    assert client.patch(CUSTOMER, json={"CreditLimit": 3000}, headers={"If-Match": 'W/"1"'}).status_code == 204
    stale = client.patch(CUSTOMER, json={"CreditLimit": 4000}, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412 and "has changed" in stale.json()["error"]["message"]
    assert client.get(CUSTOMER).json()["CreditLimit"] == 3000
    assert client.patch(CUSTOMER, json={"CreditLimit": 4000}, headers={"If-Match": "*"}).status_code == 204


def test_delete_and_refusal(client: TestClient) -> None:
    assert client.delete("/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-003')").status_code == 204
    assert client.get("/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-003')").status_code == 404
    order = client.post("/data/SalesOrderHeadersV2", json={"OrderingCustomerAccountNumber": "US-002"})
    assert order.status_code == 201
    refused = client.delete("/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-002')")
    assert refused.status_code == 409 and "sales order" in refused.json()["error"]["message"]


def test_order_lifecycle_through_actions(client: TestClient) -> None:
    order = client.post("/data/SalesOrderHeadersV2", json={"OrderingCustomerAccountNumber": "US-001", "CustomersOrderReference": "PO-1"}).json()
    url = f"/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='{order['SalesOrderNumber']}')"
    line = client.post("/data/SalesOrderLines", json={"SalesOrderNumber": order["SalesOrderNumber"], "ItemNumber": "T0001", "OrderedSalesQuantity": 20})
    assert line.status_code == 201 and line.json()["LineAmount"] == 3000

    refused = client.post(f"{url}/{ACTION}.Confirm")
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "CreditLimitExceeded" and "exceeds the credit limit of 2,000.00 USD" in error["message"]
    assert error["details"][0]["Total"] == 3000

    assert client.patch(CUSTOMER, json={"CreditLimit": 5000}).status_code == 204
    confirmed = client.post(f"{url}/{ACTION}.Confirm")
    assert confirmed.status_code == 200 and confirmed.json()["SalesOrderProcessingStatus"] == "Confirmed"

    delivered = client.post(f"{url}/{ACTION}.PostPackingSlip", json={"DeliveryDate": "2025-04-01"})
    assert delivered.json()["SalesOrderStatus"] == "Delivered"
    invoice = client.post(f"{url}/{ACTION}.PostInvoice", json={"InvoiceDate": "2025-04-02"})
    assert invoice.status_code == 200
    number = invoice.json()["value"]
    assert invoice.json()["@odata.context"].endswith("$metadata#Edm.String")
    header = client.get(f"/data/SalesInvoiceHeadersV2(dataAreaId='usmf',InvoiceNumber='{number}')").json()
    assert header["TotalInvoiceAmount"] == 3000 and header["InvoiceDate"] == "2025-04-02"
    assert client.get(url).json()["SalesOrderStatus"] == "Invoiced"

    payment = client.post(f"{CUSTOMER}/{ACTION}.PostPayment", json={"Amount": 1000, "PaymentDate": "2025-04-10", "PaymentReference": "CHK-9"})
    assert payment.status_code == 200
    trans = client.get("/data/CustomerTransactions?$filter=CustomerAccount eq 'US-001'&$orderby=TransactionDate").json()["value"]
    assert [t["AmountInTransactionCurrency"] for t in trans] == [3000, -1000]


def test_unqualified_action_name_and_parameter_checks(client: TestClient) -> None:
    ok = client.post(f"{CUSTOMER}/PostPayment", json={"Amount": "12.5", "PaymentDate": "2025-01-02"})
    assert ok.status_code == 200
    missing = client.post(f"{CUSTOMER}/PostPayment", json={"PaymentDate": "2025-01-02"})
    assert missing.status_code == 400 and "Amount" in missing.json()["error"]["message"]
    unknown = client.post(f"{CUSTOMER}/PostPayment", json={"Amount": 1, "Colour": "red"})
    assert unknown.status_code == 400 and "Colour" in unknown.json()["error"]["message"]
    nothing = client.post(f"{CUSTOMER}/{ACTION}.Explode")
    assert nothing.status_code == 404


def test_line_changes_recompute_the_order_total(client: TestClient) -> None:
    order = client.post("/data/SalesOrderHeadersV2", json={"OrderingCustomerAccountNumber": "US-002"}).json()
    line = client.post("/data/SalesOrderLines", json={"SalesOrderNumber": order["SalesOrderNumber"], "ItemNumber": "T0002", "OrderedSalesQuantity": 3}).json()
    url = f"/data/SalesOrderLines(dataAreaId='usmf',InventoryLotId='{line['InventoryLotId']}')"
    assert client.patch(url, json={"OrderedSalesQuantity": 10, "SalesPrice": 9.5}).status_code == 204
    header = f"/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='{order['SalesOrderNumber']}')"
    assert client.get(header).json()["OrderTotalAmount"] == 95
    assert client.delete(url).status_code == 204
    assert client.get(header).json()["OrderTotalAmount"] == 0


def test_reference_data_and_legal_entities(client: TestClient) -> None:
    created = client.post("/data/CustomerGroups", json={"CustomerGroupId": "50", "Description": "Online", "PaymentTermId": "Net10"})
    assert created.status_code == 201
    bad_term = client.post("/data/CustomerGroups", json={"CustomerGroupId": "60", "PaymentTermId": "Net99"})
    assert bad_term.status_code == 400 and "Net99" in bad_term.json()["error"]["message"]
    in_use = client.delete("/data/CustomerGroups(dataAreaId='usmf',CustomerGroupId='10')")
    assert in_use.status_code == 409
    company = client.post("/data/LegalEntities", json={"LegalEntityId": "frrt", "Name": "Contoso France", "AccountingCurrency": "EUR", "AddressCountryRegionId": "FRA"})
    assert company.status_code == 201
    groups = client.get("/data/CustomerGroups?cross-company=true&$filter=dataAreaId eq 'frrt'").json()["value"]
    assert len(groups) == 4
    customer = client.post("/data/CustomersV3", json={"dataAreaId": "frrt", "OrganizationName": "Client", "CustomerGroupId": "10"})
    assert customer.status_code == 201 and customer.json()["CustomerAccount"].startswith("FR-")


def test_period_status_through_the_api_guards_posting(client: TestClient) -> None:
    period = "/data/FiscalPeriods(dataAreaId='usmf',FiscalYear='2025',PeriodName='Period 1')"
    assert client.patch(period, json={"PeriodStatus": "OnHold"}).status_code == 204
    refused = client.post(f"{CUSTOMER}/PostPayment", json={"Amount": 5, "PaymentDate": "2025-01-15"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "FiscalPeriodNotOpen"
    assert client.patch(period, json={"StartDate": "2025-01-02"}).status_code == 400
