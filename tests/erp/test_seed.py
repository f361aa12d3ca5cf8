"""Tests of ``isthmus.erp.seed``: the generated data set obeys the ERP's invariants (balanced vouchers,
balances and settlements that add up, totals, stock, closed years, numbering), holds the fixed demo scenario,
is the same for the same seed (on SQLite and PostgreSQL alike) and survives a crash by resuming.

The fixtures are local to this module: a data set of ``N`` customers generated once per backend for the
read-only tests, and fresh small data sets for the tests that write through the business logic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Table, create_engine, select, text

from isthmus.erp import customers, inventory, invoicing, numbering, payments, sales, schema
from isthmus.erp.errors import CreditLimitExceededError, PeriodClosedError
from isthmus.erp.seed import (
    DEMO_COMPANY,
    DEMO_CREDIT_LIMIT,
    DEMO_CUSTOMER,
    DEMO_CUSTOMER_NAME,
    DEMO_ORDER,
    DEMO_ORDER_AMOUNT,
    DEMO_RAISED_CREDIT_LIMIT,
    STAGES,
    SeedSummary,
    generate,
    order_rows,
    plan,
)
from isthmus.erp.seed.expressions import formatted
from isthmus.errors import ConflictError
from isthmus.storage import CallContext, Database

TODAY = dt.date(2025, 6, 15)
N = 3000
SMALL = 400
PG_SERVER = os.environ.get("ISTHMUS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
CENT = Decimal("0.01")
CTX = CallContext(user="tester", company="usmf")
COMPANIES = {"usmf": ("USD", "USA", "US"), "demf": ("EUR", "DEU", "DE"), "gbsi": ("GBP", "GBR", "GB")}


@dataclass
class Seeded:
    db: Database
    summary: SeedSummary
    events: list[tuple[str, int, int]] = field(default_factory=list)


# --- fixtures -----------------------------------------------------------------------------------------------


@contextmanager
def _database(backend: str, directory: Path) -> Iterator[Database]:
    """A new, empty database: a SQLite file, or a PostgreSQL database created here and dropped afterwards."""
    if backend == "sqlite":
        database = Database(f"sqlite:///{directory / f'seed-{uuid.uuid4().hex[:8]}.db'}")
        yield database
        database.dispose()
        return
    name = f"isthmus_seed_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(f"{PG_SERVER}/{name}")
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _seed(database: Database, count: int = N, **kwargs: Any) -> Seeded:
    events: list[tuple[str, int, int]] = []
    summary = generate(
        database,
        customers=count,
        today=TODAY,
        progress=lambda stage, done, total: events.append((stage, done, total)),
        **kwargs,
    )
    return Seeded(database, summary, events)


@pytest.fixture(scope="module")
def sqlite_seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    with _database("sqlite", tmp_path_factory.mktemp("seed")) as database:
        yield _seed(database)


@pytest.fixture(scope="module")
def postgres_seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    with _database("postgres", tmp_path_factory.mktemp("seed")) as database:
        yield _seed(database)


@pytest.fixture(params=BACKENDS)
def seeded(request: pytest.FixtureRequest) -> Seeded:
    """The module's read-only data set of ``N`` customers on each backend."""
    return request.getfixturevalue(f"{request.param}_seeded")


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Seeded]:
    """A data set of ``SMALL`` customers of the test's own, to write to."""
    with _database(request.param, tmp_path) as database:
        yield _seed(database, SMALL)


# --- helpers ------------------------------------------------------------------------------------------------


def _rows(db: Database, sql: str, **params: Any) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(text(sql), params).all())


def _scalar(db: Database, sql: str, **params: Any) -> Any:
    with db.read() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _sums(db: Database, sql: str, **params: Any) -> dict[tuple[Any, ...], Decimal]:
    """Rows of (key columns…, amount) as {keys: amount to the cent}."""
    return {tuple(row[:-1]): _money(row[-1]) for row in _rows(db, sql, **params)}


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _number(value: str) -> int:
    return int(re.search(r"(\d+)$", value).group(1))  # type: ignore[union-attr]


