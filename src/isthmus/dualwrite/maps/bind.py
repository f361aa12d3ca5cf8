"""Binding a table map to the two apps' metadata: every field, column, lookup target, value and filter checked, and
the facts the sync engine needs precomputed (which storage columns trigger a sync, which lookups to resolve).

A map that does not bind cannot run; the errors say which line is wrong and what the apps offer instead — the
checks Microsoft makes when a map is saved or run (``DIPV1002`` for company striping, missing columns, lookups whose
dependent map is absent).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from odata_query import ast

from isthmus.dataverse.metadata.model import Column, Table
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dualwrite.maps.model import ColumnMapping, LookupTarget, TableMap
from isthmus.erp.entities.catalog import Catalog
from isthmus.erp.entities.model import DataEntity, EntityField
from isthmus.errors import ValidationError
from isthmus.odata.query.filter import parse_filter


@dataclass(frozen=True)
class BoundLookup:
    """A lookup mapping, resolved: the Dataverse lookup column and each (table, key column) it may point to."""

    column: str
    targets: tuple[LookupTarget, ...]
    polymorphic: bool


@dataclass(frozen=True)
class BoundColumn:
    mapping: ColumnMapping
    erp_field: EntityField | None
    dataverse_column: Column | None
    lookup: BoundLookup | None = None


@dataclass(frozen=True)
class BoundMap:
    """A table map checked against the ERP catalog and the Dataverse registry."""

    map: TableMap
    entity: DataEntity
    table: Table
    columns: tuple[BoundColumn, ...]
    key_fields: tuple[EntityField, ...]
    key_columns: tuple[Column, ...]
    erp_filter: Any
    dataverse_filter: Any
    erp_trigger_columns: frozenset[str]
    """Storage columns of the entity's table whose change sends the row to Dataverse."""
    dataverse_trigger_columns: frozenset[str]
    """Dataverse columns whose change sends the row to the ERP."""

    @property
    def name(self) -> str:
        return self.map.name

    @property
    def company_specific(self) -> bool:
        return self.map.company is not None

    @property
    def to_dataverse(self) -> tuple[BoundColumn, ...]:
        return tuple(c for c in self.columns if c.mapping.flows_to_dataverse())

    @property
    def to_erp(self) -> tuple[BoundColumn, ...]:
        return tuple(c for c in self.columns if c.mapping.flows_to_erp())

    @property
    def syncs_to_erp(self) -> bool:
        return bool(self.to_erp)


def bind(table_map: TableMap, catalog: Catalog, registry: Registry) -> BoundMap:
    """Check ``table_map`` against both apps; raises ``ValidationError`` naming the first problem."""
    where = f"Map {table_map.name}"
    entity = catalog.entity(table_map.erp_entity)
    if entity is None:
        known = ", ".join(sorted(e.set_name for e in catalog.entities if e.writer is not None))
        raise ValidationError(f"{where}: the ERP has no entity {table_map.erp_entity!r}; writable entities: {known}.",
                              target="erp")
    table = registry.tables.get(table_map.dataverse_table)
    if table is None:
        raise ValidationError(f"{where}: Dataverse has no table {table_map.dataverse_table!r}.", target="dataverse")
    if table.is_virtual:
        raise ValidationError(f"{where}: {table.logical_name} is a virtual table; its rows already live in the ERP.",
                              target="dataverse")
    table_map = _settle_company(table_map, entity, table, where)
    key_fields = []
    key_columns = []
    for erp_name, dv_name in table_map.keys:
        field = entity.field(erp_name)
        if field is None or not field.key:
            keys = ", ".join(f.name for f in entity.keys if f.name != "dataAreaId")
            raise ValidationError(f"{where}: integration key {erp_name} is not a key field of {entity.set_name} "
                                  f"(its key: {keys}); the integration key must match the ERP entity key.", target="keys")
        column = table.column(dv_name)
        if column is None or column.is_lookup:
            raise ValidationError(f"{where}: integration key column {dv_name} is not a plain column of {table.logical_name}.",
                                  target="keys")
        key_fields.append(field)
        key_columns.append(column)
    missing = [f.name for f in entity.keys if f.name != "dataAreaId" and f not in key_fields]
    if missing:
        raise ValidationError(f"{where}: the integration key leaves out {', '.join(missing)} of the {entity.set_name} key.",
                              target="keys")
    columns = tuple(_bind_column(m, entity, table, registry, where) for m in table_map.columns)
    erp_filter = _bind_filter(table_map.erp_filter, {f.name for f in entity.fields}, f"{where}: the ERP filter", entity.set_name)
    dataverse_filter = _bind_filter(table_map.dataverse_filter, {c.logical_name for c in table.columns},
                                    f"{where}: the Dataverse filter", table.logical_name)
    erp_triggers = {f.storage for f in key_fields if f.storage}
    erp_triggers |= {_storage_name(c.erp_field) for c in columns if c.erp_field is not None and c.mapping.flows_to_dataverse()}
    dv_triggers = {c.logical_name for c in key_columns}
    dv_triggers |= {c.mapping.dataverse_column for c in columns if c.mapping.flows_to_erp() and c.mapping.dataverse}  # type: ignore[misc]
    return BoundMap(
        map=table_map, entity=entity, table=table, columns=columns, key_fields=tuple(key_fields),
        key_columns=tuple(key_columns), erp_filter=erp_filter, dataverse_filter=dataverse_filter,
        erp_trigger_columns=frozenset(t for t in erp_triggers if t), dataverse_trigger_columns=frozenset(dv_triggers),
    )


