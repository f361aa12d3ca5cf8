"""The audit table, in its own ``MetaData`` so that any application database (the ERP's, a Dataverse
environment's) can carry it: ``create_schema(database)``.

One row per row change a unit of work committed. Named after finance and operations' database log table
(``sysdatabaselog``), lower case like the ERP's tables; the columns are the same for both applications.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

from isthmus.storage import Database
from isthmus.storage.types import RecId, UtcDateTime

metadata = MetaData()

auditlog = Table(
    "sysdatabaselog",
    metadata,
    Column("recid", RecId, primary_key=True, autoincrement=True),
    # Constant 1: an audit row never changes. Present so that data entities can read the table like any other.
    Column("recversion", Integer, nullable=False, default=1),
    Column("tablename", String(128), nullable=False),
    # The record's primary key as text (an ERP RecId, a Dataverse GUID).
    Column("recordkey", String(64), nullable=False),
    # The record's legal entity (dataareaid), else the caller's company; NULL where there is none (Dataverse).
    Column("dataareaid", String(8)),
    Column("operation", String(8), nullable=False),  # create, update, delete
    # Comma-separated changed columns, and {"changedAttributes": [{"logicalName", "oldValue", "newValue"}]}.
    Column("changedcolumns", Text, nullable=False),
    Column("changedata", Text, nullable=False),
    Column("username", String(64), nullable=False),
    Column("principalid", String(36)),
    Column("origin", String(20), nullable=False),
    Column("transactionid", String(36), nullable=False),
    Column("createddatetime", UtcDateTime, nullable=False),
    Index("ix_sysdatabaselog_record", "tablename", "recordkey", "recid"),
    Index("ix_sysdatabaselog_company", "dataareaid", "recid"),
)


def create_schema(database: Database) -> None:
    """Create the audit table in ``database`` if it is not there yet (idempotent)."""
    database.create_schema(metadata)