AUDIT = {"recid", "createddatetime", "modifieddatetime", "closeddatetime", "generaljournalentry"}
DIGEST_TABLES = (
    "dataarea", "numbersequence", "custtable", "inventtable", "salestable", "salesline", "custinvoicejour",
    "custinvoicetrans", "custtrans", "generaljournalentry", "generaljournalaccountentry", "inventtrans",
    "ledgeryearclose", "ledgerperiodstatus",
)  # fmt: skip


def _table_rows(conn: Connection, table: Table) -> list[str]:
    """Every row without surrogate keys and wall-clock stamps, as text; ledger lines name their voucher
    instead of the header's surrogate key. Sorted in Python so the databases' collations do not matter."""
    stmt = select(*(c for c in table.c if c.name not in AUDIT))
    if table is schema.generaljournalaccountentry:
        header = schema.generaljournalentry
        stmt = stmt.add_columns(header.c.subledgervoucher).join(
            header, table.c.generaljournalentry == header.c.recid
        )
    return sorted(repr(tuple(str(v) for v in row)) for row in conn.execute(stmt))


def _digest(db: Database) -> dict[str, str]:
    with db.read() as conn:
        return {
            name: hashlib.sha256(
                "\n".join(_table_rows(conn, schema.metadata.tables[name])).encode()
            ).hexdigest()
            for name in DIGEST_TABLES
        }


# --- the data set -------------------------------------------------------------------------------------------


def test_summary_reports_the_rows_in_the_database(seeded: Seeded) -> None:
    summary = seeded.summary
    for table, count in summary.counts().items():
        assert _scalar(seeded.db, f"SELECT COUNT(*) FROM {table}") == count, table
    assert (summary.dataarea, summary.custtable, summary.inventtable) == (3, N, 600)
    assert 0.09 * N < summary.salestable < 0.12 * N
    assert 2 * summary.salestable < summary.salesline < 4 * summary.salestable
    assert summary.closed_years == 6 and summary.resumed_tasks == 0


def test_customers_are_split_over_companies_with_their_currency_and_numbering(seeded: Seeded) -> None:
    counts = dict(_rows(seeded.db, "SELECT dataareaid, COUNT(*) FROM custtable GROUP BY dataareaid"))
    assert counts == {"usmf": 1800, "demf": 900, "gbsi": 300}
    for company, (currency, country, prefix) in COMPANIES.items():
        rows = _rows(
            seeded.db,
            "SELECT accountnum, partynumber, currency, delivery_countryregion, invoice_countryregion, "
            "custgroup, email FROM custtable WHERE dataareaid = :c",
            c=company,
        )
        accounts = sorted(r.accountnum for r in rows)
        assert accounts == [numbering.format_number(f"{prefix}-#######", k) for k in range(1, len(rows) + 1)]
        assert {r.currency for r in rows} == {currency}
        assert (
            {r.delivery_countryregion for r in rows} == {r.invoice_countryregion for r in rows} == {country}
        )
        assert {r.custgroup for r in rows} == {"10", "20", "30"}
        assert all(r.partynumber.startswith(f"{prefix}P-") and "@" in r.email for r in rows)
    persons = _scalar(seeded.db, "SELECT COUNT(*) FROM custtable WHERE partytype = 'Person'")
    assert 0.12 * N < persons < 0.18 * N
    on_hold = dict(_rows(seeded.db, "SELECT blocked, COUNT(*) FROM custtable GROUP BY blocked"))
    assert set(on_hold) == {"No", "Invoice", "All", "Payment"} and on_hold["No"] > 0.95 * N
    unlimited, mandatory, lowest, highest = _rows(
        seeded.db,
        "SELECT SUM(CASE WHEN creditmax = 0 THEN 1 ELSE 0 END), SUM(CASE WHEN mandatorycreditlimit THEN 1 "
        "ELSE 0 END), MIN(CASE WHEN creditmax > 0 THEN creditmax END), MAX(creditmax) FROM custtable",
    )[0]
    assert 0.2 * N < unlimited < 0.3 * N and 0.15 * N < mandatory < 0.25 * N
    assert _money(lowest) == 1000 and _money(highest) <= 100000


