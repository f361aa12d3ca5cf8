"""Live sync for one link: the hooks in both apps' units of work that send each transaction's mapped changes to the
other side before the writer commits, and the journal that makes a crash between the two commits harmless.

The protocol, for a writer's transaction T on side A with changes for side B:

1. A's pre-commit hook turns T's change log into changes per map (``changes``). Maps that are paused (or
   initializing, or resuming) get the changes appended to A's ``dualwrite_queue`` inside T; stopped maps get nothing.
2. For running maps, a session opens on B under a new transaction id X and applies the changes (``apply``) through
   B's own services, and B's pre-commit hooks run (``prepare``) — B's ``dualwrite_applied`` row for X is written
   there. A refusal rolls B back and fails T with B's reason: nothing is written on either side.
3. A's ``dualwrite_journal`` row for X is written inside T; T commits; then B's session commits.

A crash before T commits loses both (B was never committed). A crash after T committed but before B did leaves
A's journal row without B's applied row: recovery (at start-up, ``recover``) re-sends those keys from A's current
state. Over HTTP, B commits before T; a crash in between leaves B's applied row without A's journal row: recovery
restores those keys on B from A. Either way the sides converge and nothing is duplicated (upserts by integration
key). ``trim`` removes journal/applied pairs that both committed.

The other side unreachable at step 2: with the map's policy ``block`` the writer gets a 503 that says so (Microsoft's
behaviour); with ``queue`` the changes go to the queue instead and the map pauses itself, to catch up when the other
side answers again (``catchup``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, delete, insert, select

from isthmus.dualwrite import schema
from isthmus.dualwrite.apply import apply_to_dataverse, apply_to_erp
from isthmus.dualwrite.changes import Change, Direction, dataverse_changes, dataverse_row_key, erp_changes
from isthmus.dualwrite.convert import erp_key, erp_row_from_storage, json_value
from isthmus.dualwrite.maps.bind import BoundMap
from isthmus.dualwrite.sides.local import DataverseReader, LocalDataverse, LocalErp
from isthmus.dualwrite.sources import read_dataverse_change, read_erp_change
from isthmus.errors import IsthmusError, UnavailableError
from isthmus.storage import Database, UnitOfWork
from isthmus.storage.types import utcnow

log = logging.getLogger(__name__)

State = Literal["not_running", "initializing", "running", "paused", "resuming", "stopped", "error"]
STATES: tuple[State, ...] = ("not_running", "initializing", "running", "paused", "resuming", "stopped", "error")
QUEUEING: frozenset[str] = frozenset({"initializing", "paused", "resuming"})
"""States in which writes are held in the queue rather than sent."""
Policy = Literal["block", "queue"]


@dataclass
class MapRun:
    """A map as the runtime sees it: bound, with its state and policy (mirrored from the control database)."""

    bound: BoundMap
    state: State = "not_running"
    policy: Policy = "block"
    auto_paused: bool = False
    synced: int = 0

    @property
    def name(self) -> str:
        return self.bound.name


@dataclass
class Events:
    """What the runtime tells its owner (the service persists states and errors in the control database)."""

    state_changed: Callable[[str, State, bool, str], None] = lambda name, state, auto, reason: None
    error: Callable[[str, str, str], None] = lambda name, error_class, message: None


@dataclass
class LinkRuntime:
    link: str
    erp: LocalErp
    dataverse: LocalDataverse
    runs: dict[str, MapRun] = field(default_factory=dict)
    companies: frozenset[str] | None = None
    """Legal entities taking part (``None``: all of them)."""
    events: Events = field(default_factory=Events)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _installed: bool = False

    # --- set-up -------------------------------------------------------------------------------------------------

    @property
    def erp_database(self) -> Database:
        return self.erp.database

    @property
    def dataverse_database(self) -> Database:
        return self.dataverse.database

    def install(self) -> None:
        """Create the runtime tables on both databases and hook into their units of work (idempotent)."""
        if self._installed:
            return
        for database in (self.erp_database, self.dataverse_database):
            database.create_schema(schema.runtime)
        if "sqlite" in (self.erp_database.dialect, self.dataverse_database.dialect):
            gate = self.erp_database.write_gate or self.dataverse_database.write_gate or threading.RLock()
            self.erp_database.write_gate = gate
            self.dataverse_database.write_gate = gate
        self.erp_database.hooks.pre_commit.append(self._erp_pre_commit)
        self.dataverse_database.hooks.pre_commit.append(self._dataverse_pre_commit)
        self.erp_database.hooks.pre_commit.append(self._erp_received)
        self.dataverse_database.hooks.pre_commit.append(self._dataverse_received)
        self._installed = True

    def uninstall(self) -> None:
        for database, hooks in ((self.erp_database, (self._erp_pre_commit, self._erp_received)),
                                (self.dataverse_database, (self._dataverse_pre_commit, self._dataverse_received))):
            database.hooks.pre_commit[:] = [h for h in database.hooks.pre_commit if h not in hooks]
        self._installed = False

    def active(self, *states: str) -> list[BoundMap]:
        return [r.bound for r in self.runs.values() if r.state in states]

    def bound(self) -> dict[str, BoundMap]:
        """Every map that binds (a map in error because it does not bind is left out)."""
        return {name: run.bound for name, run in self.runs.items() if isinstance(run.bound, BoundMap)}

    # --- sending ------------------------------------------------------------------------------------------------

    def _erp_pre_commit(self, uow: UnitOfWork) -> None:
        if uow.context.origin == "dualwrite" or not uow.changes:
            return
        maps = self.active("running", *QUEUEING)
        if not maps:
            return
        changes = erp_changes(maps, uow.changes, self.companies)
        if changes:
            self._send(uow, "to_dataverse", changes)

    def _dataverse_pre_commit(self, uow: UnitOfWork) -> None:
        if uow.context.origin == "dualwrite" or not uow.changes:
            return
        maps = self.active("running", *QUEUEING)
        if not maps:
            return
        reader = DataverseReader(self.dataverse.environment, uow.connection)
        changes = dataverse_changes(maps, uow.changes, reader.company_code, self.companies)
        if changes:
            self._send(uow, "to_erp", changes, reader=reader)

    def _send(self, uow: UnitOfWork, direction: Direction, changes: list[Change],
              reader: DataverseReader | None = None) -> None:
        live, held = self._partition(changes)
        if held:
            # Catch-up switches a map to running under this lock; re-read the states once it is ours, so a change
            # is never queued after the switch (it would be stranded behind a live map).
            lock_queue(uow.connection, exclusive=False)
            live, held = self._partition(changes)
            if held:
                self.enqueue(uow, held)
        if not live:
            return
        transaction_id = str(uuid.uuid4())
        try:
            session = self._apply(direction, transaction_id, live, reader)
        except UnavailableError as exc:
            self._other_side_away(uow, live, exc)
            return
        uow.connection.execute(insert(schema.journal).values(
            transaction_id=transaction_id, direction=direction, entries=_entries(live), created=utcnow()))
        uow.add_on_rollback(lambda _: session.rollback())
        uow.add_post_commit(lambda _: self._commit_other_side(session, transaction_id, live))

    def _partition(self, changes: Sequence[Change]) -> tuple[list[Change], list[Change]]:
        live: list[Change] = []
        held: list[Change] = []
        for change in changes:
            state = self.runs[change.map].state
            if state == "running":
                live.append(change)
            elif state in QUEUEING:
                held.append(change)
        return live, held

    def _apply(self, direction: Direction, transaction_id: str, changes: Sequence[Change],
               reader: DataverseReader | None) -> Any:
        """Open a session on the other side, apply ``changes`` and prepare it; the caller commits or rolls back."""
        maps = self.bound()
        if direction == "to_dataverse":
            session: Any = self.dataverse.open(transaction_id)
        else:
            session = self.erp.open(transaction_id)
        try:
            if direction == "to_dataverse":
                apply_to_dataverse(session, maps, changes)
            else:
                assert reader is not None
                apply_to_erp(session, reader, maps, changes)
            session.prepare()
        except BaseException as exc:
            session.rollback()
            if isinstance(exc, IsthmusError) and not isinstance(exc, UnavailableError):
                for name in {c.map for c in changes}:
                    self.events.error(name, "application", exc.message)
            raise
        return session

    def _commit_other_side(self, session: Any, transaction_id: str, changes: Sequence[Change]) -> None:
        try:
            session.commit()
        except Exception:
            # The writer committed and the other side did not: the journal row stays, recovery re-sends the keys.
            log.exception("dual-write transaction %s committed here but not on the other side; recovery will re-send it",
                          transaction_id)
            return
        with self._lock:
            for change in changes:
                self.runs[change.map].synced += 1

    def _other_side_away(self, uow: UnitOfWork, changes: Sequence[Change], exc: UnavailableError) -> None:
        names = sorted({c.map for c in changes})
        blocking = [n for n in names if self.runs[n].policy == "block"]
        for name in names:
            self.events.error(name, "system", exc.message)
        if blocking:
            raise UnavailableError(
                f"Dual-write map {', '.join(blocking)}: the other side is unreachable ({exc.message}); nothing was saved.",
                next_step="Retry when it is back, pause the map to hold changes in a queue, or set the map's policy "
                          "to 'queue' so it pauses itself when the other side is away.",
            ) from exc
        self.enqueue(uow, changes)
        for name in names:
            self.set_state(name, "paused", auto=True, reason=f"The other side is unreachable: {exc.message}")

    def set_state(self, name: str, state: State, *, auto: bool = False, reason: str = "") -> None:
        with self._lock:
            run = self.runs[name]
            if run.state == state and run.auto_paused == auto:
                return
            run.state = state
            run.auto_paused = auto
        self.events.state_changed(name, state, auto, reason)

    # --- receiving ----------------------------------------------------------------------------------------------

    def _erp_received(self, uow: UnitOfWork) -> None:
        if uow.context.origin != "dualwrite" or uow.context.origin_transaction is None:
            return
        entries = []
        for bound in self.bound().values():
            for change in uow.changes_to([bound.entity.table.name]):
                image = change.after or change.before
                assert image is not None
                row = {k: json_value(v) for k, v in erp_row_from_storage(bound.entity, image).items()}
                entries.append([bound.name, erp_key(bound, row)])
        _record_applied(uow, "to_erp", entries)

    def _dataverse_received(self, uow: UnitOfWork) -> None:
        if uow.context.origin != "dualwrite" or uow.context.origin_transaction is None:
            return
        reader = DataverseReader(self.dataverse.environment, uow.connection)
        entries = []
        for bound in self.bound().values():
            for change in uow.changes_to([bound.table.logical_name]):
                image = change.after or change.before
                assert image is not None
                key = dataverse_row_key(bound, image, reader.company_code)
                if key is not None:
                    entries.append([bound.name, key])
        _record_applied(uow, "to_dataverse", entries)

    # --- re-sending one record ----------------------------------------------------------------------------------

    def resync(self, direction: Direction, keys: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Make the other side equal to the source's current state for ``keys`` ((map, ERP-form key) pairs), in one
        transaction: a source row that no longer exists is deleted on the other side."""
        maps = self.bound()
        changes: list[Change] = []
        if direction == "to_dataverse":
            with self.erp_database.read() as conn:
                for name, key in keys:
                    if name in maps:
                        change = read_erp_change(self.erp.service, conn, maps[name], key)
                        if change is not None:
                            changes.append(change)
            if changes:
                session = self._apply(direction, str(uuid.uuid4()), changes, None)
                session.commit()
            return
        with self.dataverse_database.read() as conn:
            reader = DataverseReader(self.dataverse.environment, conn)
            for name, key in keys:
                if name in maps and maps[name].syncs_to_erp:
                    change = read_dataverse_change(reader, maps[name], key)
                    if change is not None:
                        changes.append(change)
            if changes:
                session = self._apply(direction, str(uuid.uuid4()), changes, reader)
                session.commit()

    # --- queue --------------------------------------------------------------------------------------------------

    def enqueue(self, uow: UnitOfWork, changes: Sequence[Change]) -> None:
        """Hold ``changes`` in the writer's own database, inside its transaction, in order."""
        transaction_id = str(uuid.uuid4())
        now = utcnow()
        uow.connection.execute(insert(schema.queue), [
            {"map": c.map, "transaction_id": transaction_id, "operation": c.operation, "source_key": c.key,
             "row": c.row, "created": now} for c in changes
        ])

    # --- recovery -----------------------------------------------------------------------------------------------

    def recover(self, *, grace_seconds: float = 0.0) -> int:
        """Converge after a crash between the two commits (see the module docstring); returns the transactions
        repaired. ``grace_seconds`` leaves younger transactions alone (they may still be in flight)."""
        repaired = 0
        for source, target, direction in ((self.erp_database, self.dataverse_database, "to_dataverse"),
                                          (self.dataverse_database, self.erp_database, "to_erp")):
            repaired += self._recover_pair(source, target, direction, grace_seconds)  # type: ignore[arg-type]
        return repaired

    def _recover_pair(self, source: Database, target: Database, direction: Direction, grace_seconds: float) -> int:
        cutoff = utcnow() - dt.timedelta(seconds=grace_seconds)
        with source.read() as conn:
            sent = {r.transaction_id: r for r in conn.execute(
                select(schema.journal).where(schema.journal.c.direction == direction, schema.journal.c.created <= cutoff))}
        with target.read() as conn:
            received = {r.transaction_id: r for r in conn.execute(
                select(schema.applied).where(schema.applied.c.direction == direction, schema.applied.c.created <= cutoff))}
        repaired = 0
        for transaction_id, row in sent.items():
            if transaction_id not in received:
                # Sent and committed here, never committed there: send the keys again from the current state.
                self.resync(direction, [(name, key) for name, key in row.entries])
                repaired += 1
        for transaction_id, row in received.items():
            if transaction_id not in sent and not _journal_has(source, transaction_id):
                # Committed there, never committed here (HTTP transport): put those records back as they are here.
                self.resync(direction, [(name, key) for name, key in row.entries])
                repaired += 1
        self._forget(source, target, list(sent) + list(received))
        return repaired

    def trim(self) -> None:
        """Forget transactions both sides committed (journal and applied rows in pairs)."""
        for source, target, direction in ((self.erp_database, self.dataverse_database, "to_dataverse"),
                                          (self.dataverse_database, self.erp_database, "to_erp")):
            with source.read() as conn:
                sent = [r[0] for r in conn.execute(
                    select(schema.journal.c.transaction_id).where(schema.journal.c.direction == direction).limit(5000))]
            if not sent:
                continue
            with target.read() as conn:
                both = [r[0] for r in conn.execute(
                    select(schema.applied.c.transaction_id).where(schema.applied.c.transaction_id.in_(sent)))]
            self._forget(source, target, both)

    def _forget(self, source: Database, target: Database, transaction_ids: list[str]) -> None:
        if not transaction_ids:
            return
        # The journal first: an applied row without its journal row is repaired by re-sending, which is harmless.
        for database, table in ((source, schema.journal), (target, schema.applied)):
            with database.engine.begin() as conn:
                for start in range(0, len(transaction_ids), 500):
                    chunk = transaction_ids[start:start + 500]
                    conn.execute(delete(table).where(table.c.transaction_id.in_(chunk)))


