"""$apply on Dataverse tables: groupby, aggregate (sum, average, min, max, countdistinct, $count), filter chains and
errors, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert

from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.metadata.store import MetadataStore
from isthmus.dataverse.records.aggregate import AppliedQuery, ApplyColumn, compile_apply
from isthmus.dataverse.records.functions import query_functions
from isthmus.dataverse.records.resolver import TableResolver
from isthmus.errors import NotSupportedError, QueryOptionError
from isthmus.storage import Database

U1 = "11111111-1111-1111-1111-111111111111"
U2 = "22222222-2222-2222-2222-222222222222"
NOW = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)

ACCOUNTS = [
    # name, statuscode, customertypecode, owner, employees, revenue, createdon
    ("Alpha", 1, 3, U1, 10, Decimal("100.50"), dt.datetime(2024, 5, 1, tzinfo=dt.UTC)),
    ("Beta", 1, 3, U2, 20, Decimal("200.25"), dt.datetime(2024, 5, 2, tzinfo=dt.UTC)),
    ("Gamma", 1, 5, U1, 5, None, dt.datetime(2024, 5, 3, tzinfo=dt.UTC)),
    ("Delta", 2, 3, U1, 7, Decimal("50"), dt.datetime(2024, 5, 4, tzinfo=dt.UTC)),
    ("Epsilon", 2, None, None, None, Decimal("10"), dt.datetime(2024, 5, 5, tzinfo=dt.UTC)),
]


@pytest.fixture
def resolver(metadata_store: MetadataStore, dataverse_db: Database) -> TableResolver:
    registry: Registry = metadata_store.registry
    with dataverse_db.engine.begin() as conn:
        conn.execute(insert(registry.sql["account"]), [
            {"accountid": str(uuid.uuid4()), "name": name, "statecode": 0 if status == 1 else 1, "statuscode": status,
             "customertypecode": kind, "ownerid": owner, "ownerid__type": "systemuser" if owner else None,
             "numberofemployees": employees, "revenue": revenue, "createdon": created}
            for name, status, kind, owner, employees, revenue, created in ACCOUNTS
        ])
    return TableResolver(registry, registry.tables["account"])


def _apply(db: Database, resolver: TableResolver, text: str, where: list[Any] | None = None) -> tuple[AppliedQuery, list[dict[str, Any]]]:
    functions = query_functions(user_id=U1, business_unit_id=None, now=NOW)
    applied = compile_apply(text, resolver, where=where or [], dialect=db.dialect, functions=functions)
    with db.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(applied.statement).mappings()]
    return applied, rows


def test_groupby_alone_lists_distinct_values(dataverse_db: Database, resolver: TableResolver) -> None:
    applied, rows = _apply(dataverse_db, resolver, "groupby((statuscode))")
    assert rows == [{"statuscode": 1}, {"statuscode": 2}]
    (column,) = applied.columns
    assert column.name == "statuscode" and column.edm_type == "Edm.Int32"
    assert column.column is not None and column.column.logical_name == "statuscode"


def test_groupby_choice_with_count(dataverse_db: Database, resolver: TableResolver) -> None:
    _, rows = _apply(dataverse_db, resolver, "groupby((statuscode),aggregate($count as count))")
    assert rows == [{"statuscode": 1, "count": 3}, {"statuscode": 2, "count": 2}]


def test_groupby_choice_and_lookup_with_every_method(dataverse_db: Database, resolver: TableResolver) -> None:
    applied, rows = _apply(
        dataverse_db, resolver,
        "groupby((customertypecode,_ownerid_value),aggregate(numberofemployees with sum as total,"
        "numberofemployees with average as mean, numberofemployees with min as least,"
        "numberofemployees with max as most,name with countdistinct as names,$count as n))",
    )
    assert rows == [
        {"customertypecode": None, "_ownerid_value": None, "total": None, "mean": None, "least": None, "most": None,
         "names": 1, "n": 1},
        {"customertypecode": 3, "_ownerid_value": U1, "total": 17, "mean": Decimal("8.5"), "least": 7, "most": 10,
         "names": 2, "n": 2},
        {"customertypecode": 3, "_ownerid_value": U2, "total": 20, "mean": Decimal("20"), "least": 20, "most": 20,
         "names": 1, "n": 1},
        {"customertypecode": 5, "_ownerid_value": U1, "total": 5, "mean": Decimal("5"), "least": 5, "most": 5,
         "names": 1, "n": 1},
    ]
    assert isinstance(rows[1]["mean"], Decimal)
    assert [(c.name, c.edm_type) for c in applied.columns] == [
        ("customertypecode", "Edm.Int32"), ("_ownerid_value", "Edm.Guid"), ("total", "Edm.Int32"),
        ("mean", "Edm.Decimal"), ("least", "Edm.Int32"), ("most", "Edm.Int32"), ("names", "Edm.Int32"), ("n", "Edm.Int32"),
    ]
    owner = applied.columns[1].column
    assert owner is not None and owner.logical_name == "ownerid" and owner.is_lookup
    assert all(c.column is None for c in applied.columns[2:])


def test_average_of_whole_numbers_is_a_decimal(dataverse_db: Database, resolver: TableResolver) -> None:
    _, rows = _apply(dataverse_db, resolver, "groupby((statuscode),aggregate(numberofemployees with average as mean))")
    assert rows == [{"statuscode": 1, "mean": Decimal("11.666667")}, {"statuscode": 2, "mean": Decimal("7")}]
    assert all(isinstance(r["mean"], Decimal) for r in rows)


def test_aggregate_without_groupby_gives_one_row(dataverse_db: Database, resolver: TableResolver) -> None:
    applied, rows = _apply(
        dataverse_db, resolver,
        "aggregate(revenue with sum as total,$count as n,_ownerid_value with countdistinct as owners,"
        "revenue with average as mean,revenue with min as low,createdon with max as latest)",
    )
    assert rows == [{"total": Decimal("360.75"), "n": 5, "owners": 2, "mean": Decimal("90.1875"),
                     "low": Decimal("10"), "latest": dt.datetime(2024, 5, 5, tzinfo=dt.UTC)}]
    assert [c.edm_type for c in applied.columns] == [
        "Edm.Decimal", "Edm.Int32", "Edm.Int32", "Edm.Decimal", "Edm.Decimal", "Edm.DateTimeOffset",
    ]


def test_aggregate_over_no_rows(dataverse_db: Database, resolver: TableResolver) -> None:
    _, rows = _apply(dataverse_db, resolver, "filter(name eq 'nobody')/aggregate($count as n,revenue with sum as total)")
    assert rows == [{"n": 0, "total": None}]
    _, rows = _apply(dataverse_db, resolver, "filter(name eq 'nobody')/groupby((statuscode),aggregate($count as n))")
    assert rows == []


def test_filter_then_groupby(dataverse_db: Database, resolver: TableResolver) -> None:
    _, rows = _apply(
        dataverse_db, resolver, "filter(statuscode eq 1)/groupby((_ownerid_value),aggregate(revenue with sum as total))"
    )
    assert rows == [{"_ownerid_value": U1, "total": Decimal("100.50")}, {"_ownerid_value": U2, "total": Decimal("200.25")}]


def test_filters_chain_are_case_insensitive_and_take_query_functions(dataverse_db: Database, resolver: TableResolver) -> None:
    text = (
        "filter(Microsoft.Dynamics.CRM.In(PropertyName='customertypecode',PropertyValues=[\"3\"]))"
        "/filter(name ne 'BETA')/filter(Microsoft.Dynamics.CRM.EqualUserId(PropertyName='_ownerid_value'))"
        "/aggregate($count as n,name with countdistinct as names)"
    )
    _, rows = _apply(dataverse_db, resolver, text)
    assert rows == [{"n": 2, "names": 2}]  # Alpha and Delta


def test_where_conditions_are_anded(dataverse_db: Database, resolver: TableResolver) -> None:
    account = resolver.sql
    _, rows = _apply(
        dataverse_db, resolver, "groupby((customertypecode),aggregate($count as n))", where=[account.c.statuscode == 2]
    )
    assert rows == [{"customertypecode": None, "n": 1}, {"customertypecode": 3, "n": 1}]


def test_groupby_several_properties_orders_by_each(dataverse_db: Database, resolver: TableResolver) -> None:
    _, rows = _apply(dataverse_db, resolver, "groupby((statuscode,customertypecode))")
    assert rows == [
        {"statuscode": 1, "customertypecode": 3}, {"statuscode": 1, "customertypecode": 5},
        {"statuscode": 2, "customertypecode": None}, {"statuscode": 2, "customertypecode": 3},
    ]


def test_apply_column_is_frozen() -> None:
    column = ApplyColumn("n", "Edm.Int32", None)
    with pytest.raises(AttributeError):
        column.name = "m"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", "empty"),
        ("groupby(statuscode)", "groupby needs a parenthesised property list"),
        ("groupby(statuscode,aggregate($count as n))", "groupby needs a parenthesised property list"),
        ("groupby(())", "empty property"),
        ("groupby((statuscode,statuscode))", "more than once"),
        ("groupby((statuscode),aggregate($count as n),aggregate($count as m))", "at most one aggregate"),
        ("aggregate(revenue with median as m)", "Unknown aggregation method 'median'"),
        ("aggregate(revenue with sum)", "must be '<property> with <method> as <alias>'"),
        ("aggregate(revenue with sum as 1total)", "not a valid alias"),
        ("aggregate($count as n,revenue with sum as n)", "alias 'n' is used more than once"),
        ("groupby((statuscode),aggregate($count as statuscode))", "alias 'statuscode'"),
        ("aggregate(name with sum as total)", "sum needs a numeric property; name is Edm.String"),
        ("aggregate(name with average as mean)", "average needs a numeric property"),
        ("aggregate(name with max as most)", "max needs a numeric or date property"),
        ("aggregate(nosuch with sum as total)", "Could not find a property named 'nosuch'"),
        ("groupby((nosuch))", "Could not find a property named 'nosuch'"),
        ("groupby((ownerid))", "Could not find a property named 'ownerid'"),
        ("groupby((statuscode),aggregate(nosuch with countdistinct as n))", "nosuch"),
        ("filter(nosuch eq 1)/aggregate($count as n)", "filter\\(\\): Could not find a property named 'nosuch'"),
        ("filter(statuscode eq )/aggregate($count as n)", "filter\\(\\)"),
        ("frobnicate(x)", "Unknown \\$apply transformation 'frobnicate'"),
        ("groupby", "needs arguments"),
        ("aggregate()", "needs arguments"),
        ("groupby((statuscode))/", "empty transformation"),
        ("groupby((statuscode)", "Unbalanced parentheses"),
        ("groupby((statuscode)) extra", "cannot read"),
    ],
)
def test_errors(dataverse_db: Database, resolver: TableResolver, text: str, pattern: str) -> None:
    with pytest.raises(QueryOptionError, match=pattern):
        _apply(dataverse_db, resolver, text)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("compute(revenue mul 2 as double)", "compute is not supported"),
        ("topcount(2,revenue)", "topcount is not supported"),
        ("identity", "identity is not supported"),
        ("groupby((createdon))", "date-time property createdon"),
        ("groupby((primarycontactid/fullname))", "navigation path"),
        ("aggregate(revenue with sum from statuscode as total)", "'from'"),
        ("filter(statuscode eq 1)", "only filter"),
        ("groupby((statuscode))/filter(statuscode eq 1)", "after groupby"),
        ("aggregate($count as n)/groupby((statuscode))", "after groupby"),
        ("groupby((statuscode),topcount(1,revenue))", "topcount is not supported"),
        ("groupby((statuscode),filter(statuscode eq 1))", "filter\\(\\) inside groupby"),
    ],
)
def test_unsupported_transformations(dataverse_db: Database, resolver: TableResolver, text: str, pattern: str) -> None:
    with pytest.raises(NotSupportedError, match=pattern):
        _apply(dataverse_db, resolver, text)
