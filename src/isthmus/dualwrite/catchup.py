"""Catch-up: playing the pause queue back in order, then going live; and the error list of changes that failed.

The queue lives in the writer's own database and has no time or size cap. Catch-up replays every queued change —
every intermediate value, as Microsoft's does — transaction by transaction, each under the transaction id it was
queued with, so a replay interrupted by a crash skips what the other side already committed (exactly once).

A change the other side refuses goes to ``dualwrite_error`` with the reason; later queued changes to the same record
wait behind it there (class ``blocked``) instead of overtaking it. ``retry`` replays errors in their original order;
``skip`` drops them. When the other side is unreachable, catch-up stops and leaves the rest queued.

Going live is atomic with respect to writers: the switch takes the queue lock (PostgreSQL ``LOCK TABLE``; SQLite's
write lock, which every writer holds), checks the queue is empty and flips the state, so no writer can queue a change
after the last look and have it stranded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from isthmus.dualwrite import schema
from isthmus.dualwrite.changes import Change, Direction
from isthmus.dualwrite.runtime import LinkRuntime, lock_queue
from isthmus.dualwrite.sides.local import DataverseReader
from isthmus.errors import IsthmusError, UnavailableError
from isthmus.storage import CallContext, Database
from isthmus.storage.types import utcnow

BATCH = 500


@dataclass
class CatchUpResult:
    applied: int = 0
    failed: int = 0
    blocked: int = 0
    stopped: str | None = None
    """Why catch-up stopped before the queue was empty (the other side unreachable), or ``None``."""
    live: list[str] = field(default_factory=list)
    """Maps that went live."""


def _key_text(map_name: str, key: Any) -> str:
    return map_name + "|" + json.dumps(key, sort_keys=True, default=str)


def _sides(runtime: LinkRuntime) -> list[tuple[Database, Direction]]:
    return [(runtime.erp_database, "to_dataverse"), (runtime.dataverse_database, "to_erp")]


def queued_count(runtime: LinkRuntime, names: Iterable[str] | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for database, _ in _sides(runtime):
        stmt = select(schema.queue.c.map, func.count()).group_by(schema.queue.c.map)
        if names is not None:
            stmt = stmt.where(schema.queue.c.map.in_(list(names)))
        with database.read() as conn:
            for name, count in conn.execute(stmt):
                counts[name] = counts.get(name, 0) + count
    return counts


def catch_up(runtime: LinkRuntime, names: Sequence[str], *, go_live: bool = True) -> CatchUpResult:
    """Replay the queue of ``names`` (maps in a queueing state); when it is empty, switch them to running."""
    result = CatchUpResult()
    wanted = set(names)
    for database, direction in _sides(runtime):
        _drain(runtime, database, direction, wanted, result)
        if result.stopped:
            return result
    if go_live:
        result.live = _go_live(runtime, sorted(wanted), result)
    return result


def _drain(runtime: LinkRuntime, database: Database, direction: Direction, names: set[str], result: CatchUpResult) -> None:
    with database.read() as conn:
        blocked = {_key_text(r.map, r.source_key) for r in conn.execute(
            select(schema.error.c.map, schema.error.c.source_key).where(schema.error.c.map.in_(names)))}
    while True:
        with database.read() as conn:
            rows = list(conn.execute(select(schema.queue).where(schema.queue.c.map.in_(names))
                                     .order_by(schema.queue.c.sequence).limit(BATCH)))
        if not rows:
            return
        for group in _groups(rows):
            if not _replay_group(runtime, database, direction, group, blocked, result):
                return


def _groups(rows: list[Any]) -> list[list[Any]]:
    groups: list[list[Any]] = []
    for row in rows:
        if groups and groups[-1][0].transaction_id == row.transaction_id:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _replay_group(runtime: LinkRuntime, database: Database, direction: Direction, group: list[Any], blocked: set[str],
                  result: CatchUpResult) -> bool:
    """Apply one queued transaction; ``False`` when catch-up must stop."""
    transaction_id = group[0].transaction_id
    waiting = [r for r in group if _key_text(r.map, r.source_key) in blocked]
    ready = [r for r in group if r not in waiting]
    target = runtime.dataverse_database if direction == "to_dataverse" else runtime.erp_database
    if ready and not _already_applied(target, transaction_id):
        changes = [_change(r) for r in ready]
        try:
            _apply(runtime, direction, transaction_id, changes)
            result.applied += len(ready)
        except UnavailableError as exc:
            result.stopped = exc.message
            return False
        except IsthmusError as exc:
            _to_errors(database, ready, exc.message, "application")
            for r in ready:
                blocked.add(_key_text(r.map, r.source_key))
                runtime.events.error(r.map, "application", exc.message)
            result.failed += len(ready)
    if waiting:
        _to_errors(database, waiting, "Waits for an earlier change to the same record that failed; retry or skip that "
                                      "one first.", "blocked")
        result.blocked += len(waiting)
    with database.engine.begin() as conn:
        conn.execute(delete(schema.queue).where(schema.queue.c.sequence.in_([r.sequence for r in group])))
    return True


def _apply(runtime: LinkRuntime, direction: Direction, transaction_id: str, changes: list[Change]) -> None:
    if direction == "to_dataverse":
        session = runtime._apply(direction, transaction_id, changes, None)
        session.commit()
        return
    with runtime.dataverse_database.read() as conn:
        session = runtime._apply(direction, transaction_id, changes, DataverseReader(runtime.dataverse.environment, conn))
        session.commit()


def _change(row: Any) -> Change:
    return Change(row.map, row.operation, dict(row.source_key), dict(row.row) if row.row is not None else None)


def _already_applied(database: Database, transaction_id: str) -> bool:
    with database.read() as conn:
        return conn.execute(select(schema.applied.c.transaction_id)
                            .where(schema.applied.c.transaction_id == transaction_id)).first() is not None


def _to_errors(database: Database, rows: Sequence[Any], message: str, error_class: str) -> None:
    now = utcnow()
    with database.engine.begin() as conn:
        for r in rows:
            existing = conn.execute(select(schema.error.c.sequence).where(schema.error.c.sequence == r.sequence)).first()
            values = {"map": r.map, "transaction_id": r.transaction_id, "operation": r.operation,
                      "source_key": r.source_key, "row": r.row, "message": message[:4000], "error_class": error_class,
                      "last_attempt": now}
            if existing:
                conn.execute(update(schema.error).where(schema.error.c.sequence == r.sequence)
                             .values(**values, attempts=schema.error.c.attempts + 1))
            else:
                conn.execute(insert(schema.error).values(sequence=r.sequence, created=r.created, attempts=1, **values))


def _go_live(runtime: LinkRuntime, names: list[str], result: CatchUpResult) -> list[str]:
    """Switch ``names`` to running if nothing is queued for them, atomically with respect to writers."""
    context = CallContext(user="dualwrite", company="", origin="dualwrite")
    units = []
    try:
        for database, _ in _sides(runtime):
            uow = database.begin(context)
            units.append((database, uow))
            lock_queue(uow.connection, exclusive=True)
        remaining = 0
        for _, uow in units:
            remaining += uow.connection.execute(
                select(func.count()).select_from(schema.queue).where(schema.queue.c.map.in_(names))).scalar_one()
        if remaining:
            return []
        live = [n for n in names if runtime.runs[n].state in ("resuming", "paused", "initializing")]
        for name in live:
            runtime.set_state(name, "running", reason="Caught up with the queue.")
        return live
    finally:
        for database, uow in reversed(units):
            database.commit(uow)


def discard_queue(runtime: LinkRuntime, names: Sequence[str]) -> int:
    """Drop the queued changes of ``names`` (stopping a paused map on purpose)."""
    dropped = 0
    for database, _ in _sides(runtime):
        with database.engine.begin() as conn:
            dropped += conn.execute(delete(schema.queue).where(schema.queue.c.map.in_(list(names)))).rowcount
    return dropped


# --- the error list ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedError:
    id: str
    """``erp-<sequence>`` or ``dataverse-<sequence>``: which database holds it and its place in the queue."""
    map: str
    operation: str
    key: dict[str, Any]
    message: str
    error_class: str
    attempts: int
    created: Any
    last_attempt: Any


def list_errors(runtime: LinkRuntime, map_name: str | None = None) -> list[QueuedError]:
    found: list[QueuedError] = []
    for (database, _), prefix in zip(_sides(runtime), ("erp", "dataverse")):
        stmt = select(schema.error).order_by(schema.error.c.sequence)
        if map_name is not None:
            stmt = stmt.where(schema.error.c.map == map_name)
        with database.read() as conn:
            for r in conn.execute(stmt):
                found.append(QueuedError(f"{prefix}-{r.sequence}", r.map, dict(r.source_key), r.message, r.error_class,
                                         r.attempts, r.created, r.last_attempt))
    return found


def _by_side(ids: Iterable[str]) -> dict[str, list[int]]:
    sides: dict[str, list[int]] = {"erp": [], "dataverse": []}
    for error_id in ids:
        prefix, _, number = str(error_id).rpartition("-")
        if prefix not in sides or not number.isdigit():
            from isthmus.errors import ValidationError

            raise ValidationError(f"{error_id!r} is not an error id; ids look like erp-12 or dataverse-7.", target="ids")
        sides[prefix].append(int(number))
    return sides


def retry_errors(runtime: LinkRuntime, ids: Iterable[str] | None = None, map_name: str | None = None) -> CatchUpResult:
    """Replay errors (all of a map, or the given ids) in their original order; those that pass leave the list."""
    result = CatchUpResult()
    chosen = _by_side(ids) if ids is not None else None
    for (database, direction), prefix in zip(_sides(runtime), ("erp", "dataverse")):
        stmt = select(schema.error).order_by(schema.error.c.sequence)
        if chosen is not None:
            stmt = stmt.where(schema.error.c.sequence.in_(chosen[prefix] or [-1]))
        if map_name is not None:
            stmt = stmt.where(schema.error.c.map == map_name)
        with database.read() as conn:
            rows = list(conn.execute(stmt))
        failed_keys: set[str] = set()
        for r in rows:
            key = _key_text(r.map, r.source_key)
            if key in failed_keys:
                result.blocked += 1
                continue
            try:
                _apply(runtime, direction, f"retry-{r.transaction_id[:20]}-{r.sequence}", [_change(r)])
            except UnavailableError as exc:
                result.stopped = exc.message
                return result
            except IsthmusError as exc:
                failed_keys.add(key)
                _to_errors(database, [r], exc.message, "application")
                result.failed += 1
                continue
            with database.engine.begin() as conn:
                conn.execute(delete(schema.error).where(schema.error.c.sequence == r.sequence))
            result.applied += 1
    return result


def skip_errors(runtime: LinkRuntime, ids: Iterable[str]) -> int:
    """Drop errors from the list without applying them; returns how many were dropped."""
    dropped = 0
    for (database, _), prefix in zip(_sides(runtime), ("erp", "dataverse")):
        numbers = _by_side(ids)[prefix]
        if not numbers:
            continue
        with database.engine.begin() as conn:
            dropped += conn.execute(delete(schema.error).where(schema.error.c.sequence.in_(numbers))).rowcount
    return dropped
