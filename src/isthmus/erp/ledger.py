"""The general ledger: fiscal period checks, balanced vouchers, period status and the year-end close.

A voucher is one ``generaljournalentry`` with its ``generaljournalaccountentry`` lines. Amounts are signed the way
finance and operations signs them: positive is a debit, negative a credit, and every voucher sums to zero. A voucher
can only be posted on a date whose operating (or, for the year-end close, closing) period is Open for the company.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, func, select

from isthmus.errors import BusinessRuleError, NotFoundError, ValidationError
from isthmus.erp import numbering
from isthmus.erp.errors import PeriodClosedError
from isthmus.erp.schema import (
    dataarea,
    fiscalcalendarperiod,
    generaljournalaccountentry,
    generaljournalentry,
    ledgerperiodstatus,
    ledgeryearclose,
    mainaccount,
)
from isthmus.erp.setup import ACCOUNTS, PROFIT_AND_LOSS_TYPES
from isthmus.storage import UnitOfWork
from isthmus.storage.types import utcnow

PERIOD_STATUSES = ("Open", "OnHold", "PermanentlyClosed")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class LedgerLine:
    """One side of a voucher: ``amount`` is signed (debit positive, credit negative)."""

    account: str
    amount: Decimal
    posting_type: str
    text: str | None = None
    quantity: Decimal | None = None


@dataclass(frozen=True)
class FiscalPeriod:
    fiscal_year: str
    name: str
    status: str


def fiscal_period(conn: Connection, company: str, date: dt.date, *, period_type: str = "Operating") -> FiscalPeriod:
    """The company's fiscal period of ``period_type`` containing ``date``, with its status."""
    calendar = conn.execute(select(dataarea.c.fiscalcalendar).where(dataarea.c.id == company)).scalar_one_or_none()
    if calendar is None:
        raise NotFoundError(f"Company {company} does not exist.", target="dataAreaId")
    p = fiscalcalendarperiod.c
    found = conn.execute(
        select(p.fiscalyear, p.name).where(
            p.calendarid == calendar, p.type == period_type, p.startdate <= date, p.enddate >= date
        )
    ).first()
    if found is None:
        raise PeriodClosedError(
            f"No fiscal period in calendar {calendar} covers {date.isoformat()}.",
            next_step=f"Create fiscal year {date.year} in calendar {calendar} before posting on that date.",
        )
    s = ledgerperiodstatus.c
    status = conn.execute(
        select(s.status).where(s.dataareaid == company, s.fiscalyear == found.fiscalyear, s.periodname == found.name)
    ).scalar_one_or_none()
    return FiscalPeriod(found.fiscalyear, found.name, status or "Open")


def require_open_period(
    conn: Connection, company: str, date: dt.date, *, period_type: str = "Operating"
) -> FiscalPeriod:
    period = fiscal_period(conn, company, date, period_type=period_type)
    if period.status != "Open":
        raise PeriodClosedError(
            f"Fiscal period {period.name} of {period.fiscal_year} is {period.status} in company {company}; "
            f"nothing can be posted on {date.isoformat()}.",
            next_step="Post on a date in an open period, or reopen the period.",
            target="AccountingDate",
        )
    return period


def post_voucher(
    uow: UnitOfWork,
    company: str,
    *,
    date: dt.date,
    voucher: str,
    category: str,
    currency: str,
    lines: Sequence[LedgerLine],
    document_number: str | None = None,
    text: str | None = None,
    period_type: str = "Operating",
) -> dict:
    """Post a balanced voucher. Lines with a zero amount are dropped; an unbalanced voucher is refused."""
    lines = [ln for ln in lines if ln.amount != 0]
    if not lines:
        raise ValidationError(f"Voucher {voucher} has no amounts to post.")
    total = sum((ln.amount for ln in lines), Decimal(0))
    if total.quantize(CENT) != 0:
        raise BusinessRuleError(f"Voucher {voucher} does not balance: debits and credits differ by {total:.2f}.")
    conn = uow.connection
    period = require_open_period(conn, company, date, period_type=period_type)
    known = set(
        conn.execute(select(mainaccount.c.mainaccountid).where(mainaccount.c.dataareaid == company)).scalars()
    )
    unknown = sorted({ln.account for ln in lines} - known)
    if unknown:
        raise ValidationError(f"Main account {', '.join(unknown)} does not exist in company {company}.")
    header = uow.insert(
        generaljournalentry,
        {
            "dataareaid": company,
            "journalnumber": numbering.next_number(conn, company, numbering.GL_JOURNAL),
            "subledgervoucher": voucher,
            "accountingdate": date,
            "fiscalyear": period.fiscal_year,
            "fiscalperiod": period.name,
            "journalcategory": category,
            "postinglayer": "Current",
            "documentnumber": document_number,
            "text": text,
        },
    )
    uow.insert_many(
        generaljournalaccountentry,
        [
            {
                "dataareaid": company,
                "generaljournalentry": header["recid"],
                "linenum": n,
                "mainaccountid": ln.account,
                "postingtype": ln.posting_type,
                "transactioncurrencycode": currency,
                "transactioncurrencyamount": ln.amount,
                "accountingcurrencyamount": ln.amount,
                "iscredit": ln.amount < 0,
                "quantity": ln.quantity,
                "text": ln.text or text,
            }
            for n, ln in enumerate(lines, start=1)
        ],
        track=False,
    )
    return header


