"""Dataverse query functions in ``$filter``: ``Microsoft.Dynamics.CRM.In(PropertyName='statuscode',PropertyValues=["1","2"])``
and its relatives, compiled to SQL for the shared ``FilterCompiler`` (``query_functions`` builds the ``functions=``
map it takes).

Every function takes named parameters: ``PropertyName`` (a property as ``$filter`` names it, so ``_ownerid_value``
and ``primarycontactid/fullname`` work), then ``PropertyValue`` (one value) or ``PropertyValues`` (a JSON array).
Values may be given as strings, as Dataverse's own clients send them (``["5","2000"]``), and are converted to the
property's type; a value the property cannot hold is a 400 naming the function and the parameter.

Text matches are case-insensitive, as Dataverse's are. ``Like``/``NotLike`` take SQL wildcards as given (``%`` any
run, ``_`` one character; ``[%]``, ``[_]`` and ``[[]`` match the character itself).

Dates are computed in UTC from ``now`` (the current time unless given). Each date function is a range compared as
``start <= value < end`` (``<= now`` where the range ends now), so a date-time column works without truncation;
a date-only column compares whole days:

=================================  ==========================================================================
Today / Yesterday / Tomorrow       that calendar day
Last7Days, LastXDays(X)            from midnight X days ago up to now (date-only: those days through today)
Next7Days, NextXDays(X)            from now to the end of the day X days ahead (date-only: today through it)
LastXHours(X) / NextXHours(X)      the X hours before / after now
LastXWeeks, LastXMonths, ...Years  from midnight on the same day X weeks/months/years ago up to now
NextXWeeks, NextXMonths, ...Years  from now to the end of the same day X weeks/months/years ahead
OlderThanXDays/Weeks/Months/Years  before midnight on the day X days/weeks/months/years ago
OlderThanXHours/Minutes            before now minus X hours/minutes
On / NotOn                         that day / any other day (null never matches)
OnOrAfter / OnOrBefore             from that day on / up to the end of that day
ThisWeek / LastWeek / NextWeek     weeks start on Sunday
ThisMonth / LastMonth / NextMonth  calendar months
ThisYear / LastYear / NextYear     calendar years
=================================  ==========================================================================

``EqualUserId``/``NotEqualUserId`` compare a GUID property with the calling user, ``EqualBusinessId``/
``NotEqualBusinessId`` with the caller's business unit. ``ContainValues``/``DoesNotContainValues`` apply to
multi-select choice columns, which this server has none of: they answer 501. Any other
``Microsoft.Dynamics.CRM`` function is not in the map, so the ``FilterCompiler`` answers 501 for it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from odata_query import ast

from isthmus.errors import NotSupportedError, QueryOptionError
from isthmus.odata.query.sql import NUMERIC, TEMPORAL, FieldRef, FilterCompiler, FunctionCompiler, coerce_literal

NAMESPACE = "Microsoft.Dynamics.CRM."
NAME = "PropertyName"
VALUE = "PropertyValue"
VALUES = "PropertyValues"
MAX_X = 100_000
"""Largest X a LastX/NextX/OlderThanX function accepts (keeps date arithmetic in range)."""

_INTEGER = re.compile(r"^[+-]?\d+$")
_Range = tuple[dt.datetime | None, dt.datetime | None, bool]
"""``(start, end, end_inclusive)``: ``start <= value < end`` (``<= end`` when inclusive); ``None`` is unbounded."""


def _fail(function: str, parameter: str | None, message: str) -> QueryOptionError:
    where = f"{NAMESPACE}{function}" + (f", parameter {parameter}" if parameter else "")
    return QueryOptionError(f"{where}: {message}", target="$filter")


# --- parameters ---------------------------------------------------------------------------------------------------


class _Call:
    """The named parameters of one function call, checked against what the function takes."""

    def __init__(self, compiler: FilterCompiler, node: ast.Call, function: str, takes: Sequence[str]) -> None:
        self.compiler = compiler
        self.function = function
        params: dict[str, ast._Node] = {}
        for arg in node.args:
            if not isinstance(arg, ast.NamedParam):
                raise _fail(function, None, f"takes named parameters only ({_signature(takes)}).")
            key = arg.name.name
            if key not in takes:
                raise _fail(function, key, f"is not a parameter of this function; it takes {_signature(takes)}.")
            if key in params:
                raise _fail(function, key, "is given more than once.")
            params[key] = arg.param
        for key in takes:
            if key not in params:
                raise _fail(function, key, f"is missing; this function takes {_signature(takes)}.")
        self.params = params

    def fail(self, parameter: str | None, message: str) -> QueryOptionError:
        return _fail(self.function, parameter, message)

    def property(self) -> FieldRef:
        node = self.params[NAME]
        if not isinstance(node, ast.String) or not node.val.strip():
            raise self.fail(NAME, "must name a property in single quotes, e.g. PropertyName='name'.")
        path = tuple(part.strip() for part in node.val.split("/"))
        if any(not part for part in path):
            raise self.fail(NAME, f"{node.val!r} is not a property path.")
        try:
            return self.compiler.field(path)
        except QueryOptionError as exc:
            raise QueryOptionError(
                f"{NAMESPACE}{self.function}, parameter {NAME}: {exc.message}", target="$filter", code=exc.code
            ) from exc

    def value(self, ref: FieldRef) -> Any:
        return _convert(self, VALUE, self.params[VALUE], ref)

    def values(self, ref: FieldRef, *, count: int | None = None) -> list[Any]:
        node = self.params[VALUES]
        if not isinstance(node, ast.List):
            raise self.fail(VALUES, 'must be a JSON array of values, e.g. PropertyValues=["1","2"].')
        items = list(node.val)
        if count is not None and len(items) != count:
            raise self.fail(VALUES, f"needs exactly {count} values; got {len(items)}.")
        if not items:
            raise self.fail(VALUES, "needs at least one value.")
        return [_convert(self, VALUES, item, ref) for item in items]

    def number(self) -> int:
        """The X of LastXDays and its relatives: a whole number from 0 to ``MAX_X``."""
        node = self.params[VALUE]
        text = node.val.strip() if isinstance(node, (ast.Integer, ast.String)) else None
        if text is None or not _INTEGER.match(text):
            raise self.fail(VALUE, f"must be a whole number, e.g. PropertyValue=7; got {_show(node)}.")
        number = int(text)
        if number < 0 or number > MAX_X:
            raise self.fail(VALUE, f"must be between 0 and {MAX_X}; got {number}.")
        return number

    def day(self) -> dt.date:
        """The date of On/OnOrAfter/...: a date, or a date-time taken as its UTC date."""
        node = self.params[VALUE]
        if isinstance(node, ast.Date):
            return node.py_val
        if isinstance(node, ast.DateTime):
            return _aware(node.py_val).astimezone(dt.UTC).date()
        if isinstance(node, ast.String):
            parsed = _parse_temporal(node.val)
            if parsed is not None:
                return parsed if not isinstance(parsed, dt.datetime) else parsed.astimezone(dt.UTC).date()
        raise self.fail(VALUE, f"must be a date such as '2024-01-31'; got {_show(node)}.")


def _signature(takes: Sequence[str]) -> str:
    return ", ".join(takes)


def _show(node: ast._Node) -> str:
    if isinstance(node, ast.String):
        return f"'{node.val}'"
    if isinstance(node, ast.List):
        return "a list"
    if isinstance(node, ast.Null):
        return "null"
    return str(getattr(node, "val", type(node).__name__))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _parse_temporal(text: str) -> dt.date | dt.datetime | None:
    text = text.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return _aware(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def _convert(call: _Call, parameter: str, node: ast._Node, ref: FieldRef) -> Any:
    """A parameter value as the stored value of ``ref``; strings are read as the property's type."""
    kind = ref.type
    label = f"{ref.name} ({kind})"
    if isinstance(node, ast.Null):
        raise call.fail(parameter, f"cannot be null; {label} is compared with values only.")
    if not isinstance(node, ast._Literal) or isinstance(node, ast.List):
        raise call.fail(parameter, f"must hold literal values; got {_show(node)}.")
    if kind in TEMPORAL:
        value: Any
        if isinstance(node, ast.Date):
            value = node.py_val
        elif isinstance(node, ast.DateTime):
            value = _aware(node.py_val).astimezone(dt.UTC)
        elif isinstance(node, ast.String):
            value = _parse_temporal(node.val)
        else:
            value = None
        if value is None:
            raise call.fail(parameter, f"{_show(node)} is not a date; {label} needs one such as '2024-01-31'.")
        if kind == "Edm.Date":
            return value.astimezone(dt.UTC).date() if isinstance(value, dt.datetime) else value
        return value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    literal: ast._Node = node
    if isinstance(node, ast.String):
        text = node.val.strip()
        if kind in NUMERIC:
            if _INTEGER.match(text):
                literal = ast.Integer(text)
            else:
                try:
                    number = Decimal(text)
                except InvalidOperation:
                    number = None
                if number is None or not number.is_finite():
                    raise call.fail(parameter, f"{_show(node)} is not a number; {label} needs one.")
                literal = ast.Float(text)
        elif kind == "Edm.Boolean":
            if text.lower() in ("true", "1"):
                literal = ast.Boolean("true")
            elif text.lower() in ("false", "0"):
                literal = ast.Boolean("false")
    elif kind == "Edm.String" and isinstance(node, (ast.Integer, ast.Float, ast.Boolean, ast.GUID)):
        literal = ast.String(node.val)
    try:
        return coerce_literal(literal, kind, ref)
    except QueryOptionError as exc:
        raise call.fail(parameter, exc.message) from exc