def test_every_voucher_balances(seeded: Seeded) -> None:
    unbalanced = _rows(
        seeded.db,
        "SELECT e.subledgervoucher FROM generaljournalentry e "
        "JOIN generaljournalaccountentry a ON a.generaljournalentry = e.recid GROUP BY e.subledgervoucher "
        "HAVING ABS(SUM(a.accountingcurrencyamount)) > 0.001 OR COUNT(*) < 2",
    )
    assert unbalanced == []
    categories = dict(
        _rows(seeded.db, "SELECT journalcategory, COUNT(*) FROM generaljournalentry GROUP BY 1")
    )
    assert categories["Inventory"] == 540 and categories["YearEnd"] == 6
    assert categories["Sales"] == seeded.summary.custinvoicejour


def test_customer_balances_are_invoices_minus_payments(seeded: Seeded) -> None:
    db = seeded.db
    balances = _sums(db, "SELECT dataareaid, accountnum, SUM(amountcur) FROM custtrans GROUP BY 1, 2")
    invoiced = _sums(
        db, "SELECT dataareaid, invoiceaccount, SUM(invoiceamount) FROM custinvoicejour GROUP BY 1, 2"
    )
    paid = _sums(
        db,
        "SELECT dataareaid, accountnum, -SUM(amountcur) FROM custtrans WHERE transtype = 'Payment' "
        "GROUP BY 1, 2",
    )
    assert set(balances) == set(invoiced) and set(paid) < set(invoiced)
    for key, balance in balances.items():
        assert balance == invoiced[key] - paid.get(key, Decimal(0)), key
    assert any(v == 0 for v in balances.values()) and any(v > 0 for v in balances.values())
    # Every invoice is on the customer's account exactly once, for the invoiced amount.
    journals = _rows(db, "SELECT dataareaid, invoiceid, invoiceamount, ledgervoucher FROM custinvoicejour")
    trans = _rows(
        db, "SELECT dataareaid, invoice, amountcur, voucher FROM custtrans WHERE transtype = 'Invoice'"
    )
    assert sorted(map(tuple, journals)) == sorted(map(tuple, trans))
    with db.read() as conn:
        for company, account in list(balances)[:20]:
            assert customers.balance(conn, company, account) == balances[(company, account)]
    # The receivables account of the ledger agrees with the customer transactions, company by company.
    receivables = _sums(
        db,
        "SELECT dataareaid, SUM(accountingcurrencyamount) FROM generaljournalaccountentry "
        "WHERE mainaccountid = '130100' GROUP BY dataareaid",
    )
    for (company,), amount in receivables.items():
        assert amount == sum((v for (c, _), v in balances.items() if c == company), Decimal(0))


def test_settlements_are_consistent(seeded: Seeded) -> None:
    db = seeded.db
    unsettled = (
        "SELECT dataareaid, accountnum FROM custtrans GROUP BY 1, 2 HAVING ABS(SUM(settleamountcur)) > 0.001"
    )
    assert _rows(db, unsettled) == []
    columns = "SELECT amountcur, settleamountcur, closed, transdate FROM custtrans"
    invoices = _rows(db, f"{columns} WHERE transtype = 'Invoice'")
    for amount, settled, closed, _ in invoices:
        assert 0 <= _money(settled) <= _money(amount)
        assert (closed is not None) == (_money(settled) == _money(amount))
    paid = _rows(db, f"{columns} WHERE transtype = 'Payment'")
    assert all(
        _money(amount) == _money(settled) < 0 and closed == date for amount, settled, closed, date in paid
    )
    in_full = sum(1 for _, _, closed, _ in invoices if closed is not None)
    in_part = sum(1 for _, settled, closed, _ in invoices if closed is None and _money(settled) > 0)
    assert in_full > 0 and in_part > 0 and in_full + in_part == len(paid)
    assert 0.4 < len(paid) / len(invoices) < 0.65


