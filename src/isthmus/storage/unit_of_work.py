"""The unit of work: one transaction on one application database, committed or rolled back whole.

Every write in Isthmus goes through a ``UnitOfWork``. Besides the transaction it owns:

* the **change log** — every row it inserted, updated or deleted, with before and after images (``RowChange``), so
  that dual-write can see which mapped columns changed and data events can describe the change;
* **hooks** — ``pre_commit`` callbacks run inside the transaction just before it commits (dual-write pushes the change
  to the other side there; an exception aborts the whole unit), ``post_commit`` callbacks run after a successful commit
  (nothing they do can undo it; their failures are logged, never raised);
* a **scratchpad** (``items``) where hook owners keep per-transaction state.

Lifecycle: open → (tracked writes) → pre-commit hooks → commit → post-commit hooks; or open → rollback on any
exception. A unit of work is not reused after it ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, Table, delete, insert, select, update

from isthmus.storage.types import utcnow

if TYPE_CHECKING:
    from isthmus.storage.database import Database

log = logging.getLogger(__name__)

Operation = Literal["create", "update", "delete"]
Hook = Callable[["UnitOfWork"], None]


@dataclass(frozen=True)
class CallContext:
    """Who is calling and on whose behalf: the user, their default company and the companies they may touch."""

    user: str = "Admin"
    company: str = "usmf"
    companies: frozenset[str] | None = None
    """Companies (dataAreaId) the caller may read and write; ``None`` means every company."""
    origin: str = "api"
    """Where the write comes from (``api``, ``seed``, ``dualwrite``...), so hooks can avoid echoing a write back."""
    grants: Any = None
    """What the caller may do, as the application's security model defines it (the ERP's entity privileges); ``None``
    means unrestricted (the system itself, seeding, development mode)."""
    principal_id: str | None = None
    """The identity (token ``oid``) behind the call, for audit; ``None`` for the system itself."""
    origin_transaction: str | None = None
    """For ``origin="dualwrite"``: the id of the other side's transaction this unit applies (idempotency, recovery)."""

    def may_access(self, company: str) -> bool:
        return self.companies is None or company in self.companies


@dataclass(frozen=True)
class RowChange:
    """One row written by a unit of work. ``before`` is ``None`` for a create, ``after`` is ``None`` for a delete."""

    table: str
    operation: Operation
    key: Any
    """The row's primary key value (``recid`` for ERP tables, the GUID for Dataverse tables)."""
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None

    @property
    def changed_columns(self) -> frozenset[str]:
        if self.before is None or self.after is None:
            return frozenset((self.after or self.before or {}).keys())
        return frozenset(k for k, v in self.after.items() if self.before.get(k) != v)


@dataclass
class UnitOfWorkHooks:
    """Callbacks every unit of work of one database runs. Dual-write and events register here."""

    pre_commit: list[Hook] = field(default_factory=list)
    pre_commit_final: list[Hook] = field(default_factory=list)
    """Run after every other pre-commit hook (the unit's own ones too), still inside the transaction: observers
    such as the audit trail go here so they see the writes dual-write and events make in their hooks."""
    post_commit: list[Hook] = field(default_factory=list)


def _pk(table: Table) -> str:
    return next(iter(table.primary_key.columns)).name


