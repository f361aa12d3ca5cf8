"""Where dual-write keeps its state.

In **each app's own database** (so that it commits or rolls back with the app's data):

* ``dualwrite_journal`` — one row per transaction sent live to the other side, written in the sender's transaction:
  after a crash between the two commits, a journal row without its ``dualwrite_applied`` twin on the other side
  means "re-send these keys" (recovery);
* ``dualwrite_applied`` — one row per transaction received from the other side, written in the receiver's
  transaction: the idempotency record (a replay of the same transaction id is skipped) and, for a received
  transaction whose sender never committed, the keys to restore from the sender;
* ``dualwrite_queue`` — changes held while a map is paused (or its other side is away), in order, with no cap;
* ``dualwrite_error`` — queued changes that failed in catch-up, waiting for retry or skip.

In the **control database** (environments and links live there too): ``dualwrite_map`` (definition, version, state,
policy, counters), ``dualwrite_company`` (legal entities taking part, per link), ``dualwrite_activity`` (the activity
log: runs, pauses, errors), ``dualwrite_alert_rule`` and ``dualwrite_sync_run`` (initial-sync runs and checkpoints).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from isthmus.storage.types import UtcDateTime

runtime = MetaData()

journal = Table(
    "dualwrite_journal", runtime,
    Column("transaction_id", String(36), primary_key=True),
    Column("direction", String(16), nullable=False),
    # ``to_dataverse`` or ``to_erp``.
    Column("entries", JSON, nullable=False),
    # [[map name, source key], …] — what to re-send if the other side never committed.
    Column("created", UtcDateTime, nullable=False),
)

applied = Table(
    "dualwrite_applied", runtime,
    Column("transaction_id", String(36), primary_key=True),
    Column("direction", String(16), nullable=False),
    Column("entries", JSON, nullable=False),
    # [[map name, source key], …] of the rows this transaction touched, keyed as on the sending side.
    Column("created", UtcDateTime, nullable=False),
)

queue = Table(
    "dualwrite_queue", runtime,
    Column("sequence", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("map", String(64), nullable=False),
    Column("transaction_id", String(36), nullable=False),
    Column("operation", String(8), nullable=False),
    Column("source_key", JSON, nullable=False),
    Column("row", JSON),
    # The source row as it was when the change was made (catch-up replays every intermediate value).
    Column("created", UtcDateTime, nullable=False),
    Index("ix_dualwrite_queue_map", "map", "sequence"),
)

error = Table(
    "dualwrite_error", runtime,
    Column("sequence", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    # The change's place in the original queue: retries replay in this order.
    Column("map", String(64), nullable=False),
    Column("transaction_id", String(36), nullable=False),
    Column("operation", String(8), nullable=False),
    Column("source_key", JSON, nullable=False),
    Column("row", JSON),
    Column("message", Text, nullable=False),
    Column("error_class", String(16), nullable=False),
    # ``application`` (the other side refused), ``system`` (it was unreachable) or ``blocked`` (an earlier change
    # to the same record failed).
    Column("attempts", Integer, nullable=False, default=1),
    Column("created", UtcDateTime, nullable=False),
    Column("last_attempt", UtcDateTime, nullable=False),
    Index("ix_dualwrite_error_map", "map", "sequence"),
)

control = MetaData()

maps = Table(
    "dualwrite_map", control,
    Column("link", String(64), primary_key=True),
    # The finance and operations environment of the link.
    Column("name", String(64), primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("version", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("policy", String(8), nullable=False, default="block"),
    # What a write does while the other side is away: ``block`` (refuse, as Microsoft's) or ``queue``.
    Column("auto_paused", Boolean, nullable=False, default=False),
    # Paused by the queue policy or an alert rule; resumes by itself when the other side answers.
    Column("synced", BigInteger, nullable=False, default=0),
    Column("failed", BigInteger, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_error_at", UtcDateTime),
    Column("state_changed", UtcDateTime, nullable=False),
)

companies = Table(
    "dualwrite_company", control,
    Column("link", String(64), primary_key=True),
    Column("company", String(8), primary_key=True),
)

activity = Table(
    "dualwrite_activity", control,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("link", String(64), nullable=False),
    Column("map", String(64)),
    Column("kind", String(24), nullable=False),
    # ``state``, ``error``, ``initial_sync``, ``reconcile``, ``alert``, ``mapping``, ``recovery``…
    Column("error_class", String(16)),
    Column("message", Text, nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Index("ix_dualwrite_activity_map", "link", "map", "id"),
)

alert_rules = Table(
    "dualwrite_alert_rule", control,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("link", String(64), nullable=False),
    Column("map", String(64)),
    # ``None``: every map of the link.
    Column("error_class", String(16), nullable=False, default="any"),
    Column("threshold", Integer, nullable=False),
    Column("window_minutes", Integer, nullable=False),
    Column("action", String(8), nullable=False),
    # ``pause``, ``stop`` or ``notify``.
    Column("notify", Text),
    # Where ``notify`` goes: e-mail addresses or webhook URLs (comma-separated), recorded in the activity log.
)

sync_runs = Table(
    "dualwrite_sync_run", control,
    Column("id", String(36), primary_key=True),
    Column("link", String(64), nullable=False),
    Column("map", String(64), nullable=False),
    Column("company", String(8)),
    Column("master", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    # ``running``, ``completed``, ``failed``.
    Column("checkpoint", JSON),
    # The last key copied, so a killed run resumes after it.
    Column("created_count", BigInteger, nullable=False, default=0),
    Column("different_count", BigInteger, nullable=False, default=0),
    Column("failed_count", BigInteger, nullable=False, default=0),
    Column("report", JSON),
    # Differences and failures, each with its key, for the user to resolve or re-sync alone.
    Column("started", UtcDateTime, nullable=False),
    Column("finished", UtcDateTime),
)