def _storage_name(field: EntityField) -> str | None:
    """The table column behind a field, read-only ones included (a computed total still has a column)."""
    return getattr(field.column, "key", None)


def _settle_company(table_map: TableMap, entity: DataEntity, table: Table, where: str) -> TableMap:
    erp_striped = entity.company_column is not None
    if table_map.company is None:
        if erp_striped:
            raise ValidationError(
                f"{where}: Project validation failed. [DIPV1002] {entity.set_name} is a company-specific entity but the map "
                f"is cross-company; remove 'company: false'.", target="company")
        return table_map
    if not erp_striped:
        # "auto" on a cross-company entity: no striping.
        return replace(table_map, company=None)
    striping = table_map.company
    column = table.column(striping.dataverse_column)
    if column is None or striping.company_table not in column.targets:
        raise ValidationError(
            f"{where}: Project validation failed. [DIPV1002] {table.logical_name} is a cross-company table that doesn't "
            f"have primary company field set and {entity.set_name} is a company-specific entity; add the lookup "
            f"{striping.dataverse_column} to {striping.company_table} to {table.logical_name}.", target="company")
    return table_map


def _bind_column(m: ColumnMapping, entity: DataEntity, table: Table, registry: Registry, where: str) -> BoundColumn:
    line = f"{where}, '{m.text}'"
    field = None
    if m.erp is not None:
        field = entity.field(m.erp)
        if field is None:
            raise ValidationError(f"{line}: {entity.set_name} has no field {m.erp}.", target=m.text)
        if field.name == "dataAreaId":
            raise ValidationError(f"{line}: do not map the company; company striping already carries it.", target=m.text)
        if m.flows_to_erp() and (field.read_only or field.storage is None):
            raise ValidationError(f"{line}: {m.erp} is read-only in the ERP; use > or >> so it flows to Dataverse only.",
                                  target=m.text)
        if field.enum is not None and m.value_map:
            members = {name for name, _ in field.enum.members}
            bad = [k for k, _ in m.value_map if k not in members]
            if bad:
                raise ValidationError(f"{line}: value map key {bad[0]!r} is not a member of {field.enum.name} "
                                      f"({', '.join(sorted(members))}); quote names such as \"Yes\" in YAML.", target=m.text)
    column = None
    lookup = None
    if m.dataverse is not None:
        name = m.dataverse_column
        column = table.column(name or "")
        if column is None:
            raise ValidationError(f"{line}: {table.logical_name} has no column {name}.", target=m.text)
        if m.lookup is not None:
            lookup = _bind_lookup(m, column, registry, line)
        elif column.is_lookup:
            raise ValidationError(f"{line}: {name} is a lookup; write it as a path through the related table's key, "
                                  f"e.g. {name}.<keycolumn>.", target=m.text)
        if m.flows_to_dataverse() and not (column.valid_for_create or column.valid_for_update):
            raise ValidationError(f"{line}: {name} is a system column that cannot be written.", target=m.text)
        if column.option_set is not None and m.value_map:
            allowed = set(column.option_set.values)
            bad = [v for _, v in m.value_map if v not in allowed]
            if bad:
                raise ValidationError(f"{line}: {bad[0]!r} is not an option of {name} ({sorted(allowed)}).", target=m.text)
    return BoundColumn(m, field, column, lookup)


def _bind_lookup(m: ColumnMapping, column: Column, registry: Registry, line: str) -> BoundLookup:
    assert m.lookup is not None
    if not column.is_lookup:
        raise ValidationError(f"{line}: {column.logical_name} is not a lookup column.", target=m.text)
    targets = m.lookup.targets or tuple(LookupTarget(t, m.lookup.key or "") for t in column.targets)
    if not m.lookup.targets and len(column.targets) != 1:
        raise ValidationError(f"{line}: {column.logical_name} can point to {', '.join(column.targets)}; name each "
                              f"target: {column.logical_name}.table(key).table(key).", target=m.text)
    for target in targets:
        if target.table not in column.targets:
            raise ValidationError(f"{line}: {column.logical_name} cannot point to {target.table} "
                                  f"(it points to {', '.join(column.targets)}).", target=m.text)
        related = registry.tables.get(target.table)
        if related is None or related.column(target.key) is None:
            raise ValidationError(f"{line}: {target.table} has no column {target.key} to look rows up by.", target=m.text)
    return BoundLookup(column.logical_name, targets, polymorphic=len(column.targets) > 1)


def _bind_filter(text: str | None, names: set[str], what: str, owner: str) -> Any:
    if text is None:
        return None
    try:
        node = parse_filter(text)
    except ValidationError:
        raise
    except Exception as exc:  # QueryOptionError and friends: say which filter
        raise ValidationError(f"{what} is not a valid $filter: {exc}", target="filters") from exc
    unknown = sorted({n.name for n in _identifiers(node)} - names)
    if unknown:
        raise ValidationError(f"{what} names {', '.join(unknown)}, which {owner} does not have.", target="filters")
    return node


def _identifiers(node: Any) -> list[ast.Identifier]:
    found: list[ast.Identifier] = []
    if isinstance(node, ast.Identifier):
        return [node]
    if isinstance(node, ast.Attribute):
        return _identifiers(node.owner)
    for value in getattr(node, "__dict__", {}).values():
        if isinstance(value, ast._Node):
            found.extend(_identifiers(value))
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, ast._Node):
                    found.extend(_identifiers(item))
    return found
