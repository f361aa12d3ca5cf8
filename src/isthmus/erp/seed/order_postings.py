"""Writing one staged chunk of sales orders (``seed_order``/``seed_line``, see ``order_rows``) into the ERP
tables: orders and lines, invoice journals, customer transactions with their settlement, inventory issues and
vouchers. Each function mirrors one business operation — ``sales.create``, ``invoicing.post_packing_slip`` and
``post_invoice``, ``payments.post_payment`` — column for column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from isthmus.erp import customers, numbering
from isthmus.erp.seed import ledger_rows
from isthmus.erp.seed.expressions import formatted, insert_select, money, quote
from isthmus.erp.seed.plan import CompanyPlan
from isthmus.erp.setup import ACCOUNTS

INVOICED = "o.status = 'Invoiced'"
PAID = "o.paid_c > 0"
ORDERS = "FROM seed_order o"
LINES = "FROM seed_line l JOIN seed_order o ON o.j = l.j"


@dataclass(frozen=True)
class ChunkCounts:
    """How many numbers of each kind the staged chunk uses."""

    orders: int
    lines: int
    invoices: int
    payments: int

    @classmethod
    def read(cls, conn: Connection) -> ChunkCounts:
        row = conn.execute(
            text(
                f"SELECT COUNT(*), COALESCE(SUM(o.nlines), 0), "
                f"COALESCE(SUM(CASE WHEN {INVOICED} THEN 1 ELSE 0 END), 0), "
                f"COALESCE(SUM(CASE WHEN {PAID} THEN 1 ELSE 0 END), 0) {ORDERS}"
            )
        ).one()
        return cls(*(int(v) for v in row))


def post_chunk(
    conn: Connection,
    company: CompanyPlan,
    seqs: dict[str, ledger_rows.Sequence],
    counts: ChunkCounts,
    params: dict[str, Any],
) -> None:
    lot = formatted(seqs[numbering.INVENT_TRANS_ID].format, "o.lot0 + l.n - 1")
    _orders(conn, params)
    _lines(conn, lot, params)
    _invoices(conn, lot, params)
    _customer_transactions(conn, params)
    _inventory_issues(conn, lot, params)
    _vouchers(conn, seqs[numbering.GL_JOURNAL], counts, params)


def _orders(conn: Connection, params: dict[str, Any]) -> None:
    """The order header as ``sales.create`` makes it from the customer, moved on to its status."""
    values = {
        "dataareaid": ":company",
        "salesid": "o.salesid",
        "custaccount": "o.account",
        "invoiceaccount": "o.account",
        "currency": "c.currency",
        "status": "o.status",
        "orderdate": "od.day",
        "customerref": "o.customerref",
        "paymtermid": "c.paymtermid",
        "intercompany": "FALSE",
        "totalamount": money("o.total_c"),
        "confirmeddatetime": "CASE WHEN o.status IN ('Confirmed', 'Delivered', 'Invoiced') THEN od.stamp END",
        "invoiceid": "o.invoiceid",
        **{f"delivery_{part}": f"c.delivery_{part}" for part in customers.ADDRESS_PARTS},
    }
    source = (
        f"{ORDERS} JOIN custtable c ON c.dataareaid = :company AND c.accountnum = o.account "
        "JOIN seed_day od ON od.d = o.orderday ORDER BY o.j"
    )
    conn.execute(insert_select("salestable", values, source), params)


def _lines(conn: Connection, lot: str, params: dict[str, Any]) -> None:
    values = {
        "dataareaid": ":company",
        "salesid": "o.salesid",
        "linenum": "l.n",
        "inventtransid": lot,
        "itemid": "l.itemid",
        "name": "l.name",
        "qty": "l.qty",
        "salesunit": "l.unit",
        "salesprice": money("l.price_c"),
        "discamount": "0",
        "lineamount": money("l.qty * l.price_c"),
        "currency": ":currency",
    }
    conn.execute(insert_select("salesline", values, f"{LINES} ORDER BY l.j, l.n"), params)


def _invoices(conn: Connection, lot: str, params: dict[str, Any]) -> None:
    journal = {
        "dataareaid": ":company",
        "invoiceid": "o.invoiceid",
        "salesid": "o.salesid",
        "orderaccount": "o.account",
        "invoiceaccount": "o.account",
        "invoicedate": "di.day",
        "duedate": "dd.day",
        "currency": ":currency",
        "invoiceamount": money("o.total_c"),
        "ledgervoucher": "o.inv_voucher",
    }
    source = (
        f"{ORDERS} JOIN seed_day di ON di.d = o.invday JOIN seed_day dd ON dd.d = o.dueday "
        f"WHERE {INVOICED} ORDER BY o.j"
    )
    conn.execute(insert_select("custinvoicejour", journal, source), params)
    lines = {
        "dataareaid": ":company",
        "invoiceid": "o.invoiceid",
        "linenum": "l.n",
        "itemid": "l.itemid",
        "name": "l.name",
        "qty": "l.qty",
        "salesprice": money("l.price_c"),
        "lineamount": money("l.qty * l.price_c"),
        "inventtransid": lot,
    }
    conn.execute(
        insert_select("custinvoicetrans", lines, f"{LINES} WHERE {INVOICED} ORDER BY l.j, l.n"), params
    )


def _customer_transactions(conn: Connection, params: dict[str, Any]) -> None:
    """The invoice (settled by what was paid, closed when paid in full) and, when paid, the payment (always
    fully used, so closed on its date) — what ``payments._settle`` leaves behind for a customer with one open
    invoice."""
    invoice = {
        "dataareaid": ":company",
        "accountnum": "o.account",
        "voucher": "o.inv_voucher",
        "transdate": "di.day",
        "transtype": "'Invoice'",
        "invoice": "o.invoiceid",
        "paymentreference": "NULL",
        "text": "'Invoice ' || o.invoiceid || ' for sales order ' || o.salesid",
        "amountcur": money("o.total_c"),
        "currency": ":currency",
        "settleamountcur": money("o.paid_c"),
        "duedate": "dd.day",
        "closed": "CASE WHEN o.paid_c = o.total_c THEN dp.day END",
    }
    source = (
        f"{ORDERS} JOIN seed_day di ON di.d = o.invday JOIN seed_day dd ON dd.d = o.dueday "
        f"JOIN seed_day dp ON dp.d = o.payday WHERE {INVOICED} ORDER BY o.j"
    )
    conn.execute(insert_select("custtrans", invoice, source), params)
    # The customer quotes the invoice number as the payment reference.
    payment = invoice | {
        "voucher": "o.pay_voucher",
        "transdate": "dp.day",
        "transtype": "'Payment'",
        "invoice": "NULL",
        "paymentreference": "o.invoiceid",
        "text": "'Payment ' || o.invoiceid",
        "amountcur": money("-o.paid_c"),
        "settleamountcur": money("-o.paid_c"),
        "duedate": "NULL",
        "closed": "dp.day",
    }
    source = f"{ORDERS} JOIN seed_day dp ON dp.d = o.payday WHERE {PAID} ORDER BY o.j"
    conn.execute(insert_select("custtrans", payment, source), params)


def _inventory_issues(conn: Connection, lot: str, params: dict[str, Any]) -> None:
    """One issue per item line of a Delivered (Deducted, physical cost) or Invoiced (Sold, cost posted)
    order."""
    cost = money("-(l.qty * l.cost_c)")
    values = {
        "dataareaid": ":company",
        "itemid": "l.itemid",
        "inventtransid": lot,
        "referencecategory": "'Sales'",
        "referenceid": "o.salesid",
        "qty": "-l.qty",
        "costamountphysical": cost,
        "costamountposted": f"CASE WHEN {INVOICED} THEN {cost} ELSE 0 END",
        "statusissue": f"CASE WHEN {INVOICED} THEN 'Sold' ELSE 'Deducted' END",
        "statusreceipt": "'None'",
        "datephysical": "dd.day",
        "datefinancial": f"CASE WHEN {INVOICED} THEN dd.day END",
        "invoiceid": "o.invoiceid",
        "voucher": "o.inv_voucher",
    }
    source = (
        f"{LINES} JOIN seed_day dd ON dd.d = o.deliverday "
        "WHERE l.is_item = 1 AND o.status IN ('Delivered', 'Invoiced') ORDER BY l.j, l.n"
    )
    conn.execute(insert_select("inventtrans", values, source), params)


def _vouchers(
    conn: Connection, journal: ledger_rows.Sequence, counts: ChunkCounts, params: dict[str, Any]
) -> None:
    """Invoice vouchers take the chunk's first journal numbers, payment vouchers the ones after them. Zero
    lines are left out as ``post_voucher`` leaves them out (a services-only invoice has no cost of goods
    sold)."""
    invoice_text = "'Sales invoice ' || o.invoiceid"
    payment_text = "'Customer payment ' || o.account"
    customer_text = "'Customer ' || o.account"
    invoiced, paid = f"{ORDERS} WHERE {INVOICED}", f"{ORDERS} WHERE {PAID}"
    headers = (
        "SELECT o.inv_voucher AS v, o.inv_rank - 1 AS jn, o.invday AS d, 'Sales' AS cat, "
        f"o.invoiceid AS doc, {invoice_text} AS txt {invoiced} UNION ALL "
        f"SELECT o.pay_voucher, {counts.invoices} + o.pay_rank - 1, o.payday, 'Payment', o.invoiceid, "
        f"{payment_text} {paid}"
    )
    lines = " UNION ALL ".join(
        (
            f"SELECT o.inv_voucher AS v, 1 AS ln, {quote(ACCOUNTS.receivables)} AS acct, "
            f"'CustBalance' AS pt, o.total_c AS amt, CAST(NULL AS BIGINT) AS qty, {customer_text} AS txt "
            f"{invoiced}",
            f"SELECT o.inv_voucher, 2, {quote(ACCOUNTS.revenue)}, 'SalesRevenue', -o.total_c, NULL, "
            f"{invoice_text} {invoiced}",
            f"SELECT o.inv_voucher, 3, {quote(ACCOUNTS.cogs)}, 'InventCostOfGoodsSold', o.cogs_c, NULL, "
            f"{invoice_text} {invoiced} AND o.cogs_c <> 0",
            f"SELECT o.inv_voucher, 4, {quote(ACCOUNTS.inventory)}, 'InventIssue', -o.cogs_c, NULL, "
            f"{invoice_text} {invoiced} AND o.cogs_c <> 0",
            f"SELECT o.pay_voucher, 1, {quote(ACCOUNTS.bank)}, 'Bank', o.paid_c, NULL, {payment_text} {paid}",
            f"SELECT o.pay_voucher, 2, {quote(ACCOUNTS.receivables)}, 'CustBalance', -o.paid_c, NULL, "
            f"{customer_text} {paid}",
        )
    )
    ledger_rows.post(conn, params, headers=headers, lines=lines, journal=journal)
