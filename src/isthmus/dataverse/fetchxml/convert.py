"""Condition values: FetchXML text → the Python value of the column's type, and the time windows of the relative date
operators (``today``, ``last-x-days``, ``this-month``...), computed in UTC from one ``now``."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from isthmus.dataverse.metadata.model import Column
from isthmus.errors import QueryOptionError

_TYPE_NAMES = {
    "String": "text", "Memo": "text", "Integer": "a whole number", "BigInt": "a whole number",
    "Picklist": "a choice value (a whole number)", "State": "a choice value (a whole number)",
    "Status": "a choice value (a whole number)", "Decimal": "a decimal number", "Money": "a decimal number",
    "Double": "a number", "Boolean": "a boolean (1, 0, true or false)", "DateTime": "an ISO 8601 date or date-time",
    "Uniqueidentifier": "a GUID", "Lookup": "a GUID", "Customer": "a GUID", "Owner": "a GUID",
}


def wrong_value(table: str, column: Column, text: str) -> QueryOptionError:
    expected = _TYPE_NAMES.get(column.type, column.type)
    return QueryOptionError(
        f"The value '{text}' is not valid for the attribute '{column.logical_name}' of entity '{table}': "
        f"expected {expected}.", target=column.logical_name,
    )


def typed(table: str, column: Column, text: str) -> Any:
    """The value ``text`` stands for in a condition on ``column``; a ``QueryOptionError`` when it is not one."""
    kind = column.type
    if kind in ("String", "Memo"):
        return text
    raw = text.strip()
    try:
        if kind in ("Integer", "BigInt", "Picklist", "State", "Status"):
            sign = raw[1:] if raw[:1] in "+-" else raw
            if not sign.isascii() or not sign.isdigit():
                raise ValueError(raw)
            return int(raw)
        if kind in ("Decimal", "Money"):
            number = Decimal(raw)
            if not number.is_finite():
                raise ValueError(raw)
            return number
        if kind == "Double":
            value = float(raw)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(raw)
            return value
        if kind == "Boolean":
            lowered = raw.lower()
            if lowered in ("1", "true"):
                return True
            if lowered in ("0", "false"):
                return False
            raise ValueError(raw)
        if kind == "DateTime":
            return parse_datetime(raw)
        return str(uuid.UUID(raw))  # Uniqueidentifier and lookups: GUID text as stored (lower case, no braces)
    except (ValueError, InvalidOperation, AttributeError):
        raise wrong_value(table, column, text) from None


def parse_datetime(text: str) -> dt.datetime:
    """An ISO 8601 date (midnight UTC) or date-time (UTC when it has no offset)."""
    if len(text) == 10:
        day = dt.date.fromisoformat(text)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def whole(table: str, column: Column, operator: str, text: str | None) -> int:
    """The X of ``last-x-days`` and friends: a whole number ≥ 0."""
    raw = (text or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise QueryOptionError(
            f"The operator '{operator}' on '{table}.{column.logical_name}' needs a whole number of units as its value; "
            f"got '{text}'.", target=column.logical_name,
        )
    return int(raw)


# --- time windows --------------------------------------------------------------------------------------------------


def day_start(moment: dt.datetime) -> dt.datetime:
    utc = moment.astimezone(dt.UTC)
    return dt.datetime(utc.year, utc.month, utc.day, tzinfo=dt.UTC)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    return moment.replace(year=year, month=month + 1, day=1)


def month_start(moment: dt.datetime) -> dt.datetime:
    return day_start(moment).replace(day=1)


def year_start(moment: dt.datetime) -> dt.datetime:
    return day_start(moment).replace(month=1, day=1)


def week_start(moment: dt.datetime) -> dt.datetime:
    """Weeks start on Sunday (Dataverse's default for en-US)."""
    start = day_start(moment)
    return start - dt.timedelta(days=(start.weekday() + 1) % 7)


Window = tuple[dt.datetime | None, dt.datetime | None, bool]
"""``(low, high, high_inclusive)``: ``low <= value`` and ``value < high`` (``<=`` when inclusive); None = open."""


def _shift(now: dt.datetime, unit: str, amount: int) -> dt.datetime:
    if unit == "minutes":
        return now + dt.timedelta(minutes=amount)
    if unit == "hours":
        return now + dt.timedelta(hours=amount)
    if unit == "days":
        return now + dt.timedelta(days=amount)
    if unit == "weeks":
        return now + dt.timedelta(weeks=amount)
    if unit == "months":
        return add_months(now, amount).replace(day=min(now.day, _month_days(add_months(now, amount))))
    return add_months(now, 12 * amount).replace(day=min(now.day, _month_days(add_months(now, 12 * amount))))


def _month_days(first: dt.datetime) -> int:
    return (add_months(first, 1) - first).days


def window(operator: str, now: dt.datetime, amount: int | None = None, day: dt.datetime | None = None) -> Window:
    """The time window a relative date operator accepts, for ``now`` (aware, UTC)."""
    today = day_start(now)
    one_day = dt.timedelta(days=1)
    x = amount or 0
    fixed: dict[str, Window] = {
        "today": (today, today + one_day, False),
        "yesterday": (today - one_day, today, False),
        "tomorrow": (today + one_day, today + 2 * one_day, False),
        "this-week": (week_start(now), week_start(now) + 7 * one_day, False),
        "last-week": (week_start(now) - 7 * one_day, week_start(now), False),
        "next-week": (week_start(now) + 7 * one_day, week_start(now) + 14 * one_day, False),
        "this-month": (month_start(now), add_months(month_start(now), 1), False),
        "last-month": (add_months(month_start(now), -1), month_start(now), False),
        "next-month": (add_months(month_start(now), 1), add_months(month_start(now), 2), False),
        "this-year": (year_start(now), add_months(year_start(now), 12), False),
        "last-year": (add_months(year_start(now), -12), year_start(now), False),
        "next-year": (add_months(year_start(now), 12), add_months(year_start(now), 24), False),
        "last-seven-days": (today - 7 * one_day, now, True),
        "next-seven-days": (now, today + 8 * one_day, False),
    }
    if operator in fixed:
        return fixed[operator]
    if operator in ("on", "on-or-after", "on-or-before"):
        assert day is not None
        start = day_start(day)
        if operator == "on":
            return (start, start + one_day, False)
        if operator == "on-or-after":
            return (start, None, False)
        return (None, start + one_day, False)
    kind, _, unit = operator.partition("-x-")
    if kind == "last":
        if unit in ("hours", "minutes"):
            return (_shift(now, unit, -x), now, True)
        return (_shift(today, unit, -x), now, True)
    if kind == "next":
        if unit in ("hours", "minutes"):
            return (now, _shift(now, unit, x), True)
        return (now, _shift(today, unit, x) + one_day, False)
    if kind == "olderthan":
        return (None, _shift(now, unit, -x), False)
    raise AssertionError(operator)


RELATIVE_FIXED = (
    "today", "yesterday", "tomorrow", "this-week", "last-week", "next-week", "this-month", "last-month", "next-month",
    "this-year", "last-year", "next-year", "last-seven-days", "next-seven-days",
)
RELATIVE_X = tuple(
    f"{kind}-x-{unit}"
    for kind, units in (
        ("last", ("hours", "days", "weeks", "months", "years")),
        ("next", ("hours", "days", "weeks", "months", "years")),
        ("olderthan", ("minutes", "hours", "days", "weeks", "months", "years")),
    )
    for unit in units
)
ON_DAY = ("on", "on-or-after", "on-or-before")
