"""One application database (the ERP's or a Dataverse environment's): its engine, its unit-of-work factory and its
read connections. The same code serves SQLite (embedded default, WAL) and PostgreSQL."""

from __future__ import annotations

import contextvars
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
        try:
            conn = self.engine.connect().execution_options(isthmus_write=True)
        except OperationalError as exc:
            raise UnavailableError(f"Database {self.name} is unreachable: {exc.orig}") from exc
        uow = UnitOfWork(self, conn, context)
        token = _ambient.set({**(_ambient.get() or {}), id(self): uow})
        try:
            conn.begin()
            yield uow
            uow._commit()
        except BaseException:
            uow._rollback()
            raise
        finally:
            _ambient.reset(token)
            conn.close()

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