def test_order_totals_are_the_sums_of_their_lines(seeded: Seeded) -> None:
    rows = _rows(
        seeded.db,
        "SELECT s.salesid, s.totalamount, SUM(l.lineamount), COUNT(l.recid), "
        "SUM(CASE WHEN ABS(l.qty * l.salesprice - l.lineamount) > 0.001 THEN 1 ELSE 0 END) "
        "FROM salestable s LEFT JOIN salesline l ON l.dataareaid = s.dataareaid AND l.salesid = s.salesid "
        "GROUP BY s.dataareaid, s.salesid, s.totalamount",
    )
    assert len(rows) == seeded.summary.salestable
    for sales_id, total, line_sum, lines, mispriced in rows:
        assert _money(total) == _money(line_sum) and 1 <= lines <= 5 and mispriced == 0, sales_id


def test_invoiced_orders_have_one_invoice_for_the_order_total(seeded: Seeded) -> None:
    rows = _rows(
        seeded.db,
        "SELECT s.salesid, s.status, s.invoiceid, s.totalamount, COUNT(j.recid), MAX(j.invoiceid), "
        "MAX(j.invoiceamount) FROM salestable s LEFT JOIN custinvoicejour j "
        "ON j.dataareaid = s.dataareaid AND j.salesid = s.salesid "
        "GROUP BY s.dataareaid, s.salesid, s.status, s.invoiceid, s.totalamount",
    )
    for sales_id, status, invoice_id, total, journals, journal_id, amount in rows:
        if status == "Invoiced":
            assert journals == 1 and invoice_id == journal_id and _money(amount) == _money(total), sales_id
        else:
            assert journals == 0 and invoice_id is None, sales_id
    mismatched = _rows(
        seeded.db,
        "SELECT j.invoiceid FROM custinvoicejour j JOIN custinvoicetrans t ON t.dataareaid = j.dataareaid "
        "AND t.invoiceid = j.invoiceid GROUP BY j.invoiceid, j.invoiceamount "
        "HAVING ABS(SUM(t.lineamount) - j.invoiceamount) > 0.001",
    )
    assert mismatched == []


def test_on_hand_is_receipts_minus_deliveries(seeded: Seeded) -> None:
    db = seeded.db
    stock = "SELECT dataareaid, itemid, SUM(qty) FROM inventtrans"
    on_hand = _sums(db, f"{stock} GROUP BY 1, 2")
    received = _sums(db, f"{stock} WHERE referencecategory = 'InventoryAdjustment' GROUP BY 1, 2")
    shipped = _sums(
        db,
        "SELECT l.dataareaid, l.itemid, SUM(l.qty) FROM salesline l "
        "JOIN salestable s ON s.dataareaid = l.dataareaid AND s.salesid = l.salesid "
        "JOIN inventtable p ON p.dataareaid = l.dataareaid AND p.itemid = l.itemid "
        "WHERE s.status IN ('Delivered', 'Invoiced') AND p.producttype = 'Item' GROUP BY 1, 2",
    )
    assert len(received) == 540 and set(on_hand) == set(received) and len(shipped) > 250
    for key, quantity in on_hand.items():
        assert quantity == received[key] - shipped.get(key, Decimal(0)) >= 0, key
    with db.read() as conn:
        for company, item in list(on_hand)[:10]:
            assert inventory.on_hand(conn, company, item) == on_hand[(company, item)]
    # Inventory in the ledger is exactly the cost posted on the inventory transactions.
    ledger = _sums(
        db,
        "SELECT dataareaid, SUM(accountingcurrencyamount) FROM generaljournalaccountentry "
        "WHERE mainaccountid = '140200' GROUP BY 1",
    )
    assert ledger == _sums(db, "SELECT dataareaid, SUM(costamountposted) FROM inventtrans GROUP BY 1")


