"""Aggregate fetches (``<fetch aggregate="true">``): every attribute is an aggregate (``count``, ``countcolumn``,
``sum``, ``avg``, ``min``, ``max``) with an alias, or a group (``groupby="true"``, optionally by ``dategrouping``).

The query is built in two levels: the joined, filtered rows with one column per grouped or aggregated expression,
then ``GROUP BY`` over that sub-query's columns. Grouping over plain columns keeps PostgreSQL happy when a group
expression carries parameters, and gives the same answers on SQLite.

Values follow Dataverse: ``count`` counts rows, ``countcolumn`` counts non-null values (``distinct`` counts distinct
ones, text compared case-insensitively), ``sum`` of nothing is 0, ``avg`` of a whole-number column is a whole number
(truncated), date parts are grouped in UTC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from isthmus.dataverse.fetchxml.compile import OrderKey, Output, Plan
from isthmus.dataverse.fetchxml.model import AttributeSpec, FetchColumn
from isthmus.dataverse.metadata.model import Column
from isthmus.dataverse.metadata.physical import type_suffix
from isthmus.dataverse.records.values import edm_type
from isthmus.errors import NotSupportedError, QueryOptionError
from isthmus.storage.types import Money

if TYPE_CHECKING:
    from isthmus.dataverse.fetchxml.compile import Compiler, Scope

NUMERIC = ("Integer", "BigInt", "Decimal", "Money", "Double")
INTEGER = ("Integer", "BigInt")
DATE_PARTS = ("year", "quarter", "month", "day")
UNSUPPORTED_DATE_PARTS = ("week", "fiscal-period", "fiscal-year")


class _Builder:
    def __init__(self, comp: Compiler) -> None:
        self.comp = comp
        self.base: list[tuple[str, Any]] = []
        """Columns of the inner (row-level) select."""
        self.groups: list[str] = []
        self.aggregates: list[tuple[str, str, str | None, Column | None, bool]] = []
        """(label, function, base label, column, distinct)."""
        self.keys: dict[str, Output] = {}

    def base_column(self, expression: Any) -> str:
        label = self.comp.name("b")
        self.base.append((label, expression))
        return label

    def attribute(self, scope: Scope, attribute: AttributeSpec) -> None:
        name = attribute.name
        if attribute.aggregate and attribute.groupby:
            raise QueryOptionError(f"The attribute '{name}' cannot both aggregate and group by.", target=name)
        if not attribute.aggregate and not attribute.groupby:
            raise QueryOptionError(
                f"In an aggregate query every attribute needs an aggregate function or groupby='true'; "
                f"'{scope.table.logical_name}.{name}' has neither.", target=name,
            )
        column = self.comp.column(scope, name)
        if attribute.groupby:
            self.group(scope, column, attribute)
        else:
            self.aggregate(scope, column, attribute)

    def group(self, scope: Scope, column: Column, attribute: AttributeSpec) -> None:
        part = attribute.dategrouping
        expression = scope.sql.c[column.logical_name]
        if part is not None:
            if part in UNSUPPORTED_DATE_PARTS:
                raise NotSupportedError(
                    f"dategrouping='{part}' is not supported by this server.", target=column.logical_name
                )
            if part not in DATE_PARTS:
                raise QueryOptionError(f"'{part}' is not a valid dategrouping; use day, month, quarter or year.")
            if column.type != "DateTime":
                raise QueryOptionError(
                    f"dategrouping applies to date and time attributes only; '{column.logical_name}' is {column.type}.",
                    target=column.logical_name,
                )
            expression = _date_part(part, expression)
        elif attribute.distinct:
            pass  # distinct has no meaning on a group
        key = attribute.alias or (
            column.value_property if scope is self.comp.main else f"{scope.key}.{column.logical_name}"
        )
        label = self.comp.name("g")
        base = self.base_column(expression)
        self.groups.append(base)
        type_label = None
        if column.polymorphic and part is None:
            type_base = self.base_column(scope.sql.c[type_suffix(column.logical_name)])
            self.groups.append(type_base)
            type_label = type_base
        self.comp.selected.append((label, base))
        fetch_column = FetchColumn(
            key, None if part else column, scope.table.logical_name, "Edm.Int32" if part else edm_type(column),
            groupby=True, dategrouping=part, attribute=column.logical_name,
        )
        target = column.targets[0] if column.is_lookup and len(column.targets) == 1 and part is None else None
        self.add(Output(fetch_column, label, scope, type_label, target))

    def aggregate(self, scope: Scope, column: Column, attribute: AttributeSpec) -> None:
        function = attribute.aggregate
        assert function is not None
        if not attribute.alias:
            raise QueryOptionError(
                f"The aggregate attribute '{column.logical_name}' ({function}) needs an alias.",
                target=column.logical_name,
            )
        if function in ("sum", "avg") and column.type not in NUMERIC:
            raise QueryOptionError(
                f"The aggregate '{function}' applies to numeric attributes only; '{column.logical_name}' is "
                f"{column.type}.", target=column.logical_name,
            )
        if function in ("min", "max") and column.type not in (*NUMERIC, "DateTime"):
            raise QueryOptionError(
                f"The aggregate '{function}' applies to numeric and date attributes only; '{column.logical_name}' is "
                f"{column.type}.", target=column.logical_name,
            )
        expression = scope.sql.c[column.logical_name]
        counting = function in ("count", "countcolumn")
        if counting and attribute.distinct and column.type in ("String", "Memo"):
            expression = sa.func.lower(expression)
        base = None if function == "count" and not attribute.distinct else self.base_column(expression)
        label = self.comp.name("a")
        self.aggregates.append((label, function, base, column, attribute.distinct))
        if counting:
            kind = "Edm.Int32"
        else:
            kind = edm_type(column)
        fetch_column = FetchColumn(
            attribute.alias, None if counting else column, scope.table.logical_name, kind, aggregate=function,
            attribute=column.logical_name,
        )
        self.add(Output(fetch_column, label, scope, integer_avg=function == "avg" and column.type in INTEGER))

    def add(self, output: Output) -> None:
        key = output.column.key
        if key in self.keys:
            raise QueryOptionError(
                f"Two attributes of the fetch are both returned as '{key}'; give one a different alias."
            )
        self.keys[key] = output
        self.comp.outputs.append(output)


def _date_part(part: str, expression: Any) -> Any:
    if part == "quarter":
        month = sa.cast(sa.extract("month", expression), sa.Integer)
        return (month + sa.literal_column("2", sa.Integer)) // sa.literal_column("3", sa.Integer)
    return sa.cast(sa.extract(part, expression), sa.Integer)


def _function(function: str, column: Any, distinct: bool, meta: Column | None) -> Any:
    if function == "count":
        return sa.func.count(sa.distinct(column)) if column is not None and distinct else sa.func.count()
    if function == "countcolumn":
        return sa.func.count(sa.distinct(column)) if distinct else sa.func.count(column)
    assert meta is not None
    if function == "sum":
        total = sa.func.coalesce(sa.func.sum(column), sa.literal_column("0"))
        if meta.type in ("Decimal", "Money"):
            return sa.type_coerce(total, Money())
        return sa.type_coerce(total, sa.Float() if meta.type == "Double" else sa.BigInteger())
    if function == "avg":
        average = sa.func.avg(column)
        return sa.type_coerce(average, sa.Float() if meta.type == "Double" else Money())
    value = sa.func.min(column) if function == "min" else sa.func.max(column)
    return sa.type_coerce(value, column.type)


def compile_aggregate(comp: Compiler, source: Any, where: list[Any]) -> Plan:
    builder = _Builder(comp)
    scopes = (comp.main, *comp.joins)
    for scope in scopes:
        if scope.spec.all_attributes:
            raise QueryOptionError("all-attributes cannot be used in an aggregate query.")
        for attribute in scope.spec.attributes:
            builder.attribute(scope, attribute)
    if not comp.outputs:
        raise QueryOptionError("An aggregate query needs at least one aggregate or groupby attribute.")
    base_columns = [expression.label(label) for label, expression in builder.base]
    inner = sa.select(*(base_columns or [sa.literal_column("1").label("one")]))
    inner = inner.select_from(source)
    if where:
        inner = inner.where(*where)
    rows = inner.subquery("fxrows")
    columns: list[Any] = []
    for label, base in comp.selected:
        columns.append(rows.c[base].label(label))
    for label, function, base, meta, distinct in builder.aggregates:
        columns.append(_function(function, rows.c[base] if base else None, distinct, meta).label(label))
    type_labels = {o.type_label for o in comp.outputs if o.type_label}
    columns += [rows.c[t].label(t) for t in type_labels]
    stmt = sa.select(*columns).select_from(rows)
    if builder.groups:
        stmt = stmt.group_by(*[rows.c[g] for g in builder.groups])
    _orders(comp, builder)
    return Plan(comp.main.table, stmt, comp.outputs, comp.orders, None, False, True, comp.fetch.raw_order)


def _orders(comp: Compiler, builder: _Builder) -> None:
    for scope in (comp.main, *comp.joins):
        for order in scope.spec.orders:
            if order.alias:
                output = builder.keys.get(order.alias)
                if output is None:
                    raise QueryOptionError(f"The order alias '{order.alias}' is not the alias of any attribute.")
            else:
                target = comp.scope_for(order.entityname, scope)
                output = next(
                    (o for o in comp.outputs if o.scope is target and o.column.groupby and o.column.dategrouping is None
                     and o.column.attribute == order.attribute), None,
                )
                if output is None:
                    raise QueryOptionError(
                        f"An aggregate query can only be ordered by the alias of an aggregate or groupby attribute; "
                        f"'{order.attribute}' is neither.", target=order.attribute,
                    )
            comp.orders.append(OrderKey(output.label, output.column.column, order.descending))
    ordered = {key.label for key in comp.orders}
    for output in comp.outputs:
        if output.column.groupby and output.label not in ordered:
            comp.orders.append(OrderKey(output.label, None))
