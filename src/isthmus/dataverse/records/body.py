"""Reading a Web API request body into column values: plain properties by logical name, lookups through
``name@odata.bind`` (``/contacts(<id>)``, an absolute URL, or an alternate key such as
``/accounts(accountnumber='A-1')``), and nested records for deep insert.

Dataverse's own messages are kept where clients may match them ("Invalid property 'x' was found in entity
'Microsoft.Dynamics.CRM.account'.").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from isthmus.dataverse.metadata.model import Table
from isthmus.dataverse.metadata.physical import type_suffix
from isthmus.dataverse.metadata.registry import Navigation, Registry
from isthmus.dataverse.records.values import from_json, parse_guid
from isthmus.errors import InvalidRequestError, NotFoundError, ValidationError
from isthmus.odata.resource import split_path

API_ROOT = "/api/data/v9.2/"

# (table, key pairs) -> record id; raises NotFoundError when nothing matches.
ReferenceResolver = Callable[[Table, tuple[tuple[str | None, object], ...]], str]


@dataclass
class RecordBody:
    values: dict[str, Any] = field(default_factory=dict)
    """Column logical name (and hidden ``x__type`` columns) → stored value."""
    deep_single: list[tuple[Navigation, dict[str, Any]]] = field(default_factory=list)
    """Related records to create first and bind through a lookup of this record."""
    deep_collection: list[tuple[Navigation, list[dict[str, Any]]]] = field(default_factory=list)
    """Related records to create after this one, pointing back at it."""


def read_body(registry: Registry, table: Table, body: Any, resolve: ReferenceResolver, *, creating: bool) -> RecordBody:
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
    result = RecordBody()
    for name, value in body.items():
        if name.endswith("@odata.bind"):
            _bind(registry, table, name[: -len("@odata.bind")], value, resolve, result)
            continue
        if "@" in name:
            continue  # annotations such as @odata.type or @odata.etag carry no data
        column = table.column(name)
        if column is None or column.is_lookup:
            nav = registry.navigation(table.logical_name, name)
            if nav is not None and isinstance(value, dict) and nav.kind == "single":
                result.deep_single.append((nav, value))
                continue
            if nav is not None and isinstance(value, list) and nav.kind == "collection":
                result.deep_collection.append((nav, value))
                continue
            if column is not None and column.is_lookup:
                raise ValidationError(
                    f"{name} is a lookup; set it with \"{name}@odata.bind\": \"/<entityset>(<id>)\".",
                    target=name, code="0x80048d19",
                )
            raise ValidationError(
                f"Invalid property '{name}' was found in entity 'Microsoft.Dynamics.CRM.{table.logical_name}'.",
                target=name, code="0x80060888",
            )
        if column.is_primary_id:
            if not creating:
                continue  # the id in the body of an update must match the URL; Dataverse ignores it
            result.values[name] = parse_guid(value, name=name)
            continue
        if not (column.valid_for_create if creating else column.valid_for_update):
            raise ValidationError(
                f"The attribute '{name}' of {table.logical_name} cannot be set on {'create' if creating else 'update'}.",
                target=name, code="0x80040203",
            )
        result.values[name] = from_json(column, value)
    return result


def _bind(registry: Registry, table: Table, name: str, value: Any, resolve: ReferenceResolver, result: RecordBody) -> None:
    column, nav_target = _lookup_for(registry, table, name)
    if value is None:
        result.values[column] = None
        if table.column(column).polymorphic:  # type: ignore[union-attr]
            result.values[type_suffix(column)] = None
        return
    if not isinstance(value, str):
        raise ValidationError(f"{name}@odata.bind must be a URL such as /contacts(<id>); got {value!r}.", target=name)
    target_table, key = _parse_reference(registry, value)
    definition = table.column(column)
    assert definition is not None
    if nav_target is not None and target_table.logical_name != nav_target:
        raise ValidationError(
            f"{name} points to {nav_target} records, not {target_table.logical_name}.", target=name, code="0x80048d19"
        )
    if target_table.logical_name not in definition.targets:
        raise ValidationError(
            f"{column} can point to {', '.join(definition.targets)}, not {target_table.logical_name}.",
            target=name, code="0x80048d19",
        )
    result.values[column] = resolve(target_table, key)
    if definition.polymorphic:
        result.values[type_suffix(column)] = target_table.logical_name


def _lookup_for(registry: Registry, table: Table, name: str) -> tuple[str, str | None]:
    """The lookup column a bind property names, and the target the name pins (``customerid_account``)."""
    column = table.column(name) or table.column(name.lower())
    if column is not None and column.is_lookup:
        return column.logical_name, None
    nav = registry.navigation(table.logical_name, name)
    if nav is not None and nav.kind == "single":
        return nav.local_column, nav.target
    raise ValidationError(
        f"'{name}' is not a single-valued navigation property of {table.logical_name}; it cannot be bound.",
        target=name, code="0x80060888",
    )


def _parse_reference(registry: Registry, url: str) -> tuple[Table, tuple[tuple[str | None, object], ...]]:
    path = urlsplit(url).path if "://" in url else url
    if API_ROOT in path:
        path = path.split(API_ROOT, 1)[1]
    segments = split_path(path)
    if len(segments) != 1 or segments[0].key is None:
        raise ValidationError(f"{url!r} does not address one record; use /<entityset>(<id>).")
    table = registry.by_set.get(segments[0].name)
    if table is None:
        raise NotFoundError(f"No entity set named {segments[0].name!r} (in {url!r}).")
    return table, segments[0].key
