"""Bulk general-ledger vouchers and number-sequence reservations for the seed.

A voucher is written exactly as ``ledger.post_voucher`` writes it — one ``generaljournalentry`` with a journal
number from the company's ``GL_JournalNumber`` sequence, the fiscal year and period of its date, and numbered
``generaljournalaccountentry`` lines signed debit-positive that sum to zero — but for a whole chunk of
vouchers in two statements. The callers describe their vouchers as two SELECTs over the work tables (see
:func:`post`); the period checks of ``post_voucher`` are not repeated because the seed only posts into periods
it has just created Open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from isthmus.erp.schema import numbersequence
from isthmus.erp.seed.expressions import formatted, insert_select, money


@dataclass(frozen=True)
class Sequence:
    """A number sequence as read at the start of a task: the next value and the format."""

    next: int
    format: str


def read_sequences(conn: Connection, company: str) -> dict[str, Sequence]:
    """The company's sequences, locked until the task commits (PostgreSQL ``FOR UPDATE``; SQLite's write
    transaction already excludes other writers), so no allocation can slip in between read and advance."""
    s = numbersequence.c
    rows = conn.execute(select(s.code, s.nextrec, s.format).where(s.dataareaid == company).with_for_update())
    return {code: Sequence(int(nextrec), fmt) for code, nextrec, fmt in rows}


def advance(conn: Connection, company: str, code: str, count: int) -> None:
    """Consume ``count`` numbers of sequence ``code``, in the same transaction as the rows that use them, so
    that a rolled-back chunk gives them back and later business-logic allocations start after the seeded ones.
    """
    if count:
        s = numbersequence.c
        conn.execute(
            update(numbersequence)
            .where(s.dataareaid == company, s.code == code)
            .values(nextrec=s.nextrec + count)
        )


def post(
    conn: Connection,
    params: dict[str, Any],
    *,
    headers: str,
    lines: str,
    journal: Sequence,
) -> None:
    """Insert the vouchers described by ``headers`` and their ``lines``.

    ``headers`` is a SELECT of ``v`` (voucher), ``jn`` (0-based offset into the journal-number sequence),
    ``d`` (day number), ``cat`` (journal category), ``doc`` (document number) and ``txt``. ``lines`` is a
    SELECT of ``v``, ``ln`` (line number), ``acct``, ``pt`` (posting type), ``amt`` (signed cents), ``qty``
    and ``txt``. ``params`` must bind ``:now``, ``:company`` and ``:currency``."""
    headers_values = {
        "dataareaid": ":company",
        "journalnumber": formatted(journal.format, f"{journal.next} + h.jn"),
        "subledgervoucher": "h.v",
        "accountingdate": "dd.day",
        "fiscalyear": "dd.fy",
        "fiscalperiod": "dd.period",
        "journalcategory": "h.cat",
        "postinglayer": "'Current'",
        "documentnumber": "h.doc",
        "text": "h.txt",
    }
    source = f"FROM ({headers}) h JOIN seed_day dd ON dd.d = h.d ORDER BY h.jn"
    conn.execute(insert_select("generaljournalentry", headers_values, source), params)
    line_values = {
        "dataareaid": ":company",
        "generaljournalentry": "e.recid",
        "linenum": "l.ln",
        "mainaccountid": "l.acct",
        "postingtype": "l.pt",
        "transactioncurrencycode": ":currency",
        "transactioncurrencyamount": money("l.amt"),
        "accountingcurrencyamount": money("l.amt"),
        "iscredit": "(l.amt < 0)",
        "quantity": "l.qty",
        "text": "l.txt",
    }
    # The lines find their header's surrogate key through the (dataareaid, subledgervoucher) unique index.
    source = (
        f"FROM ({lines}) l JOIN generaljournalentry e "
        "ON e.dataareaid = :company AND e.subledgervoucher = l.v ORDER BY e.recid, l.ln"
    )
    conn.execute(insert_select("generaljournalaccountentry", line_values, source), params)
