"""SQL expression builders shared by the bulk loaders: a deterministic hash of a row number, number-sequence
formatting, money conversion and the system columns.

Every expression here is plain SQL that SQLite and PostgreSQL evaluate identically: 64-bit integer arithmetic
(``*``, ``%`` and integer ``/`` on non-negative operands), ``CAST(... AS TEXT)``, ``substr(text, start)``,
``||`` and ``CASE``. Nothing ever overflows 63 bits, so SQLite never falls back to floating point and
PostgreSQL never raises ``bigint out of range``. Integer constants are rendered into the SQL text (they come
from the plan, never from input); strings are bound parameters or quoted with :func:`quote`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import TextClause, bindparam, text

from isthmus.storage.types import UtcDateTime

_PRIME_A = 2147483647  # 2**31 - 1
_PRIME_B = 2147483629  # the largest prime below it
_MULTIPLIER = 1103515245
_RUN = re.compile(r"#+")


@dataclass(frozen=True)
class Hasher:
    """Pseudo-random integers in [0, 2**31) as SQL expressions of a row number, one independent stream per
    (seed, company, field). ``h(x, "city") % 30`` picks one of 30 cities for row ``x``.

    The mix is an affine step followed by a square modulo a prime: cheap, nonlinear enough that neighbouring
    row numbers look unrelated, and identical on both databases. Products stay below 2**62."""

    seed: int
    company: int = 0

    def salt(self, field: str) -> int:
        return (self.seed * 7919 + self.company * 1299709 + zlib.crc32(field.encode()) * 104729) % _PRIME_A

    def h(self, x: str, field: str) -> str:
        salt = self.salt(field)
        t = f"((CAST({x} AS BIGINT) * {_MULTIPLIER} + {salt}) % {_PRIME_A})"
        return f"(({t} * {t} + {salt % 65521}) % {_PRIME_B})"

    def pick(self, x: str, field: str, n: int) -> str:
        """An integer in [0, n)."""
        return f"({self.h(x, field)} % {int(n)})"

    def percent(self, x: str, field: str) -> str:
        return self.pick(x, field, 100)


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def padded(value: str, width: int) -> str:
    """``value`` (a non-negative integer expression) zero-padded to ``width`` digits; longer values keep all
    their digits."""
    limit = 10 ** int(width)
    return (
        f"(CASE WHEN ({value}) < {limit} THEN substr(CAST(({value}) + {limit} AS TEXT), 2) "
        f"ELSE CAST(({value}) AS TEXT) END)"
    )


def formatted(fmt: str, value: str) -> str:
    """The SQL twin of ``numbering.format_number(fmt, value)``."""
    match = _RUN.search(fmt)
    if match is None:
        return f"({quote(fmt)} || CAST(({value}) AS TEXT))"
    prefix, suffix = fmt[: match.start()], fmt[match.end() :]
    return f"({quote(prefix)} || {padded(value, match.end() - match.start())} || {quote(suffix)})"


def money(cents: str) -> str:
    """An amount in currency units from an integer number of cents: exact NUMERIC on PostgreSQL, the nearest
    double (what the ``Money`` type stores) on SQLite."""
    return f"(({cents}) / 100.0)"


def clamp_max(value: str, maximum: str) -> str:
    """``min(value, maximum)``: SQLite spells it ``min``, PostgreSQL ``LEAST``; CASE is both."""
    return f"(CASE WHEN ({value}) > ({maximum}) THEN ({maximum}) ELSE ({value}) END)"


SYSTEM_COLUMNS = "recversion, createddatetime, createdby, modifieddatetime, modifiedby"
SYSTEM_VALUES = "1, :now, 'seed', :now, 'seed'"
"""Bulk rows are stamped like ``UnitOfWork.insert`` stamps them, with the seed as the author; ``:now`` is
bound as a ``UtcDateTime``.
"""


def statement(sql: str) -> TextClause:
    """``text(sql)`` with ``:now`` typed as ``UtcDateTime``, so the stamp is stored in the same form as the
    ones ``UnitOfWork`` writes through the typed columns, on either database."""
    clause = text(sql)
    if ":now" in sql:
        clause = clause.bindparams(bindparam("now", type_=UtcDateTime()))
    return clause


def select_list(values: Mapping[str, str]) -> str:
    """``expression AS name, …`` for a derived table."""
    return ", ".join(f"{expression} AS {name}" for name, expression in values.items())


def insert_select(table: str, values: Mapping[str, str], source: str, *, audited: bool = True) -> TextClause:
    """``INSERT INTO table (columns) SELECT expressions source``, written column by column. ``audited``
    adds the system columns with the seed as author."""
    columns, expressions = ", ".join(values), ", ".join(values.values())
    if audited:
        columns, expressions = f"{SYSTEM_COLUMNS}, {columns}", f"{SYSTEM_VALUES}, {expressions}"
    return statement(f"INSERT INTO {table} ({columns}) SELECT {expressions} {source}")
