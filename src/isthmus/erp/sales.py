"""Sales orders: a header and its lines, moving Open → Confirmed → Delivered → Invoiced, or to Cancelled.

Rules:
* an order is created Open for an existing customer that is not on hold for everything (``All``); currency, invoice
  account, terms and delivery address default from the customer, prices and units from the product;
* lines can be added, changed and removed while the order is Open or Confirmed; a change to a Confirmed order runs
  the credit check again, so a confirmed order never sits above a mandatory credit limit;
* the status moves only through the operations here (``confirm``, ``cancel``) and in ``invoicing``
  (``post_packing_slip``, ``post_invoice``), never by writing the status column;
* the header's ``totalamount`` is always the sum of its line amounts.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from isthmus.errors import BusinessRuleError, ConflictError, NotFoundError, ValidationError
from isthmus.erp import credit, customers, numbering, products, validation
from isthmus.erp.schema import currency, paymterm, salesline, salestable
from isthmus.storage import UnitOfWork
from isthmus.storage.types import utcnow

STATUSES = ("Open", "Confirmed", "Delivered", "Invoiced", "Cancelled")
EDITABLE = ("Open", "Confirmed")
CENT = Decimal("0.01")


def get(conn: Connection, company: str, sales_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(salestable).where(salestable.c.dataareaid == company, salestable.c.salesid == sales_id)
    ).mappings().first()
    if row is None:
        raise NotFoundError(f"Sales order {sales_id} does not exist in company {company}.", target="SalesOrderNumber")
    return dict(row)


def lines(conn: Connection, company: str, sales_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(salesline)
        .where(salesline.c.dataareaid == company, salesline.c.salesid == sales_id)
        .order_by(salesline.c.linenum)
    ).mappings()
    return [dict(r) for r in rows]


def get_line(conn: Connection, company: str, lot_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(salesline).where(salesline.c.dataareaid == company, salesline.c.inventtransid == lot_id)
    ).mappings().first()
    if row is None:
        raise NotFoundError(f"Sales order line {lot_id} does not exist in company {company}.", target="InventoryLotId")
    return dict(row)


def create(
    uow: UnitOfWork, company: str, header: dict[str, Any], order_lines: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    conn = uow.connection
    row = dict(header)
    if row.get("status", "Open") != "Open":
        raise ValidationError("A new sales order is always Open; use the Confirm action to confirm it.", target="status")
    account = validation.require_text(row, "custaccount", "The customer account", target="custaccount")
    customer = customers.get(conn, company, account)
    _refuse_if_on_hold(customer, "take new sales orders")
    sales_id = (row.get("salesid") or "").strip()
    if not sales_id:
        sales_id = numbering.next_number(conn, company, numbering.SALES_ID)
    elif conn.execute(
        select(salestable.c.recid).where(salestable.c.dataareaid == company, salestable.c.salesid == sales_id)
    ).first():
        raise ConflictError(f"Sales order {sales_id} already exists in company {company}.", target="salesid")
    row.update(dataareaid=company, salesid=sales_id, status="Open", totalamount=Decimal(0))
    row.setdefault("invoiceaccount", customer["invoiceaccount"] or account)
    row.setdefault("currency", customer["currency"])
    row.setdefault("paymtermid", customer["paymtermid"])
    row.setdefault("orderdate", dt.date.today())
    row.setdefault("intercompany", False)
    for part in customers.ADDRESS_PARTS:
        row.setdefault(f"delivery_{part}", customer[f"delivery_{part}"])
    _validate_header(conn, company, row, changed=set(row))
    order = uow.insert(salestable, row)
    if order_lines:
        add_lines(uow, company, sales_id, order_lines)
        order = get(conn, company, sales_id)
    return order


def update(uow: UnitOfWork, company: str, sales_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    conn = uow.connection
    order = get(conn, company, sales_id)
    changed = {k for k, v in changes.items() if order.get(k) != v}
    if not changed:
        return order
    for column in ("status", "totalamount", "salesid", "dataareaid", "invoiceid", "confirmeddatetime"):
        if column in changed:
            raise ValidationError(
                f"{column} of sales order {sales_id} cannot be written directly.",
                target=column,
                next_step="Use the Confirm, PostPackingSlip, PostInvoice or Cancel actions to move the order on."
                if column == "status"
                else None,
            )
    _require_editable(order)
    if "custaccount" in changed and order["status"] != "Open":
        raise BusinessRuleError(f"The customer of confirmed sales order {sales_id} cannot be changed.")
    merged = {**order, **changes}
    _validate_header(conn, company, merged, changed=changed)
    return uow.update(salestable, order["recid"], {k: merged[k] for k in changed}, before=order)


def delete(uow: UnitOfWork, company: str, sales_id: str) -> dict[str, Any]:
    order = get(uow.connection, company, sales_id)
    if order["status"] not in ("Open", "Cancelled"):
        raise BusinessRuleError(
            f"Sales order {sales_id} is {order['status']} and cannot be deleted.",
            next_step="Only open or cancelled orders can be deleted.",
        )
    for line in lines(uow.connection, company, sales_id):
        uow.delete(salesline, line["recid"])
    return uow.delete(salestable, order["recid"])


def add_line(uow: UnitOfWork, company: str, sales_id: str, values: dict[str, Any]) -> dict[str, Any]:
    return add_lines(uow, company, sales_id, [values])[0]


def add_lines(uow: UnitOfWork, company: str, sales_id: str, values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    conn = uow.connection
    order = get(conn, company, sales_id)
    _require_editable(order)
    next_line = (
        conn.execute(
            select(func.coalesce(func.max(salesline.c.linenum), 0)).where(
                salesline.c.dataareaid == company, salesline.c.salesid == sales_id
            )
        ).scalar_one()
        + 1
    )
    lots = numbering.next_numbers(conn, company, numbering.INVENT_TRANS_ID, len(values))
    catalog: dict[str, dict[str, Any]] = {}
    rows = []
    for offset, raw in enumerate(values):
        row = dict(raw)
        item_id = validation.require_text(row, "itemid", "The item number", target="itemid")
        if item_id not in catalog:
            catalog[item_id] = products.get(conn, company, item_id)
        product = catalog[item_id]
        row.update(dataareaid=company, salesid=sales_id, currency=order["currency"], itemid=item_id)
        row["inventtransid"] = row.get("inventtransid") or lots[offset]
        row.setdefault("linenum", next_line + offset)
        row.setdefault("name", product["name"])
        row.setdefault("salesunit", product["salesunit"])
        if row.get("salesprice") is None:
            row["salesprice"] = product["salesprice"]
        row.setdefault("discamount", Decimal(0))
        _price_line(row)
        rows.append(row)
    stored = []
    for row in rows:
        stored.append(uow.insert(salesline, row))
    _after_lines_changed(uow, company, order)
    return stored


def update_line(uow: UnitOfWork, company: str, lot_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    conn = uow.connection
    line = get_line(conn, company, lot_id)
    order = get(conn, company, line["salesid"])
    _require_editable(order)
    for column in ("salesid", "inventtransid", "dataareaid", "lineamount", "currency"):
        if column in changes and changes[column] != line[column]:
            raise ValidationError(f"{column} of sales order line {lot_id} cannot be changed.", target=column)
    changed = {k for k, v in changes.items() if line.get(k) != v}
    if not changed:
        return line
    merged = {**line, **changes}
    if "itemid" in changed:
        products.get(conn, company, merged["itemid"])
    _price_line(merged)
    changed.add("lineamount")
    updated = uow.update(salesline, line["recid"], {k: merged[k] for k in changed}, before=line)
    _after_lines_changed(uow, company, order)
    return updated


def delete_line(uow: UnitOfWork, company: str, lot_id: str) -> dict[str, Any]:
    conn = uow.connection
    line = get_line(conn, company, lot_id)
    order = get(conn, company, line["salesid"])
    _require_editable(order)
    deleted = uow.delete(salesline, line["recid"])
    _after_lines_changed(uow, company, order)
    return deleted


def confirm(uow: UnitOfWork, company: str, sales_id: str) -> dict[str, Any]:
    """Confirm an open order after the credit check."""
    conn = uow.connection
    order = get(conn, company, sales_id)
    if order["status"] != "Open":
        raise BusinessRuleError(f"Sales order {sales_id} is {order['status']}; only an open order can be confirmed.")
    if not lines(conn, company, sales_id):
        raise BusinessRuleError(f"Sales order {sales_id} has no lines to confirm.", next_step="Add a line first.")
    for account in {order["custaccount"], order["invoiceaccount"]}:
        _refuse_if_on_hold(customers.get(conn, company, account), "have orders confirmed")
    credit.check(conn, company, order)
    return uow.update(salestable, order["recid"], {"status": "Confirmed", "confirmeddatetime": utcnow()}, before=order)


def cancel(uow: UnitOfWork, company: str, sales_id: str) -> dict[str, Any]:
    order = get(uow.connection, company, sales_id)
    if order["status"] not in EDITABLE:
        raise BusinessRuleError(
            f"Sales order {sales_id} is {order['status']} and can no longer be cancelled."
        )
    return uow.update(salestable, order["recid"], {"status": "Cancelled"}, before=order)


# --- helpers ---------------------------------------------------------------------------------------------------


def _price_line(row: dict[str, Any]) -> None:
    qty = validation.amount(row.get("qty"), "The quantity", target="qty", positive=True)
    price = validation.amount(row.get("salesprice"), "The sales price", target="salesprice", minimum=Decimal(0))
    discount = validation.amount(row.get("discamount") or 0, "The discount", target="discamount", minimum=Decimal(0))
    amount = (qty * price - discount).quantize(CENT, rounding=ROUND_HALF_UP)
    if amount < 0:
        raise ValidationError(
            f"The discount {discount} is larger than the line's value {qty * price:.2f}.", target="discamount"
        )
    row.update(qty=qty, salesprice=price, discamount=discount, lineamount=amount)


def _after_lines_changed(uow: UnitOfWork, company: str, order: dict[str, Any]) -> None:
    conn = uow.connection
    total = conn.execute(
        select(func.coalesce(func.sum(salesline.c.lineamount), 0)).where(
            salesline.c.dataareaid == company, salesline.c.salesid == order["salesid"]
        )
    ).scalar_one()
    total = Decimal(str(total)).quantize(CENT)
    current = get(conn, company, order["salesid"])
    if Decimal(current["totalamount"]).quantize(CENT) != total:
        current = uow.update(salestable, current["recid"], {"totalamount": total}, before=current)
    if current["status"] == "Confirmed":
        credit.check(conn, company, current)


def _require_editable(order: dict[str, Any]) -> None:
    if order["status"] not in EDITABLE:
        raise BusinessRuleError(
            f"Sales order {order['salesid']} is {order['status']} and can no longer be changed."
        )


def _refuse_if_on_hold(customer: dict[str, Any], action: str) -> None:
    if customer["blocked"] == "All":
        raise BusinessRuleError(
            f"Customer {customer['accountnum']} is on hold for all transactions and cannot {action}.",
            next_step="Set the customer's OnHoldStatus to No first.",
            target="OnHoldStatus",
        )


def _validate_header(conn: Connection, company: str, row: dict[str, Any], *, changed: set[str]) -> None:
    if "custaccount" in changed:
        _refuse_if_on_hold(customers.get(conn, company, row["custaccount"]), "take new sales orders")
    if "invoiceaccount" in changed:
        customers.get(conn, company, row["invoiceaccount"])
    if "currency" in changed:
        validation.require_reference(conn, currency, "currencycode", row["currency"], "Currency", target="currency")
    if "paymtermid" in changed and row.get("paymtermid"):
        validation.require_reference(conn, paymterm, "paymtermid", row["paymtermid"], "Terms of payment", company=company)
    if "orderdate" in changed and not isinstance(row.get("orderdate"), dt.date):
        raise ValidationError("The order date must be a date.", target="orderdate")
    if "delivery_countryregion" in changed:
        validation.country(row.get("delivery_countryregion"), target="delivery_countryregion")
