"""The error design (docs/design/errors.md) under test: every family has a recovery marker, an HTTP status, and a row
in the table; driver exceptions are translated at the boundary."""

from __future__ import annotations

import inspect
import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from isthmus import errors
from isthmus.api.errors import error_body, status_for, translate
from isthmus.erp.errors import CreditLimitExceededError, PeriodClosedError

DOC = Path(__file__).resolve().parents[1] / "docs" / "design" / "errors.md"
FAMILIES = [
    c for _, c in inspect.getmembers(errors, inspect.isclass)
    if issubclass(c, errors.IsthmusError) and c not in (errors.IsthmusError, errors.ClientError)
]


def _table() -> dict[str, tuple[str, int]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        match = re.match(r"\| `(\w+)`[^|]*\| (\w+) \| (\d{3})", line)
        if match:
            rows[match.group(1)] = (match.group(2), int(match.group(3)))
    return rows


@pytest.mark.parametrize("family", FAMILIES, ids=lambda c: c.__name__)
def test_every_family_is_documented_with_its_marker_and_status(family: type) -> None:
    table = _table()
    assert family.__name__ in table, f"{family.__name__} is missing from docs/design/errors.md"
    marker, status = table[family.__name__]
    assert issubclass(family, errors.RetryableError if marker == "retryable" else errors.TerminalError)
    assert status_for(family("x")) == status


def test_business_errors_are_client_errors_with_details() -> None:
    exc = CreditLimitExceededError(
        company="usmf", account="A", sales_id="S", currency="USD", balance=Decimal(1),
        open_orders=Decimal(2), order_amount=Decimal(3),
        credit_limit=Decimal(4),
    )
    assert status_for(exc) == 400 and status_for(PeriodClosedError("closed")) == 400
    body = error_body(exc)["error"]
    assert body["code"] == "CreditLimitExceeded" and body["details"][0]["Total"] == 6.0
    assert "Raise the credit limit" in body["message"]


def test_driver_errors_are_translated() -> None:
    conflict = translate(IntegrityError("INSERT …", {}, sqlite3.IntegrityError("UNIQUE constraint failed: custtable.accountnum")))
    assert isinstance(conflict, errors.ConflictError) and "UNIQUE constraint failed" in conflict.message
    busy = translate(OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")))
    assert isinstance(busy, errors.UnavailableError) and status_for(busy) == 503
    unknown = translate(RuntimeError("secret internals"))
    assert status_for(unknown) == 500 and "secret" not in unknown.message
