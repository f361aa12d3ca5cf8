"""How metadata becomes SQL: one physical table per Dataverse table, one column per attribute (plus a hidden type
column for polymorphic lookups), and the DDL to create them or add a column at runtime."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Connection, Float, Index, Integer, MetaData, String, Table, Text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.types import TypeEngine

from isthmus.dataverse.metadata.model import Column as ColumnDef
from isthmus.dataverse.metadata.model import Table as TableDef
from isthmus.storage.types import Money, UtcDateTime

GUID_LENGTH = 36


def type_suffix(column: str) -> str:
    """The hidden column that records which table a polymorphic lookup points to."""
    return f"{column}__type"


def sql_type(column: ColumnDef) -> TypeEngine:
    kind = column.type
    if kind == "String":
        return String(column.max_length or 100)
    if kind == "Memo":
        return Text()
    if kind in ("Integer", "Picklist", "State", "Status"):
        return Integer()
    if kind == "BigInt":
        return BigInteger()
    if kind in ("Decimal", "Money"):
        return Money()
    if kind == "Double":
        return Float()
    if kind == "Boolean":
        return Boolean()
    if kind == "DateTime":
        return UtcDateTime()
    return String(GUID_LENGTH)  # Uniqueidentifier and lookups hold GUID text


def sql_columns(table: TableDef) -> list[Column]:
    columns: list[Column] = []
    for c in table.columns:
        if c.is_primary_id:
            columns.append(Column(c.logical_name, String(GUID_LENGTH), primary_key=True))
            continue
        columns.append(Column(c.logical_name, sql_type(c)))
        if c.polymorphic:
            columns.append(Column(type_suffix(c.logical_name), String(64)))
    return columns


def sql_table(table: TableDef, metadata: MetaData) -> Table:
    """The SQLAlchemy table of a Dataverse table, with indexes on lookups and alternate keys (unique)."""
    sa_table = Table(table.logical_name, metadata, *sql_columns(table))
    for c in table.columns:
        if c.is_lookup:
            Index(f"ix_{table.logical_name}_{c.logical_name}", sa_table.c[c.logical_name])
    for key in table.keys:
        Index(f"ux_{table.logical_name}_{key.logical_name}", *[sa_table.c[n] for n in key.columns], unique=True)
    if table.primary_name:
        Index(f"ix_{table.logical_name}_{table.primary_name}", sa_table.c[table.primary_name])
    return sa_table


def ensure_physical(conn: Connection, table: TableDef, sa_table: Table) -> None:
    """Create the table if it does not exist; add any column and index it lacks (runtime schema changes)."""
    inspector = sa_inspect(conn)
    if not inspector.has_table(table.logical_name):
        sa_table.create(conn)
        return
    have = {c["name"] for c in inspector.get_columns(table.logical_name)}
    preparer = conn.dialect.identifier_preparer
    for column in sa_table.columns:
        if column.name not in have:
            ddl_type = column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(
                f"ALTER TABLE {preparer.quote(table.logical_name)} ADD COLUMN {preparer.quote(column.name)} {ddl_type}"
            )
    indexes = {i["name"] for i in inspector.get_indexes(table.logical_name)}
    for index in sa_table.indexes:
        if index.name not in indexes:
            index.create(conn)
