"""Organisation set-up: legal entities (companies), currencies, units, terms of payment, customer groups, the chart
of main accounts, number sequences, and fiscal calendars with their years, periods and per-company period status.

These are the records every other module assumes exist. ``create_company`` sets up everything a new company needs
in one call, so a company is either fully usable or not there at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, select

from isthmus.errors import ConflictError, NotFoundError, ValidationError
from isthmus.erp import numbering
from isthmus.erp.schema import (
    currency,
    custgroup,
    dataarea,
    fiscalcalendar,
    fiscalcalendarperiod,
    fiscalcalendaryear,
    ledgerperiodstatus,
    ledgeryearclose,
    mainaccount,
    numbersequence,
    paymterm,
    unitofmeasure,
)
from isthmus.storage import UnitOfWork

DEFAULT_CALENDAR = "Fiscal"


@dataclass(frozen=True)
class MainAccounts:
    """The posting profile: which main account each kind of posting hits. One chart serves every company."""

    bank: str = "110110"
    receivables: str = "130100"
    inventory: str = "140200"
    receipt_offset: str = "211100"
    retained_earnings: str = "300200"
    revenue: str = "401100"
    cogs: str = "500100"


ACCOUNTS = MainAccounts()

CHART: tuple[tuple[str, str, str], ...] = (
    (ACCOUNTS.bank, "Bank account", "Asset"),
    (ACCOUNTS.receivables, "Accounts receivable - domestic", "Asset"),
    (ACCOUNTS.inventory, "Inventory - finished goods", "Asset"),
    (ACCOUNTS.receipt_offset, "Goods received, not invoiced", "Liability"),
    (ACCOUNTS.retained_earnings, "Retained earnings", "Equity"),
    (ACCOUNTS.revenue, "Sales revenue", "Revenue"),
    (ACCOUNTS.cogs, "Cost of goods sold", "Expense"),
)

PROFIT_AND_LOSS_TYPES = ("Revenue", "Expense")

CURRENCIES: tuple[tuple[str, str, str], ...] = (
    ("USD", "US Dollar", "$"),
    ("EUR", "Euro", "€"),
    ("GBP", "Pound sterling", "£"),
    ("CAD", "Canadian dollar", "$"),
    ("JPY", "Yen", "¥"),
)

UNITS: tuple[tuple[str, str, int], ...] = (
    ("ea", "Each", 0),
    ("pcs", "Pieces", 0),
    ("box", "Box", 0),
    ("kg", "Kilogram", 3),
    ("h", "Hour", 2),
)


def ensure_currencies(uow: UnitOfWork, rows: Iterable[tuple[str, str, str]] = CURRENCIES) -> None:
    existing = set(uow.connection.execute(select(currency.c.currencycode)).scalars())
    for code, name, symbol in rows:
        if code not in existing:
            uow.insert(
                currency,
                {"currencycode": code, "name": name, "symbol": symbol, "roundingprecision": Decimal("0.01")},
            )


def ensure_units(uow: UnitOfWork, rows: Iterable[tuple[str, str, int]] = UNITS) -> None:
    existing = set(uow.connection.execute(select(unitofmeasure.c.symbol)).scalars())
    for symbol, description, precision in rows:
        if symbol not in existing:
            uow.insert(unitofmeasure, {"symbol": symbol, "description": description, "decimalprecision": precision})


def ensure_fiscal_year(uow: UnitOfWork, year: int, calendar: str = DEFAULT_CALENDAR) -> None:
    """Create calendar year ``year`` (January–December) with an opening period, twelve operating periods and a
    closing period, and an Open status row for it in every company that uses the calendar. Idempotent."""
    conn = uow.connection
    if conn.execute(select(fiscalcalendar.c.recid).where(fiscalcalendar.c.calendarid == calendar)).first() is None:
        uow.insert(fiscalcalendar, {"calendarid": calendar, "description": "Calendar-year fiscal calendar"})
    name = str(year)
    exists = conn.execute(
        select(fiscalcalendaryear.c.recid).where(
            fiscalcalendaryear.c.calendarid == calendar, fiscalcalendaryear.c.name == name
        )
    ).first()
    if exists is None:
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        uow.insert(fiscalcalendaryear, {"calendarid": calendar, "name": name, "startdate": start, "enddate": end})
        periods = [("Opening", "Opening", start, start)]
        for month in range(1, 13):
            first = dt.date(year, month, 1)
            last = (dt.date(year + (month == 12), month % 12 + 1, 1)) - dt.timedelta(days=1)
            periods.append((f"Period {month}", "Operating", first, last))
        periods.append(("Closing", "Closing", end, end))
        uow.insert_many(
            fiscalcalendarperiod,
            [
                {"calendarid": calendar, "fiscalyear": name, "name": p, "type": t, "startdate": s, "enddate": e}
                for p, t, s, e in periods
            ],
            track=False,
        )
    companies = conn.execute(select(dataarea.c.id).where(dataarea.c.fiscalcalendar == calendar)).scalars().all()
    for company in companies:
        _ensure_period_status(uow, company, calendar, name)


def _ensure_period_status(uow: UnitOfWork, company: str, calendar: str, fiscal_year: str) -> None:
    conn = uow.connection
    have = set(
        conn.execute(
            select(ledgerperiodstatus.c.periodname).where(
                ledgerperiodstatus.c.dataareaid == company, ledgerperiodstatus.c.fiscalyear == fiscal_year
            )
        ).scalars()
    )
    periods = conn.execute(
        select(fiscalcalendarperiod.c.name).where(
            fiscalcalendarperiod.c.calendarid == calendar, fiscalcalendarperiod.c.fiscalyear == fiscal_year
        )
    ).scalars()
    missing = [p for p in periods if p not in have]
    uow.insert_many(
        ledgerperiodstatus,
        [{"dataareaid": company, "fiscalyear": fiscal_year, "periodname": p, "status": "Open"} for p in missing],
        track=False,
    )
    if conn.execute(
        select(ledgeryearclose.c.recid).where(
            ledgeryearclose.c.dataareaid == company, ledgeryearclose.c.fiscalyear == fiscal_year
        )
    ).first() is None:
        uow.insert(ledgeryearclose, {"dataareaid": company, "fiscalyear": fiscal_year, "status": "NotClosed"})


def create_company(
    uow: UnitOfWork,
    company_id: str,
    name: str,
    *,
    currency_code: str,
    country: str,
    sequence_prefix: str,
    fiscal_years: Iterable[int] = (),
    address: dict[str, str] | None = None,
    calendar: str = DEFAULT_CALENDAR,
) -> dict:
    """Create a legal entity with its number sequences, chart of accounts, default terms and customer groups, and
    Open fiscal periods for ``fiscal_years``."""
    company_id = company_id.lower()
    if not (1 <= len(company_id) <= 4) or not company_id.isalnum():
        raise ValidationError(
            f"Company id {company_id!r} must be 1 to 4 letters or digits.", target="LegalEntityId"
        )
    conn = uow.connection
    if conn.execute(select(dataarea.c.recid).where(dataarea.c.id == company_id)).first() is not None:
        raise ConflictError(f"Company {company_id} already exists.", target="LegalEntityId")
    ensure_currencies(uow)
    ensure_units(uow)
    if conn.execute(select(currency.c.recid).where(currency.c.currencycode == currency_code)).first() is None:
        raise ValidationError(f"Currency {currency_code} does not exist.", target="AccountingCurrency")
    values = {
        "id": company_id,
        "name": name,
        "currency": currency_code,
        "countryregion": country,
        "fiscalcalendar": calendar,
        "partynumber": None,
    }
    for key, value in (address or {}).items():
        values[f"address_{key}"] = value
    row = uow.insert(dataarea, values)
    uow.insert_many(
        numbersequence,
        [
            {"dataareaid": company_id, "code": code, "format": fmt, "nextrec": 1}
            for code, fmt in numbering.default_formats(sequence_prefix).items()
        ],
        track=False,
    )
    uow.insert_many(
        mainaccount,
        [{"dataareaid": company_id, "mainaccountid": a, "name": n, "type": t} for a, n, t in CHART],
        track=False,
    )
    for term, description, days in (("Net10", "Net 10 days", 10), ("Net30", "Net 30 days", 30), ("COD", "Cash on delivery", 0)):
        uow.insert(paymterm, {"dataareaid": company_id, "paymtermid": term, "description": description, "numofdays": days})
    for group, group_name, term in (
        ("10", "Wholesale customers", "Net30"),
        ("20", "Major customers", "Net30"),
        ("30", "Retail customers", "Net10"),
        ("40", "Intercompany customers", "Net30"),
    ):
        uow.insert(custgroup, {"dataareaid": company_id, "custgroup": group, "name": group_name, "paymtermid": term})
    for year in fiscal_years:
        ensure_fiscal_year(uow, year, calendar)
    return row


def company(conn: Connection, company_id: str) -> dict:
    row = conn.execute(select(dataarea).where(dataarea.c.id == company_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"Company {company_id} does not exist.", target="dataAreaId")
    return dict(row)


def company_ids(conn: Connection) -> list[str]:
    return list(conn.execute(select(dataarea.c.id).order_by(dataarea.c.id)).scalars())
