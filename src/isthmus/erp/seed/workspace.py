"""The seed's work tables: temporary tables that live on the generator's own connection for the length of one
run.

* ``seed_number`` — the integers 0 … n-1 for the largest task, the row source of every bulk insert;
* ``seed_day`` — one row per calendar day of the fiscal years, with the date, a timestamp, fiscal year and
  period, so date arithmetic is integer arithmetic on the day number (portable, where SQL date functions are
  not);
* ``seed_word`` — the word lists of ``names``;
* ``seed_product`` — the product catalogue per company with integer cents (see ``product_rows``);
* ``seed_order`` / ``seed_line`` — one chunk of sales orders being generated (see ``order_rows``).

They are rebuilt from the plan at the start of every run, so a resumed run sees exactly what the first one
saw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Connection, Date, Integer, MetaData, String, Table, insert, text

from isthmus.erp.seed import names
from isthmus.erp.seed.plan import PRODUCTS_PER_COMPANY, Plan
from isthmus.storage.types import RecId, UtcDateTime

work = MetaData()


def _temp(name: str, *columns: Column) -> Table:
    return Table(name, work, *columns, prefixes=["TEMPORARY"])


seed_number = _temp("seed_number", Column("n", RecId, primary_key=True, autoincrement=False))

seed_day = _temp(
    "seed_day",
    Column("d", RecId, primary_key=True, autoincrement=False),
    Column("day", Date, nullable=False),
    Column("stamp", UtcDateTime, nullable=False),
    Column("fy", String(10), nullable=False),
    Column("period", String(20), nullable=False),
)

seed_word = _temp(
    "seed_word",
    Column("list", Integer, primary_key=True, autoincrement=False),
    Column("i", Integer, primary_key=True, autoincrement=False),
    Column("word", String(60), nullable=False),
    Column("slug", String(60), nullable=False),
    Column("a", String(20)),
    Column("b", String(20)),
    Column("c", String(20)),
    Column("d", String(20)),
)

seed_product = _temp(
    "seed_product",
    Column("dataareaid", String(8), primary_key=True),
    Column("p", BigInteger, primary_key=True, autoincrement=False),
    Column("itemid", String(20), nullable=False),
    Column("name", String(60), nullable=False),
    Column("description", String(200)),
    Column("producttype", String(10), nullable=False),
    Column("itemgroup", String(10)),
    Column("unit", String(10), nullable=False),
    Column("price_c", BigInteger, nullable=False),
    Column("cost_c", BigInteger, nullable=False),
    Column("receipt_qty", BigInteger, nullable=False),
)

seed_order = _temp(
    "seed_order",
    Column("j", BigInteger, primary_key=True, autoincrement=False),
    Column("account", String(20), nullable=False),
    Column("salesid", String(20), nullable=False),
    Column("nlines", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),
    Column("orderday", BigInteger, nullable=False),
    Column("deliverday", BigInteger, nullable=False),
    Column("invday", BigInteger, nullable=False),
    Column("dueday", BigInteger, nullable=False),
    Column("payday", BigInteger, nullable=False),
    Column("total_c", BigInteger, nullable=False),
    Column("cogs_c", BigInteger, nullable=False),
    Column("paid_c", BigInteger, nullable=False),
    Column("lot0", BigInteger, nullable=False),
    Column("customerref", String(20)),
    Column("inv_rank", BigInteger),
    Column("pay_rank", BigInteger),
    Column("invoiceid", String(20)),
    Column("inv_voucher", String(20)),
    Column("pay_voucher", String(20)),
)

seed_line = _temp(
    "seed_line",
    Column("j", BigInteger, primary_key=True, autoincrement=False),
    Column("n", BigInteger, primary_key=True, autoincrement=False),
    Column("itemid", String(20), nullable=False),
    Column("name", String(60), nullable=False),
    Column("unit", String(10), nullable=False),
    Column("is_item", Integer, nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("price_c", BigInteger, nullable=False),
    Column("cost_c", BigInteger, nullable=False),
)

WORK_TABLES = (seed_number, seed_day, seed_word, seed_product, seed_order, seed_line)


@dataclass(frozen=True)
class Workspace:
    """The plan plus what the SQL needs to address the work tables: word-list ids and sizes, day numbers."""

    plan: Plan
    first_day: dt.date
    lists: dict[str, tuple[int, int]]

    def day(self, date: dt.date) -> int:
        return (date - self.first_day).days

    @property
    def today(self) -> int:
        return self.day(self.plan.today)

    def words(self, name: str) -> tuple[int, int]:
        """(list id, list length) of word list ``name``."""
        return self.lists[name]


def open_workspace(conn: Connection, plan: Plan) -> Workspace:
    """(Re)create and fill the work tables on ``conn``; the caller commits."""
    drop_workspace(conn)
    for table in WORK_TABLES:
        table.create(conn)
    # Enough numbers for the largest task: a chunk of customers or orders, or a company's catalogue.
    size = max(PRODUCTS_PER_COMPANY, *(task.size for task in plan.tasks()))
    # The numbers come from a recursive CTE, so filling them costs one statement whatever the chunk size.
    conn.execute(
        text(
            "INSERT INTO seed_number (n) WITH RECURSIVE r(n) AS (SELECT CAST(0 AS BIGINT) UNION ALL "
            f"SELECT n + 1 FROM r WHERE n < {size - 1}) SELECT n FROM r"
        )
    )
    first_day = dt.date(plan.fiscal_years[0], 1, 1)
    _fill_days(conn, first_day, dt.date(plan.fiscal_years[-1], 12, 31))
    lists: dict[str, tuple[int, int]] = {}
    rows = []
    for list_id, (list_name, words) in enumerate(names.word_lists()):
        lists[list_name] = (list_id, len(words))
        rows += [
            {"list": list_id, "i": i, "word": w, "slug": s, "a": a, "b": b, "c": c, "d": d}
            for i, (w, s, a, b, c, d) in enumerate(words)
        ]
    conn.execute(insert(seed_word), rows)
    return Workspace(plan, first_day, lists)


def _fill_days(conn: Connection, first: dt.date, last: dt.date) -> None:
    rows = []
    day = first
    while day <= last:
        rows.append(
            {
                "d": (day - first).days,
                "day": day,
                # Seeded postings happen in office hours: 09:00 UTC plus a few minutes per day number.
                "stamp": dt.datetime(day.year, day.month, day.day, 9, (day - first).days % 60, tzinfo=dt.UTC),
                "fy": str(day.year),
                "period": f"Period {day.month}",
            }
        )
        day += dt.timedelta(days=1)
    conn.execute(insert(seed_day), rows)


def drop_workspace(conn: Connection) -> None:
    for table in reversed(WORK_TABLES):
        conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))


def clear_chunk(conn: Connection) -> None:
    """Empty the per-chunk tables before the next chunk of orders."""
    conn.execute(seed_line.delete())
    conn.execute(seed_order.delete())
