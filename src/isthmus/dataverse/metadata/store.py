"""Where metadata lives: the standard tables come from code; every runtime customisation (a custom table, column,
key or relationship) is one row in the change log ``dv_metadata_change``, replayed on load. The physical tables
follow the metadata: created, or altered to add a column, in the same transaction that records the change.

Several processes may share a database: each checks the log's high-water mark at most once a second and reloads
when another process changed the metadata.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, Text, func, insert, select

from isthmus.dataverse.metadata import serialize
from isthmus.dataverse.metadata.model import AlternateKey, Column as ColumnDef, Relationship, Table as TableDef
from isthmus.dataverse.metadata.physical import ensure_physical
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.metadata.standard import standard_tables
from isthmus.errors import ConflictError, NotFoundError, ValidationError
from isthmus.storage import Database
from isthmus.storage.types import UtcDateTime, utcnow

catalog = MetaData()
metadata_change = Table(
    "dv_metadata_change",
    catalog,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("target", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("createdon", UtcDateTime, nullable=False),
)

REFRESH_INTERVAL_S = 1.0


class MetadataStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._registry: Registry | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self.listeners: list[Callable[[Registry], None]] = []

    # --- loading ----------------------------------------------------------------------------------------------

    def bootstrap(self) -> Registry:
        """Create the change log and every physical table; load the registry."""
        with self.database.engine.begin() as conn:
            catalog.create_all(conn)
        registry = self._load()
        with self.database.engine.begin() as conn:
            for table in registry.tables.values():
                if not table.is_virtual:
                    ensure_physical(conn, table, registry.sql[table.logical_name])
        return registry

    @property
    def registry(self) -> Registry:
        now = time.monotonic()
        if self._registry is None or now - self._checked_at > REFRESH_INTERVAL_S:
            self._checked_at = now
            with self.database.engine.connect() as conn:
                latest = conn.execute(select(func.coalesce(func.max(metadata_change.c.seq), 0))).scalar_one()
            if self._registry is None or latest != self._registry.version:
                return self._load()
        assert self._registry is not None
        return self._registry

    def _load(self, conn: Connection | None = None) -> Registry:
        if conn is None:
            with self.database.engine.connect() as own:
                return self._load(own)
        rows = conn.execute(select(metadata_change).order_by(metadata_change.c.seq)).mappings().all()
        tables = {t.logical_name: t for t in standard_tables()}
        relationships: dict[str, Relationship] = {}
        version = 0
        for row in rows:
            version = row["seq"]
            _replay(tables, relationships, row["kind"], row["target"], json.loads(row["payload"]))
        registry = Registry(list(tables.values()), list(relationships.values()), version)
        with self._lock:
            self._registry = registry
        for listener in self.listeners:
            listener(registry)
        return registry

    # --- changes ----------------------------------------------------------------------------------------------

    def create_table(self, conn: Connection, table: TableDef) -> Registry:
        registry = self._current(conn)
        if table.logical_name in registry.tables:
            raise ConflictError(f"A table named {table.logical_name!r} already exists.", target="LogicalName")
        if table.entity_set_name in registry.by_set:
            raise ConflictError(f"The entity set name {table.entity_set_name!r} is already used.", target="EntitySetName")
        return self._record(conn, "create_table", table.logical_name, serialize.table_to_json(table), physical=table.logical_name)

    def add_column(self, conn: Connection, table_name: str, column: ColumnDef) -> Registry:
        table = self._table(conn, table_name)
        if table.column(column.logical_name) is not None:
            raise ConflictError(
                f"Table {table_name} already has a column named {column.logical_name!r}.", target="LogicalName"
            )
        return self._record(conn, "add_column", table_name, serialize.column_to_json(column), physical=table_name)

    def add_key(self, conn: Connection, table_name: str, key: AlternateKey) -> Registry:
        table = self._table(conn, table_name)
        missing = [c for c in key.columns if table.column(c) is None]
        if missing:
            raise ValidationError(f"Key {key.logical_name} names columns {table_name} does not have: {', '.join(missing)}.")
        if any(k.logical_name == key.logical_name for k in table.keys):
            raise ConflictError(f"Table {table_name} already has a key named {key.logical_name!r}.")
        return self._record(conn, "add_key", table_name, serialize.key_to_json(key), physical=table_name)

    def add_relationship(self, conn: Connection, relationship: Relationship) -> Registry:
        if any(r.schema_name == relationship.schema_name for r in self._current(conn).relationships):
            raise ConflictError(f"A relationship named {relationship.schema_name!r} already exists.")
        for name in (relationship.referenced_table, relationship.referencing_table):
            self._table(conn, name)
        return self._record(conn, "add_relationship", relationship.schema_name, serialize.relationship_to_json(relationship))

    def delete_table(self, conn: Connection, table_name: str) -> Registry:
        table = self._table(conn, table_name)
        if not table.is_custom:
            raise ValidationError(f"{table_name} is a standard table and cannot be deleted.")
        return self._record(conn, "delete_table", table_name, {})

    def delete_column(self, conn: Connection, table_name: str, column_name: str) -> Registry:
        column = self._table(conn, table_name).column(column_name)
        if column is None:
            raise NotFoundError(f"Table {table_name} has no column {column_name!r}.")
        if not column.is_custom:
            raise ValidationError(f"{table_name}.{column_name} is a standard column and cannot be deleted.")
        return self._record(conn, "delete_column", table_name, {"logical_name": column_name})

    def delete_key(self, conn: Connection, table_name: str, key_name: str) -> Registry:
        if not any(k.logical_name == key_name for k in self._table(conn, table_name).keys):
            raise NotFoundError(f"Table {table_name} has no key {key_name!r}.")
        return self._record(conn, "delete_key", table_name, {"logical_name": key_name})

    def delete_relationship(self, conn: Connection, schema_name: str) -> Registry:
        found = next((r for r in self._current(conn).relationships if r.schema_name == schema_name), None)
        if found is None:
            raise NotFoundError(f"No relationship named {schema_name!r}.")
        if not found.is_custom:
            raise ValidationError(f"{schema_name} is a standard relationship and cannot be deleted.")
        return self._record(conn, "delete_relationship", schema_name, {})

    def _current(self, conn: Connection) -> Registry:
        """The registry as ``conn`` sees it — including this transaction's own uncommitted changes, which another
        connection (the periodic refresh) cannot see."""
        latest = conn.execute(select(func.coalesce(func.max(metadata_change.c.seq), 0))).scalar_one()
        if self._registry is not None and latest == self._registry.version:
            return self._registry
        return self._load(conn)

    def invalidate(self) -> None:
        """Forget the cached registry (after a metadata transaction rolled back)."""
        with self._lock:
            self._registry = None

    def _table(self, conn: Connection, name: str) -> TableDef:
        table = self._current(conn).table(name)
        if table is None:
            raise NotFoundError(f"No table named {name!r}.", target="LogicalName")
        return table

    def _record(self, conn: Connection, kind: str, target: str, payload: dict[str, Any], *, physical: str | None = None) -> Registry:
        conn.execute(
            insert(metadata_change).values(kind=kind, target=target, payload=json.dumps(payload), createdon=utcnow())
        )
        registry = self._load(conn)
        if physical is not None:
            table = registry.tables[physical]
            if not table.is_virtual:
                ensure_physical(conn, table, registry.sql[physical])
        return registry


def _replay(
    tables: dict[str, TableDef], relationships: dict[str, Relationship], kind: str, target: str, payload: dict[str, Any]
) -> None:
    if kind == "create_table":
        tables[target] = serialize.table_from_json(payload)
    elif kind == "add_column" and target in tables:
        tables[target] = tables[target].with_columns(serialize.column_from_json(payload))
    elif kind == "add_key" and target in tables:
        tables[target] = tables[target].with_key(serialize.key_from_json(payload))
    elif kind == "add_relationship":
        relationships[target] = serialize.relationship_from_json(payload)
    elif kind == "delete_table":
        tables.pop(target, None)
    elif kind == "delete_column" and target in tables:
        t = tables[target]
        tables[target] = replace(t, columns=tuple(c for c in t.columns if c.logical_name != payload["logical_name"]), _by_name={})
    elif kind == "delete_key" and target in tables:
        t = tables[target]
        tables[target] = replace(t, keys=tuple(k for k in t.keys if k.logical_name != payload["logical_name"]), _by_name={})
    elif kind == "delete_relationship":
        relationships.pop(target, None)
