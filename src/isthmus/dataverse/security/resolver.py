"""A ``TableResolver`` that applies the caller's read conditions to every related table a query reaches: paths
through single-valued navigation (``primarycontactid/fullname``) see only related records the caller may read, and
collections (``any``/``all`` lambdas) only readable rows. Used by ``$filter``, ``$orderby`` and ``$apply``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select

from isthmus.dataverse.metadata.model import Table
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.records.resolver import TableResolver
from isthmus.dataverse.security.access import Access
from isthmus.errors import QueryOptionError
from isthmus.odata.query.sql import CollectionRef, FieldRef


class SecuredResolver(TableResolver):
    def __init__(self, registry: Registry, table: Table, sql_table: Any | None = None, *, access: Access) -> None:
        super().__init__(registry, table, sql_table)
        self.access = access

    def field(self, path: tuple[str, ...]) -> FieldRef:
        if len(path) == 1:
            return super().field(path)
        nav = self.registry.navigation(self.table.logical_name, path[0])
        if nav is None or nav.kind != "single":
            raise QueryOptionError(
                f"'{path[0]}' is not a single-valued navigation property of {self.table.logical_name}.",
                code="0x80060888",
            )
        target = self.registry.tables[nav.target]
        inner = SecuredResolver(self.registry, target, self.registry.sql[nav.target].alias(), access=self.access)
        remote = inner.field(path[1:])
        value = (
            select(remote.column)
            .where(inner.sql.c[nav.remote_column] == self.sql.c[nav.local_column],  # type: ignore[attr-defined]
                   *self.access.read_conditions(target, inner.sql))
            .limit(1)
            .scalar_subquery()
        )
        return FieldRef(name="/".join(path), column=value, type=remote.type, nullable=True)

    def collection(self, name: str) -> CollectionRef:
        plain = super().collection(name)
        inner: TableResolver = plain.resolver  # type: ignore[assignment]
        conditions = self.access.read_conditions(inner.table, inner.sql)
        return CollectionRef(
            resolver=SecuredResolver(self.registry, inner.table, inner.sql, access=self.access),
            source=plain.source,
            condition=and_(plain.condition, *conditions) if conditions else plain.condition,
        )
