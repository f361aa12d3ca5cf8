"""Compile a ``$filter`` AST to a SQLAlchemy Core boolean expression — parameterized, type-checked, identical in
meaning on SQLite and PostgreSQL.

The compiler knows nothing about tables: a ``FieldResolver`` turns property paths into columns (``FieldRef``) and
collection navigation properties into correlated sources (``CollectionRef``). Literals are coerced to the type of the
field they meet, so ``CreditLimit gt '5'`` is a 400 that says why, and a date compares as a date on both databases.

String semantics: ``eq``/``ne``/``lt``... compare exactly; ``contains``/``startswith``/``endswith`` and the finance
and operations wildcard form (``Name eq '*retail*'``, when enabled) match case-insensitively (LIKE on SQLite, ILIKE
on PostgreSQL). Functions outside the built-in set come from ``functions``: a mapping from qualified name
(``Microsoft.Dynamics.CRM.In``) to a callable, which is how Dataverse adds its query functions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import sqlalchemy as sa
from odata_query import ast
from sqlalchemy.sql.elements import ColumnElement

from isthmus.errors import NotSupportedError, QueryOptionError
from isthmus.odata.edm import EnumType

NUMERIC = frozenset({"Edm.Int32", "Edm.Int64", "Edm.Decimal", "Edm.Double", "Edm.Byte", "Edm.Int16", "Edm.Single"})
TEMPORAL = frozenset({"Edm.Date", "Edm.DateTimeOffset"})


@dataclass(frozen=True)
class FieldRef:
    """A property a query may use: its SQL expression, its EDM type, and how an API value becomes a stored one."""

    name: str
    column: Any
    type: str
    enum: EnumType | None = None
    to_storage: Callable[[Any], Any] | None = None
    nullable: bool = True


@dataclass(frozen=True)
class CollectionRef:
    """A collection navigation property: the rows it reaches (``source``), how they join the outer row
    (``condition``), and the resolver for their properties."""

    resolver: FieldResolver
    source: Any
    condition: Any


class FieldResolver(Protocol):
    def field(self, path: tuple[str, ...]) -> FieldRef: ...

    def collection(self, name: str) -> CollectionRef: ...


FunctionCompiler = Callable[["FilterCompiler", ast.Call], ColumnElement[Any]]


@dataclass(frozen=True)
class Typed:
    """A compiled sub-expression with the EDM type the compiler inferred for it."""

    sql: Any
    type: str | None
    field: FieldRef | None = None


@dataclass(frozen=True)
class Literal:
    """A literal not yet bound: it takes the type of whatever it is compared with."""

    node: ast._Node


Operand = Typed | Literal

_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_ARITH: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Mod: lambda a, b: a % b,
}
_OP_NAMES = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}


def _fail(message: str) -> QueryOptionError:
    return QueryOptionError(message, target="$filter")


class FilterCompiler:
    """One compilation of one ``$filter`` against one resolver, for one SQL dialect."""

    def __init__(
        self,
        resolver: FieldResolver,
        *,
        dialect: str,
        functions: Mapping[str, FunctionCompiler] | None = None,
        wildcards: bool = False,
        case_insensitive: bool = False,
    ) -> None:
        self.resolver = resolver
        self.dialect = dialect
        self.functions = functions or {}
        self.wildcards = wildcards
        self.case_insensitive = case_insensitive
        """Compare text case-insensitively with eq/ne/lt/... too, as Dataverse does."""
        self._scopes: list[tuple[str, FieldResolver]] = []

    # --- entry points ------------------------------------------------------------------------------------------

    def compile(self, node: ast._Node) -> ColumnElement[bool]:
        return self.condition(node)

    def condition(self, node: ast._Node) -> Any:
        result = self.visit(node)
        if isinstance(result, Literal):
            if isinstance(result.node, ast.Boolean):
                return sa.true() if result.node.py_val else sa.false()
            raise _fail(f"{_show(result.node)} is not a condition.")
        if result.type != "Edm.Boolean":
            raise _fail(f"{_describe(result)} is not a condition; compare it with a value.")
        if result.field is not None:
            return result.sql == sa.true()
        return result.sql

    def field(self, path: tuple[str, ...]) -> FieldRef:
        for variable, resolver in reversed(self._scopes):
            if path[0] == variable:
                if len(path) == 1:
                    raise _fail(f"The lambda variable {variable} must be followed by a property, e.g. {variable}/Name.")
                return resolver.field(path[1:])
        if path[0] == "$it" and len(path) > 1:
            path = path[1:]
        return self.resolver.field(path)

    def bind(self, operand: Operand, like: Typed) -> Any:
        """Bind a literal to the type of ``like`` (a field or typed expression)."""
        if isinstance(operand, Typed):
            return operand.sql
        value = coerce_literal(operand.node, like.type, like.field)
        column_type = getattr(like.sql, "type", None)
        return sa.bindparam(None, value, type_=column_type) if column_type is not None else sa.literal(value)

    def typed(self, node: ast._Node, *, default: str | None = None) -> Typed:
        """Compile ``node`` and make sure it is a typed expression (literals get their natural type)."""
        result = self.visit(node)
        if isinstance(result, Typed):
            return result
        kind = default or natural_type(result.node)
        value = coerce_literal(result.node, kind, None)
        return Typed(sa.literal(value), kind)

    # --- dispatch ---------------------------------------------------------------------------------------------

    def visit(self, node: ast._Node) -> Operand:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise NotSupportedError(f"{type(node).__name__} expressions are not supported in $filter.", target="$filter")
        return method(node)

    def visit_Identifier(self, node: ast.Identifier) -> Typed:
        if node.namespace:
            raise _fail(f"{node.full_name()} is not a property.")
        ref = self.field((node.name,))
        return Typed(ref.column, ref.type, ref)

    def visit_Attribute(self, node: ast.Attribute) -> Typed:
        ref = self.field(_path(node))
        return Typed(ref.column, ref.type, ref)

    def _literal(self, node: ast._Node) -> Literal:
        return Literal(node)

    visit_Null = visit_Integer = visit_Float = visit_Boolean = visit_String = _literal
    visit_Date = visit_DateTime = visit_GUID = visit_Time = visit_Duration = _literal

    def visit_List(self, node: ast.List) -> Literal:
        return Literal(node)

    def visit_Geography(self, node: ast.Geography) -> Operand:
        raise NotSupportedError("Geography values are not supported in $filter.", target="$filter")

    # --- operators --------------------------------------------------------------------------------------------

    def visit_Compare(self, node: ast.Compare) -> Typed:
        if isinstance(node.comparator, ast.In):
            return self._in(node)
        left, right = self.visit(node.left), self.visit(node.right)
        op = type(node.comparator)
        if isinstance(left, Literal) and isinstance(right, Literal):
            left = self.typed(node.left)
        if isinstance(left, Literal):  # keep the field on the left: "5 lt Qty" means "Qty gt 5"
            left, right = right, left
            op = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}.get(op, op)
        assert isinstance(left, Typed)
        name = _OP_NAMES[op]
        if isinstance(right, Literal) and isinstance(right.node, ast.Null):
            if op is ast.Eq:
                return Typed(left.sql.is_(None), "Edm.Boolean")
            if op is ast.NotEq:
                return Typed(left.sql.is_not(None), "Edm.Boolean")
            raise _fail(f"null can only be compared with eq or ne, not {name}.")
        if (
            self.wildcards
            and op in (ast.Eq, ast.NotEq)
            and left.type == "Edm.String"
            and isinstance(right, Literal)
            and isinstance(right.node, ast.String)
            and "*" in right.node.val
        ):
            pattern = _like_escape(right.node.val, wildcard="*")
            matched = self._like(left.sql, pattern)
            return Typed(matched if op is ast.Eq else sa.not_(matched), "Edm.Boolean")
        if isinstance(right, Typed):
            _check_comparable(left, right, name)
        if left.field is not None and left.field.enum is not None:
            if op not in (ast.Eq, ast.NotEq) and isinstance(right, Literal):
                raise _fail(f"{left.field.name} is an enumeration; compare it only with eq or ne.")
        a, b = left.sql, self.bind(right, left)
        if self.case_insensitive and left.type == "Edm.String":
            a, b = sa.func.lower(a), sa.func.lower(b)
        return Typed(_COMPARE[op](a, b), "Edm.Boolean")

    def _in(self, node: ast.Compare) -> Typed:
        left = self.visit(node.left)
        if not isinstance(left, Typed):
            raise _fail("The left side of 'in' must be a property.")
        right = self.visit(node.right)
        if not isinstance(right, Literal) or not isinstance(right.node, ast.List):
            raise _fail("The right side of 'in' must be a list of values, e.g. ('a','b').")
        values = []
        for item in right.node.val:
            if isinstance(item, ast.Null):
                raise _fail("'in' lists cannot contain null; use 'eq null'.")
            if not isinstance(item, ast._Literal):
                raise _fail("'in' lists may only contain literal values.")
            values.append(coerce_literal(item, left.type, left.field))
        if self.case_insensitive and left.type == "Edm.String":
            return Typed(sa.func.lower(left.sql).in_([v.lower() if isinstance(v, str) else v for v in values]), "Edm.Boolean")
        return Typed(left.sql.in_(values), "Edm.Boolean")

    def _like(self, column: Any, pattern: Any) -> Any:
        # SQLite's LIKE is case-insensitive already; PostgreSQL needs ILIKE.
        if self.dialect == "postgresql":
            return column.ilike(pattern, escape="\\")
        return column.like(pattern, escape="\\")

    def visit_BoolOp(self, node: ast.BoolOp) -> Typed:
        left, right = self.condition(node.left), self.condition(node.right)
        combine = sa.and_ if isinstance(node.op, ast.And) else sa.or_
        return Typed(combine(left, right), "Edm.Boolean")

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Operand:
        if isinstance(node.op, ast.Not):
            return Typed(sa.not_(self.condition(node.operand)), "Edm.Boolean")
        operand = self.visit(node.operand)
        if isinstance(operand, Literal):
            if isinstance(operand.node, (ast.Integer, ast.Float)):
                value = operand.node.val
                negated = value[1:] if value.startswith("-") else "-" + value
                return Literal(type(operand.node)(negated))
            raise _fail(f"Cannot negate {_show(operand.node)}.")
        if operand.type not in NUMERIC:
            raise _fail(f"Cannot negate {_describe(operand)}; it is not a number.")
        return Typed(-operand.sql, operand.type)

    def visit_BinOp(self, node: ast.BinOp) -> Typed:
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(left, Literal) and isinstance(right, Literal):
            left = self.typed(node.left)
        anchor = left if isinstance(left, Typed) else right
        assert isinstance(anchor, Typed)
        if anchor.type not in NUMERIC:
            raise _fail(f"Arithmetic needs numbers; {_describe(anchor)} is not a number.")
        for side in (left, right):
            if isinstance(side, Typed) and side.type not in NUMERIC:
                raise _fail(f"Arithmetic needs numbers; {_describe(side)} is not a number.")
        numeric = Typed(anchor.sql, "Edm.Decimal") if anchor.type == "Edm.Decimal" else anchor
        a = self.bind(left, numeric) if isinstance(left, Literal) else left.sql
        b = self.bind(right, numeric) if isinstance(right, Literal) else right.sql
        if isinstance(node.op, ast.Div) and isinstance(right, Literal) and right.node.val in ("0", "0.0"):
            raise _fail("Division by zero in $filter.")
        result_type = "Edm.Decimal" if "Edm.Decimal" in (getattr(left, "type", None), getattr(right, "type", None)) else anchor.type
        return Typed(_ARITH[type(node.op)](a, b), result_type)

    # --- functions --------------------------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> Operand:
        qualified = node.func.full_name()
        if node.func.namespace:
            compiler = self.functions.get(qualified)
            if compiler is None:
                raise NotSupportedError(f"The function {qualified} is not supported.", target="$filter")
            return Typed(compiler(self, node), "Edm.Boolean")
        method = getattr(self, "func_" + node.func.name.lower(), None)
        if method is None:
            raise NotSupportedError(f"The function {node.func.name} is not supported.", target="$filter")
        for arg in node.args:
            if isinstance(arg, ast.NamedParam):
                raise _fail(f"{node.func.name}() does not take named parameters.")
        return method(*node.args)

    def _string(self, node: ast._Node, what: str) -> Typed:
        result = self.typed(node, default="Edm.String")
        if result.type != "Edm.String":
            raise _fail(f"{what} needs text; {_describe(result)} is not text.")
        return result

    def _pattern_function(self, field: ast._Node, value: ast._Node, make: Callable[[str], str]) -> Typed:
        target = self._string(field, "This function")
        operand = self.visit(value)
        if isinstance(operand, Literal):
            if not isinstance(operand.node, ast.String):
                raise _fail(f"The value to match must be text, not {_show(operand.node)}.")
            pattern: Any = make(_like_escape(operand.node.val))
        else:
            if operand.type != "Edm.String":
                raise _fail(f"The value to match must be text; {_describe(operand)} is not text.")
            escaped = sa.func.replace(sa.func.replace(sa.func.replace(operand.sql, "\\", "\\\\"), "%", "\\%"), "_", "\\_")
            marker = make("\x00")
            before, _, after = marker.partition("\x00")
            pattern = sa.literal(before).op("||")(escaped).op("||")(sa.literal(after))
        return Typed(self._like(target.sql, pattern), "Edm.Boolean")

    def func_contains(self, field: ast._Node, value: ast._Node) -> Typed:
        return self._pattern_function(field, value, lambda v: f"%{v}%")

    def func_startswith(self, field: ast._Node, value: ast._Node) -> Typed:
        return self._pattern_function(field, value, lambda v: f"{v}%")

    def func_endswith(self, field: ast._Node, value: ast._Node) -> Typed:
        return self._pattern_function(field, value, lambda v: f"%{v}")

    def func_length(self, value: ast._Node) -> Typed:
        return Typed(sa.func.length(self._string(value, "length()").sql), "Edm.Int32")

    def func_tolower(self, value: ast._Node) -> Typed:
        return Typed(sa.func.lower(self._string(value, "tolower()").sql), "Edm.String")

    def func_toupper(self, value: ast._Node) -> Typed:
        return Typed(sa.func.upper(self._string(value, "toupper()").sql), "Edm.String")

    def func_trim(self, value: ast._Node) -> Typed:
        return Typed(sa.func.trim(self._string(value, "trim()").sql), "Edm.String")

    def func_concat(self, first: ast._Node, second: ast._Node) -> Typed:
        a, b = self._string(first, "concat()"), self._string(second, "concat()")
        return Typed(a.sql.op("||")(b.sql), "Edm.String")

    def func_indexof(self, value: ast._Node, sought: ast._Node) -> Typed:
        a, b = self._string(value, "indexof()"), self._string(sought, "indexof()")
        position = sa.func.strpos(a.sql, b.sql) if self.dialect == "postgresql" else sa.func.instr(a.sql, b.sql)
        return Typed(position - 1, "Edm.Int32")

    def func_substring(self, value: ast._Node, start: ast._Node, length: ast._Node | None = None) -> Typed:
        text = self._string(value, "substring()")
        begin = self.typed(start, default="Edm.Int32")
        if begin.type not in NUMERIC:
            raise _fail("substring() needs a whole-number start position.")
        if length is None:
            return Typed(sa.func.substr(text.sql, begin.sql + 1), "Edm.String")
        count = self.typed(length, default="Edm.Int32")
        return Typed(sa.func.substr(text.sql, begin.sql + 1, count.sql), "Edm.String")

    def func_matchespattern(self, value: ast._Node, pattern: ast._Node) -> Typed:
        text = self._string(value, "matchesPattern()")
        regex = self._string(pattern, "matchesPattern()")
        if self.dialect == "postgresql":
            return Typed(text.sql.op("~")(regex.sql), "Edm.Boolean")
        return Typed(text.sql.op("REGEXP")(regex.sql), "Edm.Boolean")

    def _date_part(self, part: str, value: ast._Node) -> Typed:
        operand = self.typed(value)
        if operand.type not in TEMPORAL:
            raise _fail(f"{part}() needs a date or date-time; {_describe(operand)} is neither.")
        if part in ("hour", "minute", "second") and operand.type == "Edm.Date":
            raise _fail(f"{part}() needs a date-time; {_describe(operand)} is a date.")
        return Typed(sa.cast(sa.extract(part, operand.sql), sa.Integer), "Edm.Int32")

    def func_year(self, value: ast._Node) -> Typed:
        return self._date_part("year", value)

    def func_month(self, value: ast._Node) -> Typed:
        return self._date_part("month", value)

    def func_day(self, value: ast._Node) -> Typed:
        return self._date_part("day", value)

    def func_hour(self, value: ast._Node) -> Typed:
        return self._date_part("hour", value)

    def func_minute(self, value: ast._Node) -> Typed:
        return self._date_part("minute", value)

    def func_second(self, value: ast._Node) -> Typed:
        return self._date_part("second", value)

    def func_date(self, value: ast._Node) -> Typed:
        operand = self.typed(value)
        if operand.type not in TEMPORAL:
            raise _fail(f"date() needs a date-time; {_describe(operand)} is not one.")
        if self.dialect == "sqlite":
            return Typed(sa.func.date(operand.sql, type_=sa.Date), "Edm.Date")
        return Typed(sa.cast(operand.sql, sa.Date), "Edm.Date")

    def func_now(self) -> Typed:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return Typed(sa.bindparam(None, now, type_=sa.DateTime()), "Edm.DateTimeOffset")

    def _rounding(self, name: str, value: ast._Node) -> Typed:
        operand = self.typed(value, default="Edm.Decimal")
        if operand.type not in NUMERIC:
            raise _fail(f"{name}() needs a number; {_describe(operand)} is not a number.")
        sql_name = {"ceiling": "ceil"}.get(name, name) if self.dialect == "sqlite" else name
        return Typed(getattr(sa.func, sql_name)(operand.sql), operand.type)

    def func_round(self, value: ast._Node) -> Typed:
        return self._rounding("round", value)

    def func_floor(self, value: ast._Node) -> Typed:
        return self._rounding("floor", value)

    def func_ceiling(self, value: ast._Node) -> Typed:
        return self._rounding("ceiling", value)

    # --- lambdas ----------------------------------------------------------------------------------------------

    def visit_CollectionLambda(self, node: ast.CollectionLambda) -> Typed:
        path = _path(node.owner)
        outer = self.resolver
        for variable, resolver in reversed(self._scopes):
            if path[0] == variable:
                outer, path = resolver, path[1:]
                break
        if len(path) != 1:
            raise NotSupportedError("Lambda operators over multi-step paths are not supported.", target="$filter")
        collection = outer.collection(path[0])
        subquery = sa.select(sa.literal(1)).select_from(collection.source).where(collection.condition)
        if node.lambda_ is None:
            if isinstance(node.operator, ast.All):
                raise _fail("all() needs a lambda expression, e.g. Lines/all(l: l/Qty gt 0).")
            return Typed(sa.exists(subquery), "Edm.Boolean")
        self._scopes.append((node.lambda_.identifier.name, collection.resolver))
        try:
            predicate = self.condition(node.lambda_.expression)
        finally:
            self._scopes.pop()
        if isinstance(node.operator, ast.Any):
            return Typed(sa.exists(subquery.where(predicate)), "Edm.Boolean")
        return Typed(sa.not_(sa.exists(subquery.where(sa.not_(sa.func.coalesce(predicate, sa.false()))))), "Edm.Boolean")


# --- literals ---------------------------------------------------------------------------------------------------


def natural_type(node: ast._Node) -> str:
    return {
        ast.String: "Edm.String",
        ast.Integer: "Edm.Int64",
        ast.Float: "Edm.Decimal",
        ast.Boolean: "Edm.Boolean",
        ast.Date: "Edm.Date",
        ast.DateTime: "Edm.DateTimeOffset",
        ast.GUID: "Edm.Guid",
    }.get(type(node), "Edm.String")


def coerce_literal(node: ast._Node, kind: str | None, field: FieldRef | None) -> Any:
    """Turn a literal into the Python value stored for a property of EDM type ``kind``."""
    if isinstance(node, ast.Null):
        return None
    label = f"{field.name} ({kind})" if field else (kind or "the value")
    enum = field.enum if field else None
    value: Any
    if enum is not None:
        if isinstance(node, ast.String):
            if node.val not in enum.names:
                raise _fail(f"{node.val!r} is not a value of {enum.name}; use one of {', '.join(enum.names)}.")
            value = node.val
        elif isinstance(node, ast.Integer):
            by_value = {v: n for n, v in enum.members}
            if int(node.val) not in by_value:
                raise _fail(f"{node.val} is not a value of {enum.name}.")
            value = by_value[int(node.val)]
        elif isinstance(node, ast.Boolean) and set(enum.names) == {"No", "Yes"}:
            value = "Yes" if node.py_val else "No"
        else:
            raise _fail(f"Cannot compare {label} with {_show(node)}; use one of {', '.join(enum.names)}.")
    elif kind == "Edm.String":
        if not isinstance(node, ast.String):
            raise _fail(f"Cannot compare {label} with {_show(node)}; put text in single quotes.")
        value = node.val
    elif kind in NUMERIC:
        if not isinstance(node, (ast.Integer, ast.Float)):
            raise _fail(f"Cannot compare {label} with {_show(node)}; it needs a number.")
        integral = kind in ("Edm.Int32", "Edm.Int64", "Edm.Int16", "Edm.Byte") and isinstance(node, ast.Integer)
        try:
            value = int(node.val) if integral else Decimal(node.val)
        except InvalidOperation as exc:
            raise _fail(f"{node.val!r} is not a number.") from exc
    elif kind == "Edm.Boolean":
        if not isinstance(node, ast.Boolean):
            raise _fail(f"Cannot compare {label} with {_show(node)}; use true or false.")
        value = node.py_val
    elif kind == "Edm.Date":
        if isinstance(node, ast.Date):
            value = node.py_val
        elif isinstance(node, ast.DateTime):
            value = _aware(node.py_val).astimezone(dt.UTC).date()
        else:
            raise _fail(f"Cannot compare {label} with {_show(node)}; use a date such as 2024-01-31.")
    elif kind == "Edm.DateTimeOffset":
        if isinstance(node, ast.DateTime):
            value = _aware(node.py_val).astimezone(dt.UTC)
        elif isinstance(node, ast.Date):
            d = node.py_val
            value = dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
        else:
            raise _fail(f"Cannot compare {label} with {_show(node)}; use a date-time such as 2024-01-31T00:00:00Z.")
    elif kind == "Edm.Guid":
        if not isinstance(node, (ast.GUID, ast.String)):
            raise _fail(f"Cannot compare {label} with {_show(node)}; it needs a GUID.")
        try:
            value = str(uuid.UUID(node.val))
        except ValueError as exc:
            raise _fail(f"{node.val!r} is not a GUID.") from exc
    else:
        value = getattr(node, "py_val", None)
    if field is not None and field.to_storage is not None:
        value = field.to_storage(value)
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _check_comparable(left: Typed, right: Typed, op: str) -> None:
    a, b = left.type, right.type
    if a == b or a is None or b is None:
        return
    if a in NUMERIC and b in NUMERIC:
        return
    if a in TEMPORAL and b in TEMPORAL:
        return
    raise _fail(f"Cannot compare {_describe(left)} with {_describe(right)} using {op}: their types differ.")


def _path(node: ast._Node) -> tuple[str, ...]:
    if isinstance(node, ast.Identifier):
        return (node.name,)
    if isinstance(node, ast.Attribute):
        return (*_path(node.owner), node.attr)
    raise _fail(f"{_show(node)} is not a property path.")


def _describe(expr: Typed) -> str:
    if expr.field is not None:
        return f"{expr.field.name} ({expr.field.type})"
    return f"an expression of type {expr.type or 'unknown'}"


def _show(node: ast._Node) -> str:
    if isinstance(node, ast.String):
        return f"the text '{node.val}'"
    if isinstance(node, (ast.Integer, ast.Float)):
        return f"the number {node.val}"
    if isinstance(node, ast.Boolean):
        return node.val
    if isinstance(node, (ast.Date, ast.DateTime)):
        return f"the date {node.val}"
    if isinstance(node, ast.GUID):
        return f"the GUID {node.val}"
    if isinstance(node, ast.List):
        return "a list"
    return type(node).__name__


def _like_escape(text: str, *, wildcard: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace(wildcard, "%") if wildcard else escaped