def _bind(ref: FieldRef, value: Any) -> Any:
    column_type = getattr(ref.column, "type", None)
    return sa.bindparam(None, value, type_=column_type) if column_type is not None else sa.literal(value)


def _text_pair(compiler: FilterCompiler, ref: FieldRef, values: list[Any]) -> tuple[Any, list[Any]]:
    if compiler.case_insensitive and ref.type == "Edm.String":
        return sa.func.lower(ref.column), [v.lower() for v in values]
    return ref.column, values


# --- value comparisons --------------------------------------------------------------------------------------------


def _in(negate: bool) -> FunctionCompiler:
    name = "NotIn" if negate else "In"

    def compile_in(compiler: FilterCompiler, node: ast.Call) -> Any:
        call = _Call(compiler, node, name, (NAME, VALUES))
        ref = call.property()
        column, values = _text_pair(compiler, ref, call.values(ref))
        bound = [_bind(ref, v) for v in values]
        return column.not_in(bound) if negate else column.in_(bound)

    return compile_in


def _between(negate: bool) -> FunctionCompiler:
    name = "NotBetween" if negate else "Between"

    def compile_between(compiler: FilterCompiler, node: ast.Call) -> Any:
        call = _Call(compiler, node, name, (NAME, VALUES))
        ref = call.property()
        if ref.type not in NUMERIC and ref.type not in TEMPORAL and ref.type != "Edm.String":
            raise call.fail(NAME, f"{ref.name} is {ref.type}; Between needs a number, date or text property.")
        low, high = call.values(ref, count=2)
        column, (low, high) = _text_pair(compiler, ref, [low, high])
        upper_open = False
        second = _value_nodes(call)[1]
        if ref.type == "Edm.DateTimeOffset" and _is_date_only(second):
            # A day as the upper bound includes that whole day.
            high, upper_open = high + dt.timedelta(days=1), True
        lower_ok = column >= _bind(ref, low)
        upper_ok = column < _bind(ref, high) if upper_open else column <= _bind(ref, high)
        if negate:
            return sa.or_(sa.not_(lower_ok), sa.not_(upper_ok))
        return sa.and_(lower_ok, upper_ok)

    return compile_between


