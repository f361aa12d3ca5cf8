"""Posting: invoices and payments write customer, ledger and inventory transactions that add up; fiscal periods and
the year-end close guard the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from isthmus.errors import BusinessRuleError
from isthmus.erp import customers, inventory, invoicing, ledger, payments, sales
from isthmus.erp.errors import PeriodClosedError
from isthmus.erp.schema import custtrans, generaljournalaccountentry, generaljournalentry, inventtrans
from isthmus.storage import CallContext, Database

INVOICE_DATE = dt.date(2025, 6, 15)


def _invoiced_order(erp_db: Database, ctx: CallContext) -> tuple[str, str]:
    with erp_db.unit_of_work(ctx) as uow:
        order = sales.create(
            uow, "usmf", {"custaccount": "US-002"},
            [{"itemid": "T0001", "qty": 2}, {"itemid": "S0001", "qty": 3}],  # 300 goods + 300 service
        )
        sales.confirm(uow, "usmf", order["salesid"])
        journal = invoicing.post_invoice(uow, "usmf", order["salesid"], date=INVOICE_DATE)
    return order["salesid"], journal["invoiceid"]


def _account_totals(erp_db: Database, voucher: str) -> dict[str, Decimal]:
    a, e = generaljournalaccountentry.c, generaljournalentry.c
    with erp_db.read() as conn:
        rows = conn.execute(
            select(a.mainaccountid, a.accountingcurrencyamount)
            .join(generaljournalentry, a.generaljournalentry == e.recid)
            .where(e.subledgervoucher == voucher)
        ).all()
    return {r[0]: Decimal(r[1]).quantize(Decimal("0.01")) for r in rows}


def test_invoice_posts_customer_ledger_and_inventory(erp_db: Database, ctx: CallContext) -> None:
    sales_id, invoice_id = _invoiced_order(erp_db, ctx)
    with erp_db.read() as conn:
        order = sales.get(conn, "usmf", sales_id)
        trans = conn.execute(select(custtrans).where(custtrans.c.invoice == invoice_id)).mappings().one()
        issues = conn.execute(select(inventtrans).where(inventtrans.c.referenceid == sales_id)).mappings().all()
        on_hand = inventory.on_hand(conn, "usmf", "T0001")
    assert order["status"] == "Invoiced" and order["invoiceid"] == invoice_id
    assert trans["amountcur"] == Decimal("600") and trans["duedate"] == INVOICE_DATE + dt.timedelta(days=30)
    assert len(issues) == 1  # the service line is not stocked
    assert issues[0]["statusissue"] == "Sold" and issues[0]["qty"] == Decimal("-2")
    assert issues[0]["costamountposted"] == Decimal("-160")
    assert on_hand == Decimal("998")
    totals = _account_totals(erp_db, trans["voucher"])
    assert totals == {"130100": Decimal("600.00"), "401100": Decimal("-600.00"), "500100": Decimal("160.00"), "140200": Decimal("-160.00")}


def test_every_voucher_balances(erp_db: Database, ctx: CallContext) -> None:
    _invoiced_order(erp_db, ctx)
    with erp_db.unit_of_work(ctx) as uow:
        payments.post_payment(uow, "usmf", "US-002", Decimal("250"), date=dt.date(2025, 6, 20))
    a = generaljournalaccountentry.c
    with erp_db.read() as conn:
        sums = conn.execute(select(a.generaljournalentry, func.sum(a.accountingcurrencyamount)).group_by(a.generaljournalentry)).all()
    assert sums and all(abs(Decimal(str(total))) < Decimal("0.005") for _, total in sums)


def test_payment_settles_oldest_invoice_first(erp_db: Database, ctx: CallContext) -> None:
    _, first_invoice = _invoiced_order(erp_db, ctx)
    _, second_invoice = _invoiced_order(erp_db, ctx)
    with erp_db.unit_of_work(ctx) as uow:
        payments.post_payment(uow, "usmf", "US-002", Decimal("700"), date=dt.date(2025, 7, 1), reference="WIRE-7")
    with erp_db.read() as conn:
        rows = {r["invoice"]: r for r in conn.execute(select(custtrans).where(custtrans.c.transtype == "Invoice")).mappings()}
        payment = conn.execute(select(custtrans).where(custtrans.c.transtype == "Payment")).mappings().one()
        balance = customers.balance(conn, "usmf", "US-002")
    assert rows[first_invoice]["settleamountcur"] == Decimal("600") and rows[first_invoice]["closed"] == dt.date(2025, 7, 1)
    assert rows[second_invoice]["settleamountcur"] == Decimal("100") and rows[second_invoice]["closed"] is None
    assert payment["amountcur"] == Decimal("-700") and payment["paymentreference"] == "WIRE-7"
    assert balance == Decimal("500.00")


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "NaN"])
def test_payment_amount_must_be_positive(erp_db: Database, ctx: CallContext, amount: str) -> None:
    with pytest.raises(Exception, match="payment amount"), erp_db.unit_of_work(ctx) as uow:
        payments.post_payment(uow, "usmf", "US-002", amount, date=dt.date(2025, 7, 1))


def test_posting_into_a_closed_period_is_refused_whole(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        ledger.set_period_status(uow, "usmf", "2025", "Period 6", "OnHold")
        order = sales.create(uow, "usmf", {"custaccount": "US-002"}, [{"itemid": "T0001", "qty": 1}])
        sales.confirm(uow, "usmf", order["salesid"])
    with pytest.raises(PeriodClosedError, match="Period 6 of 2025 is OnHold"), erp_db.unit_of_work(ctx) as uow:
        invoicing.post_invoice(uow, "usmf", order["salesid"], date=INVOICE_DATE)
    with erp_db.read() as conn:
        assert sales.get(conn, "usmf", order["salesid"])["status"] == "Confirmed"
        assert conn.execute(select(func.count()).select_from(custtrans)).scalar_one() == 0


def test_no_calendar_year_means_no_posting(erp_db: Database, ctx: CallContext) -> None:
    with pytest.raises(PeriodClosedError, match="Create fiscal year 2031"), erp_db.unit_of_work(ctx) as uow:
        payments.post_payment(uow, "usmf", "US-002", Decimal("1"), date=dt.date(2031, 1, 1))


def test_permanently_closed_period_cannot_reopen(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        ledger.set_period_status(uow, "usmf", "2023", "Period 1", "PermanentlyClosed")
    with pytest.raises(BusinessRuleError, match="cannot be reopened"), erp_db.unit_of_work(ctx) as uow:
        ledger.set_period_status(uow, "usmf", "2023", "Period 1", "Open")


def test_year_end_close_moves_profit_to_retained_earnings(erp_db: Database, ctx: CallContext) -> None:
    _invoiced_order(erp_db, ctx)  # revenue 600, cost 160 in 2025 → profit 440
    with erp_db.unit_of_work(ctx) as uow:
        with pytest.raises(BusinessRuleError, match="2023 must be closed before 2025"):
            ledger.close_fiscal_year(uow, "usmf", "2025")
    with erp_db.unit_of_work(ctx) as uow:
        ledger.close_fiscal_year(uow, "usmf", "2023")
        ledger.close_fiscal_year(uow, "usmf", "2024")
        closed = ledger.close_fiscal_year(uow, "usmf", "2025")
    assert closed["status"] == "Closed" and closed["voucher"]
    totals = _account_totals(erp_db, closed["voucher"])
    assert totals == {"401100": Decimal("600.00"), "500100": Decimal("-160.00"), "300200": Decimal("-440.00")}
    with pytest.raises(BusinessRuleError, match="already closed"), erp_db.unit_of_work(ctx) as uow:
        ledger.close_fiscal_year(uow, "usmf", "2025")


def test_receipt_raises_on_hand_and_inventory_value(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        row = inventory.post_receipt(uow, "usmf", "T0002", Decimal("50"), unit_cost=Decimal("2.5"), date=dt.date(2025, 3, 3))
    with erp_db.read() as conn:
        assert inventory.on_hand(conn, "usmf", "T0002") == Decimal("1050")
    assert _account_totals(erp_db, row["voucher"]) == {"140200": Decimal("125.00"), "211100": Decimal("-125.00")}
    with pytest.raises(BusinessRuleError, match="service"), erp_db.unit_of_work(ctx) as uow:
        inventory.post_receipt(uow, "usmf", "S0001", 1)
