"""One application database (the ERP's or a Dataverse environment's): its engine, its unit-of-work factory and its
read connections. The same code serves SQLite (embedded default, WAL) and PostgreSQL."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from isthmus.errors import UnavailableError
from isthmus.storage.unit_of_work import CallContext, UnitOfWork, UnitOfWorkHooks

# The unit of work a request is running in, per database. ``$batch`` change sets open one unit of work and run their
# requests inside it; the handlers find it here and join it instead of committing on their own.
_ambient: contextvars.ContextVar[dict[int, UnitOfWork] | None] = contextvars.ContextVar("isthmus_uow", default=None)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # Autocommit at the driver level: transactions are begun explicitly in _sqlite_begin, so that reads get a
    # snapshot and writes take the write lock up front (BEGIN IMMEDIATE) instead of failing on lock upgrade.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
        "cache_size=-65536",
        "temp_store=MEMORY",
        "mmap_size=268435456",
    ):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("isthmus_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """An engine plus the rules every unit of work on it follows."""

    def __init__(self, url: str, *, name: str = "db", echo: bool = False) -> None:
        self.url = url
        self.name = name
        self.hooks = UnitOfWorkHooks()
        self.write_gate: threading.RLock | None = None
        """Taken by every unit of work before it begins, when set. Dual-write gives the two SQLite databases of a
        link one gate, so a writer holding one database's lock never waits for the other's held by a writer
        going the opposite way (a deadlock SQLite could only break by timing out)."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            kwargs: dict = {"connect_args": {"check_same_thread": False}}
            if database in ("", ":memory:"):
                kwargs["poolclass"] = StaticPool
            else:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, echo=echo, **kwargs)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def create_schema(self, metadata: MetaData) -> None:
        with self.engine.begin() as conn:
            metadata.create_all(conn)

    def dispose(self) -> None:
        self.engine.dispose()

    # --- units of work ------------------------------------------------------------------------------------------

    def current_unit_of_work(self) -> UnitOfWork | None:
        ambient = _ambient.get()
        return ambient.get(id(self)) if ambient else None

    @contextmanager
    def unit_of_work(self, context: CallContext) -> Iterator[UnitOfWork]:
        """Open a unit of work, or join the one already running for this database in this request (a ``$batch``
        change set). A joined unit is committed or rolled back by its owner, never here."""
        current = self.current_unit_of_work()
        if current is not None:
            yield current
            return
        uow = self.begin(context)
        try:
            with self.joined(uow):
                yield uow
            self.commit(uow)
        except BaseException:
            self.rollback(uow)
            raise

    def begin(self, context: CallContext) -> UnitOfWork:
        """Open a unit of work that its caller ends explicitly with ``commit`` or ``rollback`` (dual-write keeps the
        other side's unit open until the writer's has committed). Writes only join it inside ``joined``."""
        gate = self.write_gate
        if gate is not None:
            gate.acquire()
        try:
            conn = self.engine.connect().execution_options(isthmus_write=True)
        except OperationalError as exc:
            if gate is not None:
                gate.release()
            raise UnavailableError(f"Database {self.name} is unreachable: {exc.orig}",
                                   next_step="Check that the database server is running and reachable.") from exc
        uow = UnitOfWork(self, conn, context)
        try:
            conn.begin()
        except OperationalError as exc:
            conn.close()
            if gate is not None:
                gate.release()
            raise UnavailableError(f"Database {self.name} is unreachable: {exc.orig}") from exc
        return uow

    @contextmanager
    def joined(self, uow: UnitOfWork) -> Iterator[UnitOfWork]:
        """Make ``uow`` the unit every write to this database joins, for the duration of the block."""
        token = _ambient.set({**(_ambient.get() or {}), id(self): uow})
        try:
            yield uow
        finally:
            _ambient.reset(token)

    def commit(self, uow: UnitOfWork) -> None:
        """Run the pre-commit hooks (unless ``prepare`` already did), commit, run the post-commit hooks."""
        try:
            with self.joined(uow):
                uow._commit()
        finally:
            if uow.state == "committed":
                self._end(uow)

    def rollback(self, uow: UnitOfWork) -> None:
        if uow.state == "open":
            try:
                uow._rollback()
            finally:
                self._end(uow)

    def _end(self, uow: UnitOfWork) -> None:
        uow.connection.close()
        if self.write_gate is not None:
            self.write_gate.release()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads: one snapshot for every statement run on it. Inside a unit of work (a change
        set), the unit's own connection, so the reads see its uncommitted writes."""
        current = self.current_unit_of_work()
        if current is not None:
            yield current.connection
            return
        with self.engine.connect() as conn:
            conn.begin()
            try:
                yield conn
            finally:
                conn.rollback()