def test_statuses_spread_over_the_years(seeded: Seeded) -> None:
    statuses = dict(_rows(seeded.db, "SELECT status, COUNT(*) FROM salestable GROUP BY status"))
    assert set(statuses) == {"Open", "Confirmed", "Delivered", "Invoiced", "Cancelled"}
    assert 0.64 < statuses["Invoiced"] / sum(statuses.values()) < 0.76
    years = _rows(
        seeded.db, "SELECT DISTINCT fiscalyear FROM generaljournalentry WHERE journalcategory = 'Sales'"
    )
    assert sorted(y for (y,) in years) == ["2022", "2023", "2024", "2025"]
    issues = _rows(
        seeded.db, "SELECT DISTINCT statusissue FROM inventtrans WHERE referencecategory = 'Sales'"
    )
    assert sorted(s for (s,) in issues) == ["Deducted", "Sold"]


ORPHANS = {
    "order without customer": ("salestable x", "custtable y", "y.accountnum = x.custaccount"),
    "line without order": ("salesline x", "salestable y", "y.salesid = x.salesid"),
    "transaction without customer": ("custtrans x", "custtable y", "y.accountnum = x.accountnum"),
    "invoice without order": ("custinvoicejour x", "salestable y", "y.salesid = x.salesid"),
    "stock without item": ("inventtrans x", "inventtable y", "y.itemid = x.itemid"),
    "ledger line without header": (
        "generaljournalaccountentry x", "generaljournalentry y", "y.recid = x.generaljournalentry"
    ),
}  # fmt: skip


def test_records_belong_to_their_company(seeded: Seeded) -> None:
    for what, (child, parent, key) in ORPHANS.items():
        sql = f"SELECT COUNT(*) FROM {child} LEFT JOIN {parent} ON y.dataareaid = x.dataareaid AND {key} "
        assert _scalar(seeded.db, f"{sql} WHERE y.recid IS NULL") == 0, what
    numbered = (
        ("salestable", "salesid"), ("custtrans", "voucher"), ("generaljournalentry", "subledgervoucher"),
        ("inventtrans", "inventtransid"), ("custinvoicejour", "invoiceid"),
    )  # fmt: skip
    for company, (currency, _, prefix) in COMPANIES.items():
        for table, column in numbered:
            values = _rows(seeded.db, f"SELECT {column} FROM {table} WHERE dataareaid = :c", c=company)
            assert values and all(v.startswith(prefix) for (v,) in values), (company, table)
        currencies = _rows(
            seeded.db,
            "SELECT currency FROM salestable WHERE dataareaid = :c UNION "
            "SELECT transactioncurrencycode FROM generaljournalaccountentry WHERE dataareaid = :c",
            c=company,
        )
        assert [c for (c,) in currencies] == [currency]


def test_confirmed_orders_respect_mandatory_credit_limits(seeded: Seeded) -> None:
    rows = _rows(
        seeded.db,
        "SELECT c.creditmax, SUM(CASE WHEN s.status IN ('Confirmed', 'Delivered', 'Invoiced') "
        "THEN s.totalamount ELSE 0 END), SUM(CASE WHEN s.status = 'Open' AND s.totalamount > c.creditmax "
        "THEN 1 ELSE 0 END) FROM custtable c JOIN salestable s ON s.dataareaid = c.dataareaid "
        "AND s.custaccount = c.accountnum WHERE c.mandatorycreditlimit AND c.creditmax > 0 "
        "GROUP BY c.dataareaid, c.accountnum, c.creditmax",
    )
    assert rows and all(_money(confirmed) <= _money(limit) for limit, confirmed, _ in rows)
    # Orders the credit check would have refused stayed Open (the demo order among them).
    assert sum(refused for *_, refused in rows) >= 2


