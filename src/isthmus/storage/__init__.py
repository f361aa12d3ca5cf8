"""Storage: engines for SQLite (embedded default) and PostgreSQL, column types that behave the same on both, and the
unit of work every write goes through."""

from isthmus.storage.database import Database
from isthmus.storage.unit_of_work import CallContext, RowChange, UnitOfWork, UnitOfWorkHooks

__all__ = ["CallContext", "Database", "RowChange", "UnitOfWork", "UnitOfWorkHooks"]
