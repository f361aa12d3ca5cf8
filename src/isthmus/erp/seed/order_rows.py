"""Bulk sales orders and everything they post, one chunk of order blocks per transaction.

A chunk is first staged in the work tables — ``seed_line`` (1–5 lines per order, priced from the catalogue)
and ``seed_order`` (one row per order with its status, dates, totals and the numbers it takes from the
sequences) — and then written with one ``INSERT … SELECT`` per target table, the same rows the business logic
writes:

* every order: ``salestable`` (total = sum of its lines) and ``salesline``;
* Delivered and Invoiced: an ``inventtrans`` issue per item line (Deducted; Sold with cost posted once
  invoiced);
* Invoiced: ``custinvoicejour``/``custinvoicetrans``, an invoice ``custtrans`` due per the terms of payment,
  and the voucher receivables / revenue / cost of goods sold / inventory;
* about half of the invoices paid (most in full, some half): a payment ``custtrans`` settled against the
  invoice the way ``payments._settle`` settles it, and a bank / receivables voucher.

Statuses: about 70 % Invoiced, 7 % Delivered, 6 % Confirmed, 10 % Open, 7 % Cancelled. Order dates spread over
the fiscal years up to ``today`` (orders not yet invoiced are recent). An order that would have taken its
customer past a mandatory credit limit stays Open, as the credit check would have left it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from isthmus.erp import numbering
from isthmus.erp.seed import ledger_rows
from isthmus.erp.seed.customer_rows import order_customer
from isthmus.erp.seed.expressions import Hasher, clamp_max, formatted, insert_select, select_list
from isthmus.erp.seed.order_postings import ChunkCounts, post_chunk
from isthmus.erp.seed.plan import MAX_ITEM_QTY, MAX_LINES_PER_ORDER, PRODUCTS_PER_COMPANY, CompanyPlan, Task
from isthmus.erp.seed.workspace import Workspace, clear_chunk

INVOICED = "'Invoiced'"
WINDOW = "OVER (ORDER BY j ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
# The line slots 0..4 as a literal row set: its size is known to both planners, where a filtered scan of the
# numbers table looks like thousands of rows to PostgreSQL's.
LINE_NUMBERS = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(MAX_LINES_PER_ORDER))


def load_orders(
    conn: Connection, ws: Workspace, company: CompanyPlan, task: Task, params: dict[str, Any]
) -> None:
    clear_chunk(conn)
    h = Hasher(ws.plan.seed, company.index + 1)
    seqs = ledger_rows.read_sequences(conn, company.id)
    _stage_lines(conn, h, task, params)
    _stage_orders(conn, ws, company, h, task, seqs, params)
    counts = ChunkCounts.read(conn)
    post_chunk(conn, company, seqs, counts, params)
    for code, used in (
        (numbering.SALES_ID, counts.orders),
        (numbering.INVENT_TRANS_ID, counts.lines),
        (numbering.INVOICE_ID, counts.invoices),
        (numbering.INVOICE_VOUCHER, counts.invoices),
        (numbering.PAYMENT_VOUCHER, counts.payments),
        (numbering.GL_JOURNAL, counts.invoices + counts.payments),
    ):
        ledger_rows.advance(conn, company.id, code, used)


def _stage_lines(conn: Connection, h: Hasher, task: Task, params: dict[str, Any]) -> None:
    """1–5 lines per order on distinct products: the first product is drawn, the next ones step through the
    catalogue by a stride coprime with its size."""
    first = h.pick("o.j", "product", PRODUCTS_PER_COMPANY)
    stride = f"(CASE {h.pick('o.j', 'stride', 4)} WHEN 0 THEN 37 WHEN 1 THEN 53 WHEN 2 THEN 71 ELSE 97 END)"
    line_key = f"o.j * {MAX_LINES_PER_ORDER} + ln.n"
    item = "sp.producttype = 'Item'"
    values = {
        "j": "o.j",
        "n": "ln.n + 1",
        "itemid": "sp.itemid",
        "name": "sp.name",
        "unit": "sp.unit",
        "is_item": f"CASE WHEN {item} THEN 1 ELSE 0 END",
        "qty": f"CASE WHEN {item} THEN 1 + {h.pick(line_key, 'qty', MAX_ITEM_QTY)} "
        f"ELSE 1 + {h.pick(line_key, 'hours', 8)} END",
        "price_c": "sp.price_c",
        "cost_c": "sp.cost_c",
    }
    source = (
        f"FROM (SELECT b.n + {task.first} AS j FROM seed_number b WHERE b.n < {task.size}) o "
        f"CROSS JOIN ({LINE_NUMBERS}) ln JOIN seed_product sp ON sp.dataareaid = :company "
        f"AND sp.p = ({first} + ln.n * {stride}) % {PRODUCTS_PER_COMPANY} + 1 "
        f"WHERE ln.n < 1 + {h.pick('o.j', 'lines', MAX_LINES_PER_ORDER)}"
    )
    conn.execute(insert_select("seed_line", values, source, audited=False), params)


def _planned_status(h: Hasher) -> str:
    """74 % planned Invoiced: the credit check turns about 4 % back to Open, which leaves about 70 %
    invoiced."""
    pct = h.percent("t.j", "status")
    return (
        f"(CASE WHEN {pct} < 74 THEN 'Invoiced' WHEN {pct} < 81 THEN 'Delivered' "
        f"WHEN {pct} < 87 THEN 'Confirmed' WHEN {pct} < 93 THEN 'Open' ELSE 'Cancelled' END)"
    )


def _with_status(company: CompanyPlan, h: Hasher, seqs: dict[str, ledger_rows.Sequence], today: int) -> str:
    """Layer r: each order's totals (from its staged lines), customer, terms, order day and status. An order
    that would take a mandatory credit limit past its limit stays Open — the customer has no other balance or
    order, so the order alone is the credit check's exposure."""
    planned = _planned_status(h)
    over_limit = "c.mandatorycreditlimit AND c.creditmax > 0 AND t.total_c > c.creditmax * 100"
    account = formatted(seqs[numbering.CUSTOMER_ACCOUNT].format, order_customer(company, h, "t.j"))
    age = h.pick("t.j", "age", 45)
    columns = {
        "j": "t.j",
        "nlines": "t.nlines",
        "total_c": "t.total_c",
        "cogs_c": "t.cogs_c",
        "account": "c.accountnum",
        "terms": "COALESCE(pt.numofdays, 0)",
        "status": f"CASE WHEN {planned} IN ('Confirmed', 'Delivered', 'Invoiced') AND {over_limit} "
        f"THEN 'Open' ELSE {planned} END",
        # Orders still in progress are recent; invoiced and cancelled ones spread over all the years.
        "orderday": f"CASE WHEN {planned} IN ('Open', 'Confirmed', 'Delivered') "
        f"THEN (CASE WHEN {today} < {age} THEN 0 ELSE {today} - {age} END) "
        f"ELSE {h.pick('t.j', 'day', today + 1)} END",
    }
    # PostgreSQL sums BIGINT into NUMERIC; the casts keep the later integer division (total_c / 2) exact.
    totals = (
        "SELECT l.j, COUNT(*) AS nlines, CAST(SUM(l.qty * l.price_c) AS BIGINT) AS total_c, "
        "CAST(SUM(l.is_item * l.qty * l.cost_c) AS BIGINT) AS cogs_c FROM seed_line l GROUP BY l.j"
    )
    return (
        f"SELECT {select_list(columns)} FROM ({totals}) t "
        f"JOIN custtable c ON c.dataareaid = :company AND c.accountnum = {account} "
        "LEFT JOIN paymterm pt ON pt.dataareaid = :company AND pt.paymtermid = c.paymtermid"
    )