def test_old_years_are_closed_like_close_fiscal_year(seeded: Seeded) -> None:
    db = seeded.db
    closes = {
        (company, year): (status, voucher)
        for company, year, status, voucher in _rows(
            db, "SELECT dataareaid, fiscalyear, status, voucher FROM ledgeryearclose"
        )
    }
    for company, (_, _, prefix) in COMPANIES.items():
        assert closes[(company, "2022")] == ("Closed", f"{prefix}YE-000001")
        assert closes[(company, "2023")] == ("Closed", f"{prefix}YE-000002")
        assert {closes[(company, y)][0] for y in ("2024", "2025", "2026")} == {"NotClosed"}
    periods = _rows(db, "SELECT fiscalyear, status, COUNT(*) FROM ledgerperiodstatus GROUP BY 1, 2")
    assert sorted(map(tuple, periods)) == [
        ("2022", "PermanentlyClosed", 42), ("2023", "PermanentlyClosed", 42), ("2024", "Open", 42),
        ("2025", "Open", 42), ("2026", "Open", 42),
    ]  # fmt: skip
    # The closing voucher reverses each P&L account's year and puts the result on retained earnings.
    totals = _sums(
        db,
        "SELECT e.dataareaid, e.fiscalyear, a.mainaccountid, e.journalcategory, "
        "SUM(a.accountingcurrencyamount) FROM generaljournalentry e "
        "JOIN generaljournalaccountentry a ON a.generaljournalentry = e.recid "
        "WHERE e.fiscalyear IN ('2022', '2023') GROUP BY 1, 2, 3, 4",
    )
    for company in COMPANIES:
        for year in ("2022", "2023"):
            revenue, cogs = (totals[(company, year, account, "Sales")] for account in ("401100", "500100"))
            assert revenue < 0 < cogs
            assert totals[(company, year, "401100", "YearEnd")] == -revenue
            assert totals[(company, year, "500100", "YearEnd")] == -cogs
            assert totals[(company, year, "300200", "YearEnd")] == revenue + cogs


def test_rows_carry_the_seed_as_author(seeded: Seeded) -> None:
    tables = (
        "custtable", "inventtable", "salestable", "salesline", "custinvoicejour", "custinvoicetrans",
        "custtrans", "generaljournalentry", "generaljournalaccountentry", "inventtrans",
    )  # fmt: skip
    for table in tables:
        # The demo order was made by the business logic, which updates its total after adding the line.
        updated = "recversion <> 1" + (" AND salesid <> :demo" if table == "salestable" else "")
        bad = _scalar(
            seeded.db,
            f"SELECT COUNT(*) FROM {table} WHERE createdby <> 'seed' OR modifiedby <> 'seed' "
            f"OR createddatetime IS NULL OR modifieddatetime IS NULL OR ({updated})",
            demo=DEMO_ORDER,
        )
        assert bad == 0, table


USED_NUMBERS = {
    numbering.CUSTOMER_ACCOUNT: "SELECT accountnum FROM custtable WHERE dataareaid = :c",
    numbering.PARTY_NUMBER: "SELECT partynumber FROM custtable WHERE dataareaid = :c",
    numbering.SALES_ID: "SELECT salesid FROM salestable WHERE dataareaid = :c",
    numbering.INVENT_TRANS_ID: "SELECT inventtransid FROM inventtrans WHERE dataareaid = :c "
    "UNION ALL SELECT inventtransid FROM salesline WHERE dataareaid = :c",
    numbering.INVOICE_ID: "SELECT invoiceid FROM custinvoicejour WHERE dataareaid = :c",
    numbering.INVOICE_VOUCHER: "SELECT ledgervoucher FROM custinvoicejour WHERE dataareaid = :c",
    numbering.PAYMENT_VOUCHER: "SELECT voucher FROM custtrans WHERE dataareaid = :c "
    "AND transtype = 'Payment'",
    numbering.INVENTORY_VOUCHER: "SELECT voucher FROM inventtrans WHERE dataareaid = :c "
    "AND referencecategory = 'InventoryAdjustment'",
    numbering.GL_JOURNAL: "SELECT journalnumber FROM generaljournalentry WHERE dataareaid = :c",
}


