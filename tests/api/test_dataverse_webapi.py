"""The Dataverse Web API over HTTP: the conventions real clients rely on (204 + OData-EntityId, representation,
upsert and concurrency headers, alternate keys, @odata.bind, paging with an absolute nextLink, annotations, $count,
$apply, FetchXML, $batch, bulk actions, WhoAmI, metadata)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from starlette.testclient import TestClient

from tests.api.conftest import ROOT


def create(dv: TestClient, entity_set: str, body: dict) -> str:
    response = dv.post(f"{ROOT}/{entity_set}", json=body)
    assert response.status_code == 204, response.text
    match = re.search(r"\(([0-9a-f-]{36})\)$", response.headers["OData-EntityId"])
    assert match, response.headers
    return match.group(1)


def test_service_document_whoami_and_metadata(dv: TestClient) -> None:
    names = {v["name"] for v in dv.get(f"{ROOT}/").json()["value"]}
    assert {"accounts", "contacts", "incidents", "emails", "systemusers", "cdm_companies", "salesorders"} <= names
    who = dv.get(f"{ROOT}/WhoAmI").json()
    assert who["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")
    assert {"UserId", "BusinessUnitId", "OrganizationId"} <= who.keys()
    xml = dv.get(f"{ROOT}/$metadata").text
    assert 'Namespace="Microsoft.Dynamics.CRM"' in xml and '<EntityType Name="account"' in xml


def test_create_retrieve_update_delete(dv: TestClient) -> None:
    account = create(dv, "accounts", {"name": "Contoso", "creditlimit": 2000, "accountnumber": "C-0001"})
    url = f"{ROOT}/accounts({account})"
    row = dv.get(f"{url}?$select=name,creditlimit,statecode").json()
    assert row["name"] == "Contoso" and row["creditlimit"] == 2000 and row["accountid"] == account
    assert row["@odata.context"].endswith("$metadata#accounts/$entity")
    assert dv.patch(url, json={"creditlimit": 5000}, headers={"If-Match": "*"}).status_code == 204
    assert dv.get(f"{url}?$select=creditlimit").json()["creditlimit"] == 5000
    assert dv.get(f"{ROOT}/accounts(accountnumber='C-0001')?$select=name").json()["name"] == "Contoso"
    assert dv.delete(url, headers={"If-Match": "*"}).status_code == 204
    missing = dv.get(url)
    assert missing.status_code == 404 and "Does Not Exist" in missing.json()["error"]["message"]


def test_return_representation_and_annotations(dv: TestClient) -> None:
    response = dv.post(f"{ROOT}/accounts?$select=name,statecode", json={"name": "Fabrikam"},
                       headers={"Prefer": 'return=representation,odata.include-annotations="OData.Community.Display.V1.FormattedValue"'})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Fabrikam" and body["statecode@OData.Community.Display.V1.FormattedValue"] == "Active"
    assert "OData-EntityId" in response.headers


def test_upsert_and_concurrency_headers(dv: TestClient) -> None:
    key_url = f"{ROOT}/accounts(accountnumber='U-1')"
    assert dv.patch(key_url, json={"name": "Upserted"}).status_code == 204
    assert dv.patch(key_url, json={"name": "Again"}, headers={"If-None-Match": "*"}).status_code == 412
    assert dv.patch(f"{ROOT}/accounts(accountnumber='U-404')", json={"name": "x"}, headers={"If-Match": "*"}).status_code == 404
    row = dv.get(f"{key_url}?$select=name").json()
    stale = row["@odata.etag"]
    assert dv.patch(key_url, json={"name": "Changed"}, headers={"If-Match": stale}).status_code == 204
    conflict = dv.patch(key_url, json={"name": "Lost"}, headers={"If-Match": stale})
    assert conflict.status_code == 412 and "RowVersion" in conflict.json()["error"]["message"]


def test_bind_expand_and_formatted_lookup(dv: TestClient) -> None:
    contact = create(dv, "contacts", {"firstname": "Ann", "lastname": "Lee"})
    account = create(dv, "accounts", {"name": "Litware", "primarycontactid@odata.bind": f"/contacts({contact})"})
    row = dv.get(f"{ROOT}/accounts({account})?$select=name,_primarycontactid_value&$expand=primarycontactid($select=fullname)",
                 headers={"Prefer": 'odata.include-annotations="*"'}).json()
    assert row["_primarycontactid_value"] == contact
    assert row["_primarycontactid_value@OData.Community.Display.V1.FormattedValue"] == "Ann Lee"
    assert row["primarycontactid"]["fullname"] == "Ann Lee"


def test_paging_with_absolute_next_link_and_exact_count(dv: TestClient) -> None:
    for n in range(7):
        create(dv, "accounts", {"name": f"Paged {n}", "numberofemployees": n})
    url = f"{ROOT}/accounts?$select=name&$filter=startswith(name,'paged')&$orderby=name&$count=true"
    seen, pages = [], 0
    while url:
        body = dv.get(url, headers={"Prefer": "odata.maxpagesize=3"}).json()
        if pages == 0:
            assert body["@odata.count"] == 7
        seen += [r["name"] for r in body["value"]]
        url = body.get("@odata.nextLink")
        assert url is None or url.startswith("https://org.isthmus.test/api/data/v9.2/accounts?")
        pages += 1
    assert pages == 3 and seen == [f"Paged {n}" for n in range(7)]
    assert dv.get(f"{ROOT}/accounts/$count").text == "7"


def test_query_functions_apply_and_fetchxml(dv: TestClient) -> None:
    for n, state in ((1, 0), (2, 0), (3, 1)):
        create(dv, "accounts", {"name": f"F{n}", "numberofemployees": n * 10, "revenue": n * 100})
    dv.patch(f"{ROOT}/accounts({_id(dv, 'F3')})", json={"statecode": 1, "statuscode": 2})
    in_filter = quote('Microsoft.Dynamics.CRM.In(PropertyName=\'name\',PropertyValues=["F1","F3"])')
    assert sorted(r["name"] for r in dv.get(f"{ROOT}/accounts?$filter={in_filter}&$select=name").json()["value"]) == ["F1", "F3"]
    between = quote('Microsoft.Dynamics.CRM.Between(PropertyName=\'numberofemployees\',PropertyValues=["15","40"])')
    assert sorted(r["name"] for r in dv.get(f"{ROOT}/accounts?$filter={between}&$select=name").json()["value"]) == ["F2", "F3"]
    applied = dv.get(f"{ROOT}/accounts?$apply=groupby((statecode),aggregate(revenue with sum as total,$count as count))",
                     headers={"Prefer": 'odata.include-annotations="*"'}).json()["value"]
    assert [(g["statecode"], g["total"], g["count"]) for g in applied] == [(0, 300, 2), (1, 300, 1)]
    assert applied[1]["statecode@OData.Community.Display.V1.FormattedValue"] == "Inactive"
    fetch = ('<fetch count="1"><entity name="account"><attribute name="name"/><order attribute="name"/>'
             '<filter><condition attribute="numberofemployees" operator="ge" value="10"/></filter></entity></fetch>')
    first = dv.get(f"{ROOT}/accounts?fetchXml={quote(fetch)}", headers={
        "Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords"'}).json()
    assert [r["name"] for r in first["value"]] == ["F1"] and first["@Microsoft.Dynamics.CRM.morerecords"] is True
    assert "pagingcookie" in first["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"]


def _id(dv: TestClient, name: str) -> str:
    return dv.get(f"{ROOT}/accounts?$filter=name eq '{name}'&$select=accountid").json()["value"][0]["accountid"]


def test_bulk_actions(dv: TestClient) -> None:
    created = dv.post(f"{ROOT}/accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": [
        {"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "B1", "accountnumber": "B-1"},
        {"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "B2", "accountnumber": "B-2"},
    ]})
    assert created.status_code == 200 and len(created.json()["Ids"]) == 2
    updated = dv.post(f"{ROOT}/accounts/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": [
        {"@odata.type": "Microsoft.Dynamics.CRM.account", "@odata.id": "accounts(accountnumber='B-1')", "creditlimit": 10},
    ]})
    assert updated.status_code == 200
    upserted = dv.post(f"{ROOT}/accounts/Microsoft.Dynamics.CRM.UpsertMultiple", json={"Targets": [
        {"@odata.type": "Microsoft.Dynamics.CRM.account", "@odata.id": "accounts(accountnumber='B-3')", "name": "B3"},
    ]})
    assert upserted.status_code == 200
    assert dv.get(f"{ROOT}/accounts(accountnumber='B-1')?$select=creditlimit").json()["creditlimit"] == 10
    assert dv.get(f"{ROOT}/accounts(accountnumber='B-3')?$select=name").json()["name"] == "B3"
    failing = dv.post(f"{ROOT}/accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": [
        {"name": "ok"}, {"name": "bad", "nope": 1}]})
    assert failing.status_code == 400
    assert dv.get(f"{ROOT}/accounts?$filter=name eq 'ok'").json()["value"] == []


def test_batch_change_set_with_absolute_urls(dv: TestClient) -> None:
    base = "https://org.isthmus.test/api/data/v9.2"
    body = (
        "--batch_1\r\nContent-Type: multipart/mixed; boundary=\"changeset_1\"\r\n\r\n"
        "--changeset_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n"
        f"POST {base}/contacts HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n"
        + json.dumps({"lastname": "Batch"}) + "\r\n"
        "--changeset_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n"
        f"POST {base}/accounts HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n"
        + json.dumps({"name": "Batched", "primarycontactid@odata.bind": "$1"}) + "\r\n"
        "--changeset_1--\r\n--batch_1--\r\n"
    )
    response = dv.post(f"{ROOT}/$batch", content=body.encode(), headers={"Content-Type": 'multipart/mixed; boundary="batch_1"'})
    assert response.status_code == 200
    assert response.text.count("HTTP/1.1 204") == 2
    row = dv.get(f"{ROOT}/accounts?$filter=name eq 'Batched'&$select=_primarycontactid_value").json()["value"][0]
    assert row["_primarycontactid_value"]


def test_metadata_endpoints_the_sdk_calls(dv: TestClient) -> None:
    found = dv.get(f"{ROOT}/EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute&$filter=LogicalName eq 'account'").json()
    assert [(e["LogicalName"], e["EntitySetName"], e["PrimaryIdAttribute"]) for e in found["value"]] == [("account", "accounts", "accountid")]
    assert dv.get(f"{ROOT}/EntityDefinitions?$filter=LogicalName eq 'nope'").json()["value"] == []
    picklists = dv.get(f"{ROOT}/EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
                       "?$select=LogicalName&$expand=OptionSet($select=Options)").json()["value"]
    by_name = {p["LogicalName"]: p for p in picklists}
    assert "customertypecode" in by_name
    assert any(o["Value"] == 3 for o in by_name["customertypecode"]["OptionSet"]["Options"])
    keys = dv.get(f"{ROOT}/EntityDefinitions(LogicalName='account')/Keys?$select=SchemaName,KeyAttributes").json()["value"]
    assert keys[0]["KeyAttributes"] == ["accountnumber"]


def test_runtime_custom_table_and_column(dv: TestClient) -> None:
    body = {
        "@odata.type": "Microsoft.Dynamics.CRM.EntityMetadata", "SchemaName": "new_Project",
        "DisplayName": {"LocalizedLabels": [{"Label": "Project", "LanguageCode": 1033}]},
        "DisplayCollectionName": {"LocalizedLabels": [{"Label": "Projects", "LanguageCode": 1033}]},
        "OwnershipType": "UserOwned", "HasActivities": False, "HasNotes": False, "IsActivity": False,
        "Attributes": [{"@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata", "SchemaName": "new_Name",
                        "IsPrimaryName": True, "MaxLength": 100, "AttributeType": "String",
                        "DisplayName": {"LocalizedLabels": [{"Label": "Name", "LanguageCode": 1033}]},
                        "RequiredLevel": {"Value": "None"}}],
    }
    assert dv.post(f"{ROOT}/EntityDefinitions", json=body).status_code == 204
    column = {"@odata.type": "Microsoft.Dynamics.CRM.MoneyAttributeMetadata", "SchemaName": "new_Budget",
              "DisplayName": {"LocalizedLabels": [{"Label": "Budget", "LanguageCode": 1033}]}, "RequiredLevel": {"Value": "None"}}
    assert dv.post(f"{ROOT}/EntityDefinitions(LogicalName='new_project')/Attributes", json=column).status_code == 204
    project = create(dv, "new_projects", {"new_name": "Apollo", "new_budget": 1000})
    assert dv.get(f"{ROOT}/new_projects({project})?$select=new_name,new_budget").json()["new_budget"] == 1000
    filters = dv.get(f"{ROOT}/sdkmessagefilters?$filter=primaryobjecttypecode eq 'new_project'&$select=name").json()["value"]
    assert len(filters) == 3


def test_errors_are_dataverse_shaped(dv: TestClient) -> None:
    bad = dv.post(f"{ROOT}/accounts", json={"nope": 1})
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "Invalid property 'nope' was found in entity 'Microsoft.Dynamics.CRM.account'."
    assert dv.get(f"{ROOT}/nopes").status_code == 404
    assert dv.get(f"{ROOT}/accounts?$skip=1").status_code == 501
    assert dv.get(f"{ROOT}/accounts?$filter=Microsoft.Dynamics.CRM.Above(PropertyName='accountid',PropertyValue='x')").status_code == 501
    assert dv.get(f"{ROOT}/accounts?$filter=nope eq 1").status_code == 400


def test_service_protection_answers_429_with_retry_after(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from isthmus.api.app import create_app
    from isthmus.config import Settings
    from isthmus.system import System

    system = System(Settings(data_dir=tmp_path, dataverse_request_limit=3, dataverse_request_window_s=300, development_mode=True))
    try:
        with TestClient(create_app(system)) as client:
            for _ in range(3):
                assert client.get(f"{ROOT}/WhoAmI").status_code == 200
            limited = client.get(f"{ROOT}/WhoAmI")
            assert limited.status_code == 429
            assert int(limited.headers["Retry-After"]) > 0
            assert limited.json()["error"]["message"].startswith("Number of requests exceeded the limit of 3 over time window of 300 seconds.")
            assert client.get("/data/").status_code == 200  # the ERP API has its own (resource-based) rules
    finally:
        system.close()


def test_audit_history_records_who_changed_which_columns(dv: TestClient) -> None:
    account = create(dv, "accounts", {"name": "Audited", "creditlimit": 2000})
    assert dv.patch(f"{ROOT}/accounts({account})", json={"creditlimit": 5000}, headers={"If-Match": "*"}).status_code == 204
    history = dv.get(f"{ROOT}/audits?$filter=objecttypecode eq 'account' and _objectid_value eq '{account}'").json()["value"]
    assert sorted(h["operation"] for h in history) == [1, 2]
    update = next(h for h in history if h["operation"] == 2)
    changed = json.loads(update["changedata"])["changedAttributes"]
    credit = next(c for c in changed if c["logicalName"] == "creditlimit")
    assert float(credit["oldValue"]) == 2000 and float(credit["newValue"]) == 5000
    assert update["_userid_value"] == dv.get(f"{ROOT}/WhoAmI").json()["UserId"]
    single = dv.get(f"{ROOT}/audits({update['auditid']})").json()
    assert single["auditid"] == update["auditid"]
    assert dv.get(f"{ROOT}/audits?$filter=contains(objecttypecode,'acc')").status_code == 501


def test_associate_and_disassociate_through_ref(dv: TestClient) -> None:
    relationship = {
        "@odata.type": "Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata", "SchemaName": "new_account_contact",
        "Entity1LogicalName": "account", "Entity2LogicalName": "contact", "IntersectEntityName": "new_account_contact",
        "Entity1NavigationPropertyName": "new_account_contact", "Entity2NavigationPropertyName": "new_account_contact",
    }
    assert dv.post(f"{ROOT}/RelationshipDefinitions", json=relationship).status_code == 204
    account = create(dv, "accounts", {"name": "Linked"})
    ann = create(dv, "contacts", {"firstname": "Ann", "lastname": "Lee"})
    bob = create(dv, "contacts", {"firstname": "Bob", "lastname": "Ray"})
    for contact in (ann, bob, ann):  # the second association of Ann changes nothing
        body = {"@odata.id": f"https://org.isthmus.test/api/data/v9.2/contacts({contact})"}
        assert dv.post(f"{ROOT}/accounts({account})/new_account_contact/$ref", json=body).status_code == 204
    expanded = dv.get(f"{ROOT}/accounts({account})?$select=name&$expand=new_account_contact($select=fullname;$orderby=fullname)").json()
    assert [c["fullname"] for c in expanded["new_account_contact"]] == ["Ann Lee", "Bob Ray"]
    back = dv.get(f"{ROOT}/contacts({bob})?$select=fullname&$expand=new_account_contact($select=name)").json()
    assert [a["name"] for a in back["new_account_contact"]] == ["Linked"]
    assert dv.delete(f"{ROOT}/accounts({account})/new_account_contact({ann})/$ref").status_code == 204
    assert dv.delete(f"{ROOT}/accounts({account})/new_account_contact/$ref?$id={ROOT}/contacts({ann})").status_code == 404
    remaining = dv.get(f"{ROOT}/accounts({account})?$expand=new_account_contact($select=fullname)").json()["new_account_contact"]
    assert [c["fullname"] for c in remaining] == ["Bob Ray"]
    # one-to-many and single-valued navigation through $ref
    assert dv.put(f"{ROOT}/accounts({account})/primarycontactid/$ref", json={"@odata.id": f"contacts({bob})"}).status_code == 204
    assert dv.get(f"{ROOT}/accounts({account})?$select=_primarycontactid_value").json()["_primarycontactid_value"] == bob
    assert dv.delete(f"{ROOT}/accounts({account})/primarycontactid/$ref").status_code == 204
    assert dv.get(f"{ROOT}/accounts({account})?$select=_primarycontactid_value").json()["_primarycontactid_value"] is None
    child = create(dv, "contacts", {"lastname": "Child"})
    assert dv.post(f"{ROOT}/accounts({account})/account_contact_parentcustomerid/$ref",
                   json={"@odata.id": f"contacts({child})"}).status_code == 204
    assert dv.get(f"{ROOT}/contacts({child})?$select=_parentcustomerid_value").json()["_parentcustomerid_value"] == account
    bad = dv.post(f"{ROOT}/accounts({account})/new_account_contact/$ref", json={"nope": 1})
    assert bad.status_code == 400 and "@odata.id" in bad.json()["error"]["message"]
