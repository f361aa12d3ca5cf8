"""How a query on a data entity reaches SQL: property paths → columns (``field``) and collection navigation
properties → correlated sources (``collection``), for the shared ``$filter`` compiler and for ``$orderby``."""

from __future__ import annotations

from sqlalchemy import and_, select

from isthmus.errors import QueryOptionError
from isthmus.erp.entities.model import DataEntity, EntityField
from isthmus.odata.query.sql import CollectionRef, FieldRef


def field_ref(field: EntityField, column: object | None = None, name: str | None = None) -> FieldRef:
    return FieldRef(
        name=name or field.name,
        column=field.column if column is None else column,
        type=field.type,
        enum=field.enum,
        to_storage=field.codec.to_storage if field.codec else None,
        nullable=not field.key,
    )


class EntityResolver:
    def __init__(self, catalog: object, entity: DataEntity) -> None:
        self.catalog = catalog
        self.entity = entity

    def _missing(self, name: str) -> QueryOptionError:
        return QueryOptionError(
            f"The property {name!r} does not exist on {self.entity.set_name}.",
            next_step="GET /data/$metadata lists the properties of every entity.",
        )

    def field(self, path: tuple[str, ...]) -> FieldRef:
        own = self.entity.field(path[0])
        if own is not None:
            if len(path) > 1:
                raise QueryOptionError(f"{path[0]} is a property of {self.entity.set_name}, not a navigation property.")
            return field_ref(own)
        nav = self.entity.navigation_property(path[0])
        if nav is None:
            raise self._missing(path[0])
        if nav.collection:
            raise QueryOptionError(
                f"{path[0]} is a collection; use a lambda such as {path[0]}/any(x: x/...) to filter on it."
            )
        if len(path) != 2:
            raise QueryOptionError(f"{'/'.join(path)} must name one property of {nav.name}.")
        target = self.catalog.entity(nav.target)  # type: ignore[attr-defined]
        target_field = target.field(path[1])
        if target_field is None:
            raise QueryOptionError(f"The property {path[1]!r} does not exist on {target.set_name}.")
        # A single-valued navigation reads through a correlated scalar subquery: one value per outer row, and the
        # same null semantics as a plain column when the related record is missing.
        value = (
            select(target_field.column)
            .select_from(target.from_clause)
            .where(join_condition(self.entity, target, nav.pairs))
            .limit(1)
            .scalar_subquery()
        )
        return field_ref(target_field, value, "/".join(path))

    def collection(self, name: str) -> CollectionRef:
        nav = self.entity.navigation_property(name)
        if nav is None:
            raise self._missing(name)
        if not nav.collection:
            raise QueryOptionError(f"{name} is a single record, not a collection; compare its properties directly.")
        target = self.catalog.entity(nav.target)  # type: ignore[attr-defined]
        return CollectionRef(
            resolver=EntityResolver(self.catalog, target),
            source=target.from_clause,
            condition=join_condition(self.entity, target, nav.pairs),
        )


def join_condition(outer: DataEntity, target: DataEntity, pairs: tuple[tuple[str, str], ...]) -> object:
    return and_(*[target.field(b).column == outer.field(a).column for a, b in pairs])  # type: ignore[union-attr]
