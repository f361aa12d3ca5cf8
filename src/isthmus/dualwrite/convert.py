"""Turning a row of one app into the write the other app takes, following a bound map.

* ERP → Dataverse: an ERP entity row (API form: enum names, ``Yes``/``No``) becomes a Web API body — value maps and
  defaults applied, lookups bound (``msdyn_customergroupid@odata.bind``) to the row whose key matches, in the same
  company when the related table is per company;
* Dataverse → ERP: a stored Dataverse row (GUID lookups, option values) becomes an ERP entity body, each lookup
  replaced by the related row's key value and the company lookup by its company code.

Values come out JSON-ready (decimals as text, dates ISO 8601) so the same body serves the in-process transport and
the HTTP one. A lookup that finds nothing fails with Microsoft's message ("Couldn't resolve the guid for the field
…"), a value with no entry in a value map names the map line; both are ``ValidationError`` (a 400 for the writer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from isthmus.dataverse.metadata.physical import type_suffix
from isthmus.dualwrite.maps.bind import BoundColumn, BoundMap
from isthmus.dualwrite.maps.model import MISSING, UnmappedValue
from isthmus.erp.entities.model import DataEntity
from isthmus.errors import ValidationError
from isthmus.odata.query.memory import matches

COMPANY_FIELD = "dataAreaId"


class DataverseLookups(Protocol):
    """What the converters need to read from Dataverse: ids by column values, and column values by id."""

    def find_id(self, table: str, criteria: Mapping[str, Any]) -> str | None: ...

    def column_value(self, table: str, record_id: str, column: str) -> Any: ...

    def entity_set(self, table: str) -> str: ...

    def is_per_company(self, table: str) -> bool:
        """Whether ``table`` carries the company lookup (lookups into it match within the company)."""
        ...


def json_value(value: Any) -> Any:
    """A stored Python value as the JSON both APIs accept."""
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def same_value(a: Any, b: Any) -> bool:
    """Equal as the two apps mean it: numbers by value, dates by day, text exactly, empty text as no value."""
    a, b = (None if v == "" else v for v in (a, b))
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    try:
        if isinstance(a, (int, float, Decimal)) or isinstance(b, (int, float, Decimal)):
            return Decimal(str(a)) == Decimal(str(b))
    except ArithmeticError:
        return False
    return json_value(a) == json_value(b) if not isinstance(a, str) or not isinstance(b, str) else a == b


# --- ERP rows ----------------------------------------------------------------------------------------------------


def erp_row_from_storage(entity: DataEntity, stored: Mapping[str, Any]) -> dict[str, Any]:
    """An entity row in API form from a stored row of the entity's table (a unit of work's before/after image)."""
    row: dict[str, Any] = {}
    for field in entity.fields:
        column = getattr(field.column, "key", None)
        if column is None or column not in stored:
            continue
        value = stored[column]
        row[field.name] = field.codec.to_api(value) if field.codec is not None and value is not None else value
    return row


def erp_key(bound: BoundMap, row: Mapping[str, Any]) -> dict[str, Any]:
    """The ERP key of a row: its integration key fields and, for a per-company map, its company."""
    key = {f.name: row.get(f.name) for f in bound.key_fields}
    if bound.company_specific:
        key[COMPANY_FIELD] = row.get(COMPANY_FIELD)
    return key


def erp_in_scope(bound: BoundMap, row: Mapping[str, Any]) -> bool:
    return bound.erp_filter is None or matches(bound.erp_filter, row)


def dataverse_in_scope(bound: BoundMap, row: Mapping[str, Any]) -> bool:
    return bound.dataverse_filter is None or matches(bound.dataverse_filter, row)


# --- ERP → Dataverse ---------------------------------------------------------------------------------------------


def dataverse_criteria(bound: BoundMap, key: Mapping[str, Any], company_id: str | None) -> dict[str, Any]:
    """The Dataverse columns and values that identify the row an ERP key maps to."""
    criteria = {column.logical_name: key[field.name] for field, column in zip(bound.key_fields, bound.key_columns)}
    if bound.company_specific:
        assert bound.map.company is not None
        criteria[bound.map.company.dataverse_column] = company_id
    return criteria


def to_dataverse(bound: BoundMap, row: Mapping[str, Any], lookups: DataverseLookups, company_id: str | None,
                 *, creating: bool) -> dict[str, Any]:
    """The Web API body that makes the Dataverse row match ``row`` (an ERP entity row in API form)."""
    body: dict[str, Any] = {}
    if creating:
        for field, column in zip(bound.key_fields, bound.key_columns):
            body[column.logical_name] = json_value(row.get(field.name))
    for bc in bound.to_dataverse:
        m = bc.mapping
        value = row.get(m.erp) if m.erp is not None else None
        if value is None or value == "":
            if m.default is not MISSING:
                value = m.default
            elif m.erp is None:
                continue
        try:
            value = m.to_dataverse_value(value) if value is not None else None
        except UnmappedValue as exc:
            raise ValidationError(f"Map {bound.name}: {exc}", target=m.erp) from exc
        if bc.lookup is not None:
            _bind_lookup(bound, bc, value, lookups, company_id, body)
        else:
            body[m.dataverse] = json_value(value)  # type: ignore[index]
    return body


def _bind_lookup(bound: BoundMap, bc: BoundColumn, value: Any, lookups: DataverseLookups, company_id: str | None,
                 body: dict[str, Any]) -> None:
    lookup = bc.lookup
    assert lookup is not None
    if value is None or value == "":
        if lookup.polymorphic:
            for target in lookup.targets:
                body[f"{lookup.column}_{target.table}@odata.bind"] = None
        else:
            body[f"{lookup.column}@odata.bind"] = None
        return
    for target in lookup.targets:
        criteria: dict[str, Any] = {target.key: value}
        if company_id is not None and lookups.is_per_company(target.table):
            assert bound.map.company is not None
            criteria[bound.map.company.dataverse_column] = company_id
        found = lookups.find_id(target.table, criteria)
        if found is not None:
            name = f"{lookup.column}_{target.table}" if lookup.polymorphic else lookup.column
            body[f"{name}@odata.bind"] = f"/{lookups.entity_set(target.table)}({found})"
            return
    path = f"{lookup.column}." + ".".join(f"{t.table}({t.key})" for t in lookup.targets) if lookup.polymorphic else (
        f"{lookup.column}.{lookup.targets[0].key}")
    raise ValidationError(
        f"Map {bound.name}: Couldn't resolve the guid for the field: {path}. The lookup was not found: {value}.",
        target=bc.mapping.erp,
        next_step=f"Create the {lookup.targets[0].table} row first (its map must be running), or correct the value.",
    )


# --- Dataverse → ERP ---------------------------------------------------------------------------------------------


def to_erp(bound: BoundMap, row: Mapping[str, Any], lookups: DataverseLookups, company: str | None,
           *, creating: bool) -> dict[str, Any]:
    """The ERP entity body that makes the ERP row match ``row`` (a stored Dataverse row)."""
    body: dict[str, Any] = {}
    for field, column in zip(bound.key_fields, bound.key_columns):
        body[field.name] = json_value(row.get(column.logical_name))
    if company is not None:
        body[COMPANY_FIELD] = company
    for bc in bound.to_erp:
        m = bc.mapping
        if m.dataverse is None:
            if creating:
                body[m.erp] = m.default  # type: ignore[index]
            continue
        if bc.lookup is not None:
            value = _lookup_value(bc, row, lookups)
        else:
            value = row.get(m.dataverse)
        if (value is None or value == "") and m.default is not MISSING:
            value = m.default
        try:
            value = m.to_erp_value(value) if value is not None else None
        except UnmappedValue as exc:
            raise ValidationError(f"Map {bound.name}: {exc}", target=m.dataverse) from exc
        if value is None and not creating and bc.erp_field is not None and (bc.erp_field.mandatory or bc.erp_field.key):
            continue  # a mandatory ERP field is never cleared from Dataverse
        if value is None and creating:
            continue
        body[m.erp] = json_value(value)  # type: ignore[index]
    return body


def _lookup_value(bc: BoundColumn, row: Mapping[str, Any], lookups: DataverseLookups) -> Any:
    lookup = bc.lookup
    assert lookup is not None
    record_id = row.get(lookup.column)
    if record_id is None:
        return None
    if lookup.polymorphic:
        kind = row.get(type_suffix(lookup.column))
        target = next((t for t in lookup.targets if t.table == kind), None)
        if target is None:
            return None
    else:
        target = lookup.targets[0]
    return lookups.column_value(target.table, record_id, target.key)


def dataverse_key(bound: BoundMap, row: Mapping[str, Any]) -> dict[str, Any]:
    """The Dataverse side of the integration key of a stored row (company lookup id included)."""
    key = {c.logical_name: row.get(c.logical_name) for c in bound.key_columns}
    if bound.company_specific:
        assert bound.map.company is not None
        key[bound.map.company.dataverse_column] = row.get(bound.map.company.dataverse_column)
    return key
