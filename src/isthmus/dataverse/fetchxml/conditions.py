"""``<filter>`` and ``<condition>`` → SQLAlchemy boolean expressions.

Every value is a bound parameter typed by the column. Text comparisons are case-insensitive, as in Dataverse (both
sides lower-cased); ``like`` patterns keep ``%`` and ``_`` as given, and a backslash in them is literal on every
backend. Negative operators (``ne``, ``not-in``, ``not-like``...) follow SQL: a null never matches them, as in
Dataverse.
"""

from __future__ import annotations

import operator as op
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from isthmus.dataverse.fetchxml import convert
from isthmus.dataverse.fetchxml.model import ConditionSpec, FilterSpec, LinkSpec
from isthmus.dataverse.metadata.model import Column
from isthmus.dataverse.records.values import edm_type
from isthmus.errors import NotSupportedError, QueryOptionError

if TYPE_CHECKING:
    from isthmus.dataverse.fetchxml.compile import Compiler, Scope

COMPARE = {"eq": op.eq, "ne": op.ne, "gt": op.gt, "ge": op.ge, "lt": op.lt, "le": op.le}
LIKE = ("like", "not-like", "begins-with", "not-begin-with", "ends-with", "not-end-with")
LISTS = ("in", "not-in", "between", "not-between")
NULLS = ("null", "not-null")
IDS = ("eq-userid", "ne-userid", "eq-businessid", "ne-businessid")
SUPPORTED = frozenset(
    (*COMPARE, *LIKE, *LISTS, *NULLS, *IDS, *convert.RELATIVE_FIXED, *convert.RELATIVE_X, *convert.ON_DAY)
)
KNOWN_UNSUPPORTED = frozenset((
    "above", "eq-or-above", "under", "eq-or-under", "not-under", "eq-useroruserhierarchy",
    "eq-useroruserhierarchyandteams", "eq-useroruserteams", "eq-userteams", "eq-userlanguage", "contain-values",
    "not-contain-values", "in-fiscal-period", "in-fiscal-period-and-year", "in-fiscal-year",
    "in-or-after-fiscal-period-and-year", "in-or-before-fiscal-period-and-year", "last-fiscal-period",
    "last-fiscal-year", "last-x-fiscal-periods", "last-x-fiscal-years", "next-fiscal-period", "next-fiscal-year",
    "next-x-fiscal-periods", "next-x-fiscal-years", "this-fiscal-period", "this-fiscal-year",
))
ORDERED_TYPES = ("String", "Memo", "Integer", "BigInt", "Decimal", "Money", "Double", "DateTime", "Picklist",
                 "State", "Status")
GUID_TYPES = ("Uniqueidentifier", "Lookup", "Customer", "Owner")


def filter_expression(comp: Compiler, spec: FilterSpec, scope: Scope) -> Any:
    parts = []
    for item in spec.items:
        if isinstance(item, FilterSpec):
            parts.append(filter_expression(comp, item, scope))
        elif isinstance(item, LinkSpec):
            parts.append(comp.link_condition(item, scope, in_filter=True))
        else:
            parts.append(condition_expression(comp, item, scope))
    if not parts:
        return sa.true()
    return sa.and_(*parts) if spec.type == "and" else sa.or_(*parts)


def condition_expression(comp: Compiler, spec: ConditionSpec, scope: Scope) -> Any:
    target = comp.scope_for(spec.entityname, scope)
    column = comp.column(target, spec.attribute)
    name = spec.operator
    if name == "neq":
        name = "ne"
    if name in KNOWN_UNSUPPORTED:
        raise NotSupportedError(
            f"The condition operator '{name}' is not supported by this server.", target=spec.attribute
        )
    if name not in SUPPORTED:
        raise QueryOptionError(f"The condition operator '{spec.operator}' is not valid.", target=spec.attribute)
    table = target.table.logical_name
    expr = target.sql.c[column.logical_name]
    text = column.type in ("String", "Memo")
    if spec.valueof is not None:
        return _column_comparison(comp, spec, name, target, column, expr)
    if name in NULLS:
        return expr.is_(None) if name == "null" else expr.is_not(None)
    if name in IDS:
        return _ids(comp, name, table, column, expr)
    if name in convert.RELATIVE_FIXED or name in convert.RELATIVE_X or name in convert.ON_DAY:
        return _dates(comp, spec, name, table, column, expr)
    if name in LIKE:
        if not text:
            raise QueryOptionError(
                f"The operator '{name}' applies to text attributes only; '{table}.{column.logical_name}' is "
                f"{column.type}.",
                target=column.logical_name,
            )
        return _like(name, expr, _single(spec, name, table, column))
    if name in LISTS:
        values = _many(spec, name, table, column)
        if name in ("between", "not-between"):
            _ordered(name, table, column)
            if len(values) != 2:
                raise QueryOptionError(
                    f"The operator '{name}' needs exactly two <value> elements; the condition on "
                    f"'{table}.{column.logical_name}' has {len(values)}.", target=column.logical_name,
                )
            low, high = values
            subject = sa.func.lower(expr) if text else expr
            if text:
                low, high = low.lower(), high.lower()
            if name == "between":
                return sa.and_(subject >= low, subject <= high)
            return sa.or_(subject < low, subject > high)
        if text:
            lowered = sorted({v.lower() for v in values})
            return sa.func.lower(expr).in_(lowered) if name == "in" else sa.func.lower(expr).not_in(lowered)
        return expr.in_(values) if name == "in" else expr.not_in(values)
    # eq ne gt ge lt le
    if name not in ("eq", "ne"):
        _ordered(name, table, column)
    value = _single(spec, name, table, column)
    if text:
        return COMPARE[name](sa.func.lower(expr), value.lower())
    return COMPARE[name](expr, value)


