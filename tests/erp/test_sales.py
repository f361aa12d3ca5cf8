"""Sales orders: lifecycle, pricing, and the credit check with its figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from isthmus.errors import BusinessRuleError, ValidationError
from isthmus.erp import credit, customers, invoicing, payments, sales
from isthmus.erp.errors import CreditLimitExceededError
from isthmus.storage import CallContext, Database


def _order(erp_db: Database, ctx: CallContext, account: str, lines: list[dict]) -> str:
    with erp_db.unit_of_work(ctx) as uow:
        return sales.create(uow, "usmf", {"custaccount": account}, lines)["salesid"]


def test_order_defaults_from_customer_and_prices_from_product(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        order = sales.create(
            uow, "usmf", {"custaccount": "US-001"},
            [{"itemid": "T0001", "qty": 3}, {"itemid": "T0002", "qty": 4, "salesprice": Decimal("9.99"), "discamount": Decimal("1")}],
        )
        lines = sales.lines(uow.connection, "usmf", order["salesid"])
    assert order["status"] == "Open"
    assert order["currency"] == "USD" and order["invoiceaccount"] == "US-001"
    assert order["delivery_city"] == "San Diego"
    assert [ln["lineamount"] for ln in lines] == [Decimal("450"), Decimal("38.96")]
    assert order["totalamount"] == Decimal("488.96")
    assert [ln["linenum"] for ln in lines] == [1, 2]


@pytest.mark.parametrize(
    ("line", "target"),
    [({"itemid": "T0001", "qty": 0}, "qty"), ({"itemid": "T0001", "qty": -1}, "qty"),
     ({"itemid": "T0001", "qty": 1, "discamount": Decimal("500")}, "discamount"),
     ({"itemid": "T0001", "qty": "many"}, "qty")],
)
def test_bad_lines_are_refused(erp_db: Database, ctx: CallContext, line: dict, target: str) -> None:
    with pytest.raises(ValidationError) as info, erp_db.unit_of_work(ctx) as uow:
        sales.create(uow, "usmf", {"custaccount": "US-002"}, [line])
    assert info.value.target == target
    with erp_db.read() as conn:
        assert conn.exec_driver_sql("select count(*) from salestable").scalar_one() == 0


def test_credit_check_refuses_with_every_figure(erp_db: Database, ctx: CallContext) -> None:
    sales_id = _order(erp_db, ctx, "US-001", [{"itemid": "T0001", "qty": 20}])  # 3,000.00 against a 2,000.00 limit
    with pytest.raises(CreditLimitExceededError) as info, erp_db.unit_of_work(ctx) as uow:
        sales.confirm(uow, "usmf", sales_id)
    message = str(info.value)
    for figure in ("balance 0.00", "confirmed open orders 0.00", "3,000.00", "credit limit of 2,000.00", "by 1,000.00"):
        assert figure in message
    assert info.value.details["Total"] == 3000.0
    with erp_db.read() as conn:
        assert sales.get(conn, "usmf", sales_id)["status"] == "Open"


def test_credit_check_counts_balance_and_other_confirmed_orders(erp_db: Database, ctx: CallContext) -> None:
    first = _order(erp_db, ctx, "US-001", [{"itemid": "T0001", "qty": 6}])  # 900
    with erp_db.unit_of_work(ctx) as uow:
        sales.confirm(uow, "usmf", first)
        invoicing.post_invoice(uow, "usmf", first, date=dt.date(2025, 1, 10))  # balance 900
    second = _order(erp_db, ctx, "US-001", [{"itemid": "T0001", "qty": 4}])  # 600, confirmed, open
    with erp_db.unit_of_work(ctx) as uow:
        sales.confirm(uow, "usmf", second)
    third = _order(erp_db, ctx, "US-001", [{"itemid": "T0001", "qty": 4}])  # 600 → 2,100 > 2,000
    with pytest.raises(CreditLimitExceededError) as info, erp_db.unit_of_work(ctx) as uow:
        sales.confirm(uow, "usmf", third)
    assert info.value.details["Balance"] == 900.0
    assert info.value.details["ConfirmedOpenOrders"] == 600.0
    with erp_db.unit_of_work(ctx) as uow:
        payments.post_payment(uow, "usmf", "US-001", Decimal("500"), date=dt.date(2025, 1, 20))
        assert sales.confirm(uow, "usmf", third)["status"] == "Confirmed"


def test_raising_the_limit_lets_the_refused_order_confirm(erp_db: Database, ctx: CallContext) -> None:
    sales_id = _order(erp_db, ctx, "US-001", [{"itemid": "T0001", "qty": 20}])
    with pytest.raises(CreditLimitExceededError), erp_db.unit_of_work(ctx) as uow:
        sales.confirm(uow, "usmf", sales_id)
    with erp_db.unit_of_work(ctx) as uow:
        customers.update(uow, "usmf", "US-001", {"creditmax": Decimal("5000")})
        assert sales.confirm(uow, "usmf", sales_id)["status"] == "Confirmed"


def test_limit_not_mandatory_or_zero_means_no_check(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        customers.update(uow, "usmf", "US-001", {"mandatorycreditlimit": False})
    sales_id = _order(erp_db, ctx, "US-001", [{"itemid": "T0001", "qty": 100}])
    with erp_db.unit_of_work(ctx) as uow:
        assert sales.confirm(uow, "usmf", sales_id)["status"] == "Confirmed"
    with erp_db.read() as conn:
        exposure = credit.exposure(conn, "usmf", sales.get(conn, "usmf", sales_id))
    assert not exposure.exceeded


def test_changing_a_confirmed_order_rechecks_credit(erp_db: Database, ctx: CallContext) -> None:
    sales_id = _order(erp_db, ctx, "US-001", [{"itemid": "T0001", "qty": 10}])  # 1,500
    with erp_db.unit_of_work(ctx) as uow:
        sales.confirm(uow, "usmf", sales_id)
    with pytest.raises(CreditLimitExceededError), erp_db.unit_of_work(ctx) as uow:
        sales.add_line(uow, "usmf", sales_id, {"itemid": "T0001", "qty": 5})
    with erp_db.read() as conn:
        assert len(sales.lines(conn, "usmf", sales_id)) == 1
        assert sales.get(conn, "usmf", sales_id)["totalamount"] == Decimal("1500")


def test_on_hold_customer_cannot_order_or_confirm(erp_db: Database, ctx: CallContext) -> None:
    sales_id = _order(erp_db, ctx, "US-002", [{"itemid": "T0002", "qty": 1}])
    with erp_db.unit_of_work(ctx) as uow:
        customers.update(uow, "usmf", "US-002", {"blocked": "All"})
    with pytest.raises(BusinessRuleError, match="on hold"), erp_db.unit_of_work(ctx) as uow:
        sales.confirm(uow, "usmf", sales_id)
    with pytest.raises(BusinessRuleError, match="on hold"), erp_db.unit_of_work(ctx) as uow:
        sales.create(uow, "usmf", {"custaccount": "US-002"})


def test_status_moves_only_forward(erp_db: Database, ctx: CallContext) -> None:
    sales_id = _order(erp_db, ctx, "US-002", [{"itemid": "T0002", "qty": 1}])
    with pytest.raises(BusinessRuleError, match="only a confirmed order can be delivered"), erp_db.unit_of_work(ctx) as uow:
        invoicing.post_packing_slip(uow, "usmf", sales_id)
    with pytest.raises(ValidationError, match="cannot be written directly"), erp_db.unit_of_work(ctx) as uow:
        sales.update(uow, "usmf", sales_id, {"status": "Invoiced"})
    with erp_db.unit_of_work(ctx) as uow:
        sales.confirm(uow, "usmf", sales_id)
        invoicing.post_packing_slip(uow, "usmf", sales_id, date=dt.date(2025, 2, 1))
    with pytest.raises(BusinessRuleError, match="can no longer be cancelled"), erp_db.unit_of_work(ctx) as uow:
        sales.cancel(uow, "usmf", sales_id)
    with pytest.raises(BusinessRuleError, match="can no longer be changed"), erp_db.unit_of_work(ctx) as uow:
        sales.add_line(uow, "usmf", sales_id, {"itemid": "T0002", "qty": 1})


def test_cancel_and_delete(erp_db: Database, ctx: CallContext) -> None:
    sales_id = _order(erp_db, ctx, "US-002", [{"itemid": "T0002", "qty": 1}])
    with erp_db.unit_of_work(ctx) as uow:
        assert sales.cancel(uow, "usmf", sales_id)["status"] == "Cancelled"
        sales.delete(uow, "usmf", sales_id)
    with erp_db.read() as conn:
        assert conn.exec_driver_sql("select count(*) from salesline").scalar_one() == 0
