"""FetchXML: operators, link-entities, ordering, paging with cookies, aggregates and errors, on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import insert

from isthmus.dataverse.fetchxml import FetchResult, parse_fetch, run_fetch, value_to_json
from isthmus.dataverse.fetchxml.compile import Context, compile_fetch
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.metadata.store import MetadataStore
from isthmus.errors import NotSupportedError, QueryOptionError
from isthmus.storage import Database

NOW = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)


def gid(kind: str, n: int) -> str:
    return f"{kind}0000000-0000-0000-0000-{n:012d}"


A = {n: gid("a", n) for n in range(0, 10)}
C = {n: gid("c", n) for n in range(1, 5)}
U1, U2, T1, B1, B2 = gid("d", 1), gid("d", 2), gid("e", 1), gid("f", 1), gid("f", 2)

ACCOUNTS = [
    # n, name, city, employees, revenue, type, createdon, owner, owner type, bu, mandatory, latitude, extra
    (1, "Contoso", "Redmond", 100, "1000.50", 3, dt.datetime(2024, 5, 15, 8, 0), U1, "systemuser", B1, True, 47.6,
     {"primarycontactid": C[1]}),
    (2, "Fabrikam", "Seattle", 250, "2000.25", 5, dt.datetime(2024, 5, 14, 10, 0), U2, "systemuser", B1, False, 47.0,
     {"primarycontactid": C[2]}),
    (3, "Adventure Works", "redmond", 50, None, 3, dt.datetime(2024, 5, 16, 9, 0), U1, "systemuser", B2, None, None,
     {"parentaccountid": A[1]}),
    (4, "Litware", "Bellevue", None, "500", 1, dt.datetime(2024, 4, 20, 10, 0), T1, "team", B2, True, None,
     {"parentaccountid": A[1]}),
    (5, "Blue Yonder", None, 1000, "750.75", 12, dt.datetime(2023, 7, 1, 0, 0), U2, "systemuser", B1, False, None, {}),
    (6, "City Power", "Redmond", 300, "300.00", 3, dt.datetime(2024, 5, 15, 11, 30), U1, "systemuser", B1, None, None,
     {}),
    (7, "coho_Winery", "Phoenix", 30, "120.10", 5, dt.datetime(2024, 1, 10, 0, 0), T1, "team", B2, None, None, {}),
]
ALL_NAMES = ["Adventure Works", "Blue Yonder", "City Power", "coho_Winery", "Contoso", "Fabrikam", "Litware"]


def _system(n: int | None = None) -> dict[str, Any]:
    return {"statecode": 0, "statuscode": 1, "createdon": NOW, "modifiedon": NOW, "versionnumber": n or 1}


def account_row(n: int, name: str, **values: Any) -> dict[str, Any]:
    return {**_system(n), "accountid": A[n], "name": name, "accountnumber": f"ACC-{n:03d}", **values}


@dataclass
class Env:
    db: Database
    registry: Registry

    def fetch(self, xml: str, **kw: Any) -> FetchResult:
        kw.setdefault("user_id", U1)
        kw.setdefault("business_unit_id", B1)
        kw.setdefault("now", NOW)
        with self.db.engine.connect() as conn:
            return run_fetch(conn, self.registry, xml, dialect=self.db.dialect, **kw)

    def names(self, filter_xml: str, *, entity: str = "account", attribute: str = "name", extra: str = "") -> list[str]:
        xml = (f'<fetch><entity name="{entity}"><attribute name="{attribute}"/><order attribute="{attribute}"/>'
               f"{filter_xml}{extra}</entity></fetch>")
        return [row[attribute] for row in self.fetch(xml).rows]

    def where(self, conditions: str, *, kind: str = "and", entity: str = "account",
              attribute: str = "name") -> list[str]:
        return self.names(f'<filter type="{kind}">{conditions}</filter>', entity=entity, attribute=attribute)

    def insert(self, table: str, *rows: dict[str, Any]) -> None:
        with self.db.engine.begin() as conn:
            for row in rows:  # one statement per row: the rows set different columns
                conn.execute(insert(self.registry.sql[table]).values(**row))


@pytest.fixture
def env(dataverse_db: Database, metadata_store: MetadataStore) -> Env:
    environment = Env(dataverse_db, metadata_store.registry)
    environment.insert("businessunit", {**_system(), "businessunitid": B1, "name": "Main BU"},
                       {**_system(), "businessunitid": B2, "name": "Second BU"})
    environment.insert("systemuser", {**_system(), "systemuserid": U1, "fullname": "User One", "businessunitid": B1},
                       {**_system(), "systemuserid": U2, "fullname": "User Two", "businessunitid": B1})
    environment.insert("team", {**_system(), "teamid": T1, "name": "Team One", "businessunitid": B2})
    for n, name, city, employees, revenue, kind, created, owner, owner_type, bu, mandatory, latitude, extra in ACCOUNTS:
        environment.insert("account", account_row(
            n, name, address1_city=city, numberofemployees=employees, revenue=Decimal(revenue) if revenue else None,
            customertypecode=kind, createdon=created.replace(tzinfo=dt.UTC), ownerid=owner, ownerid__type=owner_type,
            owningbusinessunit=bu, msdyn_creditlimitismandatory=mandatory, address1_latitude=latitude, **extra,
        ))
    contact = {"parentcustomerid": None, "parentcustomerid__type": None, "jobtitle": None}
    environment.insert(
        "contact",
        {**_system(), **contact, "contactid": C[1], "fullname": "Ann Lee", "firstname": "Ann", "lastname": "Lee",
         "parentcustomerid": A[1], "parentcustomerid__type": "account", "jobtitle": "Buyer"},
        {**_system(), **contact, "contactid": C[2], "fullname": "Bob Ray", "firstname": "Bob", "lastname": "Ray",
         "parentcustomerid": A[1], "parentcustomerid__type": "account", "jobtitle": "CEO"},
        {**_system(), **contact, "contactid": C[3], "fullname": "Cy Doe", "firstname": "Cy", "lastname": "Doe",
         "parentcustomerid": C[1], "parentcustomerid__type": "contact"},
        {**_system(), **contact, "contactid": C[4], "fullname": "Dee Dee", "firstname": "Dee", "lastname": "dee"},
    )
    return environment


def cond(attribute: str, operator: str, value: str | None = None, *values: str, **extra: str) -> str:
    attrs = "".join(f' {k}="{v}"' for k, v in extra.items())
    head = f'<condition attribute="{attribute}" operator="{operator}"{attrs}'
    if value is not None:
        head += f' value="{value}"'
    if not values:
        return head + "/>"
    return head + ">" + "".join(f"<value>{v}</value>" for v in values) + "</condition>"


# --- selection -----------------------------------------------------------------------------------------------------


def test_attributes_keys_types_and_lookups(env: Env) -> None:
    result = env.fetch(
        '<fetch><entity name="account"><attribute name="name"/><attribute name="revenue"/><attribute name="createdon"/>'
        '<attribute name="ownerid"/><attribute name="primarycontactid"/>'
        '<attribute name="msdyn_creditlimitismandatory"/>'
        '<attribute name="accountnumber" alias="number"/><filter>' + cond("accountid", "in", None, A[1], A[4]) +
        "</filter></entity></fetch>"
    )
    assert result.entity == "account"
    keys = [c.key for c in result.columns]
    assert keys == ["name", "revenue", "createdon", "_ownerid_value", "_primarycontactid_value",
                    "msdyn_creditlimitismandatory", "number", "accountid"]
    by_key = {c.key: c for c in result.columns}
    assert by_key["revenue"].edm_type == "Edm.Decimal" and by_key["_ownerid_value"].edm_type == "Edm.Guid"
    assert by_key["number"].column is not None and by_key["number"].column.logical_name == "accountnumber"
    contoso, litware = result.rows
    assert contoso["name"] == "Contoso" and contoso["accountid"] == A[1] and contoso["number"] == "ACC-001"
    assert contoso["revenue"] == Decimal("1000.50") and isinstance(contoso["revenue"], Decimal)
    assert contoso["createdon"] == dt.datetime(2024, 5, 15, 8, 0, tzinfo=dt.UTC)
    assert contoso["msdyn_creditlimitismandatory"] is True
    assert contoso["_ownerid_value"] == U1 and contoso["_ownerid_value@lookuplogicalname"] == "systemuser"
    assert contoso["_primarycontactid_value"] == C[1]
    assert contoso["_primarycontactid_value@lookuplogicalname"] == "contact"
    assert litware["_ownerid_value"] == T1 and litware["_ownerid_value@lookuplogicalname"] == "team"
    assert litware["_primarycontactid_value"] is None and "_primarycontactid_value@lookuplogicalname" not in litware
    assert value_to_json(by_key["createdon"], contoso["createdon"]) == "2024-05-15T08:00:00Z"
    assert result.more_records is False and result.page == 1 and result.total_count is None


def test_all_attributes_returns_every_column(env: Env) -> None:
    result = env.fetch('<fetch><entity name="contact"><all-attributes/>'
                       f'<filter>{cond("contactid", "eq", C[3])}</filter></entity></fetch>')
    (row,) = result.rows
    assert row["fullname"] == "Cy Doe" and row["_parentcustomerid_value"] == C[1]
    assert row["_parentcustomerid_value@lookuplogicalname"] == "contact"
    assert {"contactid", "firstname", "lastname", "_ownerid_value", "statecode", "versionnumber"} <= set(row)


# --- operators -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (cond("name", "eq", "contoso"), ["Contoso"]),
        (cond("name", "ne", "CONTOSO"), [n for n in ALL_NAMES if n != "Contoso"]),
        (cond("name", "neq", "Contoso"), [n for n in ALL_NAMES if n != "Contoso"]),
        (cond("name", "gt", "D"), ["Fabrikam", "Litware"]),
        (cond("numberofemployees", "gt", "100"), ["Blue Yonder", "City Power", "Fabrikam"]),
        (cond("numberofemployees", "ge", "100"), ["Blue Yonder", "City Power", "Contoso", "Fabrikam"]),
        (cond("numberofemployees", "lt", "50"), ["coho_Winery"]),
        (cond("numberofemployees", "le", "50"), ["Adventure Works", "coho_Winery"]),
        (cond("revenue", "gt", "750.75"), ["Contoso", "Fabrikam"]),
        (cond("revenue", "eq", "120.1"), ["coho_Winery"]),
        (cond("address1_latitude", "ge", "47.5"), ["Contoso"]),
        (cond("msdyn_creditlimitismandatory", "eq", "1"), ["Contoso", "Litware"]),
        (cond("msdyn_creditlimitismandatory", "eq", "true"), ["Contoso", "Litware"]),
        (cond("msdyn_creditlimitismandatory", "eq", "0"), ["Blue Yonder", "Fabrikam"]),
        (cond("customertypecode", "eq", "5"), ["coho_Winery", "Fabrikam"]),
        (cond("accountid", "eq", "{" + A[2].upper() + "}"), ["Fabrikam"]),
        (cond("ownerid", "eq", T1), ["coho_Winery", "Litware"]),
        (cond("parentaccountid", "eq", A[1]), ["Adventure Works", "Litware"]),
        (cond("createdon", "eq", "2024-05-14T10:00:00Z"), ["Fabrikam"]),
        (cond("createdon", "gt", "2024-05-15"), ["Adventure Works", "City Power", "Contoso"]),
        (cond("statecode", "eq", "0"), ALL_NAMES),
    ],
)
def test_comparison_operators(env: Env, conditions: str, expected: list[str]) -> None:
    assert env.where(conditions) == expected


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (cond("name", "like", "%o%"), ["Adventure Works", "Blue Yonder", "City Power", "coho_Winery", "Contoso"]),
        (cond("name", "not-like", "%O%"), ["Fabrikam", "Litware"]),
        (cond("name", "like", "C_ty%"), ["City Power"]),
        (cond("name", "begins-with", "C"), ["City Power", "coho_Winery", "Contoso"]),
        (cond("name", "not-begin-with", "c"), ["Adventure Works", "Blue Yonder", "Fabrikam", "Litware"]),
        (cond("name", "ends-with", "WARE"), ["Litware"]),
        (cond("name", "not-end-with", "ware"), [n for n in ALL_NAMES if n != "Litware"]),
        (cond("accountnumber", "like", "ACC-00_"), ALL_NAMES),
    ],
)
def test_like_operators(env: Env, conditions: str, expected: list[str]) -> None:
    assert env.where(conditions) == expected


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (cond("address1_city", "in", None, "REDMOND", "seattle"),
         ["Adventure Works", "City Power", "Contoso", "Fabrikam"]),
        (cond("address1_city", "not-in", None, "Redmond", "Seattle"), ["coho_Winery", "Litware"]),
        (cond("customertypecode", "in", None, "1", "12"), ["Blue Yonder", "Litware"]),
        (cond("accountid", "in", None, A[6], "{" + A[7].upper() + "}"), ["City Power", "coho_Winery"]),
        (cond("numberofemployees", "between", None, "50", "250"), ["Adventure Works", "Contoso", "Fabrikam"]),
        (cond("numberofemployees", "not-between", None, "50", "250"), ["Blue Yonder", "City Power", "coho_Winery"]),
        (cond("createdon", "between", None, "2024-05-14", "2024-05-15T23:59:59Z"),
         ["City Power", "Contoso", "Fabrikam"]),
        (cond("name", "between", None, "b", "CITY POWER"), ["Blue Yonder", "City Power"]),
        (cond("numberofemployees", "null"), ["Litware"]),
        (cond("address1_city", "not-null"), [n for n in ALL_NAMES if n != "Blue Yonder"]),
    ],
)
def test_list_range_and_null_operators(env: Env, conditions: str, expected: list[str]) -> None:
    assert env.where(conditions) == expected


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (cond("createdon", "today"), ["City Power", "Contoso"]),
        (cond("createdon", "yesterday"), ["Fabrikam"]),
        (cond("createdon", "tomorrow"), ["Adventure Works"]),
        (cond("createdon", "last-x-days", "1"), ["City Power", "Contoso", "Fabrikam"]),
        (cond("createdon", "next-x-days", "1"), ["Adventure Works"]),
        (cond("createdon", "last-x-hours", "1"), ["City Power"]),
        (cond("createdon", "next-x-hours", "24"), ["Adventure Works"]),
        (cond("createdon", "on", "2024-05-15"), ["City Power", "Contoso"]),
        (cond("createdon", "on-or-after", "2024-05-15"), ["Adventure Works", "City Power", "Contoso"]),
        (cond("createdon", "on-or-before", "2024-01-10"), ["Blue Yonder", "coho_Winery"]),
        (cond("createdon", "olderthan-x-days", "30"), ["Blue Yonder", "coho_Winery"]),
        (cond("createdon", "this-month"), ["Adventure Works", "City Power", "Contoso", "Fabrikam"]),
        (cond("createdon", "last-month"), ["Litware"]),
        (cond("createdon", "this-year"), [n for n in ALL_NAMES if n != "Blue Yonder"]),
        (cond("createdon", "last-year"), ["Blue Yonder"]),
    ],
)
def test_date_operators(env: Env, conditions: str, expected: list[str]) -> None:
    assert env.where(conditions) == expected


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (cond("ownerid", "eq-userid"), ["Adventure Works", "City Power", "Contoso"]),
        (cond("ownerid", "ne-userid"), ["Blue Yonder", "coho_Winery", "Fabrikam", "Litware"]),
        (cond("owningbusinessunit", "eq-businessid"), ["Blue Yonder", "City Power", "Contoso", "Fabrikam"]),
        (cond("owningbusinessunit", "ne-businessid"), ["Adventure Works", "coho_Winery", "Litware"]),
    ],
)
def test_user_and_business_unit_operators(env: Env, conditions: str, expected: list[str]) -> None:
    assert env.where(conditions) == expected


def test_nested_filters(env: Env) -> None:
    redmond_big = (f'<filter type="and">{cond("address1_city", "eq", "redmond")}'
                   f'{cond("numberofemployees", "ge", "100")}</filter>')
    assert env.where(redmond_big + cond("customertypecode", "eq", "1"), kind="or") == [
        "City Power", "Contoso", "Litware"]
    inner_or = f'<filter type="or">{cond("name", "begins-with", "c")}{cond("name", "eq", "Litware")}</filter>'
    assert env.where(inner_or + cond("ownerid", "eq", T1)) == ["coho_Winery", "Litware"]
    # two filters directly under the entity are AND-ed
    two = (f'<filter>{cond("address1_city", "eq", "Redmond")}</filter>'
           f'<filter>{cond("numberofemployees", "lt", "200")}</filter>')
    assert env.names(two) == ["Adventure Works", "Contoso"]


def test_condition_comparing_two_columns(env: Env) -> None:
    assert env.where(cond("firstname", "eq", valueof="lastname"), entity="contact", attribute="fullname") == ["Dee Dee"]
    xml = ('<fetch><entity name="contact"><attribute name="fullname"/><filter>'
           + cond("fullname", "ne", valueof="acc.name") +
           '</filter><link-entity name="account" from="accountid" to="parentcustomerid" alias="acc"/></entity></fetch>')
    assert sorted(r["fullname"] for r in env.fetch(xml).rows) == ["Ann Lee", "Bob Ray"]


# --- link-entity -----------------------------------------------------------------------------------------------------


def _linked(link_type: str, body: str = "", outer_filter: str = "") -> str:
    return (
        '<fetch><entity name="account"><attribute name="name"/><order attribute="name"/>'
        f'<link-entity name="contact" from="contactid" to="primarycontactid" link-type="{link_type}" alias="pc">'
        f'<attribute name="fullname"/><attribute name="jobtitle" alias="pcjob"/>{body}</link-entity>'
        f"{outer_filter}</entity></fetch>"
    )


def test_inner_link_entity_with_aliased_attributes(env: Env) -> None:
    result = env.fetch(_linked("inner"))
    assert [c.key for c in result.columns] == ["name", "accountid", "pc.fullname", "pcjob"]
    assert {c.key: c.table for c in result.columns}["pc.fullname"] == "contact"
    assert [(r["name"], r["pc.fullname"], r["pcjob"]) for r in result.rows] == [
        ("Contoso", "Ann Lee", "Buyer"), ("Fabrikam", "Bob Ray", "CEO")]


def test_outer_link_entity_keeps_unmatched_rows(env: Env) -> None:
    rows = env.fetch(_linked("outer")).rows
    assert [r["name"] for r in rows] == ALL_NAMES
    assert {r["name"]: r["pc.fullname"] for r in rows}["Contoso"] == "Ann Lee"
    assert {r["name"]: r["pc.fullname"] for r in rows}["Litware"] is None
    # a link-entity filter restricts the join (ON), not the rows
    rows = env.fetch(_linked("outer", f'<filter>{cond("fullname", "eq", "Ann Lee")}</filter>')).rows
    assert len(rows) == 7 and [r["name"] for r in rows if r["pc.fullname"]] == ["Contoso"]
    # entityname applies the condition after the join: accounts without a primary contact
    missing = f'<filter>{cond("contactid", "null", entityname="pc")}</filter>'
    assert [r["name"] for r in env.fetch(_linked("outer", outer_filter=missing)).rows] == [
        "Adventure Works", "Blue Yonder", "City Power", "coho_Winery", "Litware"]


def test_one_to_many_and_nested_link_entities(env: Env) -> None:
    xml = ('<fetch><entity name="account"><attribute name="name"/><order attribute="name"/>'
           '<link-entity name="contact" from="parentcustomerid" to="accountid" alias="c"><attribute name="fullname"/>'
           '<order attribute="fullname" descending="true"/></link-entity></entity></fetch>')
    assert [(r["name"], r["c.fullname"]) for r in env.fetch(xml).rows] == [
        ("Contoso", "Bob Ray"), ("Contoso", "Ann Lee")]
    nested = ('<fetch><entity name="contact"><attribute name="fullname"/><order attribute="fullname"/>'
              '<link-entity name="account" from="accountid" to="parentcustomerid" alias="acc"><attribute name="name"/>'
              '<link-entity name="systemuser" from="systemuserid" to="ownerid" alias="own"><attribute name="fullname"/>'
              '</link-entity></link-entity></entity></fetch>')
    rows = env.fetch(nested).rows
    assert [(r["fullname"], r["acc.name"], r["own.fullname"]) for r in rows] == [
        ("Ann Lee", "Contoso", "User One"), ("Bob Ray", "Contoso", "User One")]
    # without an alias, keys use the link-entity's name; from/to inferred from the only relationship
    inferred = ('<fetch><entity name="account"><attribute name="name"/><filter>' + cond("name", "eq", "Litware") +
                '</filter><link-entity name="businessunit"><attribute name="name"/></link-entity></entity></fetch>')
    (row,) = env.fetch(inferred).rows
    assert row == {"name": "Litware", "accountid": A[4], "businessunit.name": "Second BU"}


def test_self_join_without_alias_and_hostile_text_stays_data(env: Env) -> None:
    xml = ('<fetch><entity name="account"><attribute name="name"/><order attribute="name"/>'
           '<link-entity name="account" from="accountid" to="parentaccountid"><attribute name="name"/>'
           "</link-entity></entity></fetch>")
    assert [(r["name"], r["account.name"]) for r in env.fetch(xml).rows] == [
        ("Adventure Works", "Contoso"), ("Litware", "Contoso")]
    hostile = "x' OR '1'='1"
    assert env.where(cond("name", "eq", hostile)) == []
    assert env.where(cond("name", "like", "%'; DROP TABLE account; --")) == []
    alias = 'pc&quot; FROM account; --'
    rows = env.fetch('<fetch><entity name="account"><attribute name="name"/>'
                     f'<link-entity name="contact" from="contactid" to="primarycontactid" alias="{alias}">'
                     '<attribute name="fullname"/></link-entity></entity></fetch>').rows
    assert [r['pc" FROM account; --.fullname'] for r in rows] == ["Ann Lee", "Bob Ray"]
    spec = parse_fetch('<fetch><entity name="account"><attribute name="name" alias="evil&quot;alias"/><filter>'
                       + cond("name", "eq", hostile) + "</filter></entity></fetch>")
    plan = compile_fetch(env.registry, spec, Context(env.db.dialect, NOW))
    sql = str(plan.select.compile(env.db.engine))
    assert "OR '1'='1" not in sql and "evil" not in sql


def test_filter_link_types(env: Env) -> None:
    def link(kind: str, conditions: str = "") -> str:
        body = f"<filter>{conditions}</filter>" if conditions else ""
        return (f'<link-entity name="contact" from="parentcustomerid" to="accountid" link-type="{kind}">'
                f"{body}</link-entity>")

    others = [n for n in ALL_NAMES if n != "Contoso"]
    assert env.names("", extra=link("exists")) == ["Contoso"]
    assert env.where(link("any", cond("fullname", "eq", "Bob Ray")) + cond("name", "eq", "Litware"), kind="or") == [
        "Contoso", "Litware"]
    assert env.where(link("any", cond("fullname", "eq", "Nobody"))) == []
    assert env.where(link("not any")) == others
    assert env.where(link("all", cond("fullname", "begins-with", "A"))) == others
    assert env.where(link("all", cond("fullname", "like", "%a%"))) == ALL_NAMES
    assert env.where(link("not all", cond("fullname", "begins-with", "A"))) == ["Contoso"]


# --- ordering --------------------------------------------------------------------------------------------------------


def _ordered(env: Env, orders: str, fetch_attrs: str = "") -> list[str]:
    xml = f'<fetch{fetch_attrs}><entity name="account"><attribute name="name"/>{orders}</entity></fetch>'
    return [r["name"] for r in env.fetch(xml).rows]


def test_ordering(env: Env) -> None:
    assert _ordered(env, '<order attribute="name" descending="true"/>') == list(reversed(ALL_NAMES))
    # choices order by label (Competitor, Customer, Other, Partner) unless useraworderby
    by_label = '<order attribute="customertypecode"/><order attribute="name"/>'
    assert _ordered(env, by_label) == [
        "Litware", "Adventure Works", "City Power", "Contoso", "Blue Yonder", "coho_Winery", "Fabrikam"]
    assert _ordered(env, by_label, ' useraworderby="true"') == [
        "Litware", "Adventure Works", "City Power", "Contoso", "coho_Winery", "Fabrikam", "Blue Yonder"]
    # nulls first ascending, last descending
    assert _ordered(env, '<order attribute="numberofemployees"/>')[:2] == ["Litware", "coho_Winery"]
    assert _ordered(env, '<order attribute="numberofemployees" descending="true"/>')[-2:] == ["coho_Winery", "Litware"]
    # lookups order by the related row's primary name
    assert _ordered(env, '<order attribute="primarycontactid" descending="true"/>')[:2] == ["Fabrikam", "Contoso"]
    # default: primary id
    assert _ordered(env, "") == [a[1] for a in ACCOUNTS]


def test_link_entity_orders_come_after_entity_orders_unless_named(env: Env) -> None:
    link = ('<link-entity name="systemuser" from="systemuserid" to="ownerid" alias="own">'
            '<attribute name="fullname"/>{order}</link-entity>')
    by_owner = '<order attribute="fullname" descending="true"/>'
    # the link-entity's order comes after the entity's, wherever it stands in the document
    assert _ordered(env, link.format(order=by_owner) + '<order attribute="name"/>') == [
        "Adventure Works", "Blue Yonder", "City Power", "Contoso", "Fabrikam"]
    # an entity-level order naming the link-entity applies in its place
    first = '<order entityname="own" attribute="fullname" descending="true"/><order attribute="name"/>'
    assert _ordered(env, first + link.format(order="")) == [
        "Blue Yonder", "Fabrikam", "Adventure Works", "City Power", "Contoso"]


# --- paging ----------------------------------------------------------------------------------------------------------


def _page(env: Env, page: int, cookie: str | None = None, *, order: str = "", count: int = 3) -> FetchResult:
    attr = f' paging-cookie="{quote_xml(cookie)}"' if cookie else ""
    return env.fetch(f'<fetch count="{count}" page="{page}"{attr}><entity name="account"><attribute name="name"/>'
                     f"{order}</entity></fetch>")


def quote_xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def test_paging_with_cookie_across_three_pages(env: Env) -> None:
    first = _page(env, 1)
    assert [r["accountid"] for r in first.rows] == [A[1], A[2], A[3]]
    assert first.more_records is True and first.page == 1
    assert first.paging_cookie == (f'<cookie page="1"><accountid last="{{{A[3].upper()}}}" '
                                   f'first="{{{A[1].upper()}}}" /></cookie>')
    # a row inserted before the cookie's position does not shift the next page: the cookie seeks on the primary id
    env.insert("account", account_row(0, "Aardvark"))
    second = _page(env, 2, first.paging_cookie)
    assert [r["accountid"] for r in second.rows] == [A[4], A[5], A[6]] and second.more_records is True
    assert second.paging_cookie is not None and 'page="2"' in second.paging_cookie
    third = _page(env, 3, second.paging_cookie)
    assert [r["name"] for r in third.rows] == ["coho_Winery"]
    assert third.more_records is False and third.page == 3
    # back to page 1 from page 2's cookie
    back = _page(env, 1, second.paging_cookie)
    assert [r["accountid"] for r in back.rows] == [A[1], A[2], A[3]] and back.more_records is True
    # without a cookie, the page is an offset (and now sees the new row)
    assert [r["accountid"] for r in _page(env, 2).rows] == [A[3], A[4], A[5]]
    # a cookie still %-encoded (as in the Web API annotation) is accepted
    encoded = quote(quote(first.paging_cookie, safe=""), safe="")
    assert [r["accountid"] for r in _page(env, 2, encoded).rows] == [A[4], A[5], A[6]]


def test_paging_ordered_by_other_columns(env: Env) -> None:
    order = '<order attribute="name" descending="true"/>'
    pages, cookie = [], None
    for number in (1, 2, 3):
        result = _page(env, number, cookie, order=order)
        pages.append([r["name"] for r in result.rows])
        cookie = result.paging_cookie
        assert result.more_records is (number < 3)
    assert pages == [list(reversed(ALL_NAMES))[:3], list(reversed(ALL_NAMES))[3:6], [ALL_NAMES[0]]]


def test_top_count_page_size_and_total(env: Env) -> None:
    top = env.fetch('<fetch top="2"><entity name="account"><attribute name="name"/><order attribute="name"/>'
                    "</entity></fetch>")
    assert [r["name"] for r in top.rows] == ["Adventure Works", "Blue Yonder"]
    assert top.more_records is False and top.paging_cookie is None
    counted = env.fetch('<fetch count="2" returntotalrecordcount="true"><entity name="account"><attribute name="name"/>'
                        "</entity></fetch>")
    assert len(counted.rows) == 2 and counted.more_records is True and counted.total_count == 7
    assert counted.total_count_limit_exceeded is False
    capped = env.fetch('<fetch count="5"><entity name="account"><attribute name="name"/></entity></fetch>',
                       max_page_size=2)
    assert [r["accountid"] for r in capped.rows] == [A[1], A[2]] and capped.more_records is True
    everything = env.fetch('<fetch><entity name="account"><attribute name="name"/></entity></fetch>')
    assert len(everything.rows) == 7 and everything.more_records is False


def test_distinct(env: Env) -> None:
    result = env.fetch('<fetch distinct="true"><entity name="account"><attribute name="customertypecode"/>'
                       '<order attribute="customertypecode"/></entity></fetch>')
    assert [c.key for c in result.columns] == ["customertypecode"]
    # by label: Competitor, Customer, Other, Partner
    assert [r["customertypecode"] for r in result.rows] == [1, 3, 12, 5]
    owners = env.fetch('<fetch distinct="true"><entity name="account"><attribute name="ownerid"/></entity></fetch>')
    assert sorted((r["_ownerid_value"], r["_ownerid_value@lookuplogicalname"]) for r in owners.rows) == [
        (U1, "systemuser"), (U2, "systemuser"), (T1, "team")]


# --- aggregates ------------------------------------------------------------------------------------------------------


def test_aggregate_functions(env: Env) -> None:
    xml = ('<fetch aggregate="true"><entity name="account">'
           '<attribute name="accountid" alias="rows" aggregate="count"/>'
           '<attribute name="numberofemployees" alias="counted" aggregate="countcolumn"/>'
           '<attribute name="customertypecode" alias="kinds" aggregate="countcolumn" distinct="true"/>'
           '<attribute name="address1_city" alias="cities" aggregate="countcolumn" distinct="true"/>'
           '<attribute name="numberofemployees" alias="staff" aggregate="sum"/>'
           '<attribute name="numberofemployees" alias="average" aggregate="avg"/>'
           '<attribute name="numberofemployees" alias="fewest" aggregate="min"/>'
           '<attribute name="revenue" alias="revenue" aggregate="sum"/>'
           '<attribute name="revenue" alias="avgrevenue" aggregate="avg"/>'
           '<attribute name="revenue" alias="top" aggregate="max"/>'
           '<attribute name="createdon" alias="oldest" aggregate="min"/>'
           "</entity></fetch>")
    result = env.fetch(xml)
    (row,) = result.rows
    assert row == {
        "rows": 7, "counted": 6, "kinds": 4, "cities": 4, "staff": 1730, "average": 288, "fewest": 30,
        "revenue": Decimal("4671.60"), "avgrevenue": Decimal("778.60"), "top": Decimal("2000.25"),
        "oldest": dt.datetime(2023, 7, 1, tzinfo=dt.UTC),
    }
    columns = {c.key: c for c in result.columns}
    assert columns["rows"].column is None and columns["rows"].edm_type == "Edm.Int32"
    assert columns["rows"].aggregate == "count"
    assert columns["revenue"].edm_type == "Edm.Decimal" and columns["revenue"].column is not None
    assert columns["oldest"].edm_type == "Edm.DateTimeOffset"
    assert value_to_json(columns["oldest"], row["oldest"]) == "2023-07-01T00:00:00Z"


def test_aggregate_group_by_choice_ordered_by_alias(env: Env) -> None:
    xml = ('<fetch aggregate="true"><entity name="account">'
           '<attribute name="customertypecode" alias="kind" groupby="true"/>'
           '<attribute name="accountid" alias="n" aggregate="count"/>'
           '<attribute name="numberofemployees" alias="staff" aggregate="sum"/>'
           '<order alias="n" descending="true"/></entity></fetch>')
    rows = env.fetch(xml).rows
    assert [(r["kind"], r["n"], r["staff"]) for r in rows] == [(3, 3, 450), (5, 2, 280), (1, 1, 0), (12, 1, 1000)]


def test_aggregate_group_by_lookup_and_date(env: Env) -> None:
    owners = env.fetch('<fetch aggregate="true"><entity name="account"><attribute name="ownerid" groupby="true"/>'
                       '<attribute name="accountid" alias="n" aggregate="count"/><order alias="n" descending="true"/>'
                       "</entity></fetch>")
    assert [c.key for c in owners.columns] == ["_ownerid_value", "n"]
    assert {(r["_ownerid_value"], r["_ownerid_value@lookuplogicalname"], r["n"]) for r in owners.rows} == {
        (U1, "systemuser", 3), (U2, "systemuser", 2), (T1, "team", 2)}
    assert owners.rows[0]["_ownerid_value"] == U1
    years = env.fetch('<fetch aggregate="true"><entity name="account">'
                      '<attribute name="createdon" alias="year" groupby="true" dategrouping="year"/>'
                      '<attribute name="createdon" alias="month" groupby="true" dategrouping="month"/>'
                      '<attribute name="revenue" alias="revenue" aggregate="sum"/>'
                      '<order alias="year"/><order alias="month"/></entity></fetch>')
    assert [(r["year"], r["month"], r["revenue"]) for r in years.rows] == [
        (2023, 7, Decimal("750.75")), (2024, 1, Decimal("120.10")), (2024, 4, Decimal("500")),
        (2024, 5, Decimal("3300.75"))]
    year = {c.key: c for c in years.columns}["year"]
    assert year.column is None and year.edm_type == "Edm.Int32" and year.dategrouping == "year"


def test_aggregate_over_link_entity_with_paging(env: Env) -> None:
    xml = ('<fetch aggregate="true" count="1" page="{page}"><entity name="contact">'
           '<attribute name="contactid" alias="n" aggregate="count"/>'
           '<link-entity name="account" from="accountid" to="parentcustomerid" alias="a" link-type="outer">'
           '<attribute name="name" alias="account" groupby="true"/></link-entity>'
           '<order alias="account"/></entity></fetch>')
    first = env.fetch(xml.format(page=1))
    assert first.rows == [{"account": None, "n": 2}] and first.more_records is True
    second = env.fetch(xml.format(page=2))
    assert second.rows == [{"account": "Contoso", "n": 2}] and second.more_records is False


# --- errors ----------------------------------------------------------------------------------------------------------


def _entity(body: str, fetch_attrs: str = "") -> str:
    return f'<fetch{fetch_attrs}><entity name="account"><attribute name="name"/>{body}</entity></fetch>'


@pytest.mark.parametrize(
    ("xml", "error", "message"),
    [
        ("<fetch><entity name='account'>", QueryOptionError, "not well-formed"),
        ("", QueryOptionError, "empty"),
        ("<query/>", QueryOptionError, "root element"),
        ('<!DOCTYPE fetch [<!ENTITY x "y">]><fetch><entity name="account"/></fetch>', QueryOptionError, "DOCTYPE"),
        ('<fetch><entity name="&ext;"/></fetch>', QueryOptionError, "not well-formed"),
        ('<fetch><entity name="nope"/></fetch>', QueryOptionError, "The entity 'nope' does not exist."),
        (_entity('<attribute name="nope"/>'), QueryOptionError,
         "The attribute 'nope' does not exist on entity 'account'."),
        (_entity(f"<filter>{cond('nope', 'eq', '1')}</filter>"), QueryOptionError, "attribute 'nope' does not exist"),
        (_entity(f"<filter>{cond('name', 'sounds-like', 'x')}</filter>"), QueryOptionError,
         "'sounds-like' is not valid"),
        (_entity(f"<filter>{cond('numberofemployees', 'eq', 'ten')}</filter>"), QueryOptionError, "'ten' is not valid"),
        (_entity(f"<filter>{cond('accountid', 'eq', 'not-a-guid')}</filter>"), QueryOptionError, "expected a GUID"),
        (_entity(f"<filter>{cond('msdyn_creditlimitismandatory', 'eq', 'yes')}</filter>"), QueryOptionError, "boolean"),
        (_entity(f"<filter>{cond('createdon', 'on', '15/05/2024')}</filter>"), QueryOptionError, "ISO 8601"),
        (_entity(f"<filter>{cond('numberofemployees', 'like', '1%')}</filter>"), QueryOptionError,
         "text attributes only"),
        (_entity(f"<filter>{cond('name', 'today')}</filter>"), QueryOptionError, "date and time attributes only"),
        (_entity(f"<filter>{cond('numberofemployees', 'between', None, '1')}</filter>"), QueryOptionError,
         "exactly two"),
        (_entity(f"<filter>{cond('name', 'eq')}</filter>"), QueryOptionError, "needs a value"),
        (_entity(f"<filter>{cond('createdon', 'last-x-days', 'many')}</filter>"), QueryOptionError, "whole number"),
        (_entity(f"<filter>{cond('contactid', 'null', entityname='ghost')}</filter>"), QueryOptionError, "'ghost'"),
        (_entity(f"<filter>{cond('parentaccountid', 'above', A[1])}</filter>"), NotSupportedError, "'above'"),
        (_entity("<order attribute='nope'/>"), QueryOptionError, "attribute 'nope' does not exist"),
        (_entity("<bogus/>"), QueryOptionError, "'bogus' is not valid inside 'entity'"),
        (_entity("", ' top="3" page="1"'), QueryOptionError, "top"),
        (_entity("", ' top="6000"'), QueryOptionError, "5000"),
        (_entity("", ' count="-1"'), QueryOptionError, "positive whole number"),
        (_entity("", ' distinct="maybe"'), QueryOptionError, "'true' or 'false'"),
        (_entity("", ' aggregate="true"'), QueryOptionError, "needs an aggregate function or groupby"),
        ('<fetch aggregate="true"><entity name="account"><attribute name="revenue" aggregate="sum"/></entity></fetch>',
         QueryOptionError, "needs an alias"),
        ('<fetch aggregate="true"><entity name="account"><attribute name="name" alias="s" aggregate="sum"/>'
         "</entity></fetch>",
         QueryOptionError, "numeric attributes only"),
        ('<fetch aggregate="true"><entity name="account"><all-attributes/></entity></fetch>', QueryOptionError,
         "all-attributes"),
        ('<fetch aggregate="true"><entity name="account"><attribute name="revenue" alias="s" aggregate="median"/>'
         "</entity></fetch>", QueryOptionError, "'median' is not a valid aggregate"),
        ('<fetch aggregate="true"><entity name="account"><attribute name="revenue" alias="s" aggregate="sum"/>'
         '<order attribute="revenue"/></entity></fetch>', QueryOptionError, "alias of an aggregate or groupby"),
        ('<fetch aggregate="true"><entity name="account"><attribute name="name" alias="y" groupby="true" '
         'dategrouping="year"/></entity></fetch>', QueryOptionError, "date and time attributes only"),
        ('<fetch><entity name="account"><attribute name="revenue" alias="s" aggregate="sum"/></entity></fetch>',
         QueryOptionError, "not an aggregate query"),
        (_entity('<link-entity name="contact" alias="c"/>'), QueryOptionError, "needs 'from' and 'to'"),
        (_entity('<link-entity name="contact" from="nope" to="primarycontactid"/>'), QueryOptionError,
         "attribute 'nope' does not exist on entity 'contact'"),
        (_entity('<link-entity name="contact" from="contactid" to="primarycontactid" link-type="sideways"/>'),
         QueryOptionError, "'sideways' is not a valid link-type"),
        (_entity('<link-entity name="contact" from="contactid" to="primarycontactid" link-type="any"/>'),
         QueryOptionError, "inside a filter"),
        (_entity('<link-entity name="contact" from="contactid" to="primarycontactid" link-type="exists">'
                 '<attribute name="fullname"/></link-entity>'), QueryOptionError, "cannot return attributes"),
        (_entity('<link-entity name="contact" from="contactid" to="primarycontactid" alias="x"/>'
                 '<link-entity name="contact" from="contactid" to="primarycontactid" alias="x"/>'), QueryOptionError,
         "distinct alias"),
        (_entity("", ' count="2" page="2" paging-cookie="&lt;biscuit/&gt;"'), QueryOptionError, "paging-cookie"),
    ],
)
def test_errors(env: Env, xml: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        env.fetch(xml)
    assert message in str(caught.value)


def test_parser_guards(env: Env) -> None:
    huge = _entity("<!--" + "x" * (1024 * 1024) + "-->")
    with pytest.raises(QueryOptionError, match="larger than 1 MB"):
        env.fetch(huge)
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
              '<fetch><entity name="account"><attribute name="&lol2;"/></entity></fetch>')
    with pytest.raises(QueryOptionError, match="DOCTYPE"):
        env.fetch(laughs)
    with pytest.raises(QueryOptionError, match="needs the calling user"):
        env.fetch(_entity(f"<filter>{cond('ownerid', 'eq-userid')}</filter>"), user_id=None)
    # an XML declaration, comments and the legacy attributes are fine
    ok = env.fetch('<?xml version="1.0" encoding="utf-8"?><!-- q -->'
                   '<fetch version="1.0" mapping="logical" no-lock="true">'
                   '<entity name="account"><attribute name="name"/><filter>' + cond("name", "eq", "Litware") +
                   "</filter></entity></fetch>")
    assert [r["name"] for r in ok.rows] == ["Litware"]
