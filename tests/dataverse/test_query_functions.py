"""Dataverse query functions in $filter (Microsoft.Dynamics.CRM.In, LastXDays, EqualUserId...), on SQLite and
PostgreSQL, against a fixed clock: Wednesday 2024-05-15 12:00 UTC."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.metadata.store import MetadataStore
from isthmus.dataverse.records.functions import query_functions
from isthmus.dataverse.records.resolver import TableResolver
from isthmus.errors import NotSupportedError, QueryOptionError
from isthmus.odata.query.filter import parse_filter
from isthmus.odata.query.sql import FilterCompiler
from isthmus.storage import Database

NOW = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)
USER = "11111111-1111-1111-1111-111111111111"
OTHER_USER = "22222222-2222-2222-2222-222222222222"
BU = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
OTHER_BU = "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"
SMITH = "cccccccc-cccc-cccc-cccc-cccccccccccc"


def _at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


ACCOUNTS = [
    # name, employees, createdon, statuscode, customertypecode, owner, business unit, city, primary contact
    ("Alpha Retail", 10, _at(2024, 5, 15, 9, 0), 1, 3, USER, BU, "Seattle", SMITH),
    ("beta wholesale", 500, _at(2024, 5, 14, 23, 30), 2, 5, OTHER_USER, OTHER_BU, "seattle", None),
    ("Gamma_50%", 2000, _at(2024, 5, 10, 8, 0), 1, 3, USER, OTHER_BU, "Portland", None),
    ("Delta", None, _at(2024, 4, 20, 0, 0), 1, None, None, None, None, None),
    ("Epsilon", 5, _at(2023, 12, 31, 23, 59), 1, 12, OTHER_USER, BU, "Boston", None),
    ("Zeta", 50, _at(2024, 5, 16, 10, 0), 1, 1, OTHER_USER, BU, "Austin", None),
    ("Eta", 60, _at(2024, 6, 1, 0, 0), 1, 2, OTHER_USER, BU, "Denver", None),
    ("Theta", 70, None, 1, 4, OTHER_USER, BU, "Miami", None),
]
DATED = sorted(a[0] for a in ACCOUNTS if a[2] is not None)


@pytest.fixture
def registry(metadata_store: MetadataStore, dataverse_db: Database) -> Registry:
    registry = metadata_store.registry
    account, contact = registry.sql["account"], registry.sql["contact"]
    with dataverse_db.engine.begin() as conn:
        conn.execute(insert(contact), [
            {"contactid": SMITH, "fullname": "Jane Smith", "statecode": 0, "statuscode": 1,
             "birthdate": _at(2024, 5, 15)},
            {"contactid": str(uuid.uuid4()), "fullname": "Yesterday Born", "statecode": 0, "statuscode": 1,
             "birthdate": _at(2024, 5, 14)},
            {"contactid": str(uuid.uuid4()), "fullname": "Week Edge", "statecode": 0, "statuscode": 1,
             "birthdate": _at(2024, 5, 8)},
            {"contactid": str(uuid.uuid4()), "fullname": "Week Before", "statecode": 0, "statuscode": 1,
             "birthdate": _at(2024, 5, 7)},
        ])
        conn.execute(insert(account), [
            {"accountid": str(uuid.uuid4()), "name": name, "numberofemployees": employees, "createdon": created,
             "statecode": 0, "statuscode": status, "customertypecode": kind, "ownerid": owner,
             "ownerid__type": "systemuser" if owner else None, "owningbusinessunit": unit, "address1_city": city,
             "primarycontactid": contact_id, "revenue": Decimal("100.50")}
            for name, employees, created, status, kind, owner, unit, city, contact_id in ACCOUNTS
        ])
    return registry


def _names(db: Database, registry: Registry, text: str, table: str = "account", *, user_id: str | None = USER,
           business_unit_id: str | None = BU) -> list[str]:
    definition = registry.tables[table]
    resolver = TableResolver(registry, definition)
    functions = query_functions(user_id=user_id, business_unit_id=business_unit_id, now=NOW)
    compiler = FilterCompiler(resolver, dialect=db.dialect, functions=functions, case_insensitive=True)
    condition = compiler.compile(parse_filter(text))
    column = resolver.sql.c[definition.primary_name]  # type: ignore[attr-defined]
    with db.engine.connect() as conn:
        return sorted(conn.execute(select(column).where(condition)).scalars())


def _fn(name: str, prop: str, value: str | None = None, values: str | None = None) -> str:
    args = [f"PropertyName='{prop}'"]
    if value is not None:
        args.append(f"PropertyValue={value}")
    if values is not None:
        args.append(f"PropertyValues={values}")
    return f"Microsoft.Dynamics.CRM.{name}({','.join(args)})"


# --- values --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_fn("In", "statuscode", values='["2"]'), ["beta wholesale"]),
        (_fn("In", "customertypecode", values='["3","5"]'), ["Alpha Retail", "Gamma_50%", "beta wholesale"]),
        (_fn("In", "customertypecode", values="[3,5]"), ["Alpha Retail", "Gamma_50%", "beta wholesale"]),
        (_fn("NotIn", "customertypecode", values='["1","2","3","4","5"]'), ["Epsilon"]),  # null excluded
        (_fn("In", "name", values='["ALPHA RETAIL","delta"]'), ["Alpha Retail", "Delta"]),
        (_fn("In", "address1_city", values='["SEATTLE"]'), ["Alpha Retail", "beta wholesale"]),
        (_fn("In", "_primarycontactid_value", values=f'["{SMITH.upper()}"]'), ["Alpha Retail"]),
        (_fn("In", "primarycontactid/fullname", values='["jane smith"]'), ["Alpha Retail"]),
        (_fn("Between", "numberofemployees", values='["5","500"]'),
         ["Alpha Retail", "Epsilon", "Eta", "Theta", "Zeta", "beta wholesale"]),
        (_fn("NotBetween", "numberofemployees", values='["5","500"]'), ["Gamma_50%"]),  # Delta is null
        (_fn("Between", "createdon", values='["2024-05-10","2024-05-14"]'), ["Gamma_50%", "beta wholesale"]),
        (_fn("NotBetween", "createdon", values='["2024-05-10","2024-05-15"]'), ["Delta", "Epsilon", "Eta", "Zeta"]),
        (_fn("Between", "createdon", values='["2024-05-14T23:00:00Z","2024-05-15T09:00:00Z"]'),
         ["Alpha Retail", "beta wholesale"]),
        (_fn("Like", "name", value="'%retail%'"), ["Alpha Retail"]),
        (_fn("Like", "name", value="'BETA%'"), ["beta wholesale"]),
        (_fn("Like", "name", value="'g_mma%'"), ["Gamma_50%"]),
        (_fn("Like", "name", value="'gamma[_]50[%]'"), ["Gamma_50%"]),
        (_fn("Like", "name", value="'%[%]'"), ["Gamma_50%"]),
        (_fn("NotLike", "name", value="'%a%'"), ["Epsilon"]),
        (_fn("Like", "primarycontactid/fullname", value="'%SMITH'"), ["Alpha Retail"]),
        (f"not {_fn('In', 'statuscode', values='[1]')} and numberofemployees gt 100", ["beta wholesale"]),
    ],
)
def test_value_functions(dataverse_db: Database, registry: Registry, text: str, expected: list[str]) -> None:
    assert _names(dataverse_db, registry, text) == sorted(expected)


# --- dates ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_fn("Today", "createdon"), ["Alpha Retail"]),
        (_fn("Yesterday", "createdon"), ["beta wholesale"]),
        (_fn("Tomorrow", "createdon"), ["Zeta"]),
        (_fn("Last7Days", "createdon"), ["Alpha Retail", "Gamma_50%", "beta wholesale"]),
        (_fn("Next7Days", "createdon"), ["Zeta"]),
        (_fn("LastXDays", "createdon", value="1"), ["Alpha Retail", "beta wholesale"]),
        (_fn("LastXDays", "createdon", value="'5'"), ["Alpha Retail", "Gamma_50%", "beta wholesale"]),
        (_fn("LastXDays", "createdon", value="4"), ["Alpha Retail", "beta wholesale"]),
        (_fn("NextXDays", "createdon", value="20"), ["Eta", "Zeta"]),
        (_fn("LastXHours", "createdon", value="3"), ["Alpha Retail"]),  # 09:00 is exactly three hours ago
        (_fn("LastXHours", "createdon", value="13"), ["Alpha Retail", "beta wholesale"]),
        (_fn("NextXHours", "createdon", value="24"), ["Zeta"]),
        (_fn("LastXMonths", "createdon", value="1"), ["Alpha Retail", "Delta", "Gamma_50%", "beta wholesale"]),
        (_fn("NextXMonths", "createdon", value="1"), ["Eta", "Zeta"]),
        (_fn("OlderThanXDays", "createdon", value="5"), ["Delta", "Epsilon"]),  # Gamma is on the 10th: not older
        (_fn("OlderThanXDays", "createdon", value="30"), ["Epsilon"]),
        (_fn("OlderThanXMonths", "createdon", value="1"), ["Epsilon"]),
        (_fn("On", "createdon", value="2024-05-14"), ["beta wholesale"]),
        (_fn("On", "createdon", value="'2024-05-14'"), ["beta wholesale"]),
        (_fn("NotOn", "createdon", value="2024-05-14"), [n for n in DATED if n != "beta wholesale"]),
        (_fn("OnOrAfter", "createdon", value="'2024-05-15'"), ["Alpha Retail", "Eta", "Zeta"]),
        (_fn("OnOrBefore", "createdon", value="2024-05-14"), ["Delta", "Epsilon", "Gamma_50%", "beta wholesale"]),
        (_fn("ThisWeek", "createdon"), ["Alpha Retail", "Zeta", "beta wholesale"]),  # Sunday 12th to Saturday 18th
        (_fn("LastWeek", "createdon"), ["Gamma_50%"]),
        (_fn("ThisMonth", "createdon"), ["Alpha Retail", "Gamma_50%", "Zeta", "beta wholesale"]),
        (_fn("LastMonth", "createdon"), ["Delta"]),
        (_fn("NextMonth", "createdon"), ["Eta"]),
        (_fn("ThisYear", "createdon"), [n for n in DATED if n != "Epsilon"]),
        (_fn("LastYear", "createdon"), ["Epsilon"]),
        (_fn("NextYear", "createdon"), []),
    ],
)
def test_date_functions(dataverse_db: Database, registry: Registry, text: str, expected: list[str]) -> None:
    assert _names(dataverse_db, registry, text) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_fn("Today", "birthdate"), ["Jane Smith"]),
        (_fn("Yesterday", "birthdate"), ["Yesterday Born"]),
        (_fn("Last7Days", "birthdate"), ["Jane Smith", "Week Edge", "Yesterday Born"]),
        (_fn("LastXDays", "birthdate", value="0"), ["Jane Smith"]),
        (_fn("On", "birthdate", value="2024-05-14"), ["Yesterday Born"]),
        (_fn("OnOrBefore", "birthdate", value="'2024-05-08'"), ["Week Before", "Week Edge"]),
        (_fn("OnOrAfter", "birthdate", value="2024-05-14T22:00:00Z"), ["Jane Smith", "Yesterday Born"]),
        (_fn("Between", "birthdate", values='["2024-05-08","2024-05-14"]'), ["Week Edge", "Yesterday Born"]),
        (_fn("OlderThanXDays", "birthdate", value="7"), ["Week Before"]),
        (_fn("ThisWeek", "birthdate"), ["Jane Smith", "Yesterday Born"]),
    ],
)
def test_date_only_columns_compare_days(dataverse_db: Database, registry: Registry, text: str, expected: list[str]) -> None:
    assert _names(dataverse_db, registry, text, "contact") == sorted(expected)


def test_default_clock_is_the_current_time(dataverse_db: Database, registry: Registry) -> None:
    functions = query_functions(user_id=USER, business_unit_id=BU)
    resolver = TableResolver(registry, registry.tables["account"])
    compiler = FilterCompiler(resolver, dialect=dataverse_db.dialect, functions=functions, case_insensitive=True)
    condition = compiler.compile(parse_filter(_fn("OlderThanXDays", "createdon", value="1")))
    cutoff = dt.datetime.combine(dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1), dt.time(), dt.UTC)
    expected = sorted(a[0] for a in ACCOUNTS if a[2] is not None and a[2] < cutoff)
    with dataverse_db.engine.connect() as conn:
        assert sorted(conn.execute(select(resolver.sql.c.name).where(condition)).scalars()) == expected


# --- the caller ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_fn("EqualUserId", "_ownerid_value"), ["Alpha Retail", "Gamma_50%"]),
        (_fn("NotEqualUserId", "_ownerid_value"), ["Epsilon", "Eta", "Theta", "Zeta", "beta wholesale"]),
        (_fn("EqualBusinessId", "_owningbusinessunit_value"), ["Alpha Retail", "Epsilon", "Eta", "Theta", "Zeta"]),
        (_fn("NotEqualBusinessId", "_owningbusinessunit_value"), ["Gamma_50%", "beta wholesale"]),
    ],
)
def test_identity_functions(dataverse_db: Database, registry: Registry, text: str, expected: list[str]) -> None:
    assert _names(dataverse_db, registry, text) == sorted(expected)


def test_identity_ids_are_normalised(dataverse_db: Database, registry: Registry) -> None:
    text = _fn("EqualUserId", "_ownerid_value")
    assert _names(dataverse_db, registry, text, user_id=USER.upper()) == ["Alpha Retail", "Gamma_50%"]


def test_identity_without_a_caller_is_refused(dataverse_db: Database, registry: Registry) -> None:
    with pytest.raises(QueryOptionError, match="EqualUserId.*user id"):
        _names(dataverse_db, registry, _fn("EqualUserId", "_ownerid_value"), user_id=None)
    with pytest.raises(QueryOptionError, match="EqualBusinessId.*business unit"):
        _names(dataverse_db, registry, _fn("EqualBusinessId", "_owningbusinessunit_value"), business_unit_id=None)


# --- errors --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("Microsoft.Dynamics.CRM.In(PropertyName='name')", r"CRM\.In, parameter PropertyValues: is missing"),
        ("Microsoft.Dynamics.CRM.Today()", r"CRM\.Today, parameter PropertyName: is missing"),
        ("Microsoft.Dynamics.CRM.In('name')", r"CRM\.In: takes named parameters only"),
        (_fn("LastXDays", "createdon", value="3").replace("PropertyValue", "Value"),
         r"CRM\.LastXDays, parameter Value: is not a parameter"),
        ("Microsoft.Dynamics.CRM.Today(PropertyName='createdon',PropertyName='modifiedon')", r"more than once"),
        (_fn("Today", "nosuch"), r"CRM\.Today, parameter PropertyName: Could not find a property named 'nosuch'"),
        (_fn("In", "ownerid", values='["x"]'), r"CRM\.In, parameter PropertyName: Could not find a property named 'ownerid'"),
        ("Microsoft.Dynamics.CRM.Today(PropertyName=1)", r"CRM\.Today, parameter PropertyName: must name a property"),
        (_fn("In", "numberofemployees", values='["ten"]'), r"CRM\.In, parameter PropertyValues: 'ten' is not a number"),
        (_fn("In", "numberofemployees", values='[null]'), r"CRM\.In, parameter PropertyValues: cannot be null"),
        (_fn("In", "numberofemployees", values="'5'"), r"CRM\.In, parameter PropertyValues: must be a JSON array"),
        (_fn("In", "_ownerid_value", values='["not-a-guid"]'), r"CRM\.In, parameter PropertyValues: .*not a GUID"),
        (_fn("In", "createdon", values='["someday"]'), r"CRM\.In, parameter PropertyValues: 'someday' is not a date"),
        (_fn("Between", "numberofemployees", values='["1","2","3"]'), r"CRM\.Between, parameter PropertyValues: needs exactly 2"),
        (_fn("Between", "_ownerid_value", values=f'["{USER}","{USER}"]'), r"CRM\.Between, parameter PropertyName: .*Edm\.Guid"),
        (_fn("Like", "numberofemployees", value="'1%'"), r"CRM\.Like, parameter PropertyName: .*needs a text property"),
        (_fn("Like", "name", value="5"), r"CRM\.Like, parameter PropertyValue: must be a text pattern"),
        (_fn("LastXDays", "name", value="3"), r"CRM\.LastXDays, parameter PropertyName: .*needs a date"),
        (_fn("LastXDays", "createdon", value="'three'"), r"CRM\.LastXDays, parameter PropertyValue: must be a whole number"),
        (_fn("LastXDays", "createdon", value="-1"), r"CRM\.LastXDays, parameter PropertyValue: must be between 0"),
        (_fn("LastXDays", "createdon", value="2.5"), r"CRM\.LastXDays, parameter PropertyValue: must be a whole number"),
        (_fn("On", "createdon", value="'soon'"), r"CRM\.On, parameter PropertyValue: must be a date"),
        (_fn("On", "name", value="2024-01-01"), r"CRM\.On, parameter PropertyName: .*needs a date"),
        (_fn("EqualUserId", "name"), r"CRM\.EqualUserId, parameter PropertyName: .*needs a GUID"),
    ],
)
def test_wrong_parameters_name_the_function_and_parameter(
    dataverse_db: Database, registry: Registry, text: str, pattern: str
) -> None:
    with pytest.raises(QueryOptionError, match=pattern) as caught:
        _names(dataverse_db, registry, text)
    assert caught.value.target == "$filter"


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("Microsoft.Dynamics.CRM.InFiscalYear(PropertyName='createdon',PropertyValue=2024)", "InFiscalYear"),
        (_fn("ContainValues", "customertypecode", values='["1"]'), "multi-select"),
        (_fn("DoesNotContainValues", "customertypecode", values='["1"]'), "multi-select"),
        (_fn("Like", "name", value="'[a-c]%'"), r"character classes"),
    ],
)
def test_unsupported_functions(dataverse_db: Database, registry: Registry, text: str, pattern: str) -> None:
    with pytest.raises(NotSupportedError, match=pattern):
        _names(dataverse_db, registry, text)


def test_every_function_is_qualified() -> None:
    functions = query_functions(user_id=None, business_unit_id=None, now=NOW)
    assert all(name.startswith("Microsoft.Dynamics.CRM.") for name in functions)
    for name in ("In", "NotIn", "Between", "NotBetween", "Like", "NotLike", "LastXDays", "NextXDays", "LastXHours",
                 "NextXHours", "LastXMonths", "NextXMonths", "OlderThanXDays", "OlderThanXMonths", "Today",
                 "Yesterday", "Tomorrow", "Last7Days", "Next7Days", "On", "NotOn", "OnOrAfter", "OnOrBefore",
                 "ThisWeek", "ThisMonth", "LastMonth", "NextMonth", "ThisYear", "LastYear", "NextYear",
                 "EqualUserId", "NotEqualUserId", "EqualBusinessId", "NotEqualBusinessId"):
        assert f"Microsoft.Dynamics.CRM.{name}" in functions
