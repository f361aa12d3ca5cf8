"""Column values across the Web API boundary: JSON → stored value (checked against the column's type, length, range
and choices), stored value → JSON, and the formatted value (``OData.Community.Display.V1.FormattedValue``).

EDM types per attribute type: String/Memo → Edm.String; Integer/Picklist/State/Status → Edm.Int32; BigInt →
Edm.Int64; Decimal/Money → Edm.Decimal; Double → Edm.Double; Boolean → Edm.Boolean; DateTime → Edm.DateTimeOffset
(Edm.Date for DateOnly columns); Uniqueidentifier and lookups → Edm.Guid.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from isthmus.dataverse.metadata.model import Column
from isthmus.errors import ValidationError

EDM_TYPES = {
    "String": "Edm.String", "Memo": "Edm.String", "Integer": "Edm.Int32", "Picklist": "Edm.Int32",
    "State": "Edm.Int32", "Status": "Edm.Int32", "BigInt": "Edm.Int64", "Decimal": "Edm.Decimal",
    "Money": "Edm.Decimal", "Double": "Edm.Double", "Boolean": "Edm.Boolean", "DateTime": "Edm.DateTimeOffset",
    "Uniqueidentifier": "Edm.Guid", "Lookup": "Edm.Guid", "Customer": "Edm.Guid", "Owner": "Edm.Guid",
}
INT32 = (-(2**31), 2**31 - 1)


def edm_type(column: Column) -> str:
    if column.type == "DateTime" and column.format == "DateOnly":
        return "Edm.Date"
    return EDM_TYPES[column.type]


def parse_guid(value: Any, *, name: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError) as exc:
        raise ValidationError(f"{name} must be a GUID; got {value!r}.", target=name, code="0x80040203") from exc


def from_json(column: Column, value: Any) -> Any:
    """The stored value for a JSON property value of ``column``; ``None`` clears the column."""
    name = column.logical_name
    if value is None:
        return None
    kind = column.type
    if kind in ("String", "Memo"):
        if not isinstance(value, str):
            raise _wrong(name, "text", value)
        limit = column.max_length
        if limit is not None and len(value) > limit:
            raise ValidationError(
                f"A validation error occurred. The length of the '{name}' attribute exceeded the maximum allowed length "
                f"of '{limit}'.", target=name, code="0x80044331",
            )
        return value
    if kind in ("Integer", "BigInt", "Picklist", "State", "Status"):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
            else:
                raise _wrong(name, "a whole number", value)
        if kind in ("Picklist", "State", "Status"):
            assert column.option_set is not None
            if value not in column.option_set.values:
                raise ValidationError(
                    f"{value} is not a valid value for {name}; valid values are "
                    f"{', '.join(str(v) for v in column.option_set.values)}.", target=name, code="0x8004431a",
                )
        else:
            _check_range(column, value, INT32 if kind == "Integer" else (-(2**63), 2**63 - 1))
        return value
    if kind in ("Decimal", "Money", "Double"):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _wrong(name, "a number", value)
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise _wrong(name, "a number", value) from exc
        if not number.is_finite():
            raise _wrong(name, "a finite number", value)
        _check_range(column, number, None)
        return float(number) if kind == "Double" else number
    if kind == "Boolean":
        if not isinstance(value, bool):
            raise _wrong(name, "true or false", value)
        return value
    if kind == "DateTime":
        if not isinstance(value, str):
            raise _wrong(name, "a date-time", value)
        try:
            if len(value) == 10:
                day = dt.date.fromisoformat(value)
                return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise _wrong(name, "an ISO 8601 date-time", value) from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if kind == "Uniqueidentifier":
        return parse_guid(value, name=name)
    raise ValidationError(
        f"{name} is a lookup; set it with \"{name}@odata.bind\": \"/<entityset>(<id>)\".", target=name, code="0x80048d19"
    )


def to_json(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.type == "DateTime":
        if column.format == "DateOnly":
            return value.date().isoformat() if isinstance(value, dt.datetime) else str(value)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if column.type == "Double":
        return float(value)
    return value


def formatted(column: Column, value: Any, *, lookup_name: str | None = None, currency_symbol: str = "$") -> str | None:
    """The display text Dataverse returns in the FormattedValue annotation, or ``None`` when it gives none."""
    if value is None:
        return None
    kind = column.type
    if column.is_choice and column.option_set is not None:
        return column.option_set.label(value)
    if kind == "Boolean":
        return "Yes" if value else "No"
    if column.is_lookup:
        return lookup_name
    if kind == "Money":
        return f"{currency_symbol}{Decimal(value):,.2f}"
    if kind in ("Decimal", "Double"):
        return f"{Decimal(str(value)):,.{column.precision if column.precision is not None else 2}f}"
    if kind in ("Integer", "BigInt"):
        return f"{value:,}"
    if kind == "DateTime" and isinstance(value, dt.datetime):
        if column.format == "DateOnly":
            return f"{value.month}/{value.day}/{value.year}"
        local = value.astimezone(dt.UTC)
        return f"{local.month}/{local.day}/{local.year} {local.strftime('%I:%M %p').lstrip('0')}"
    return None


def _check_range(column: Column, value: Any, default: tuple[int, int] | None) -> None:
    low = column.min_value if column.min_value is not None else (default[0] if default else None)
    high = column.max_value if column.max_value is not None else (default[1] if default else None)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValidationError(
            f"A validation error occurred. The value {value} of '{column.logical_name}' is outside the valid range "
            f"({low} to {high}).", target=column.logical_name, code="0x80044330",
        )


def _wrong(name: str, expected: str, value: Any) -> ValidationError:
    return ValidationError(f"{name} must be {expected}; got {value!r}.", target=name, code="0x80040203")
