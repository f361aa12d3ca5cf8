"""Delivering (packing slip) and invoicing sales orders.

``post_packing_slip`` issues the ordered items from inventory (physical issue, status Deducted) and moves a Confirmed
order to Delivered. ``post_invoice`` invoices a Confirmed or Delivered order (delivering it first when needed) in one
transaction that writes:

* the invoice journal (``custinvoicejour`` and its lines);
* a customer transaction for the invoice amount, which raises the customer's balance, due per the terms of payment;
* a balanced general ledger voucher: receivables debit, revenue credit, and for stocked items the cost of goods sold
  against inventory at the product's unit cost;
* the financial update of the inventory issues (status Sold, cost posted).

The invoice date must fall in an open fiscal period, and the invoice account must not be on hold for invoicing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from isthmus.errors import BusinessRuleError
from isthmus.erp import customers, ledger, numbering, products, sales
from isthmus.erp.ledger import LedgerLine
from isthmus.erp.schema import custinvoicejour, custinvoicetrans, custtrans, inventtrans, paymterm, salestable
from isthmus.erp.setup import ACCOUNTS
from isthmus.storage import UnitOfWork

CENT = Decimal("0.01")


def post_packing_slip(uow: UnitOfWork, company: str, sales_id: str, *, date: dt.date | None = None) -> dict[str, Any]:
    conn = uow.connection
    order = sales.get(conn, company, sales_id)
    if order["status"] != "Confirmed":
        raise BusinessRuleError(
            f"Sales order {sales_id} is {order['status']}; only a confirmed order can be delivered.",
            next_step="Confirm the order first." if order["status"] == "Open" else None,
        )
    date = date or dt.date.today()
    issues = []
    for line in sales.lines(conn, company, sales_id):
        product = products.get(conn, company, line["itemid"])
        if product["producttype"] != "Item":
            continue
        cost = (Decimal(line["qty"]) * Decimal(product["unitcost"])).quantize(CENT)
        issues.append(
            {
                "dataareaid": company,
                "itemid": line["itemid"],
                "inventtransid": line["inventtransid"],
                "referencecategory": "Sales",
                "referenceid": sales_id,
                "qty": -Decimal(line["qty"]),
                "costamountphysical": -cost,
                "costamountposted": Decimal(0),
                "statusissue": "Deducted",
                "statusreceipt": "None",
                "datephysical": date,
            }
        )
    uow.insert_many(inventtrans, issues)
    return uow.update(salestable, order["recid"], {"status": "Delivered"}, before=order)


def post_invoice(uow: UnitOfWork, company: str, sales_id: str, *, date: dt.date | None = None) -> dict[str, Any]:
    """Invoice the whole order; returns the invoice journal row."""
    conn = uow.connection
    date = date or dt.date.today()
    order = sales.get(conn, company, sales_id)
    if order["status"] not in ("Confirmed", "Delivered"):
        raise BusinessRuleError(
            f"Sales order {sales_id} is {order['status']}; only a confirmed or delivered order can be invoiced.",
            next_step="Confirm the order first." if order["status"] == "Open" else None,
        )
    account = customers.get(conn, company, order["invoiceaccount"])
    if account["blocked"] in ("Invoice", "All"):
        raise BusinessRuleError(
            f"Customer {account['accountnum']} is on hold ({account['blocked']}) and cannot be invoiced.",
            next_step="Set the customer's OnHoldStatus to No first.",
            target="OnHoldStatus",
        )
    ledger.require_open_period(conn, company, date)
    if order["status"] == "Confirmed":
        post_packing_slip(uow, company, sales_id, date=date)
        order = sales.get(conn, company, sales_id)

    order_lines = sales.lines(conn, company, sales_id)
    total = sum((Decimal(ln["lineamount"]) for ln in order_lines), Decimal(0)).quantize(CENT)
    invoice_id = numbering.next_number(conn, company, numbering.INVOICE_ID)
    voucher = numbering.next_number(conn, company, numbering.INVOICE_VOUCHER)
    days = 0
    if order["paymtermid"]:
        days = conn.execute(
            select(paymterm.c.numofdays).where(
                paymterm.c.dataareaid == company, paymterm.c.paymtermid == order["paymtermid"]
            )
        ).scalar_one_or_none() or 0
    due = date + dt.timedelta(days=days)

    journal = uow.insert(
        custinvoicejour,
        {
            "dataareaid": company,
            "invoiceid": invoice_id,
            "salesid": sales_id,
            "orderaccount": order["custaccount"],
            "invoiceaccount": order["invoiceaccount"],
            "invoicedate": date,
            "duedate": due,
            "currency": order["currency"],
            "invoiceamount": total,
            "ledgervoucher": voucher,
        },
    )
    uow.insert_many(
        custinvoicetrans,
        [
            {
                "dataareaid": company,
                "invoiceid": invoice_id,
                "linenum": ln["linenum"],
                "itemid": ln["itemid"],
                "name": ln["name"],
                "qty": ln["qty"],
                "salesprice": ln["salesprice"],
                "lineamount": ln["lineamount"],
                "inventtransid": ln["inventtransid"],
            }
            for ln in order_lines
        ],
    )
    uow.insert(
        custtrans,
        {
            "dataareaid": company,
            "accountnum": order["invoiceaccount"],
            "voucher": voucher,
            "transdate": date,
            "transtype": "Invoice",
            "invoice": invoice_id,
            "text": f"Invoice {invoice_id} for sales order {sales_id}",
            "amountcur": total,
            "currency": order["currency"],
            "settleamountcur": Decimal(0),
            "duedate": due,
        },
    )

    # Financial update of the issues: cost of goods sold against inventory at the cost deducted on delivery.
    issues = uow.connection.execute(
        select(inventtrans).where(
            inventtrans.c.dataareaid == company,
            inventtrans.c.referencecategory == "Sales",
            inventtrans.c.referenceid == sales_id,
            inventtrans.c.statusissue == "Deducted",
        )
    ).mappings().all()
    cost_by_item: dict[str, Decimal] = defaultdict(Decimal)
    for issue in issues:
        cost = -Decimal(issue["costamountphysical"])
        cost_by_item[issue["itemid"]] += cost
        uow.update(
            inventtrans,
            issue["recid"],
            {
                "statusissue": "Sold",
                "datefinancial": date,
                "costamountposted": -cost,
                "invoiceid": invoice_id,
                "voucher": voucher,
            },
            before=issue,
        )
    cogs = sum(cost_by_item.values(), Decimal(0)).quantize(CENT)
    lines = [
        LedgerLine(ACCOUNTS.receivables, total, "CustBalance", f"Customer {order['invoiceaccount']}"),
        LedgerLine(ACCOUNTS.revenue, -total, "SalesRevenue"),
        LedgerLine(ACCOUNTS.cogs, cogs, "InventCostOfGoodsSold"),
        LedgerLine(ACCOUNTS.inventory, -cogs, "InventIssue"),
    ]
    ledger.post_voucher(
        uow,
        company,
        date=date,
        voucher=voucher,
        category="Sales",
        currency=order["currency"],
        lines=lines,
        document_number=invoice_id,
        text=f"Sales invoice {invoice_id}",
    )
    uow.update(salestable, order["recid"], {"status": "Invoiced", "invoiceid": invoice_id}, before=order)
    return journal