def _single(spec: ConditionSpec, name: str, table: str, column: Column) -> Any:
    raw = spec.value if spec.value is not None else (spec.values[0] if len(spec.values) == 1 else None)
    if raw is None:
        raise QueryOptionError(
            f"The operator '{name}' on '{table}.{column.logical_name}' needs a value.", target=column.logical_name
        )
    return convert.typed(table, column, raw)


def _many(spec: ConditionSpec, name: str, table: str, column: Column) -> list[Any]:
    raws = list(spec.values) if spec.values else ([spec.value] if spec.value is not None else [])
    if not raws:
        raise QueryOptionError(
            f"The operator '{name}' on '{table}.{column.logical_name}' needs <value> elements.",
            target=column.logical_name,
        )
    return [convert.typed(table, column, raw) for raw in raws]


def _ordered(name: str, table: str, column: Column) -> None:
    if column.type not in ORDERED_TYPES:
        raise QueryOptionError(
            f"The operator '{name}' cannot be used on '{table}.{column.logical_name}' ({column.type}).",
            target=column.logical_name,
        )


def like_pattern(value: str) -> str:
    """A backslash is the escape character on every backend; keep one in the pattern literal."""
    return value.replace("\\", "\\\\").lower()


def _like(name: str, expr: Any, value: str) -> Any:
    if name in ("begins-with", "not-begin-with"):
        value = value + "%"
    elif name in ("ends-with", "not-end-with"):
        value = "%" + value
    matched = sa.func.lower(expr).like(like_pattern(value), escape="\\")
    return matched if not name.startswith("not-") else sa.not_(matched)


def _ids(comp: Compiler, name: str, table: str, column: Column, expr: Any) -> Any:
    if column.type not in GUID_TYPES:
        raise QueryOptionError(
            f"The operator '{name}' applies to GUID and lookup attributes only; '{table}.{column.logical_name}' is "
            f"{column.type}.", target=column.logical_name,
        )
    user = name.endswith("userid")
    value = comp.user_id if user else comp.business_unit_id
    if value is None:
        raise QueryOptionError(
            f"The operator '{name}' needs the calling {'user' if user else 'business unit'}, and none is known.",
            target=column.logical_name,
        )
    value = str(value).lower()
    return expr == value if name.startswith("eq-") else expr != value


def _dates(comp: Compiler, spec: ConditionSpec, name: str, table: str, column: Column, expr: Any) -> Any:
    if column.type != "DateTime":
        raise QueryOptionError(
            f"The operator '{name}' applies to date and time attributes only; '{table}.{column.logical_name}' is "
            f"{column.type}.", target=column.logical_name,
        )
    if column.format == "DateOnly" and name.endswith(("-hours", "-minutes")):
        raise QueryOptionError(
            f"The operator '{name}' cannot be used on the date-only attribute '{table}.{column.logical_name}'.",
            target=column.logical_name,
        )
    amount = day = None
    if name in convert.RELATIVE_X:
        raw = spec.value if spec.value is not None else (spec.values[0] if spec.values else None)
        amount = convert.whole(table, column, name, raw)
    elif name in convert.ON_DAY:
        day = _single(spec, name, table, column)
    low, high, inclusive = convert.window(name, comp.now, amount, day)
    parts = []
    if low is not None:
        parts.append(expr >= low)
    if high is not None:
        parts.append(expr <= high if inclusive else expr < high)
    return sa.and_(*parts)


def _column_comparison(comp: Compiler, spec: ConditionSpec, name: str, target: Scope, column: Column, expr: Any) -> Any:
    if name not in COMPARE:
        raise QueryOptionError(
            f"A condition with 'valueof' can only use eq, ne, gt, ge, lt or le; got '{name}'.", target=spec.attribute
        )
    assert spec.valueof is not None
    alias, _, attribute = spec.valueof.rpartition(".")
    other_scope = comp.scope_for(alias, target) if alias else target
    other = comp.column(other_scope, attribute)
    if edm_type(other) != edm_type(column):
        raise QueryOptionError(
            f"The attributes '{column.logical_name}' and '{other.logical_name}' have different types and cannot be "
            "compared.", target=spec.attribute,
        )
    other_expr = other_scope.sql.c[other.logical_name]
    if column.type in ("String", "Memo"):
        return COMPARE[name](sa.func.lower(expr), sa.func.lower(other_expr))
    return COMPARE[name](expr, other_expr)