def test_number_sequences_are_past_every_generated_number(seeded: Seeded) -> None:
    for company in COMPANIES:
        with seeded.db.read() as conn:
            for code, sql in USED_NUMBERS.items():
                numbers = sorted({_number(v) for (v,) in conn.execute(text(sql), {"c": company})})
                assert numbering.peek(conn, company, code) == numbers[-1] + 1, (company, code)
                if code not in (numbering.INVENT_TRANS_ID, numbering.PARTY_NUMBER):
                    assert numbers == list(range(1, len(numbers) + 1)), (company, code)  # no gaps, no doubles


def test_progress_reports_every_stage_in_order(seeded: Seeded) -> None:
    events = seeded.events
    stages = [s for i, (s, _, _) in enumerate(events) if i == 0 or events[i - 1][0] != s]
    assert stages == list(STAGES)
    for stage in STAGES:
        mine = [(done, total) for s, done, total in events if s == stage]
        assert mine[0][0] == 0 and mine[-1][0] == mine[-1][1] and len({t for _, t in mine}) == 1
        assert [d for d, _ in mine] == sorted(d for d, _ in mine)
    assert {s: t for s, _, t in events}["customers"] == N - 1  # all but the demo customer


# --- the demo scenario and the business logic on top --------------------------------------------------------


def test_demo_scenario(fresh: Seeded) -> None:
    db = fresh.db
    with db.read() as conn:
        customer = customers.get(conn, DEMO_COMPANY, DEMO_CUSTOMER)
        order = sales.get(conn, DEMO_COMPANY, DEMO_ORDER)
        balance = customers.balance(conn, DEMO_COMPANY, DEMO_CUSTOMER)
    orders = _scalar(db, "SELECT COUNT(*) FROM salestable WHERE custaccount = :a", a=DEMO_CUSTOMER)
    assert (customer["name"], customer["creditmax"], customer["mandatorycreditlimit"]) == (
        DEMO_CUSTOMER_NAME,
        DEMO_CREDIT_LIMIT,
        True,
    )
    assert (balance, customer["blocked"], orders) == (0, "No", 1)
    assert (order["status"], order["totalamount"], order["custaccount"]) == (
        "Open",
        DEMO_ORDER_AMOUNT,
        DEMO_CUSTOMER,
    )
    with pytest.raises(CreditLimitExceededError) as refused, db.unit_of_work(CTX) as uow:
        sales.confirm(uow, DEMO_COMPANY, DEMO_ORDER)
    assert refused.value.details["Total"] == 3000.0 and refused.value.details["CreditLimit"] == 2000.0
    with db.unit_of_work(CTX) as uow:
        customers.update(uow, DEMO_COMPANY, DEMO_CUSTOMER, {"creditmax": DEMO_RAISED_CREDIT_LIMIT})
        assert sales.confirm(uow, DEMO_COMPANY, DEMO_ORDER)["status"] == "Confirmed"


def test_business_logic_carries_on_after_the_seed(fresh: Seeded) -> None:
    db = fresh.db
    codes = (numbering.CUSTOMER_ACCOUNT, numbering.SALES_ID, numbering.INVOICE_ID)
    with db.read() as conn:
        expected = [numbering.peek(conn, "demf", code) for code in codes]
    with db.unit_of_work(CTX) as uow:
        customer = customers.create(uow, "demf", {"name": "Neukunde GmbH", "custgroup": "10"})
        account = customer["accountnum"]
        order = sales.create(uow, "demf", {"custaccount": account}, [{"itemid": "D0002", "qty": 2}])
        sales.confirm(uow, "demf", order["salesid"])
        journal = invoicing.post_invoice(uow, "demf", order["salesid"], date=TODAY)
        payments.post_payment(uow, "demf", account, journal["invoiceamount"], date=TODAY)
        inventory.post_receipt(uow, "demf", "D0003", 5, date=TODAY)
    assert [_number(account), _number(order["salesid"]), _number(journal["invoiceid"])] == expected
    with db.read() as conn:
        assert customers.balance(conn, "demf", account) == 0
    with pytest.raises(PeriodClosedError), db.unit_of_work(CTX) as uow:
        payments.post_payment(uow, "demf", account, "10.00", date=dt.date(2023, 5, 2))


# --- determinism, portability and resuming ------------------------------------------------------------------