def set_period_status(uow: UnitOfWork, company: str, fiscal_year: str, period_name: str, status: str) -> dict:
    if status not in PERIOD_STATUSES:
        raise ValidationError(
            f"Period status {status!r} is not one of {', '.join(PERIOD_STATUSES)}.", target="PeriodStatus"
        )
    s = ledgerperiodstatus.c
    row = uow.connection.execute(
        select(ledgerperiodstatus).where(
            s.dataareaid == company, s.fiscalyear == fiscal_year, s.periodname == period_name
        )
    ).mappings().first()
    if row is None:
        raise NotFoundError(f"Fiscal period {period_name} of {fiscal_year} does not exist for company {company}.")
    if row["status"] == "PermanentlyClosed" and status != "PermanentlyClosed":
        raise BusinessRuleError(
            f"Fiscal period {period_name} of {fiscal_year} is permanently closed in company {company} and cannot be "
            "reopened."
        )
    return uow.update(ledgerperiodstatus, row["recid"], {"status": status}, before=row)


def close_fiscal_year(uow: UnitOfWork, company: str, fiscal_year: str) -> dict:
    """Run the year-end close: transfer every profit-and-loss balance of the year to retained earnings with one
    voucher in the closing period, and mark the year closed. Years close in order: the previous year first."""
    conn = uow.connection
    c = ledgeryearclose.c
    row = conn.execute(
        select(ledgeryearclose).where(c.dataareaid == company, c.fiscalyear == fiscal_year)
    ).mappings().first()
    if row is None:
        raise NotFoundError(f"Fiscal year {fiscal_year} does not exist for company {company}.")
    if row["status"] == "Closed":
        raise BusinessRuleError(f"Fiscal year {fiscal_year} is already closed in company {company}.")
    previous = conn.execute(
        select(c.fiscalyear)
        .where(c.dataareaid == company, c.fiscalyear < fiscal_year, c.status != "Closed")
        .order_by(c.fiscalyear)
    ).first()
    if previous is not None:
        raise BusinessRuleError(
            f"Fiscal year {previous.fiscalyear} must be closed before {fiscal_year} in company {company}.",
            next_step=f"Run the year-end close for {previous.fiscalyear} first; years close in order.",
        )
    e, a = generaljournalentry.c, generaljournalaccountentry.c
    balances = conn.execute(
        select(a.mainaccountid, func.sum(a.accountingcurrencyamount))
        .select_from(generaljournalaccountentry.join(generaljournalentry, a.generaljournalentry == e.recid))
        .join(mainaccount, (mainaccount.c.dataareaid == a.dataareaid) & (mainaccount.c.mainaccountid == a.mainaccountid))
        .where(e.dataareaid == company, e.fiscalyear == fiscal_year, mainaccount.c.type.in_(PROFIT_AND_LOSS_TYPES))
        .group_by(a.mainaccountid)
        .order_by(a.mainaccountid)
    ).all()
    end = dt.date(int(fiscal_year), 12, 31)
    voucher = None
    lines = [
        LedgerLine(account, -Decimal(str(amount)).quantize(CENT), "YearEndClose")
        for account, amount in balances
        if Decimal(str(amount)).quantize(CENT) != 0
    ]
    if lines:
        net = -sum((ln.amount for ln in lines), Decimal(0))
        lines.append(LedgerLine(ACCOUNTS.retained_earnings, net, "YearEndResult"))
        currency = conn.execute(select(dataarea.c.currency).where(dataarea.c.id == company)).scalar_one()
        voucher = numbering.next_number(conn, company, numbering.YEAR_END_VOUCHER)
        post_voucher(
            uow,
            company,
            date=end,
            voucher=voucher,
            category="YearEnd",
            currency=currency,
            lines=lines,
            text=f"Year-end close {fiscal_year}",
            period_type="Closing",
        )
    return uow.update(
        ledgeryearclose,
        row["recid"],
        {"status": "Closed", "closeddatetime": utcnow(), "voucher": voucher},
        before=row,
    )
