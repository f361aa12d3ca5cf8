"""The in-memory view of an environment's metadata: tables by logical and entity set name, their relationships and
navigation properties, and the SQLAlchemy tables behind them.

A registry is immutable once built; a metadata change builds a new one and swaps it in (``MetadataStore``), so a
request always sees one consistent version (``version`` is Dataverse's global metadata version).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import MetaData
from sqlalchemy import Table as SqlTable

from isthmus.dataverse.metadata.model import Relationship, Table
from isthmus.dataverse.metadata.physical import sql_table


@dataclass(frozen=True)
class Navigation:
    """A navigation property of a table: where it leads and which columns join the two."""

    name: str
    kind: Literal["single", "collection", "many_to_many"]
    relationship: Relationship
    target: str
    """Logical name of the table it leads to."""
    local_column: str
    """Column on this table (the lookup for single; the primary id for collections)."""
    remote_column: str
    """Column on the target (its primary id for single; the lookup for collections)."""


class Registry:
    def __init__(self, tables: list[Table], relationships: list[Relationship], version: int) -> None:
        self.version = version
        self.tables: dict[str, Table] = {t.logical_name: t for t in tables}
        self.by_set: dict[str, Table] = {t.entity_set_name: t for t in tables}
        self.metadata = MetaData()
        self.sql: dict[str, SqlTable] = {t.logical_name: sql_table(t, self.metadata) for t in tables}
        # A relationship made explicitly (RelationshipDefinitions) for a lookup replaces the one derived from it.
        covered = {(r.referenced_table, r.referencing_table, r.referencing_column) for r in relationships if r.kind == "OneToMany"}
        derived = [
            r for r in derived_relationships(tables)
            if (r.referenced_table, r.referencing_table, r.referencing_column) not in covered
        ]
        self.relationships = [*derived, *relationships]
        self._navigation: dict[str, dict[str, Navigation]] = {t: {} for t in self.tables}
        for r in self.relationships:
            if r.kind == "OneToMany":
                if r.referencing_table in self._navigation:
                    target = self.tables.get(r.referenced_table)
                    if target is not None:
                        self._navigation[r.referencing_table][r.referencing_navigation] = Navigation(
                            r.referencing_navigation, "single", r, r.referenced_table, r.referencing_column, target.primary_id
                        )
                if r.referenced_table in self._navigation and r.referencing_table in self.tables:
                    self._navigation[r.referenced_table][r.referenced_navigation] = Navigation(
                        r.referenced_navigation, "collection", r, r.referencing_table,
                        self.tables[r.referenced_table].primary_id, r.referencing_column,
                    )
            else:
                for side, other in ((r.referenced_table, r.referencing_table), (r.referencing_table, r.referenced_table)):
                    if side in self._navigation and other in self.tables:
                        self._navigation[side][r.schema_name] = Navigation(
                            r.schema_name, "many_to_many", r, other, self.tables[side].primary_id,
                            self.tables[other].primary_id,
                        )

    def table(self, logical_name: str) -> Table | None:
        return self.tables.get(logical_name)

    def navigation(self, table: str, name: str) -> Navigation | None:
        found = self._navigation.get(table, {}).get(name)
        if found is None:  # navigation property names are case-sensitive in Dataverse; be lenient on reads
            lowered = name.lower()
            found = next((n for k, n in self._navigation.get(table, {}).items() if k.lower() == lowered), None)
        return found

    def navigations(self, table: str) -> list[Navigation]:
        return list(self._navigation.get(table, {}).values())

    def intersect_columns(self, relationship: Relationship) -> tuple[str, str]:
        """The intersect table's columns for a many-to-many relationship's entity 1 (referenced) and entity 2:
        their primary ids, or ``<table>idone`` and ``<table>idtwo`` when a table relates to itself."""
        e1, e2 = relationship.referenced_table, relationship.referencing_table
        if e1 == e2:
            return f"{e1}idone", f"{e1}idtwo"
        first, second = self.tables.get(e1), self.tables.get(e2)
        return (first.primary_id if first else f"{e1}id"), (second.primary_id if second else f"{e2}id")

    def intersect_sides(self, relationship: Relationship, table: str) -> tuple[str, str]:
        """(column pointing at ``table``, column pointing at the other side) in a many-to-many intersect table."""
        first, second = self.intersect_columns(relationship)
        return (first, second) if table == relationship.referenced_table else (second, first)

    def lookup_navigation(self, table: str, column: str, target: str) -> Navigation | None:
        return next(
            (n for n in self.navigations(table) if n.kind == "single" and n.local_column == column and n.target == target),
            None,
        )


def derived_relationships(tables: list[Table]) -> list[Relationship]:
    """One-to-many relationships implied by lookup columns: one per lookup and target table."""
    result = []
    known = {t.logical_name for t in tables}
    for t in tables:
        for c in t.columns:
            if not c.is_lookup:
                continue
            for target in c.targets:
                if target not in known:
                    continue
                navigation = c.logical_name if not c.polymorphic else f"{c.logical_name}_{target}"
                result.append(
                    Relationship(
                        schema_name=f"{target}_{t.logical_name}_{c.logical_name}",
                        kind="OneToMany",
                        referenced_table=target,
                        referencing_table=t.logical_name,
                        referencing_column=c.logical_name,
                        referencing_navigation=navigation,
                        referenced_navigation=f"{target}_{t.logical_name}_{c.logical_name}",
                        is_custom=c.is_custom,
                    )
                )
    return result
