"""Small checks shared by the ERP's business modules: existence of referenced records, codes, amounts."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, Table, select

from isthmus.errors import ValidationError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY = re.compile(r"^[A-Z]{2,3}$")


def require_text(values: dict[str, Any], column: str, what: str, *, target: str | None = None) -> str:
    value = values.get(column)
    if value is None or not str(value).strip():
        raise ValidationError(f"{what} is mandatory.", target=target or column)
    return str(value).strip()


def require_reference(
    conn: Connection,
    table: Table,
    key_column: str,
    value: str,
    what: str,
    *,
    company: str | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """The row of ``table`` whose ``key_column`` is ``value`` (in ``company`` when the table is per company)."""
    stmt = select(table).where(table.c[key_column] == value)
    if company is not None:
        stmt = stmt.where(table.c.dataareaid == company)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        where = f" in company {company}" if company else ""
        raise ValidationError(f"{what} {value!r} does not exist{where}.", target=target or key_column)
    return dict(row)


def require_choice(value: Any, choices: tuple[str, ...], what: str, *, target: str) -> str:
    if value not in choices:
        raise ValidationError(f"{what} {value!r} is not one of {', '.join(choices)}.", target=target)
    return value


def amount(value: Any, what: str, *, target: str, minimum: Decimal | None = None, positive: bool = False) -> Decimal:
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(f"{what} {value!r} is not a number.", target=target) from exc
    if not result.is_finite():
        raise ValidationError(f"{what} must be a finite number.", target=target)
    if positive and result <= 0:
        raise ValidationError(f"{what} must be greater than zero; got {result}.", target=target)
    if minimum is not None and result < minimum:
        raise ValidationError(f"{what} must be at least {minimum}; got {result}.", target=target)
    return result


def email(value: str | None, *, target: str) -> str | None:
    if value in (None, ""):
        return value
    if not _EMAIL.match(value):
        raise ValidationError(f"{value!r} is not a valid e-mail address.", target=target)
    return value


def country(value: str | None, *, target: str) -> str | None:
    if value in (None, ""):
        return value
    if not _COUNTRY.match(value):
        raise ValidationError(
            f"Country/region {value!r} must be an ISO code of 2 or 3 upper-case letters (e.g. USA, DE).", target=target
        )
    return value
