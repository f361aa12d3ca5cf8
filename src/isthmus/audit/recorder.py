"""Recording the audit trail: a pre-commit hook on a ``Database`` that turns the unit of work's change log
(``UnitOfWork.changes``) into audit rows, inserted in the same transaction with one multi-row ``INSERT``.

So nothing is audited that did not commit (a rollback takes the audit rows with it) and nothing commits unaudited
(if the audit insert fails, the unit of work fails). Writes that bypass the unit of work (the seed's bulk loaders,
Dataverse's metadata store) are not audited, on purpose.

Install it after the other pre-commit hooks of the database (dual-write, events) so it sees their writes too:
hooks run in the order they were registered.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import insert, inspect

from isthmus.audit.schema import auditlog
from isthmus.errors import ConfigurationError
from isthmus.storage import Database, RowChange, UnitOfWork
from isthmus.storage.types import utcnow

SYSTEM_COLUMNS = frozenset(
    {
        # ERP
        "recid", "recversion", "createddatetime", "createdby", "modifieddatetime", "modifiedby",
        # Dataverse
        "versionnumber", "createdon", "modifiedon", "createdonbehalfby", "modifiedonbehalfby",
    }
)
"""Columns never listed as changed: keys, row versions and who/when stamps (the audit row has its own who/when)."""

ERP_NOISE_TABLES = frozenset(
    {
        "numbersequence",  # every number drawn bumps a counter
        "generaljournalentry",  # posted vouchers: immutable, and themselves an audit trail of the posting
        "generaljournalaccountentry",
        "inventtrans",  # inventory movements written by posting
        "custtrans",  # customer ledger transactions and their settlement, written by posting
        "custinvoicetrans",  # invoice lines, written once by invoicing (the invoice header is audited)
    }
)
DATAVERSE_NOISE_TABLES = frozenset({"sdkmessage", "sdkmessagefilter"})
"""Tables not audited by default: high-volume rows that only the system writes, derived from audited records."""

CHUNK_ROWS = 500
"""Rows per INSERT statement (a unit of work writing more gets one statement per chunk; parameter limits)."""

_INSERT = insert(auditlog)


@dataclass(frozen=True)
class AuditPolicy:
    """Which changes are audited. ``tables=None`` audits every table except ``exclude``."""

    tables: frozenset[str] | None = None
    exclude: frozenset[str] = field(default_factory=frozenset)
    skip_columns: frozenset[str] = SYSTEM_COLUMNS
    exclude_origins: frozenset[str] = field(default_factory=frozenset)
    """Origins (``CallContext.origin``) whose writes are not audited, e.g. ``{"seed"}``."""

    def audits(self, table: str) -> bool:
        if table == auditlog.name or table in self.exclude:
            return False
        return self.tables is None or table in self.tables

    @classmethod
    def parse(cls, spec: str | None, *, default: AuditPolicy) -> AuditPolicy:
        """From configuration text: empty/None → ``default``; ``all`` → every table; ``none`` → nothing;
        ``custtable,salestable`` → only those; ``-numbersequence,-custtrans`` → the default minus more tables."""
        if spec is None or not spec.strip():
            return default
        items = [s.strip().lower() for s in spec.split(",") if s.strip()]
        if items == ["all"]:
            return cls(exclude=frozenset(), skip_columns=default.skip_columns, exclude_origins=default.exclude_origins)
        if items == ["none"]:
            return cls(tables=frozenset(), skip_columns=default.skip_columns)
        minus = {i[1:] for i in items if i.startswith("-")}
        only = {i for i in items if not i.startswith("-")}
        return cls(
            tables=frozenset(only) if only else default.tables,
            exclude=default.exclude | minus,
            skip_columns=default.skip_columns,
            exclude_origins=default.exclude_origins,
        )


ERP_POLICY = AuditPolicy(exclude=ERP_NOISE_TABLES)
DATAVERSE_POLICY = AuditPolicy(exclude=DATAVERSE_NOISE_TABLES)


def json_value(value: Any) -> Any:
    """A stored value as JSON: decimals as exact text without trailing zeros, dates and times in ISO 8601."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text if text != "-0" else "0"
    if isinstance(value, float):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return str(value)


