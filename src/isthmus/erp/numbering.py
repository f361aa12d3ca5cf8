"""Number sequences: the per-company counters behind customer accounts, order, invoice and voucher numbers.

A format is text with one run of ``#`` that the counter fills, zero-padded (``US-#######`` → ``US-0000042``); a
counter that outgrows the run simply gets longer. Allocation is an ``UPDATE … RETURNING`` inside the caller's
transaction, so a rolled-back write gives its number back and two writers never get the same one.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, select, update

from isthmus.errors import ConfigurationError
from isthmus.erp.schema import numbersequence

CUSTOMER_ACCOUNT = "Cust_AccountNum"
PARTY_NUMBER = "Party_Number"
SALES_ID = "Sales_SalesId"
INVENT_TRANS_ID = "Invent_TransId"
INVOICE_ID = "Cust_InvoiceId"
INVOICE_VOUCHER = "Cust_InvoiceVoucher"
PAYMENT_VOUCHER = "Cust_PaymentVoucher"
INVENTORY_VOUCHER = "Invent_Voucher"
PACKING_SLIP_VOUCHER = "Sales_PackingSlipVoucher"
GL_JOURNAL = "GL_JournalNumber"
YEAR_END_VOUCHER = "GL_YearEndVoucher"

_RUN = re.compile(r"#+")


def default_formats(prefix: str) -> dict[str, str]:
    """The sequences every company gets, with its two-letter ``prefix`` (e.g. ``US`` for usmf)."""
    return {
        CUSTOMER_ACCOUNT: f"{prefix}-#######",
        PARTY_NUMBER: f"{prefix}P-#########",
        SALES_ID: f"{prefix}SO-########",
        INVENT_TRANS_ID: f"{prefix}LOT-#########",
        INVOICE_ID: f"{prefix}CIV-########",
        INVOICE_VOUCHER: f"{prefix}INV-########",
        PAYMENT_VOUCHER: f"{prefix}PAY-########",
        INVENTORY_VOUCHER: f"{prefix}INVT-########",
        PACKING_SLIP_VOUCHER: f"{prefix}PS-########",
        GL_JOURNAL: f"{prefix}GJ-########",
        YEAR_END_VOUCHER: f"{prefix}YE-######",
    }


def format_number(fmt: str, value: int) -> str:
    match = _RUN.search(fmt)
    if match is None:
        return f"{fmt}{value}"
    width = match.end() - match.start()
    return f"{fmt[: match.start()]}{value:0{width}d}{fmt[match.end():]}"


def next_number(conn: Connection, company: str, code: str) -> str:
    """Allocate the next number of sequence ``code`` in ``company``."""
    return next_numbers(conn, company, code, 1)[0]


def next_numbers(conn: Connection, company: str, code: str, count: int) -> list[str]:
    """Allocate ``count`` consecutive numbers in one statement (order lines, bulk creates)."""
    seq = numbersequence.c
    row = conn.execute(
        update(numbersequence)
        .where(seq.dataareaid == company, seq.code == code)
        .values(nextrec=seq.nextrec + count)
        .returning(seq.nextrec, seq.format)
    ).one_or_none()
    if row is None:
        raise ConfigurationError(
            f"Number sequence {code} is not set up for company {company}.",
            next_step="Set up the company's number sequences (isthmus.erp.setup.create_company does it).",
        )
    first = row.nextrec - count
    return [format_number(row.format, n) for n in range(first, first + count)]


def peek(conn: Connection, company: str, code: str) -> int:
    """The value the next allocation will get (for tests and the seed)."""
    seq = numbersequence.c
    return conn.execute(select(seq.nextrec).where(seq.dataareaid == company, seq.code == code)).scalar_one()
