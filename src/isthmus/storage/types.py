"""Column types that give the same Python values on SQLite and PostgreSQL.

SQLite has no decimal and no timezone-aware timestamp; PostgreSQL has both. These decorators store money as
``NUMERIC(32, 6)`` on PostgreSQL and as ``REAL`` on SQLite (quantized back to 6 places on read, so sums of currency
amounts come back exact to the cent), and timestamps as naive UTC on both.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, Integer, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

_SIX_PLACES = Decimal("0.000001")

#: Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias, fastest) on SQLite.
RecId = BigInteger().with_variant(Integer(), "sqlite")


class Money(TypeDecorator[Decimal]):
    """A currency amount or quantity with up to six decimals (Edm.Decimal, Precision 32, Scale 6)."""

    impl = Numeric(32, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Float())
        return dialect.type_descriptor(Numeric(32, 6))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return float(value)
        return Decimal(str(value)) if isinstance(value, float) else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):
            return Decimal(repr(value)).quantize(_SIX_PLACES)
        return Decimal(value).quantize(_SIX_PLACES)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A point in time, stored as naive UTC and returned as an aware UTC datetime."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    """The current time as an aware UTC datetime, truncated to milliseconds (what the APIs print)."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)