class AuditRecorder:
    """The pre-commit hook. One per database; ``install`` creates and registers it."""

    def __init__(self, policy: AuditPolicy) -> None:
        self.policy = policy

    def __call__(self, uow: UnitOfWork) -> None:
        rows = self.rows(uow)
        if not rows:
            return
        conn = uow.connection
        if len(rows) == 1:
            # The common case (one record changed): the plain statement, compiled once and cached.
            conn.execute(_INSERT, rows[0])
            return
        for start in range(0, len(rows), CHUNK_ROWS):
            conn.execute(insert(auditlog).values(rows[start : start + CHUNK_ROWS]))

    def rows(self, uow: UnitOfWork) -> list[dict[str, Any]]:
        """The audit rows of a unit of work's change log (empty when nothing audited changed)."""
        ctx = uow.context
        policy = self.policy
        if not uow.changes or ctx.origin in policy.exclude_origins:
            return []
        now = utcnow()
        transaction = str(uuid.uuid4())
        fallback_company = ctx.company or None
        rows = []
        for change in uow.changes:
            if not policy.audits(change.table):
                continue
            changed = _changed(change, policy.skip_columns)
            if not changed:
                continue  # an update that touched only versions and stamps
            image = change.after if change.after is not None else change.before
            assert image is not None
            company = image.get("dataareaid") or fallback_company
            rows.append(
                {
                    "recversion": 1,
                    "tablename": change.table,
                    "recordkey": str(change.key),
                    "dataareaid": company[:8] if isinstance(company, str) else None,
                    "operation": change.operation,
                    "changedcolumns": ",".join(name for name, _, _ in changed),
                    "changedata": orjson.dumps(
                        {"changedAttributes": [{"logicalName": n, "oldValue": o, "newValue": v} for n, o, v in changed]}
                    ).decode(),
                    "username": str(ctx.user)[:64],
                    "principalid": ctx.principal_id,
                    "origin": ctx.origin[:20],
                    "transactionid": transaction,
                    "createddatetime": now,
                }
            )
        return rows


def _changed(change: RowChange, skip: frozenset[str]) -> list[tuple[str, Any, Any]]:
    before: Mapping[str, Any] = change.before or {}
    after: Mapping[str, Any] = change.after or {}
    if change.operation == "create":
        return [(k, None, json_value(v)) for k, v in after.items() if k not in skip and v is not None]
    if change.operation == "delete":
        return [(k, json_value(v), None) for k, v in before.items() if k not in skip and v is not None]
    return [
        (k, json_value(before.get(k)), json_value(v))
        for k, v in after.items()
        if k not in skip and before.get(k) != v
    ]


def install(database: Database, policy: AuditPolicy = ERP_POLICY, *, check_schema: bool = True) -> AuditRecorder:
    """Audit every unit of work of ``database`` from now on (replacing an earlier ``install``). The audit table must
    exist (``create_schema``): without it every write would fail, so this refuses up front."""
    if check_schema and not inspect(database.engine).has_table(auditlog.name):
        raise ConfigurationError(
            f"Database {database.name} has no audit table {auditlog.name}.",
            next_step="Call isthmus.audit.create_schema(database) before isthmus.audit.install(database).",
        )
    uninstall(database)
    recorder = AuditRecorder(policy)
    # The final phase, so the trail also holds what other pre-commit hooks (dual-write, events) write.
    database.hooks.pre_commit_final.append(recorder)
    return recorder


def uninstall(database: Database) -> None:
    hooks = database.hooks.pre_commit_final
    hooks[:] = [h for h in hooks if not isinstance(h, AuditRecorder)]


def installed(database: Database) -> AuditRecorder | None:
    return next((h for h in database.hooks.pre_commit_final if isinstance(h, AuditRecorder)), None)


def audited_tables(policy: AuditPolicy, tables: Iterable[str]) -> list[str]:
    """Which of ``tables`` the policy audits (for documentation and the CLI)."""
    return sorted(t for t in tables if policy.audits(t))
