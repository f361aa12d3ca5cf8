"""Queries return only what the caller may read: RetrieveMultiple, $count, $expand, navigation paths in $filter,
FetchXML (entity and link-entities) and $apply; a table the caller may not read is refused with 403 whichever way it
is queried; and the Web API answers a refusal with an OData error that names the missing privilege."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from isthmus.dataverse.aggregate_api import run_apply
from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.fetch_api import fetch_payload
from isthmus.dataverse.records.reads import PageRequest
from isthmus.dataverse.records.service import Caller
from isthmus.dataverse.records.shape import Annotations
from isthmus.dataverse.security.model import Depth
from isthmus.errors import ForbiddenError
from isthmus.odata.query import parse_query_options
from isthmus.storage import Database

ALL = {"$select", "$filter", "$orderby", "$top", "$expand", "$count", "$apply"}
ORG, UNIT, USER = Depth.ORGANIZATION, Depth.BUSINESS_UNIT, Depth.USER


def options(**kw: str):  # type: ignore[no-untyped-def]
    return parse_query_options([(f"${k}", v) for k, v in kw.items()], supported=ALL)


class Org:
    """Sales (with Sales East below it) and Service; in each an account with a contact, owned by a user there."""

    def __init__(self, env: DataverseEnvironment) -> None:
        self.env = env
        self.sales = env.ensure_business_unit("Sales")
        self.east = env.ensure_business_unit("Sales East", parent_id=self.sales)
        self.service = env.ensure_business_unit("Service")
        self.owners = {unit: self.person(unit) for unit in ("sales", "east", "service")}
        admin = env.admin()
        self.accounts: dict[str, str] = {}
        self.contacts: dict[str, str] = {}
        for unit, owner in self.owners.items():
            owned = {"ownerid@odata.bind": f"/systemusers({owner})"}
            contact = env.records.create(admin, self.table("contact"), {"firstname": "Con", "lastname": unit.title(), **owned})
            self.contacts[unit] = contact
            self.accounts[unit] = env.records.create(admin, self.table("account"), {
                "name": unit.title(), "numberofemployees": {"sales": 10, "east": 20, "service": 40}[unit],
                "primarycontactid@odata.bind": f"/contacts({contact})", **owned,
            })
            env.records.create(admin, self.table("contact"), {
                "firstname": "Emp", "lastname": unit.title(), "parentcustomerid_account@odata.bind": f"/accounts({self.accounts[unit]})",
                **owned,
            })

    def person(self, unit: str) -> str:
        return self.env.ensure_systemuser(str(uuid.uuid4()), name=f"{unit}-{uuid.uuid4().hex[:6]}@test",
                                          full_name=f"Owner {unit.title()}", roles=["Basic User"],
                                          business_unit_id=getattr(self, unit))

    def table(self, name: str):  # type: ignore[no-untyped-def]
        return self.env.registry.tables[name]

    def reader(self, account: Depth, contact: Depth | None = None, *, unit: str = "sales") -> Caller:
        privileges = {"account": {"Read": account}}
        if contact is not None:
            privileges["contact"] = {"Read": contact}
        role = self.env.ensure_role(f"Reader {uuid.uuid4().hex[:8]}", privileges)
        user = self.env.ensure_systemuser(str(uuid.uuid4()), name=f"r-{uuid.uuid4().hex[:6]}@test", full_name="Rea Der",
                                          roles=[role], business_unit_id=getattr(self, unit))
        return self.env.caller_for_user(user)

    def query(self, caller: Caller, table: str = "account", **kw: str):  # type: ignore[no-untyped-def]
        return self.env.records.retrieve_multiple(caller, self.table(table), options(**kw), PageRequest(), Annotations())

    def names(self, caller: Caller, **kw: str) -> list[str]:
        return sorted(r["name"] for r in self.query(caller, **kw).rows)


@pytest.fixture
def org(dataverse_db: Database) -> Org:
    return Org(DataverseEnvironment(dataverse_db))


def test_business_unit_depths_decide_which_records_a_query_returns(org: Org) -> None:
    assert org.names(org.reader(UNIT)) == ["Sales"]
    assert org.names(org.reader(Depth.PARENT_CHILD)) == ["East", "Sales"]
    assert org.names(org.reader(ORG)) == ["East", "Sales", "Service"]
    assert org.names(org.reader(UNIT, unit="service")) == ["Service"]
    assert org.names(org.reader(USER)) == []
    assert org.names(org.env.admin()) == ["East", "Sales", "Service"]


def test_count_and_filter_see_the_same_records(org: Org) -> None:
    reader = org.reader(UNIT)
    page = org.query(reader, count="true", filter="numberofemployees gt 5")
    assert page.count == 1 and [r["name"] for r in page.rows] == ["Sales"]
    assert org.env.records.count(reader, org.table("account"), options()) == 1
    assert org.env.records.count(org.reader(ORG), org.table("account"), options()) == 3


def test_expand_keeps_to_readable_related_records(org: Org) -> None:
    # accounts org-wide, contacts only in the reader's business unit (Service)
    reader = org.reader(ORG, UNIT, unit="service")
    rows = {r["name"]: r for r in org.query(
        reader, select="name", expand="primarycontactid($select=fullname),account_contact_parentcustomerid($select=fullname)").rows}
    assert rows["Service"]["primarycontactid"]["fullname"] == "Con Service"
    assert rows["Sales"]["primarycontactid"] is None
    assert [c["fullname"] for c in rows["Service"]["account_contact_parentcustomerid"]] == ["Emp Service"]
    assert rows["East"]["account_contact_parentcustomerid"] == []
    # and a single record's $expand too
    one = org.env.records.retrieve(reader, org.table("account"), ((None, org.accounts["sales"]),),
                                   options(expand="primarycontactid"), Annotations())
    assert one["primarycontactid"] is None


def test_expand_or_filter_through_a_table_the_caller_may_not_read_is_refused(org: Org) -> None:
    reader = org.reader(ORG)  # no privilege on contact
    with pytest.raises(ForbiddenError, match="missing prvReadContact"):
        org.query(reader, expand="primarycontactid")
    with pytest.raises(ForbiddenError, match="missing prvReadContact"):
        org.query(reader, filter="primarycontactid/fullname eq 'Con Sales'")
    with pytest.raises(ForbiddenError, match="missing prvReadContact"):
        org.query(reader, filter="account_contact_parentcustomerid/any(c: c/lastname eq 'Sales')")


def test_navigation_paths_in_filters_match_only_readable_related_records(org: Org) -> None:
    reader = org.reader(ORG, UNIT)  # contacts in Sales only
    assert org.names(reader, filter="primarycontactid/fullname eq 'Con Sales'") == ["Sales"]
    assert org.names(reader, filter="primarycontactid/fullname eq 'Con Service'") == []
    assert org.names(reader, filter="account_contact_parentcustomerid/any(c: c/firstname eq 'Emp')") == ["Sales"]
    assert org.names(org.env.admin(), filter="account_contact_parentcustomerid/any(c: c/firstname eq 'Emp')") == \
        ["East", "Sales", "Service"]


def test_a_table_the_caller_may_not_read_is_refused_however_it_is_queried(org: Org) -> None:
    env, caller = org.env, org.reader(Depth.NONE, ORG)
    account = org.table("account")
    refusals = [
        lambda: org.query(caller),
        lambda: env.records.count(caller, account, options()),
        lambda: env.records.retrieve(caller, account, ((None, org.accounts["sales"]),), options(), Annotations()),
        lambda: fetch_payload(env, caller, account, '<fetch><entity name="account"><attribute name="name"/></entity></fetch>',
                              Annotations(), "https://x/api/data/v9.2"),
        lambda: run_apply(env, caller, account, options(apply="aggregate($count as n)"), Annotations()),
        lambda: fetch_payload(env, caller, org.table("contact"),
                              '<fetch><entity name="contact"><attribute name="fullname"/>'
                              '<link-entity name="account" from="accountid" to="parentcustomerid" link-type="outer">'
                              '<attribute name="name"/></link-entity></entity></fetch>',
                              Annotations(), "https://x/api/data/v9.2"),
    ]
    for refuse in refusals:
        with pytest.raises(ForbiddenError) as refused:
            refuse()
        assert "is missing prvReadAccount privilege" in refused.value.message and refused.value.code == "0x80040220"


def _fetch_names(org: Org, caller: Caller, xml: str, table: str = "account") -> list:
    payload = fetch_payload(org.env, caller, org.table(table), xml, Annotations(), "https://x/api/data/v9.2")
    return payload["value"]


def test_fetchxml_filters_the_entity_and_its_link_entities(org: Org) -> None:
    reader = org.reader(Depth.PARENT_CHILD, UNIT)  # accounts in Sales and Sales East; contacts in Sales
    rows = _fetch_names(org, reader, '<fetch><entity name="account"><attribute name="name"/><order attribute="name"/>'
                                     '</entity></fetch>')
    assert [r["name"] for r in rows] == ["East", "Sales"]
    outer = _fetch_names(org, reader, (
        '<fetch><entity name="account"><attribute name="name"/><order attribute="name"/>'
        '<link-entity name="contact" from="contactid" to="primarycontactid" link-type="outer" alias="pc">'
        '<attribute name="fullname"/></link-entity></entity></fetch>'))
    assert [(r["name"], r.get("pc.fullname")) for r in outer] == [("East", None), ("Sales", "Con Sales")]
    inner = _fetch_names(org, reader, (
        '<fetch><entity name="account"><attribute name="name"/>'
        '<link-entity name="contact" from="contactid" to="primarycontactid" link-type="inner"/></entity></fetch>'))
    assert [r["name"] for r in inner] == ["Sales"]
    exists = _fetch_names(org, reader, (
        '<fetch><entity name="account"><attribute name="name"/>'
        '<link-entity name="contact" from="parentcustomerid" to="accountid" link-type="exists"/></entity></fetch>'))
    assert [r["name"] for r in exists] == ["Sales"]
    counted = _fetch_names(org, reader, (
        '<fetch aggregate="true"><entity name="account"><attribute name="accountid" aggregate="count" alias="n"/>'
        '</entity></fetch>'))
    assert counted[0]["n"] == 2
    assert len(_fetch_names(org, org.env.admin(), '<fetch><entity name="account"><attribute name="name"/></entity></fetch>')) == 3


def test_apply_aggregates_only_readable_records(org: Org) -> None:
    env, account = org.env, org.table("account")
    reader = org.reader(UNIT, unit="service")
    rows = run_apply(env, reader, account, options(apply="aggregate(numberofemployees with sum as total,$count as n)"), Annotations())
    assert rows == [{"total": 40, "n": 1}]
    everyone = run_apply(env, org.reader(ORG), account, options(apply="aggregate($count as n)"), Annotations())
    assert everyone == [{"n": 3}]
    grouped = run_apply(env, org.reader(Depth.PARENT_CHILD), account,
                        options(apply="groupby((name),aggregate($count as n))"), Annotations())
    assert grouped == [{"name": "East", "n": 1}, {"name": "Sales", "n": 1}]


def test_records_of_a_team_member_at_user_depth(org: Org) -> None:
    env = org.env
    role = env.ensure_role("Team accounts", {"account": {"Read": USER}})
    member = org.reader(Depth.NONE)
    team = env.ensure_team("Service desk", business_unit_id=org.service, roles=[role], members=[member.user_id])
    env.records.update(env.admin(), org.table("account"), ((None, org.accounts["service"]),),
                       {"ownerid@odata.bind": f"/teams({team})"})
    member = env.caller_for_user(member.user_id)
    assert org.names(member) == ["Service"]
    fetched = _fetch_names(org, member, '<fetch><entity name="account"><attribute name="name"/></entity></fetch>')
    assert [r["name"] for r in fetched] == ["Service"]


# --- over HTTP ----------------------------------------------------------------------------------------------------


@pytest.fixture
def http(dataverse_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """The Web API with requests running as a Salesperson in Sales (the token-to-caller wiring is the identity
    layer's; here the caller is fixed)."""
    from starlette.testclient import TestClient

    from isthmus.api.app import create_app
    from isthmus.api.dataverse_webapi import DataverseWebApi
    from isthmus.config import Settings
    from isthmus.system import System

    system = System(Settings(data_dir=tmp_path, dataverse_database_url=dataverse_url, development_mode=True,
                             dataverse_request_limit=1_000_000))
    env = system.dataverse
    sales = env.ensure_business_unit("Sales")
    object_id = str(uuid.uuid4())
    env.ensure_systemuser(object_id, name="sales@isthmus.local", full_name="Sam Rivera", roles=["Salesperson"],
                          business_unit_id=sales)
    monkeypatch.setattr(DataverseWebApi, "caller", lambda self, request: env.caller_for(object_id, application=False))
    with TestClient(create_app(system), base_url="https://org.isthmus.test") as client:
        yield client, env
    system.close()


def test_web_api_answers_403_with_an_odata_error_naming_what_is_missing(http: tuple) -> None:
    client, env = http
    root = "/api/data/v9.2"
    foreign = env.records.create(env.admin(), env.registry.tables["account"], {"name": "Not mine"})
    assert client.get(f"{root}/accounts?$select=name").json()["value"] == [{"@odata.etag": client.get(
        f"{root}/accounts({foreign})?$select=name").json()["@odata.etag"], "name": "Not mine", "accountid": foreign}]
    refused = client.patch(f"{root}/accounts({foreign})", json={"name": "Mine now"}, headers={"If-Match": "*"})
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "0x80040220" and "does not have Write access on the account record" in error["message"]
    deleted = client.delete(f"{root}/accounts({foreign})")
    assert deleted.status_code == 403 and "missing prvDeleteAccount privilege" in deleted.json()["error"]["message"]
    created = client.post(f"{root}/accounts", json={"name": "Mine"})
    assert created.status_code == 204
    cases = client.get(f"{root}/incidents/$count")
    assert cases.status_code == 200  # Salesperson reads cases in their business unit
    assert client.get(f"{root}/roleprivilegescollection").status_code == 403
