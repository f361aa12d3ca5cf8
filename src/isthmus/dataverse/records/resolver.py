"""How a query on a Dataverse table reaches SQL: property names (``name``, ``_primarycontactid_value``, paths through
single-valued navigation properties such as ``primarycontactid/fullname``) → columns, and collection navigation
properties → correlated sources, for the shared ``$filter`` compiler, ``$orderby``, ``$apply`` and FetchXML."""

from __future__ import annotations

from sqlalchemy import select

from isthmus.dataverse.metadata.model import Column, Table
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.records.values import edm_type
from isthmus.errors import QueryOptionError
from isthmus.odata.query.sql import CollectionRef, FieldRef


def column_for_property(table: Table, name: str) -> Column | None:
    """The column a Web API property names: its logical name, or ``_x_value`` for lookup ``x``."""
    if name.startswith("_") and name.endswith("_value"):
        column = table.column(name[1:-6])
        return column if column is not None and column.is_lookup else None
    column = table.column(name)
    if column is not None and column.is_lookup:
        return None  # a lookup is read as _x_value; the bare name is its navigation property
    return column


class TableResolver:
    def __init__(self, registry: Registry, table: Table, sql_table: object | None = None) -> None:
        self.registry = registry
        self.table = table
        self.sql = sql_table if sql_table is not None else registry.sql[table.logical_name]

    def ref(self, column: Column, expression: object | None = None, name: str | None = None) -> FieldRef:
        return FieldRef(
            name=name or column.value_property,
            column=self.sql.c[column.logical_name] if expression is None else expression,  # type: ignore[attr-defined]
            type=edm_type(column),
            nullable=not column.is_primary_id,
        )

    def field(self, path: tuple[str, ...]) -> FieldRef:
        if len(path) == 1:
            column = column_for_property(self.table, path[0])
            if column is None:
                raise QueryOptionError(
                    f"Could not find a property named '{path[0]}' on type 'Microsoft.Dynamics.CRM.{self.table.logical_name}'.",
                    code="0x80060888",
                )
            return self.ref(column)
        nav = self.registry.navigation(self.table.logical_name, path[0])
        if nav is None or nav.kind != "single":
            raise QueryOptionError(
                f"'{path[0]}' is not a single-valued navigation property of {self.table.logical_name}.",
                code="0x80060888",
            )
        target = self.registry.tables[nav.target]
        inner = TableResolver(self.registry, target, self.registry.sql[nav.target].alias())
        remote = inner.field(path[1:])
        value = (
            select(remote.column)
            .where(inner.sql.c[nav.remote_column] == self.sql.c[nav.local_column])  # type: ignore[attr-defined]
            .limit(1)
            .scalar_subquery()
        )
        return FieldRef(name="/".join(path), column=value, type=remote.type, nullable=True)

    def collection(self, name: str) -> CollectionRef:
        nav = self.registry.navigation(self.table.logical_name, name)
        if nav is None or nav.kind == "single":
            raise QueryOptionError(f"'{name}' is not a collection-valued navigation property of {self.table.logical_name}.")
        target = self.registry.tables[nav.target]
        child = self.registry.sql[nav.target].alias()
        if nav.kind == "collection":
            return CollectionRef(
                resolver=TableResolver(self.registry, target, child),
                source=child,
                condition=child.c[nav.remote_column] == self.sql.c[nav.local_column],  # type: ignore[attr-defined]
            )
        relationship = nav.relationship
        intersect = self.registry.sql[relationship.intersect_table].alias()
        mine, theirs = self.registry.intersect_sides(relationship, self.table.logical_name)
        return CollectionRef(
            resolver=TableResolver(self.registry, target, child),
            source=child.join(intersect, intersect.c[theirs] == child.c[target.primary_id]),
            condition=intersect.c[mine] == self.sql.c[self.table.primary_id],  # type: ignore[attr-defined]
        )

