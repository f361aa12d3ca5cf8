"""Reading one record's current state on the sending side, as a change to send again (recovery, reconcile, a
single-record re-sync): an upsert with the row when it exists and is in the map's scope, a delete when it is gone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from isthmus.dualwrite.changes import Change
from isthmus.dualwrite.convert import (
    COMPANY_FIELD,
    dataverse_in_scope,
    erp_in_scope,
    erp_row_from_storage,
    json_value,
)
from isthmus.dualwrite.maps.bind import BoundMap
from isthmus.dualwrite.sides.local import DataverseReader
from isthmus.erp.entities.service import EntityService


def read_erp_row(conn: Connection, bound: BoundMap, key: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ERP entity row (API form, JSON-ready) with ``key``, or ``None``."""
    entity = bound.entity
    conditions = []
    for name, value in key.items():
        field = entity.field(name)
        assert field is not None
        stored = field.codec.to_storage(value) if field.codec is not None and value is not None else value
        conditions.append(field.column == stored)
    row = conn.execute(select(entity.table).where(*conditions)).mappings().first()
    if row is None:
        return None
    return {k: json_value(v) for k, v in erp_row_from_storage(entity, row).items()}


def read_erp_change(service: EntityService, conn: Connection, bound: BoundMap, key: Mapping[str, Any]) -> Change | None:
    row = read_erp_row(conn, bound, key)
    if row is None:
        return Change(bound.name, "delete", dict(key), None)
    if not erp_in_scope(bound, row):
        return None
    return Change(bound.name, "upsert", dict(key), row)


def dataverse_criteria_for_key(reader: DataverseReader, bound: BoundMap, key: Mapping[str, Any]) -> dict[str, Any] | None:
    criteria = {column.logical_name: key[field.name] for field, column in zip(bound.key_fields, bound.key_columns)}
    if bound.company_specific:
        assert bound.map.company is not None
        company_id = reader.company_id(key[COMPANY_FIELD])
        if company_id is None:
            return None
        criteria[bound.map.company.dataverse_column] = company_id
    return criteria


def read_dataverse_row(reader: DataverseReader, bound: BoundMap, key: Mapping[str, Any]) -> dict[str, Any] | None:
    criteria = dataverse_criteria_for_key(reader, bound, key)
    if criteria is None:
        return None
    record_id = reader.find_id(bound.table.logical_name, criteria)
    if record_id is None:
        return None
    row = reader.read(bound.table.logical_name, record_id)
    return {k: json_value(v) for k, v in row.items()} if row else None


def read_dataverse_change(reader: DataverseReader, bound: BoundMap, key: Mapping[str, Any]) -> Change | None:
    row = read_dataverse_row(reader, bound, key)
    if row is None:
        return Change(bound.name, "delete", dict(key), None)
    if not dataverse_in_scope(bound, row):
        return None
    return Change(bound.name, "upsert", dict(key), row)
