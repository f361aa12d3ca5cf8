"""General ledger data entities: the read-only GeneralJournalAccountEntries (voucher lines with their header),
FiscalPeriods (per-company period status, writable) and FiscalYears (with the CloseYear action)."""

from __future__ import annotations

from typing import Any

from isthmus.errors import ValidationError
from isthmus.erp import ledger
from isthmus.erp.entities.fields import choice, company, date, integer, money, noyes, text, timestamp
from isthmus.erp.entities.model import DataEntity, EntityAction
from isthmus.erp.entities.types import PERIOD_STATUS, PERIOD_TYPE, YEAR_CLOSE_STATUS
from isthmus.erp.schema import (
    dataarea,
    fiscalcalendarperiod,
    generaljournalaccountentry,
    generaljournalentry,
    ledgerperiodstatus,
    ledgeryearclose,
)
from isthmus.storage import UnitOfWork

e, a = generaljournalentry.c, generaljournalaccountentry.c

ACCOUNT_ENTRIES = DataEntity(
    name="GeneralJournalAccountEntry",
    set_name="GeneralJournalAccountEntries",
    physical_name="GeneralJournalAccountEntryEntity",
    label="General journal account entries",
    category="Transaction",
    table=generaljournalaccountentry,
    source=generaljournalaccountentry.join(generaljournalentry, a.generaljournalentry == e.recid),
    company_column=a.dataareaid,
    fields=(
        company(a.dataareaid),
        text("Voucher", e.subledgervoucher, key=True),
        integer("LineNumber", a.linenum, key=True),
        text("JournalNumber", e.journalnumber),
        date("AccountingDate", e.accountingdate),
        text("FiscalYear", e.fiscalyear),
        text("FiscalPeriod", e.fiscalperiod),
        text("JournalCategory", e.journalcategory),
        text("DocumentNumber", e.documentnumber),
        text("MainAccount", a.mainaccountid),
        text("PostingType", a.postingtype),
        text("TransactionCurrencyCode", a.transactioncurrencycode),
        money("TransactionCurrencyAmount", a.transactioncurrencyamount),
        money("AccountingCurrencyAmount", a.accountingcurrencyamount),
        noyes("IsCredit", a.iscredit),
        money("Quantity", a.quantity),
        text("Text", a.text),
    ),
)

s, fp = ledgerperiodstatus.c, fiscalcalendarperiod.c


class _PeriodWriter:
    """Only the status of a period changes through the API, and only through the ledger's rules."""

    def create(self, uow: UnitOfWork, company_id: str | None, values: dict[str, Any]) -> dict[str, Any]:
        raise ValidationError("Fiscal periods come from the fiscal calendar; they cannot be created here.")

    def update(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        assert company_id is not None
        if set(changes) - {"status"}:
            raise ValidationError("Only PeriodStatus of a fiscal period can be changed.", target="PeriodStatus")
        if "status" not in changes or changes["status"] == row["status"]:
            return row
        return ledger.set_period_status(uow, company_id, row["fiscalyear"], row["periodname"], changes["status"])

    def delete(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any]) -> None:
        raise ValidationError("Fiscal periods cannot be deleted.")


FISCAL_PERIODS = DataEntity(
    name="FiscalPeriod",
    set_name="FiscalPeriods",
    physical_name="LedgerFiscalPeriodEntity",
    label="Fiscal periods",
    category="Reference",
    table=ledgerperiodstatus,
    source=ledgerperiodstatus.join(dataarea, dataarea.c.id == s.dataareaid).join(
        fiscalcalendarperiod,
        (fp.calendarid == dataarea.c.fiscalcalendar) & (fp.fiscalyear == s.fiscalyear) & (fp.name == s.periodname),
    ),
    company_column=s.dataareaid,
    fields=(
        company(s.dataareaid),
        text("FiscalYear", s.fiscalyear, key=True),
        text("PeriodName", s.periodname, key=True),
        choice("PeriodType", fp.type, PERIOD_TYPE, read_only=True),
        date("StartDate", fp.startdate, read_only=True),
        date("EndDate", fp.enddate, read_only=True),
        choice("PeriodStatus", s.status, PERIOD_STATUS),
    ),
    writer=_PeriodWriter(),
)

y = ledgeryearclose.c


def _close(uow: UnitOfWork, company_id: str | None, row: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    assert company_id is not None
    return ledger.close_fiscal_year(uow, company_id, row["fiscalyear"])


FISCAL_YEARS = DataEntity(
    name="FiscalYear",
    set_name="FiscalYears",
    physical_name="LedgerFiscalYearCloseEntity",
    label="Fiscal years and year-end close",
    category="Reference",
    table=ledgeryearclose,
    company_column=y.dataareaid,
    fields=(
        company(y.dataareaid),
        text("FiscalYear", y.fiscalyear, key=True),
        choice("YearEndCloseStatus", y.status, YEAR_CLOSE_STATUS, read_only=True),
        timestamp("ClosedDateTime", y.closeddatetime, read_only=True),
        text("ClosingVoucher", y.voucher, read_only=True),
    ),
    actions=(EntityAction("CloseYear", _close, description="Run the year-end close for the fiscal year."),),
)
