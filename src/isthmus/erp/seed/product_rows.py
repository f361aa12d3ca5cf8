"""The seed's product catalogue and opening stock.

Each company gets ``ITEMS_PER_COMPANY`` stocked items (``D0001`` …) and ``SERVICES_PER_COMPANY`` services
(``S0001`` …). Item numbers, names, groups and units are the same in every company (a shared catalogue
released to each legal entity); prices and costs differ per company. Every item is received once, on the first
day of the oldest fiscal year, in a quantity sized to the company's expected sales so that stock never runs
out: the receipt writes what ``inventory.post_receipt`` writes — an ``inventtrans`` (Purchased) and an
inventory / goods-received voucher.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection

from isthmus.erp import numbering
from isthmus.erp.seed import ledger_rows
from isthmus.erp.seed.expressions import Hasher, formatted, insert_select, money, padded, quote
from isthmus.erp.seed.plan import (
    ITEMS_PER_COMPANY,
    MAX_ITEM_QTY,
    MAX_LINES_PER_ORDER,
    PRODUCTS_PER_COMPANY,
    CompanyPlan,
)
from isthmus.erp.seed.workspace import Workspace
from isthmus.erp.setup import ACCOUNTS


def receipt_quantity(company: CompanyPlan) -> int:
    """Twice the expected quantity sold per item, plus a floor for small runs."""
    mean_lines = (MAX_LINES_PER_ORDER + 1) / 2
    mean_qty = (MAX_ITEM_QTY + 1) / 2
    return math.ceil(2 * company.orders * mean_lines * mean_qty / PRODUCTS_PER_COMPANY) + 50


def build_catalog(conn: Connection, ws: Workspace, company: CompanyPlan) -> None:
    """Fill ``seed_product`` for ``company``: product *p* (1-based) is an item up to ``ITEMS_PER_COMPANY``, a
    service after. Prices and costs are kept in integer cents so that every later amount is exact."""
    shared = Hasher(ws.plan.seed)  # company 0: the same names in every company
    local = Hasher(ws.plan.seed, company.index + 1)
    item = f"b.n < {ITEMS_PER_COMPANY}"

    def either(item_sql: str, service_sql: str) -> str:
        return f"CASE WHEN {item} THEN {item_sql} ELSE {service_sql} END"

    item_price = f"((5 + {local.pick('b.n', 'price', 1995)}) * 100 - 1)"  # 4.99 … 1,998.99
    service_price = f"((65 + {local.pick('b.n', 'price', 186)}) * 100)"  # 65.00 … 250.00
    model = f"upper(substr(noun.slug, 1, 2)) || '-' || CAST(100 + {shared.pick('b.n', 'model', 900)} AS TEXT)"
    values = {
        "dataareaid": ":company",
        "p": "b.n + 1",
        "itemid": either(
            f"'D' || {padded('b.n + 1', 4)}", f"'S' || {padded(f'b.n + 1 - {ITEMS_PER_COMPANY}', 4)}"
        ),
        "name": either(f"adj.word || ' ' || noun.word || ' ' || {model}", "svc.word"),
        "description": either(
            "adj.word || ' ' || lower(noun.word) || ', ' || lower(noun.a) || ' range'",
            "svc.word || ' by Contoso technicians'",
        ),
        "producttype": either("'Item'", "'Service'"),
        "itemgroup": either("noun.a", "svc.a"),
        "unit": either("noun.b", "svc.b"),
        "price_c": either(item_price, service_price),
        # Cost is 40-75 % of the price for items, 30-60 % for services (rounded down to the cent).
        "cost_c": either(
            f"{item_price} * (40 + {local.pick('b.n', 'margin', 35)}) / 100",
            f"{service_price} * (30 + {local.pick('b.n', 'margin', 30)}) / 100",
        ),
        "receipt_qty": either(f"{receipt_quantity(company)} + {local.pick('b.n', 'receipt', 50)}", "0"),
    }
    (adjective, adjectives), (noun, nouns) = ws.words("adjective"), ws.words("noun")
    source = (
        "FROM seed_number b "
        f"LEFT JOIN seed_word adj ON adj.list = {adjective} "
        f"AND adj.i = {shared.pick('b.n', 'adjective', adjectives)} "
        # Nouns in turn, so that every kind of product is in the catalogue.
        f"LEFT JOIN seed_word noun ON noun.list = {noun} AND noun.i = b.n % {nouns} "
        f"LEFT JOIN seed_word svc ON svc.list = {ws.words('service')[0]} "
        f"AND svc.i = b.n - {ITEMS_PER_COMPANY} "
        f"WHERE b.n < {PRODUCTS_PER_COMPANY}"
    )
    conn.execute(insert_select("seed_product", values, source, audited=False), {"company": company.id})


def load_products(conn: Connection, ws: Workspace, company: CompanyPlan, params: dict[str, Any]) -> None:
    """Release the catalogue to ``company`` and post the opening receipt of every item."""
    products = {
        "dataareaid": "p.dataareaid",
        "itemid": "p.itemid",
        "productnumber": "p.itemid",
        "name": "p.name",
        "description": "p.description",
        "producttype": "p.producttype",
        "itemgroup": "p.itemgroup",
        "salesprice": money("p.price_c"),
        "salesunit": "p.unit",
        "unitcost": money("p.cost_c"),
    }
    source = "FROM seed_product p WHERE p.dataareaid = :company ORDER BY p.p"
    conn.execute(insert_select("inventtable", products, source), params)
    seqs = ledger_rows.read_sequences(conn, company.id)
    lots, vouchers = seqs[numbering.INVENT_TRANS_ID], seqs[numbering.INVENTORY_VOUCHER]
    voucher = formatted(vouchers.format, f"{vouchers.next} + p.p - 1")
    value = "p.receipt_qty * p.cost_c"
    receipts = {
        "dataareaid": "p.dataareaid",
        "itemid": "p.itemid",
        "inventtransid": formatted(lots.format, f"{lots.next} + p.p - 1"),
        "referencecategory": "'InventoryAdjustment'",
        "referenceid": voucher,
        "qty": "p.receipt_qty",
        "costamountphysical": money(value),
        "costamountposted": money(value),
        "statusissue": "'None'",
        "statusreceipt": "'Purchased'",
        "datephysical": "dd.day",
        "datefinancial": "dd.day",
        "voucher": voucher,
    }
    where = f"WHERE p.dataareaid = :company AND p.p <= {ITEMS_PER_COMPANY}"
    items = f"FROM seed_product p {where}"
    source = f"FROM seed_product p JOIN seed_day dd ON dd.d = 0 {where} ORDER BY p.p"  # day 0: oldest Jan 1
    conn.execute(insert_select("inventtrans", receipts, source), params)
    text_ = "'Inventory receipt ' || p.itemid"
    ledger_rows.post(
        conn,
        params,
        headers=f"SELECT {voucher} AS v, p.p - 1 AS jn, 0 AS d, 'Inventory' AS cat, "
        f"CAST(NULL AS VARCHAR(20)) AS doc, {text_} AS txt {items}",
        lines=f"SELECT {voucher} AS v, 1 AS ln, {quote(ACCOUNTS.inventory)} AS acct, 'InventReceipt' AS pt, "
        f"{value} AS amt, p.receipt_qty AS qty, {text_} AS txt {items} UNION ALL "
        f"SELECT {voucher}, 2, {quote(ACCOUNTS.receipt_offset)}, 'InventReceiptOffset', -({value}), NULL, "
        f"{text_} {items}",
        journal=seqs[numbering.GL_JOURNAL],
    )
    for code in (numbering.INVENT_TRANS_ID, numbering.INVENTORY_VOUCHER, numbering.GL_JOURNAL):
        ledger_rows.advance(conn, company.id, code, ITEMS_PER_COMPANY)