def _with_dates(h: Hasher, r: str, today: int) -> str:
    """Layers s and u: invoice, due, payment and delivery days (never after today), the amount paid (in full
    for 45 %, half for 7 % of the invoices) and a customer reference on half the orders."""
    invday = clamp_max(f"r.orderday + {h.pick('r.j', 'lead', 10)}", str(today))
    pay_pct = h.percent("s.j", "pay")
    shipday = clamp_max(f"s.orderday + {h.pick('s.j', 'ship', 5)}", str(today))
    columns = {
        "dueday": "s.invday + s.terms",
        "payday": clamp_max(f"s.invday + 5 + {h.pick('s.j', 'paydelay', 40)}", str(today)),
        "deliverday": f"CASE WHEN s.status = 'Delivered' THEN {shipday} "
        f"WHEN s.status = {INVOICED} THEN s.invday ELSE s.orderday END",
        "paid_c": f"CASE WHEN s.status <> {INVOICED} THEN 0 WHEN {pay_pct} < 45 THEN s.total_c "
        f"WHEN {pay_pct} < 52 THEN s.total_c / 2 ELSE 0 END",
        "customerref": f"CASE WHEN {h.percent('s.j', 'ref')} < 50 "
        f"THEN 'PO ' || CAST(100000 + {h.pick('s.j', 'po', 900000)} AS TEXT) END",
    }
    return f"SELECT s.*, {select_list(columns)} FROM (SELECT r.*, {invday} AS invday FROM ({r}) r) s"


