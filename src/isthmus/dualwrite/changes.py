"""From a unit of work's change log to the changes dual-write sends: which maps a written row belongs to, whether a
mapped column changed, and the row as the map reads it.

Every change is keyed the ERP's way — the integration key fields and the company (``{"CustomerAccount": "US-001",
"dataAreaId": "usmf"}``) — in both directions, so the journal, the pause queue and the error list read the same
whichever side wrote. Several writes to one row in one transaction travel as one change with the row's final
state (a row created and deleted in the same transaction travels not at all), in the order the rows were first
written, so an order header goes before its lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from isthmus.dualwrite.convert import (
    COMPANY_FIELD,
    dataverse_in_scope,
    erp_in_scope,
    erp_key,
    erp_row_from_storage,
    json_value,
)
from isthmus.dualwrite.maps.bind import BoundMap
from isthmus.errors import ValidationError
from isthmus.storage.unit_of_work import RowChange

Operation = Literal["upsert", "delete"]
Direction = Literal["to_dataverse", "to_erp"]


@dataclass(frozen=True)
class Change:
    """One row to make equal on the other side: upsert it from ``row`` or delete it."""

    map: str
    operation: Operation
    key: dict[str, Any]
    """The ERP-form integration key (key fields and ``dataAreaId`` for a per-company map)."""
    row: dict[str, Any] | None
    """The source row, JSON-ready: an ERP entity row in API form, or a stored Dataverse row."""

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.key.items())


def _collapse(changes: Iterable[RowChange], key_of: Callable[[RowChange], Any]) -> list[tuple[RowChange, str, frozenset[str]]]:
    """(last change, net operation, every changed column) per row, in first-write order."""
    first: dict[Any, RowChange] = {}
    last: dict[Any, RowChange] = {}
    columns: dict[Any, set[str]] = {}
    for change in changes:
        identity = key_of(change)
        first.setdefault(identity, change)
        last[identity] = change
        columns.setdefault(identity, set()).update(change.changed_columns)
    result = []
    for identity, opening in first.items():
        closing = last[identity]
        if opening.operation == "create" and closing.operation == "delete":
            continue
        operation = "delete" if closing.operation == "delete" else ("create" if opening.operation == "create" else "update")
        result.append((closing, operation, frozenset(columns[identity])))
    return result


def erp_changes(maps: Sequence[BoundMap], changes: Sequence[RowChange], companies: frozenset[str] | None) -> list[Change]:
    """The changes an ERP unit of work sends to Dataverse through ``maps``."""
    by_table: dict[str, list[BoundMap]] = {}
    for bound in maps:
        by_table.setdefault(bound.entity.table.name, []).append(bound)
    relevant = [c for c in changes if c.table in by_table]
    if not relevant:
        return []
    out: list[Change] = []
    for change, operation, changed in _collapse(relevant, lambda c: (c.table, c.key)):
        for bound in by_table[change.table]:
            if operation == "update" and not (changed & bound.erp_trigger_columns):
                continue
            image = change.before if operation == "delete" else change.after
            assert image is not None
            row = {k: json_value(v) for k, v in erp_row_from_storage(bound.entity, image).items()}
            if not erp_in_scope(bound, row) or not _company_takes_part(bound, row, companies):
                continue
            out.append(Change(bound.name, "delete" if operation == "delete" else "upsert", erp_key(bound, row),
                              None if operation == "delete" else row))
    return out


def _company_takes_part(bound: BoundMap, row: Mapping[str, Any], companies: frozenset[str] | None) -> bool:
    if companies is None:
        return True
    if bound.company_specific:
        return row.get(COMPANY_FIELD) in companies
    if bound.entity.set_name == "LegalEntities":
        return row.get("LegalEntityId") in companies
    return True


def dataverse_changes(maps: Sequence[BoundMap], changes: Sequence[RowChange], company_code: Callable[[str], str | None],
                      companies: frozenset[str] | None) -> list[Change]:
    """The changes a Dataverse unit of work sends to the ERP through ``maps`` (those with columns flowing to the
    ERP). Rows without a company are not eligible for a per-company map, as in Microsoft's."""
    by_table: dict[str, list[BoundMap]] = {}
    for bound in maps:
        if bound.syncs_to_erp:
            by_table.setdefault(bound.table.logical_name, []).append(bound)
    relevant = [c for c in changes if c.table in by_table]
    if not relevant:
        return []
    out: list[Change] = []
    for change, operation, changed in _collapse(relevant, lambda c: (c.table, c.key)):
        for bound in by_table[change.table]:
            if operation == "update" and not (changed & bound.dataverse_trigger_columns):
                continue
            image = change.before if operation == "delete" else change.after
            assert image is not None
            row = {k: json_value(v) for k, v in image.items()}
            if not dataverse_in_scope(bound, row):
                continue
            key = dataverse_row_key(bound, image, company_code)
            if key is None or not _company_takes_part(bound, key, companies):
                continue
            missing = [f.name for f, c in zip(bound.key_fields, bound.key_columns) if key.get(f.name) in (None, "")]
            if missing:
                columns = ", ".join(c.logical_name for c in bound.key_columns)
                raise ValidationError(
                    f"This {bound.table.logical_name} belongs to dual-write map {bound.name} but has no {columns}, "
                    f"the integration key the ERP record is found by.", target=bound.key_columns[0].logical_name,
                    next_step=f"Set {columns} (the ERP's {', '.join(missing)}).")
            out.append(Change(bound.name, "delete" if operation == "delete" else "upsert", key,
                              None if operation == "delete" else row))
    return out


def dataverse_row_key(bound: BoundMap, row: Mapping[str, Any], company_code: Callable[[str], str | None]) -> dict[str, Any] | None:
    """The ERP-form key of a stored Dataverse row, or ``None`` when it has no company (then it is not eligible)."""
    key: dict[str, Any] = {field.name: row.get(column.logical_name)
                           for field, column in zip(bound.key_fields, bound.key_columns)}
    if bound.company_specific:
        assert bound.map.company is not None
        company_id = row.get(bound.map.company.dataverse_column)
        code = company_code(company_id) if company_id else None
        if code is None:
            return None
        key[COMPANY_FIELD] = code
    return key
