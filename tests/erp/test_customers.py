"""Customer rules: numbering, references, credit limits, on-hold status, deletion."""

from __future__ import annotations

from decimal import Decimal

import pytest

from isthmus.errors import ConflictError, ValidationError
from isthmus.erp import customers, payments, sales
from isthmus.storage import CallContext, Database


def test_create_allocates_account_and_party_and_defaults(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        row = customers.create(uow, "usmf", {"name": "Northwind", "custgroup": "30"})
    assert row["accountnum"].startswith("US-")
    assert row["partynumber"].startswith("USP-")
    assert row["currency"] == "USD"
    assert row["paymtermid"] == "Net10"  # the group's terms
    assert row["creditmax"] == Decimal("0")
    with erp_db.read() as conn:
        assert customers.get(conn, "usmf", row["accountnum"])["name"] == "Northwind"


def test_two_creates_get_distinct_accounts(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        a = customers.create(uow, "usmf", {"name": "A", "custgroup": "10"})
        b = customers.create(uow, "usmf", {"name": "B", "custgroup": "10"})
    assert a["accountnum"] != b["accountnum"]


@pytest.mark.parametrize(
    ("values", "target"),
    [
        ({"name": "X", "custgroup": "99"}, "custgroup"),
        ({"name": "X", "custgroup": "10", "currency": "XYZ"}, "currency"),
        ({"name": "X", "custgroup": "10", "creditmax": Decimal("-1")}, "creditmax"),
        ({"name": "X", "custgroup": "10", "blocked": "Sometimes"}, "blocked"),
        ({"name": "X", "custgroup": "10", "email": "not-an-address"}, "email"),
        ({"name": "X", "custgroup": "10", "delivery_countryregion": "usa"}, "delivery_countryregion"),
        ({"name": "X", "custgroup": "10", "invoiceaccount": "US-404"}, "invoiceaccount"),
        ({"name": "  ", "custgroup": "10"}, "name"),
        ({"custgroup": "10", "partytype": "Person"}, "lastname"),
    ],
)
def test_create_refuses_bad_values_and_writes_nothing(
    erp_db: Database, ctx: CallContext, values: dict, target: str
) -> None:
    with erp_db.read() as conn:
        before = conn.exec_driver_sql("select count(*) from custtable").scalar_one()
    with pytest.raises(ValidationError) as info, erp_db.unit_of_work(ctx) as uow:
        customers.create(uow, "usmf", values)
    assert info.value.target == target
    with erp_db.read() as conn:
        assert conn.exec_driver_sql("select count(*) from custtable").scalar_one() == before


def test_duplicate_account_is_a_conflict(erp_db: Database, ctx: CallContext) -> None:
    with pytest.raises(ConflictError, match="US-001 already exists"), erp_db.unit_of_work(ctx) as uow:
        customers.create(uow, "usmf", {"accountnum": "US-001", "name": "Dup", "custgroup": "10"})


def test_same_account_may_exist_in_another_company(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        row = customers.create(uow, "demf", {"accountnum": "US-001", "name": "German twin", "custgroup": "10"})
    assert row["dataareaid"] == "demf" and row["currency"] == "EUR"


def test_person_name_is_composed(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        row = customers.create(uow, "usmf", {"partytype": "Person", "firstname": "Ada", "lastname": "Lovelace", "custgroup": "30"})
        assert row["name"] == "Ada Lovelace"
        updated = customers.update(uow, "usmf", row["accountnum"], {"lastname": "King"})
    assert updated["name"] == "Ada King"


def test_update_bumps_version_and_refuses_key_change(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        row = customers.update(uow, "usmf", "US-001", {"creditmax": Decimal("5000")})
    assert row["creditmax"] == Decimal("5000") and row["recversion"] == 2
    with pytest.raises(ValidationError), erp_db.unit_of_work(ctx) as uow:
        customers.update(uow, "usmf", "US-001", {"accountnum": "US-999"})


def test_unchanged_update_writes_nothing(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        row = customers.update(uow, "usmf", "US-002", {"name": "Fabrikam"})
        assert uow.changes == []
    assert row["recversion"] == 1


def test_delete_refused_when_customer_has_history(erp_db: Database, ctx: CallContext) -> None:
    with erp_db.unit_of_work(ctx) as uow:
        sales.create(uow, "usmf", {"custaccount": "US-002"}, [{"itemid": "T0002", "qty": 1}])
    with pytest.raises(ConflictError, match="sales order"), erp_db.unit_of_work(ctx) as uow:
        customers.delete(uow, "usmf", "US-002")
    with erp_db.unit_of_work(ctx) as uow:
        customers.delete(uow, "usmf", "US-003")
    with erp_db.read() as conn, pytest.raises(Exception, match="does not exist"):
        customers.get(conn, "usmf", "US-003")


def test_balance_is_invoices_minus_payments(erp_db: Database, ctx: CallContext) -> None:
    import datetime as dt

    from isthmus.erp import invoicing

    with erp_db.unit_of_work(ctx) as uow:
        order = sales.create(uow, "usmf", {"custaccount": "US-002"}, [{"itemid": "T0001", "qty": 2}])
        sales.confirm(uow, "usmf", order["salesid"])
        invoicing.post_invoice(uow, "usmf", order["salesid"], date=dt.date(2025, 5, 1))
        payments.post_payment(uow, "usmf", "US-002", Decimal("120.25"), date=dt.date(2025, 5, 2))
    with erp_db.read() as conn:
        assert customers.balance(conn, "usmf", "US-002") == Decimal("179.75")
