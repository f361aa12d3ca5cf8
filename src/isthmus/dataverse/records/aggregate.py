"""OData ``$apply`` as Dataverse serves it: a chain of transformations separated by ``/``, compiled to one grouped
SQLAlchemy select.

Supported::

    filter(<$filter expression>)                                 rows kept before grouping (any number, ANDed)
    groupby((p1,p2,...))                                         the distinct values of the properties
    groupby((p1,...),aggregate(<agg>[,<agg>...]))                one row per group with its aggregates
    aggregate(<agg>[,<agg>...])                                  one row over all rows

    <agg> ::= <property> with sum|average|min|max|countdistinct as <alias>
            | $count as <alias>

``filter`` must come before the ``groupby``/``aggregate`` (at most one of those, last). ``average`` is a decimal on
SQLite and PostgreSQL alike, also over whole-number columns; aggregates ignore null values, ``$count`` counts rows.
Rows come out ordered by the group properties (nulls first). As in Dataverse, grouping by a date-time property is
not supported, nor are the other transformations of the OData aggregation extension (``compute``, ``topcount``...):
those answer 501. Malformed text, unknown properties and methods answer 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select

from isthmus.dataverse.metadata.model import Column
from isthmus.dataverse.records.resolver import TableResolver, column_for_property
from isthmus.errors import NotSupportedError, QueryOptionError
from isthmus.odata.query.filter import parse_filter
from isthmus.odata.query.options import split_top_level
from isthmus.odata.query.sql import NUMERIC, TEMPORAL, FieldRef, FilterCompiler, FunctionCompiler
from isthmus.storage.types import Money

TARGET = "$apply"
METHODS = ("sum", "average", "min", "max", "countdistinct")
UNSUPPORTED = frozenset(
    {
        "compute", "topcount", "topsum", "toppercent", "bottomcount", "bottomsum", "bottompercent", "identity",
        "concat", "expand", "search", "orderby", "skip", "top", "nest", "ancestors", "descendants", "traverse",
        "join", "outerjoin", "rollup", "addnested",
    }
)
_NAME = re.compile(r"^[A-Za-z_]\w*$")
_TRANSFORMATION = re.compile(r"^\s*([A-Za-z_$][\w$]*)\s*(\((.*)\))?\s*$", re.DOTALL)
_WITH = re.compile(r"^(\S+)\s+with\s+(\S+)\s+as\s+(\S+)$", re.DOTALL)
_COUNT = re.compile(r"^\$count\s+as\s+(\S+)$", re.DOTALL)


@dataclass(frozen=True)
class ApplyColumn:
    name: str
    """Output property name: a group property as named (``_ownerid_value``), or an aggregate's alias."""
    edm_type: str
    column: Column | None
    """The metadata column of a group property (for formatted values); ``None`` for aggregates."""


@dataclass(frozen=True)
class AppliedQuery:
    statement: Select[Any]
    """One row per group, columns labelled by ``ApplyColumn.name``, ordered by the group properties."""
    columns: tuple[ApplyColumn, ...]


@dataclass(frozen=True)
class _Aggregate:
    alias: str
    method: str
    """One of ``METHODS``, or ``$count``."""
    property: str | None


def _fail(message: str) -> QueryOptionError:
    return QueryOptionError(message, target=TARGET)


def compile_apply(
    text: str,
    resolver: TableResolver,
    *,
    where: list[Any],
    dialect: str,
    functions: Mapping[str, FunctionCompiler] | None = None,
) -> AppliedQuery:
    """Compile ``$apply`` text for the table of ``resolver``; ``where`` conditions (the caller's ``$filter``,
    security) are ANDed into the rows before grouping."""
    if not text or not text.strip():
        raise _fail("$apply is empty.")
    conditions: list[Any] = list(where)
    groups: list[str] | None = None
    aggregates: list[_Aggregate] | None = None
    for step in split_top_level(text, "/"):
        name, body = _transformation(step)
        if groups is not None or aggregates is not None:
            raise NotSupportedError(
                f"$apply: {name}() after groupby() or aggregate() is not supported; put filter() first.", target=TARGET
            )
        if name == "filter":
            conditions.append(_filter(body, resolver, dialect, functions))
        elif name == "groupby":
            groups, aggregates = _groupby(body)
            if aggregates is None:
                aggregates = []
        elif name == "aggregate":
            groups, aggregates = [], _aggregates(body)
    if groups is None or aggregates is None:
        raise NotSupportedError("$apply with only filter() is not supported; use $filter instead.", target=TARGET)
    return _compile(resolver, conditions, groups, aggregates)


# --- parsing ------------------------------------------------------------------------------------------------------


def _transformation(step: str) -> tuple[str, str]:
    match = _TRANSFORMATION.match(step)
    if match is None:
        shown = step.strip()
        if not shown:
            raise _fail("$apply has an empty transformation.")
        raise _fail(f"$apply cannot read {shown!r}; expected a transformation such as groupby((statuscode)).")
    name, body = match.group(1), match.group(3)
    if name in UNSUPPORTED:
        raise NotSupportedError(f"The $apply transformation {name} is not supported.", target=TARGET)
    if name not in ("filter", "groupby", "aggregate"):
        raise _fail(f"Unknown $apply transformation '{name}'; use filter, groupby or aggregate.")
    if body is None or not body.strip():
        raise _fail(f"$apply {name}() needs arguments in parentheses.")
    return name, body.strip()


