"""Inventory: receipts (inventory adjustments) and on-hand quantities. Issues are created by delivery and invoicing
(``invoicing``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from isthmus.errors import BusinessRuleError
from isthmus.erp import ledger, numbering, products, validation
from isthmus.erp.ledger import LedgerLine
from isthmus.erp.schema import dataarea, inventtrans
from isthmus.erp.setup import ACCOUNTS
from isthmus.storage import UnitOfWork

CENT = Decimal("0.01")


def on_hand(conn: Connection, company: str, item_id: str) -> Decimal:
    """Physical quantity on hand: every receipt minus every issue, delivered or invoiced."""
    total = conn.execute(
        select(func.coalesce(func.sum(inventtrans.c.qty), 0)).where(
            inventtrans.c.dataareaid == company, inventtrans.c.itemid == item_id
        )
    ).scalar_one()
    return Decimal(str(total))


def post_receipt(
    uow: UnitOfWork,
    company: str,
    item_id: str,
    qty: Any,
    *,
    unit_cost: Any | None = None,
    date: dt.date | None = None,
) -> dict[str, Any]:
    """Receive ``qty`` of an item into inventory at ``unit_cost`` (the product's cost by default) and post inventory
    against the goods-received account."""
    conn = uow.connection
    product = products.get(conn, company, item_id)
    if product["producttype"] != "Item":
        raise BusinessRuleError(f"Product {item_id} is a service and is not kept in inventory.")
    quantity = validation.amount(qty, "The quantity", target="Quantity", positive=True)
    cost_each = validation.amount(
        product["unitcost"] if unit_cost is None else unit_cost, "The unit cost", target="UnitCost", minimum=Decimal(0)
    )
    date = date or dt.date.today()
    value = (quantity * cost_each).quantize(CENT)
    voucher = numbering.next_number(conn, company, numbering.INVENTORY_VOUCHER)
    currency = conn.execute(select(dataarea.c.currency).where(dataarea.c.id == company)).scalar_one()
    row = uow.insert(
        inventtrans,
        {
            "dataareaid": company,
            "itemid": item_id,
            "inventtransid": numbering.next_number(conn, company, numbering.INVENT_TRANS_ID),
            "referencecategory": "InventoryAdjustment",
            "referenceid": voucher,
            "qty": quantity,
            "costamountphysical": value,
            "costamountposted": value,
            "statusissue": "None",
            "statusreceipt": "Purchased",
            "datephysical": date,
            "datefinancial": date,
            "voucher": voucher,
        },
    )
    ledger.post_voucher(
        uow,
        company,
        date=date,
        voucher=voucher,
        category="Inventory",
        currency=currency,
        lines=[
            LedgerLine(ACCOUNTS.inventory, value, "InventReceipt", quantity=quantity),
            LedgerLine(ACCOUNTS.receipt_offset, -value, "InventReceiptOffset"),
        ],
        text=f"Inventory receipt {item_id}",
    )
    return row