def _with_ranks(u: str) -> str:
    """Layer w: running counts in order-number order, which turn into consecutive invoice, voucher and lot
    numbers."""
    columns = {
        "inv_rank": f"CAST(SUM(CASE WHEN u.status = {INVOICED} THEN 1 ELSE 0 END) {WINDOW} AS BIGINT)",
        "pay_rank": f"CAST(SUM(CASE WHEN u.paid_c > 0 THEN 1 ELSE 0 END) {WINDOW} AS BIGINT)",
        "lot_offset": f"CAST(SUM(u.nlines) {WINDOW} AS BIGINT) - u.nlines",
    }
    return f"SELECT u.*, {select_list(columns)} FROM ({u}) u"


def _stage_orders(
    conn: Connection,
    ws: Workspace,
    company: CompanyPlan,
    h: Hasher,
    task: Task,
    seqs: dict[str, ledger_rows.Sequence],
    params: dict[str, Any],
) -> None:
    """One ``seed_order`` row per order, with the numbers it takes from the sequences formatted once."""
    w = _with_ranks(_with_dates(h, _with_status(company, h, seqs, ws.today), ws.today))
    sales, lots = seqs[numbering.SALES_ID], seqs[numbering.INVENT_TRANS_ID]
    invoices, vouchers = seqs[numbering.INVOICE_ID], seqs[numbering.INVOICE_VOUCHER]
    payments = seqs[numbering.PAYMENT_VOUCHER]
    invoiced = f"CASE WHEN w.status = {INVOICED} THEN"
    copied = (
        "j", "account", "nlines", "status", "orderday", "deliverday", "invday", "dueday", "payday", "total_c",
        "cogs_c", "paid_c", "customerref", "inv_rank", "pay_rank",
    )  # fmt: skip
    values = {column: f"w.{column}" for column in copied} | {
        "salesid": formatted(sales.format, f"{sales.next} + w.j - {task.first}"),
        "lot0": f"{lots.next} + w.lot_offset",
        "invoiceid": f"{invoiced} {formatted(invoices.format, f'{invoices.next} + w.inv_rank - 1')} END",
        "inv_voucher": f"{invoiced} {formatted(vouchers.format, f'{vouchers.next} + w.inv_rank - 1')} END",
        "pay_voucher": f"CASE WHEN w.paid_c > 0 "
        f"THEN {formatted(payments.format, f'{payments.next} + w.pay_rank - 1')} END",
    }
    conn.execute(insert_select("seed_order", values, f"FROM ({w}) w ORDER BY w.j", audited=False), params)
