"""Rows as the Web API shows them: column values under their property names (lookups as ``_x_value``), the row's
``@odata.etag``, and the annotations a client asks for with ``Prefer: odata.include-annotations``:
``OData.Community.Display.V1.FormattedValue``, ``Microsoft.Dynamics.CRM.lookuplogicalname`` and
``Microsoft.Dynamics.CRM.associatednavigationproperty``."""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from isthmus.dataverse.metadata.model import Column, Table
from isthmus.dataverse.metadata.physical import type_suffix
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.records.values import formatted, to_json

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOOKUP_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAVIGATION = "Microsoft.Dynamics.CRM.associatednavigationproperty"


@dataclass(frozen=True)
class Annotations:
    """Which annotations the client asked for (``odata.include-annotations``; ``*`` or patterns allowed)."""

    patterns: tuple[str, ...] = ()

    @classmethod
    def from_prefer(cls, value: str | None) -> Annotations:
        if not value:
            return cls()
        return cls(tuple(p.strip() for p in value.strip('"').split(",") if p.strip()))

    def wants(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in self.patterns)

    @property
    def formatted(self) -> bool:
        return self.wants(FORMATTED)


def etag(version: int | None) -> str:
    return f'W/"{version or 0}"'


class RowShaper:
    """Turns stored rows of one table into Web API JSON, fetching lookup names in one query per target table."""

    def __init__(self, registry: Registry, table: Table, columns: Sequence[Column], annotations: Annotations) -> None:
        self.registry = registry
        self.table = table
        self.columns = columns
        self.annotations = annotations

    def shape(self, conn: Connection, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = list(rows)
        names = self._lookup_names(conn, rows) if self.annotations.formatted else {}
        want_type = self.annotations.wants(LOOKUP_NAME)
        want_nav = self.annotations.wants(NAVIGATION)
        shaped = []
        for row in rows:
            out: dict[str, Any] = {"@odata.etag": etag(row.get("versionnumber"))}
            for column in self.columns:
                value = row.get(column.logical_name)
                prop = column.value_property
                out[prop] = to_json(column, value)
                if value is None:
                    continue
                if column.is_lookup:
                    target = self._target(column, row)
                    if self.annotations.formatted:
                        label = names.get((target, value))
                        if label is not None:
                            out[f"{prop}@{FORMATTED}"] = label
                    if want_nav:
                        out[f"{prop}@{NAVIGATION}"] = (
                            column.logical_name if not column.polymorphic else f"{column.logical_name}_{target}"
                        )
                    if want_type and target:
                        out[f"{prop}@{LOOKUP_NAME}"] = target
                elif self.annotations.formatted:
                    label = formatted(column, value)
                    if label is not None:
                        out[f"{prop}@{FORMATTED}"] = label
            shaped.append(out)
        return shaped

    def _target(self, column: Column, row: dict[str, Any]) -> str | None:
        if column.polymorphic:
            return row.get(type_suffix(column.logical_name))
        return column.targets[0] if column.targets else None

    def _lookup_names(self, conn: Connection, rows: list[dict[str, Any]]) -> dict[tuple[str | None, str], str]:
        wanted: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            for column in self.columns:
                value = row.get(column.logical_name)
                if column.is_lookup and value is not None:
                    target = self._target(column, row)
                    if target:
                        wanted[target].add(value)
        names: dict[tuple[str | None, str], str] = {}
        for target, ids in wanted.items():
            table = self.registry.tables.get(target)
            if table is None or table.primary_name is None or table.is_virtual:
                continue
            sql = self.registry.sql[target]
            for chunk in _chunks(sorted(ids), 500):
                stmt = select(sql.c[table.primary_id], sql.c[table.primary_name]).where(sql.c[table.primary_id].in_(chunk))
                for record_id, name in conn.execute(stmt):
                    if name is not None:
                        names[(target, record_id)] = name
        return names


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
