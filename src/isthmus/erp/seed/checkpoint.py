"""The seed's checkpoint: one ``seedcheckpoint`` row per committed task, written in the task's own
transaction.

A task's rows and its checkpoint row commit together or not at all, so after a crash the table says exactly
which tasks are in the database; the next run with the same parameters skips those and carries on. Every row
repeats the run's parameters (customers, seed, the "today" the dates were generated against), so a run with
other parameters is refused instead of mixing two data sets. The table stays after the run: it records how the
data was made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Connection, Date, Engine, MetaData, String, Table, insert, select

from isthmus.erp.seed.plan import Plan
from isthmus.errors import ConflictError
from isthmus.storage.types import UtcDateTime, utcnow

checkpoint_metadata = MetaData()

seedcheckpoint = Table(
    "seedcheckpoint",
    checkpoint_metadata,
    Column("task", String(60), primary_key=True),
    Column("customers", BigInteger, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("today", Date, nullable=False),
    Column("committeddatetime", UtcDateTime, nullable=False),
)


@dataclass(frozen=True)
class PriorRun:
    """What an earlier run of this database committed."""

    customers: int | None
    seed: int | None
    today: dt.date | None
    tasks: frozenset[str]


def ensure_table(engine: Engine) -> None:
    with engine.begin() as conn:
        checkpoint_metadata.create_all(conn)


def read(conn: Connection) -> PriorRun:
    rows = conn.execute(select(seedcheckpoint)).mappings().all()
    if not rows:
        return PriorRun(None, None, None, frozenset())
    first = rows[0]
    return PriorRun(first["customers"], first["seed"], first["today"], frozenset(r["task"] for r in rows))


def require_same_run(prior: PriorRun, customers: int, seed: int, today: dt.date) -> None:
    """Refuse to continue a run that was started with other parameters."""
    if prior.customers is None:
        return
    if (prior.customers, prior.seed, prior.today) != (customers, seed, today):
        raise ConflictError(
            f"This database was seeded (or partly seeded) with customers={prior.customers}, "
            f"seed={prior.seed}, today={prior.today}; it cannot be seeded again with "
            f"customers={customers}, seed={seed}, today={today}.",
            next_step="Use the same parameters to resume, or seed into a new, empty database.",
        )


def record(conn: Connection, plan: Plan, task: str) -> None:
    conn.execute(
        insert(seedcheckpoint).values(
            task=task, customers=plan.customers, seed=plan.seed, today=plan.today, committeddatetime=utcnow()
        )
    )