def test_the_same_seed_gives_the_same_data(sqlite_seeded: Seeded, tmp_path: Path) -> None:
    expected = _digest(sqlite_seeded.db)
    with _database("sqlite", tmp_path) as again:
        _seed(again)
        assert _digest(again) == expected
    with _database("sqlite", tmp_path) as other:
        _seed(other, seed=7)
        changed = {table for table, digest in _digest(other).items() if digest != expected[table]}
        assert {"custtable", "salestable", "salesline", "custtrans"} <= changed


@pytest.mark.postgres
def test_sqlite_and_postgresql_get_the_same_rows(sqlite_seeded: Seeded, postgres_seeded: Seeded) -> None:
    assert _digest(postgres_seeded.db) == _digest(sqlite_seeded.db)


def test_formatted_numbers_match_numbering(seeded: Seeded) -> None:
    values = (0, 1, 42, 9_999_999, 10_000_000, 123_456_789)
    for fmt in ("US-#######", "DEP-#########", "X#Y", "plain"):
        with seeded.db.read() as conn:
            got = [conn.execute(text(f"SELECT {formatted(fmt, str(v))}")).scalar_one() for v in values]
        assert got == [numbering.format_number(fmt, v) for v in values]


class Crash(Exception):
    pass


def _crash_in_progress(stage: str, after: int) -> Callable[[str, int, int], None]:
    def progress(current: str, done: int, total: int) -> None:
        if current == stage and done >= after:
            raise Crash(f"killed after {done} {stage}")

    return progress


@pytest.mark.parametrize("where", ["customers", "orders", "inside an orders transaction"])
def test_a_crashed_run_resumes_to_the_same_data(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan, "CUSTOMER_CHUNK", 400)  # many chunks, so that there is a middle to crash in
    monkeypatch.setattr(plan, "ORDER_CHUNK", 40)
    with _database("sqlite", tmp_path) as reference:
        expected = _seed(reference).summary
        expected_digest = _digest(reference)
    real = order_rows.post_chunk
    with _database("sqlite", tmp_path) as database:
        crash: dict[str, Any] = {}
        if where == "customers":
            crash["progress"] = _crash_in_progress("customers", 1200)
        elif where == "orders":
            crash["progress"] = _crash_in_progress("sales orders", 80)
        else:
            calls: list[int] = []

            def dies_before_commit(*args: Any) -> None:
                real(*args)  # the chunk's rows are written, then the process dies before the commit
                calls.append(1)
                if len(calls) == 3:
                    raise Crash("killed mid-transaction")

            monkeypatch.setattr(order_rows, "post_chunk", dies_before_commit)
        with pytest.raises(Crash):
            generate(database, customers=N, today=TODAY, **crash)
        monkeypatch.setattr(order_rows, "post_chunk", real)
        resumed = _seed(database).summary
        assert resumed == expected and resumed.resumed_tasks > 0
        assert _digest(database) == expected_digest
        tasks = len(plan.make_plan(N, 42, TODAY).tasks())
        assert _scalar(database, "SELECT COUNT(*) FROM seedcheckpoint") == tasks


def test_a_finished_run_is_not_repeated_and_other_parameters_are_refused(fresh: Seeded) -> None:
    before = _digest(fresh.db)
    again = _seed(fresh.db, SMALL).summary
    assert again == fresh.summary and again.resumed_tasks == len(plan.make_plan(SMALL, 42, TODAY).tasks())
    assert _digest(fresh.db) == before
    with pytest.raises(ConflictError):
        generate(fresh.db, customers=SMALL, seed=43, today=TODAY)


def test_tiny_runs_still_hold_the_demo_and_some_orders(tmp_path: Path) -> None:
    with _database("sqlite", tmp_path) as database:
        summary = _seed(database, 7).summary
        assert summary.custtable == 7 and summary.salestable > 3
        name = _scalar(database, "SELECT name FROM custtable WHERE accountnum = :a", a=DEMO_CUSTOMER)
        assert name == DEMO_CUSTOMER_NAME