class UnitOfWork:
    """One transaction with tracked writes and commit hooks. Create it with ``Database.unit_of_work``."""

    def __init__(self, database: Database, connection: Connection, context: CallContext) -> None:
        self.database = database
        self.connection = connection
        self.context = context
        self.changes: list[RowChange] = []
        self.items: dict[str, Any] = {}
        self._pre_commit: list[Hook] = []
        self._post_commit: list[Hook] = []
        self._on_rollback: list[Hook] = []
        self._prepared = False
        self.state: Literal["open", "committed", "rolled_back"] = "open"

    # --- hooks ------------------------------------------------------------------------------------------------

    def add_pre_commit(self, hook: Hook) -> None:
        """Run ``hook`` inside this transaction just before it commits (after the database-wide hooks)."""
        self._pre_commit.append(hook)

    def add_post_commit(self, hook: Hook) -> None:
        """Run ``hook`` once this transaction has committed."""
        self._post_commit.append(hook)

    def add_on_rollback(self, hook: Hook) -> None:
        """Run ``hook`` if this transaction rolls back (after its pre-commit hooks ran, too): dual-write rolls back
        the other side's prepared transaction here."""
        self._on_rollback.append(hook)

    # --- tracked writes ---------------------------------------------------------------------------------------

    def insert(self, table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
        """Insert one row, stamping the audit columns, and return it as stored (with its primary key)."""
        row = dict(values)
        self._stamp(table, row, created=True)
        stored = self.connection.execute(insert(table).values(row).returning(*table.c)).mappings().one()
        after = dict(stored)
        self.changes.append(RowChange(table.name, "create", after[_pk(table)], None, after))
        return after

    def insert_many(self, table: Table, rows: Sequence[Mapping[str, Any]], *, track: bool = True) -> None:
        """Insert many rows in one statement. With ``track=False`` the rows are not added to the change log (use it
        only for derived rows nobody subscribes to, such as ledger lines of a voucher that is itself tracked)."""
        if not rows:
            return
        stamped = []
        for values in rows:
            row = dict(values)
            self._stamp(table, row, created=True)
            stamped.append(row)
        if not track:
            self.connection.execute(insert(table), stamped)
            return
        stored = self.connection.execute(insert(table).returning(*table.c), stamped).mappings().all()
        pk = _pk(table)
        for r in stored:
            after = dict(r)
            self.changes.append(RowChange(table.name, "create", after[pk], None, after))

    def update(
        self,
        table: Table,
        key: Any,
        values: Mapping[str, Any],
        *,
        before: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Update one row by primary key, bump its version, and return the row as stored.

        Pass ``before`` when the caller already read the row in this transaction, to save a read.
        """
        if before is None:
            before = self.read_for_update(table, key)
        row = dict(values)
        self._stamp(table, row, created=False)
        if "recversion" in table.c:
            row["recversion"] = table.c.recversion + 1
        pk = table.c[_pk(table)]
        stored = self.connection.execute(update(table).where(pk == key).values(row).returning(*table.c)).mappings().one()
        after = dict(stored)
        self.changes.append(RowChange(table.name, "update", key, dict(before), after))
        return after

    def delete(self, table: Table, key: Any) -> dict[str, Any]:
        """Delete one row by primary key and return what it held."""
        pk = table.c[_pk(table)]
        stored = self.connection.execute(delete(table).where(pk == key).returning(*table.c)).mappings().one()
        before = dict(stored)
        self.changes.append(RowChange(table.name, "delete", key, before, None))
        return before

    def read_for_update(self, table: Table, key: Any) -> dict[str, Any]:
        """Read one row and lock it until the transaction ends (PostgreSQL ``FOR UPDATE``; SQLite already holds the
        database write lock because write units begin ``IMMEDIATE``)."""
        stmt = select(table).where(table.c[_pk(table)] == key)
        if self.connection.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return dict(self.connection.execute(stmt).mappings().one())

    def changes_to(self, tables: Iterable[str]) -> list[RowChange]:
        wanted = set(tables)
        return [c for c in self.changes if c.table in wanted]

    def _stamp(self, table: Table, row: dict[str, Any], *, created: bool) -> None:
        now = utcnow()
        cols = table.c
        if created:
            if "createddatetime" in cols:
                row.setdefault("createddatetime", now)
            if "createdby" in cols:
                row.setdefault("createdby", self.context.user)
            if "recversion" in cols:
                row.setdefault("recversion", 1)
        if "modifieddatetime" in cols:
            row["modifieddatetime"] = now
        if "modifiedby" in cols:
            row["modifiedby"] = self.context.user

    # --- end of life ------------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Run the pre-commit hooks (once): after this the unit only has to commit. A failure here rolls nothing
        back by itself; the owner of the unit does."""
        if self._prepared:
            return
        self._prepared = True
        for hook in (*self.database.hooks.pre_commit, *self._pre_commit, *self.database.hooks.pre_commit_final):
            hook(self)

    def _commit(self) -> None:
        self.prepare()
        self.connection.commit()
        self.state = "committed"
        for hook in (*self.database.hooks.post_commit, *self._post_commit):
            try:
                hook(self)
            except Exception:  # a post-commit hook cannot undo the commit; it must not fail the caller either
                log.exception("post-commit hook %r failed; the transaction stays committed", hook)

    def _rollback(self) -> None:
        if self.state != "open":
            return
        try:
            self.connection.rollback()
        finally:
            self.state = "rolled_back"
            for hook in self._on_rollback:
                try:
                    hook(self)
                except Exception:
                    log.exception("rollback hook %r failed", hook)
