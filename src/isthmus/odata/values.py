"""Values crossing the JSON boundary: a request body's JSON value → the Python value of an EDM type (with a 400 that
names the property when it does not fit), and Python values → JSON bytes (``dumps``)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from isthmus.errors import ValidationError
from isthmus.odata.edm import EnumType

INTEGER_RANGES = {"Edm.Int32": (-(2**31), 2**31 - 1), "Edm.Int64": (-(2**63), 2**63 - 1)}


def from_json(value: Any, type_: str, *, name: str, enum: EnumType | None = None, max_length: int | None = None) -> Any:
    """Convert one JSON property value to the Python value of ``type_``; ``None`` passes through."""
    if value is None:
        return None
    if enum is not None:
        if isinstance(value, str) and value in enum.names:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            for member, number in enum.members:
                if number == value:
                    return member
        if isinstance(value, bool) and set(enum.names) == {"No", "Yes"}:
            return "Yes" if value else "No"
        raise ValidationError(
            f"Property {name} must be one of {', '.join(enum.names)}; got {value!r}.", target=name
        )
    if type_ == "Edm.String":
        if not isinstance(value, str):
            raise ValidationError(f"Property {name} must be text; got {_kind(value)}.", target=name)
        if max_length is not None and len(value) > max_length:
            raise ValidationError(
                f"Property {name} is {len(value)} characters long; at most {max_length} are allowed.", target=name
            )
        return value
    if type_ in ("Edm.Decimal", "Edm.Double"):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValidationError(f"Property {name} must be a number; got {_kind(value)}.", target=name)
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValidationError(f"Property {name} must be a number; got {value!r}.", target=name) from exc
        if not number.is_finite():
            raise ValidationError(f"Property {name} must be a finite number.", target=name)
        return number
    if type_ in INTEGER_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"Property {name} must be a whole number; got {_kind(value)}.", target=name)
        low, high = INTEGER_RANGES[type_]
        if not low <= value <= high:
            raise ValidationError(f"Property {name} is out of range for {type_}.", target=name)
        return value
    if type_ == "Edm.Boolean":
        if not isinstance(value, bool):
            raise ValidationError(f"Property {name} must be true or false; got {_kind(value)}.", target=name)
        return value
    if type_ == "Edm.Date":
        if not isinstance(value, str):
            raise ValidationError(f"Property {name} must be a date such as 2024-01-31; got {_kind(value)}.", target=name)
        try:
            if len(value) > 10:
                return _parse_datetime(value).astimezone(dt.UTC).date()
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(f"Property {name} must be a date such as 2024-01-31; got {value!r}.", target=name) from exc
    if type_ == "Edm.DateTimeOffset":
        if not isinstance(value, str):
            raise ValidationError(f"Property {name} must be a date-time; got {_kind(value)}.", target=name)
        try:
            return _parse_datetime(value)
        except ValueError as exc:
            raise ValidationError(
                f"Property {name} must be a date-time such as 2024-01-31T09:00:00Z; got {value!r}.", target=name
            ) from exc
    if type_ == "Edm.Guid":
        try:
            return str(uuid.UUID(str(value)))
        except ValueError as exc:
            raise ValidationError(f"Property {name} must be a GUID; got {value!r}.", target=name) from exc
    return value


def _parse_datetime(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def dumps(payload: Any) -> bytes:
    return orjson.dumps(payload, default=_default, option=_OPTIONS)


def loads(body: bytes) -> Any:
    return orjson.loads(body)