def lock_queue(conn: Connection, *, exclusive: bool) -> None:
    """Writers queueing take the queue lock shared, catch-up going live takes it exclusive (PostgreSQL; on SQLite
    every writer already holds the database's write lock)."""
    if conn.dialect.name == "postgresql":
        mode = "SHARE ROW EXCLUSIVE" if exclusive else "ROW EXCLUSIVE"
        conn.exec_driver_sql(f"LOCK TABLE dualwrite_queue IN {mode} MODE")


def _entries(changes: Sequence[Change]) -> list[list[Any]]:
    return [[c.map, c.key] for c in changes]


def _record_applied(uow: UnitOfWork, direction: str, entries: list[list[Any]]) -> None:
    transaction_id = uow.context.origin_transaction
    existing = uow.connection.execute(
        select(schema.applied.c.transaction_id).where(schema.applied.c.transaction_id == transaction_id)).first()
    if existing is not None:
        return
    uow.connection.execute(insert(schema.applied).values(
        transaction_id=transaction_id, direction=direction, entries=entries, created=utcnow()))


def _journal_has(database: Database, transaction_id: str) -> bool:
    with database.read() as conn:
        return conn.execute(select(schema.journal.c.transaction_id)
                            .where(schema.journal.c.transaction_id == transaction_id)).first() is not None


