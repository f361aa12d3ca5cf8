"""``generate``: runs the plan's tasks in order, each in its own transaction with its checkpoint, on either
database.

Two kinds of task:

* business-logic tasks (companies, the demo scenario, the year-end close) go through ``Database.unit_of_work``
  and the ERP modules, so hooks, validation and numbering are the real thing;
* bulk tasks (products, customers, orders) run set-based ``INSERT … SELECT`` statements on one dedicated
  connection that also holds the work tables. They bypass the unit of work's change log and hooks on purpose:
  nothing should react to a million seeded rows one by one.

A killed run leaves whole tasks behind; running ``generate`` again with the same parameters skips them (see
``checkpoint``) and produces the same data an uninterrupted run would have.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select, text

from isthmus.erp import ledger, setup
from isthmus.erp.schema import fiscalcalendarperiod, metadata
from isthmus.erp.seed import checkpoint, demo
from isthmus.erp.seed.customer_rows import load_customers
from isthmus.erp.seed.order_rows import load_orders
from isthmus.erp.seed.plan import (
    COMPANIES,
    STAGE_CUSTOMERS,
    STAGE_ORDERS,
    STAGE_PRODUCTS,
    Plan,
    Task,
    make_plan,
)
from isthmus.erp.seed.product_rows import build_catalog, load_products
from isthmus.erp.seed.summary import COUNTED_TABLES, SeedSummary
from isthmus.erp.seed.workspace import Workspace, drop_workspace, open_workspace
from isthmus.errors import ValidationError
from isthmus.storage import CallContext, Database, UnitOfWork
from isthmus.storage.types import utcnow

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
SEED_CONTEXT = CallContext(user="seed", origin="seed")


def generate(
    database: Database,
    *,
    customers: int,
    seed: int = 42,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> SeedSummary:
    """Fill an empty ERP database with the demo data set for ``customers`` customers (see the package
    docstring), or finish an interrupted run with the same parameters. ``progress(stage, done, total)`` is
    called when a stage starts and after every committed task. ``today`` (default: the date of the first run)
    anchors every date. On a database this seed has already finished nothing is written, and the summary
    counts every task as resumed."""
    if customers < 1:
        raise ValidationError(
            f"The number of customers must be at least 1; got {customers}.", target="customers"
        )
    started = time.perf_counter()
    database.create_schema(metadata)
    checkpoint.ensure_table(database.engine)
    conn = database.engine.connect().execution_options(isthmus_write=True)
    try:
        with conn.begin():
            before = checkpoint.read(conn)
        today = today or before.today or dt.date.today()
        checkpoint.require_same_run(before, customers, seed, today)
        plan = make_plan(customers, seed, today)
        with conn.begin():
            workspace = open_workspace(conn, plan)
            for company in plan.companies:
                build_catalog(conn, workspace, company)
        _Run(database, conn, workspace, before.tasks, progress).run()
        with conn.begin():
            return SeedSummary.read(
                conn,
                resumed_tasks=len(before.tasks & {t.key for t in plan.tasks()}),
                seconds=time.perf_counter() - started,
            )
    finally:
        _close(conn)


def _close(conn: Connection) -> None:
    try:
        if conn.in_transaction():
            conn.rollback()
        with conn.begin():
            drop_workspace(conn)
    except Exception:  # the work tables are temporary anyway; never hide the run's own error behind this one
        log.warning("Could not drop the seed's work tables", exc_info=True)
    finally:
        conn.close()


class _Run:
    """One pass over the plan's tasks, skipping the committed ones."""

    def __init__(
        self,
        database: Database,
        conn: Connection,
        workspace: Workspace,
        committed: frozenset[str],
        progress: Progress | None,
    ) -> None:
        self.database = database
        self.conn = conn
        self.ws = workspace
        self.plan: Plan = workspace.plan
        self.committed = committed
        self.progress = progress or (lambda stage, done, total: None)

    def run(self) -> None:
        tasks = self.plan.tasks()
        totals: Counter[str] = Counter()
        for task in tasks:
            totals[task.stage] += task.size
        done: Counter[str] = Counter()
        executed = False
        for task in tasks:
            if task.stage not in done:
                done[task.stage] = 0
                self.progress(task.stage, 0, totals[task.stage])
                if task.stage == STAGE_ORDERS:
                    self._refresh_statistics(("custtable",))  # the orders join their customers by account
            if task.key not in self.committed:
                self._execute(task)
                executed = True
            done[task.stage] += task.size
            self.progress(task.stage, done[task.stage], totals[task.stage])
        if executed:
            self._refresh_statistics(COUNTED_TABLES)

    def _refresh_statistics(self, tables: tuple[str, ...]) -> None:
        """PostgreSQL plans joins from table statistics, and after a bulk load they still describe the empty
        tables until autovacuum catches up — bad plans for the next stage and for the application's first
        queries. SQLite keeps no statistics unless asked and plans these joins by their indexes."""
        if self.database.dialect != "postgresql":
            return
        with self.conn.begin():
            for table in tables:
                self.conn.execute(text(f"ANALYZE {table}"))

    def _execute(self, task: Task) -> None:
        if task.stage in (STAGE_PRODUCTS, STAGE_CUSTOMERS, STAGE_ORDERS):
            self._bulk(task)
            return
        with self.database.unit_of_work(SEED_CONTEXT) as uow:
            if task.key == "setup":
                self._create_companies(uow)
            elif task.key == "demo":
                demo.create_demo(uow, self.plan.today)
            else:
                self._close_years(uow)
            checkpoint.record(uow.connection, self.plan, task.key)

    def _bulk(self, task: Task) -> None:
        assert task.company is not None
        company = self.plan.company(task.company)
        params: dict[str, Any] = {
            "now": utcnow(),
            "company": company.id,
            "currency": company.profile.currency,
            "country": company.profile.country,
            "language": company.profile.language,
        }
        with self.conn.begin():
            if task.stage == STAGE_PRODUCTS:
                load_products(self.conn, self.ws, company, params)
            elif task.stage == STAGE_CUSTOMERS:
                load_customers(self.conn, self.ws, company, task, params)
            else:
                load_orders(self.conn, self.ws, company, task, params)
            checkpoint.record(self.conn, self.plan, task.key)

    def _create_companies(self, uow: UnitOfWork) -> None:
        for profile in COMPANIES:
            setup.create_company(
                uow,
                profile.id,
                profile.name,
                currency_code=profile.currency,
                country=profile.country,
                sequence_prefix=profile.prefix,
                fiscal_years=self.plan.fiscal_years,
                address=profile.address,
            )

    def _close_years(self, uow: UnitOfWork) -> None:
        """Year-end close of every year older than last year, oldest first, then lock their periods for
        good."""
        p = fiscalcalendarperiod.c
        for company in self.plan.companies:
            for year in self.plan.closed_years:
                ledger.close_fiscal_year(uow, company.id, str(year))
            for year in self.plan.closed_years:
                periods = uow.connection.execute(
                    select(p.name).where(p.calendarid == setup.DEFAULT_CALENDAR, p.fiscalyear == str(year))
                ).scalars()
                for period in list(periods):
                    ledger.set_period_status(uow, company.id, str(year), period, "PermanentlyClosed")