def _value_nodes(call: _Call) -> list[ast._Node]:
    node = call.params[VALUES]
    return list(node.val) if isinstance(node, ast.List) else []


def _is_date_only(node: ast._Node) -> bool:
    if isinstance(node, ast.Date):
        return True
    return isinstance(node, ast.String) and isinstance(_parse_temporal(node.val), dt.date) and len(node.val.strip()) == 10


def _like(negate: bool) -> FunctionCompiler:
    name = "NotLike" if negate else "Like"

    def compile_like(compiler: FilterCompiler, node: ast.Call) -> Any:
        call = _Call(compiler, node, name, (NAME, VALUE))
        ref = call.property()
        if ref.type != "Edm.String":
            raise call.fail(NAME, f"{ref.name} is {ref.type}; {name} needs a text property.")
        pattern = call.params[VALUE]
        if not isinstance(pattern, ast.String):
            raise call.fail(VALUE, f"must be a text pattern in single quotes, e.g. '%retail%'; got {_show(pattern)}.")
        matched = sa.func.lower(ref.column).like(_like_pattern(call, pattern.val).lower(), escape="\\")
        return sa.not_(matched) if negate else matched

    return compile_like


def _like_pattern(call: _Call, text: str) -> str:
    """A Dataverse (SQL Server) LIKE pattern as a portable one escaped with backslash."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            out.append("\\\\")
        elif ch == "[":
            if text[i : i + 3] in ("[%]", "[_]", "[[]"):
                out.append("\\" + text[i + 1])
                i += 3
                continue
            close = text.find("]", i + 1)
            if close != -1:
                raise NotSupportedError(
                    f"{NAMESPACE}{call.function}: character classes such as {text[i : close + 1]!r} are not supported "
                    "in patterns; use % and _.",
                    target="$filter",
                )
            out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


# --- dates --------------------------------------------------------------------------------------------------------


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _add_years(day: dt.date, years: int) -> dt.date:
    return _add_months(day, 12 * years)


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)  # Sunday


def _day_range(day: dt.date, days: int = 1) -> _Range:
    return _midnight(day), _midnight(day + dt.timedelta(days=days)), False


def _month_range(first: dt.date) -> _Range:
    return _midnight(first), _midnight(_add_months(first, 1)), False


def _year_range(year: int) -> _Range:
    return _midnight(dt.date(year, 1, 1)), _midnight(dt.date(year + 1, 1, 1)), False


def _within(call: _Call, ref: FieldRef, span: _Range, *, negate: bool = False) -> Any:
    if ref.type not in TEMPORAL:
        raise call.fail(NAME, f"{ref.name} is {ref.type}; {call.function} needs a date or date-time property.")
    start, end, inclusive = span
    if ref.type == "Edm.Date":
        # Whole days: the day a bound falls on is in the range, the day after an exclusive midnight end is not.
        start = _midnight(start.date()) if start is not None else None
        if end is not None and (inclusive or end != _midnight(end.date())):
            end = _midnight(end.date() + dt.timedelta(days=1))
        inclusive = False
    lower = ref.column >= _bind(ref, _stored(ref, start)) if start is not None else None
    upper = None
    if end is not None:
        upper = ref.column <= _bind(ref, _stored(ref, end)) if inclusive else ref.column < _bind(ref, _stored(ref, end))
    parts = [p for p in (lower, upper) if p is not None]
    if negate:
        return sa.or_(*[sa.not_(p) for p in parts])
    return sa.and_(*parts)


def _stored(ref: FieldRef, moment: dt.datetime) -> Any:
    return moment.date() if ref.type == "Edm.Date" else moment


DateRange = Callable[[dt.datetime, int], _Range]


def _relative(name: str, make: DateRange, clock: Callable[[], dt.datetime]) -> FunctionCompiler:
    """A function of one property and a number X: LastXDays, NextXHours, OlderThanXMonths..."""

    def compile_relative(compiler: FilterCompiler, node: ast.Call) -> Any:
        call = _Call(compiler, node, name, (NAME, VALUE))
        ref = call.property()
        x = call.number()
        try:
            span = make(clock(), x)
        except (OverflowError, ValueError) as exc:
            raise call.fail(VALUE, f"{x} reaches outside the range of dates.") from exc
        return _within(call, ref, span)

    return compile_relative


def _fixed(name: str, make: Callable[[dt.datetime], _Range], clock: Callable[[], dt.datetime]) -> FunctionCompiler:
    """A function of one property only: Today, ThisMonth, Last7Days..."""

    def compile_fixed(compiler: FilterCompiler, node: ast.Call) -> Any:
        call = _Call(compiler, node, name, (NAME,))
        ref = call.property()
        return _within(call, ref, make(clock()))

    return compile_fixed


def _on(name: str, make: Callable[[dt.date], _Range], *, negate: bool = False) -> FunctionCompiler:
    """A function of one property and a date: On, NotOn, OnOrAfter, OnOrBefore."""

    def compile_on(compiler: FilterCompiler, node: ast.Call) -> Any:
        call = _Call(compiler, node, name, (NAME, VALUE))
        ref = call.property()
        if ref.type not in TEMPORAL:
            raise call.fail(NAME, f"{ref.name} is {ref.type}; {name} needs a date or date-time property.")
        return _within(call, ref, make(call.day()), negate=negate)

    return compile_on


def _last_x_days(now: dt.datetime, x: int) -> _Range:
    return _midnight(now.date() - dt.timedelta(days=x)), now, True


def _next_x_days(now: dt.datetime, x: int) -> _Range:
    return now, _midnight(now.date() + dt.timedelta(days=x + 1)), False


def _last_x(shift: Callable[[dt.date, int], dt.date]) -> DateRange:
    return lambda now, x: (_midnight(shift(now.date(), -x)), now, True)


def _next_x(shift: Callable[[dt.date, int], dt.date]) -> DateRange:
    return lambda now, x: (now, _midnight(shift(now.date(), x) + dt.timedelta(days=1)), False)


def _older_than(shift: Callable[[dt.date, int], dt.date]) -> DateRange:
    return lambda now, x: (None, _midnight(shift(now.date(), -x)), False)


def _weeks(day: dt.date, n: int) -> dt.date:
    return day + dt.timedelta(weeks=n)


def _days(day: dt.date, n: int) -> dt.date:
    return day + dt.timedelta(days=n)


# --- the caller -------------------------------------------------------------------------------------------------


def _identity(name: str, value: str | None, what: str, *, negate: bool) -> FunctionCompiler:
    def compile_identity(compiler: FilterCompiler, node: ast.Call) -> Any:
        call = _Call(compiler, node, name, (NAME,))
        ref = call.property()
        if ref.type != "Edm.Guid":
            raise call.fail(NAME, f"{ref.name} is {ref.type}; {name} needs a GUID or lookup property such as _ownerid_value.")
        if value is None:
            raise call.fail(None, f"needs the caller's {what}, and this request has none.")
        bound = _bind(ref, value)
        return ref.column != bound if negate else ref.column == bound

    return compile_identity


def _multi_select(name: str) -> FunctionCompiler:
    def compile_multi_select(compiler: FilterCompiler, node: ast.Call) -> Any:
        raise NotSupportedError(
            f"{NAMESPACE}{name} applies to multi-select choice columns, which this server does not support; "
            "use Microsoft.Dynamics.CRM.In or NotIn on a choice column.",
            target="$filter",
        )

    return compile_multi_select


def _normalize_guid(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def query_functions(
    *, user_id: str | None, business_unit_id: str | None, now: dt.datetime | None = None
) -> dict[str, FunctionCompiler]:
    """The ``functions=`` map for ``FilterCompiler``: every Dataverse query function this server evaluates, keyed by
    its qualified name. ``now`` fixes the clock (tests); without it each compilation reads the current time."""

    def clock() -> dt.datetime:
        current = now if now is not None else dt.datetime.now(dt.UTC)
        return _aware(current).astimezone(dt.UTC)

    hours: Callable[[int], dt.timedelta] = lambda x: dt.timedelta(hours=x)  # noqa: E731
    table: dict[str, FunctionCompiler] = {
        "In": _in(False),
        "NotIn": _in(True),
        "Between": _between(False),
        "NotBetween": _between(True),
        "Like": _like(False),
        "NotLike": _like(True),
        # relative to now, with a number X
        "LastXHours": _relative("LastXHours", lambda n, x: (n - hours(x), n, True), clock),
        "NextXHours": _relative("NextXHours", lambda n, x: (n, n + hours(x), True), clock),
        "LastXDays": _relative("LastXDays", _last_x_days, clock),
        "NextXDays": _relative("NextXDays", _next_x_days, clock),
        "LastXWeeks": _relative("LastXWeeks", _last_x(_weeks), clock),
        "NextXWeeks": _relative("NextXWeeks", _next_x(_weeks), clock),
        "LastXMonths": _relative("LastXMonths", _last_x(_add_months), clock),
        "NextXMonths": _relative("NextXMonths", _next_x(_add_months), clock),
        "LastXYears": _relative("LastXYears", _last_x(_add_years), clock),
        "NextXYears": _relative("NextXYears", _next_x(_add_years), clock),
        "OlderThanXMinutes": _relative(
            "OlderThanXMinutes", lambda n, x: (None, n - dt.timedelta(minutes=x), False), clock
        ),
        "OlderThanXHours": _relative("OlderThanXHours", lambda n, x: (None, n - hours(x), False), clock),
        "OlderThanXDays": _relative("OlderThanXDays", _older_than(_days), clock),
        "OlderThanXWeeks": _relative("OlderThanXWeeks", _older_than(_weeks), clock),
        "OlderThanXMonths": _relative("OlderThanXMonths", _older_than(_add_months), clock),
        "OlderThanXYears": _relative("OlderThanXYears", _older_than(_add_years), clock),
        # relative to today, no value
        "Today": _fixed("Today", lambda n: _day_range(n.date()), clock),
        "Yesterday": _fixed("Yesterday", lambda n: _day_range(n.date() - dt.timedelta(days=1)), clock),
        "Tomorrow": _fixed("Tomorrow", lambda n: _day_range(n.date() + dt.timedelta(days=1)), clock),
        "Last7Days": _fixed("Last7Days", lambda n: _last_x_days(n, 7), clock),
        "Next7Days": _fixed("Next7Days", lambda n: _next_x_days(n, 7), clock),
        "ThisWeek": _fixed("ThisWeek", lambda n: _day_range(_week_start(n.date()), 7), clock),
        "LastWeek": _fixed("LastWeek", lambda n: _day_range(_week_start(n.date()) - dt.timedelta(days=7), 7), clock),
        "NextWeek": _fixed("NextWeek", lambda n: _day_range(_week_start(n.date()) + dt.timedelta(days=7), 7), clock),
        "ThisMonth": _fixed("ThisMonth", lambda n: _month_range(n.date().replace(day=1)), clock),
        "LastMonth": _fixed("LastMonth", lambda n: _month_range(_add_months(n.date().replace(day=1), -1)), clock),
        "NextMonth": _fixed("NextMonth", lambda n: _month_range(_add_months(n.date().replace(day=1), 1)), clock),
        "ThisYear": _fixed("ThisYear", lambda n: _year_range(n.year), clock),
        "LastYear": _fixed("LastYear", lambda n: _year_range(n.year - 1), clock),
        "NextYear": _fixed("NextYear", lambda n: _year_range(n.year + 1), clock),
        # a given day
        "On": _on("On", lambda d: _day_range(d)),
        "NotOn": _on("NotOn", lambda d: _day_range(d), negate=True),
        "OnOrAfter": _on("OnOrAfter", lambda d: (_midnight(d), None, False)),
        "OnOrBefore": _on("OnOrBefore", lambda d: (None, _midnight(d + dt.timedelta(days=1)), False)),
        # the caller
        "EqualUserId": _identity("EqualUserId", _normalize_guid(user_id), "user id", negate=False),
        "NotEqualUserId": _identity("NotEqualUserId", _normalize_guid(user_id), "user id", negate=True),
        "EqualBusinessId": _identity("EqualBusinessId", _normalize_guid(business_unit_id), "business unit id", negate=False),
        "NotEqualBusinessId": _identity(
            "NotEqualBusinessId", _normalize_guid(business_unit_id), "business unit id", negate=True
        ),
        # multi-select choices
        "ContainValues": _multi_select("ContainValues"),
        "DoesNotContainValues": _multi_select("DoesNotContainValues"),
    }
    return {NAMESPACE + name: compile_fn for name, compile_fn in table.items()}
