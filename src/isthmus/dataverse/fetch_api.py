"""FetchXML over the Web API (``GET {set}?fetchXml=…``): runs the query and shapes its rows like Dataverse does,
with formatted values, the paging cookie and the more-records flag as annotations."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.fetchxml import FetchResult, run_fetch
from isthmus.dataverse.metadata.model import Table
from isthmus.dataverse.records.service import Caller
from isthmus.dataverse.records.shape import FORMATTED, LOOKUP_NAME, Annotations
from isthmus.dataverse.records.values import formatted, to_json
from isthmus.dataverse.security.access import Access
from isthmus.errors import ValidationError

MORE_RECORDS = "Microsoft.Dynamics.CRM.morerecords"
PAGING_COOKIE = "Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
TOTAL = "Microsoft.Dynamics.CRM.totalrecordcount"


def fetch_payload(
    environment: DataverseEnvironment, caller: Caller, table: Table, xml: str, annotations: Annotations, root: str
) -> dict[str, Any]:
    access = Access(caller)
    with environment.database.read() as conn:
        result = run_fetch(
            conn, environment.registry, xml, dialect=environment.database.dialect,
            user_id=caller.user_id, business_unit_id=caller.business_unit_id,
            security=None if access.unrestricted else access.read_conditions,
        )
        if result.entity != table.logical_name:
            raise ValidationError(
                f"The fetch queries {result.entity}, but the URL addresses {table.entity_set_name}.", target="fetchXml"
            )
        names = _lookup_names(environment, conn, result) if annotations.formatted else {}
    rows = [_shape(result, row, annotations, names) for row in result.rows]
    payload: dict[str, Any] = {"@odata.context": f"{root}/$metadata#{table.entity_set_name}", "value": rows}
    if result.total_count is not None:
        payload[f"@{TOTAL}"] = result.total_count
        payload[f"@{TOTAL}limitexceeded"] = result.total_count_limit_exceeded
    if annotations.wants(MORE_RECORDS) or annotations.wants(PAGING_COOKIE):
        payload[f"@{MORE_RECORDS}"] = result.more_records
    if result.paging_cookie and annotations.wants(PAGING_COOKIE):
        encoded = quote(quote(result.paging_cookie, safe=""), safe="")
        payload[f"@{PAGING_COOKIE}"] = (
            f'<cookie pagenumber="{result.page + 1}" pagingcookie="{encoded}" istracking="False" />'
        )
    return payload


def _shape(result: FetchResult, row: dict[str, Any], annotations: Annotations, names: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in result.columns:
        value = row.get(column.key)
        out[column.key] = to_json(column.column, value) if column.column is not None else value
        if value is None or column.column is None:
            continue
        target = row.get(f"{column.key}@lookuplogicalname") or (column.column.targets[0] if column.column.targets else None)
        if column.column.is_lookup:
            if annotations.formatted and (target, value) in names:
                out[f"{column.key}@{FORMATTED}"] = names[(target, value)]
            if annotations.wants(LOOKUP_NAME) and target:
                out[f"{column.key}@{LOOKUP_NAME}"] = target
        elif annotations.formatted:
            label = formatted(column.column, value)
            if label is not None:
                out[f"{column.key}@{FORMATTED}"] = label
    return out


def _lookup_names(environment: DataverseEnvironment, conn: Any, result: FetchResult) -> dict[tuple[str, str], str]:
    wanted: dict[str, set[str]] = defaultdict(set)
    for column in result.columns:
        if column.column is None or not column.column.is_lookup:
            continue
        for row in result.rows:
            value = row.get(column.key)
            target = row.get(f"{column.key}@lookuplogicalname") or (column.column.targets[0] if column.column.targets else None)
            if value is not None and target:
                wanted[target].add(value)
    names: dict[tuple[str, str], str] = {}
    registry = environment.registry
    for target, ids in wanted.items():
        table = registry.tables.get(target)
        if table is None or table.primary_name is None or table.is_virtual:
            continue
        sql = registry.sql[target]
        rows = conn.execute(select(sql.c[table.primary_id], sql.c[table.primary_name]).where(sql.c[table.primary_id].in_(sorted(ids))))
        names.update({(target, record_id): name for record_id, name in rows if name is not None})
    return names