def _groupby(body: str) -> tuple[list[str], list[_Aggregate] | None]:
    parts = [p.strip() for p in split_top_level(body, ",")]
    first = parts[0]
    if not (first.startswith("(") and first.endswith(")")):
        raise _fail("groupby needs a parenthesised property list, e.g. groupby((statuscode)).")
    names = [p.strip() for p in split_top_level(first[1:-1], ",")]
    if any(not n for n in names):
        raise _fail("groupby has an empty property in its list.")
    for n in names:
        if "/" in n:
            raise NotSupportedError(f"groupby over the navigation path {n!r} is not supported.", target=TARGET)
        if not _NAME.match(n):
            raise _fail(f"groupby names {n!r}, which is not a property.")
    if len(set(names)) != len(names):
        raise _fail("groupby names a property more than once.")
    if len(parts) == 1:
        return names, None
    if len(parts) > 2:
        raise _fail("groupby takes a property list and at most one aggregate(...).")
    name, inner = _transformation(parts[1])
    if name != "aggregate":
        raise NotSupportedError(f"$apply: {name}() inside groupby is not supported; use aggregate(...).", target=TARGET)
    return names, _aggregates(inner)


def _aggregates(body: str) -> list[_Aggregate]:
    result: list[_Aggregate] = []
    for raw in split_top_level(body, ","):
        item = " ".join(raw.split())
        if not item:
            raise _fail("aggregate has an empty item.")
        counted = _COUNT.match(item)
        if counted:
            result.append(_Aggregate(_alias(counted.group(1)), "$count", None))
            continue
        match = _WITH.match(item)
        if match is None:
            if " from " in f" {item} ":
                raise NotSupportedError(f"aggregate with 'from' ({item!r}) is not supported.", target=TARGET)
            raise _fail(
                f"aggregate item {item!r} must be '<property> with <method> as <alias>' or '$count as <alias>'."
            )
        prop, method, alias = match.groups()
        if method not in METHODS:
            raise _fail(f"Unknown aggregation method '{method}'; use one of {', '.join(METHODS)}.")
        if "/" in prop:
            raise NotSupportedError(f"aggregate over the navigation path {prop!r} is not supported.", target=TARGET)
        if not _NAME.match(prop):
            raise _fail(f"aggregate names {prop!r}, which is not a property.")
        result.append(_Aggregate(_alias(alias), method, prop))
    return result


def _alias(text: str) -> str:
    if not _NAME.match(text):
        raise _fail(f"{text!r} is not a valid alias; use a name such as total.")
    return text


def _filter(body: str, resolver: TableResolver, dialect: str, functions: Mapping[str, FunctionCompiler] | None) -> Any:
    compiler = FilterCompiler(resolver, dialect=dialect, functions=functions, case_insensitive=True)
    try:
        return compiler.compile(parse_filter(body))
    except QueryOptionError as exc:
        raise QueryOptionError(f"$apply filter(): {exc.message}", target=TARGET, code=exc.code) from exc


# --- SQL ----------------------------------------------------------------------------------------------------------


def _field(resolver: TableResolver, name: str) -> FieldRef:
    try:
        return resolver.field((name,))
    except QueryOptionError as exc:
        raise QueryOptionError(f"$apply: {exc.message}", target=TARGET, code=exc.code) from exc


def _compile(resolver: TableResolver, conditions: list[Any], groups: list[str], aggregates: list[_Aggregate]) -> AppliedQuery:
    taken = set(groups)
    for agg in aggregates:
        if agg.alias in taken:
            raise _fail(f"The alias '{agg.alias}' is used more than once (or names a group property).")
        taken.add(agg.alias)
    columns: list[ApplyColumn] = []
    selected: list[Any] = []
    keys: list[Any] = []
    for name in groups:
        ref = _field(resolver, name)
        if ref.type == "Edm.DateTimeOffset":
            raise NotSupportedError(f"groupby on the date-time property {name} is not supported.", target=TARGET)
        columns.append(ApplyColumn(name, ref.type, column_for_property(resolver.table, name)))
        selected.append(ref.column.label(name))
        keys.append(ref.column)
    for agg in aggregates:
        expression, edm_type = _aggregate_sql(resolver, agg)
        columns.append(ApplyColumn(agg.alias, edm_type, None))
        selected.append(expression.label(agg.alias))
    statement = sa.select(*selected).select_from(resolver.sql)  # type: ignore[arg-type]
    if conditions:
        statement = statement.where(*conditions)
    if keys:
        statement = statement.group_by(*keys).order_by(*[k.asc().nulls_first() for k in keys])
    return AppliedQuery(statement, tuple(columns))


def _aggregate_sql(resolver: TableResolver, agg: _Aggregate) -> tuple[Any, str]:
    if agg.method == "$count":
        return sa.func.count(), "Edm.Int32"
    assert agg.property is not None
    ref = _field(resolver, agg.property)
    column = ref.column
    if agg.method == "countdistinct":
        return sa.func.count(sa.distinct(column)), "Edm.Int32"
    if agg.method in ("sum", "average") and ref.type not in NUMERIC:
        raise _fail(f"{agg.method} needs a numeric property; {agg.property} is {ref.type}.")
    if agg.method in ("min", "max") and ref.type not in NUMERIC and ref.type not in TEMPORAL:
        raise _fail(f"{agg.method} needs a numeric or date property; {agg.property} is {ref.type}.")
    if agg.method == "average":
        # SQLite's avg is a float, PostgreSQL's a numeric (or a float over floats): read both as a 6-place decimal.
        return sa.func.avg(column, type_=Money()), "Edm.Decimal"
    function = sa.func.sum if agg.method == "sum" else sa.func.min if agg.method == "min" else sa.func.max
    return function(column), ref.type
