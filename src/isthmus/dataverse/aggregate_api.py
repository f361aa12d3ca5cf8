"""``$apply`` over the Web API: groups and aggregates computed by the database, shaped as Dataverse returns them
(group values under their property names, aggregates under their aliases, formatted values when asked)."""

from __future__ import annotations

from typing import Any

from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.metadata.model import Table
from isthmus.dataverse.records.aggregate import compile_apply
from isthmus.dataverse.records.functions import query_functions
from isthmus.dataverse.records.resolver import TableResolver
from isthmus.dataverse.records.service import Caller
from isthmus.dataverse.records.shape import FORMATTED, Annotations
from isthmus.dataverse.records.values import formatted, to_json
from isthmus.errors import NotSupportedError
from isthmus.odata.query.options import QueryOptions

MAX_GROUPS = 50_000
"""Dataverse aggregates over at most 50,000 records; we aggregate over all of them but return at most this many groups."""


def run_apply(
    environment: DataverseEnvironment, caller: Caller, table: Table, options: QueryOptions, annotations: Annotations
) -> list[dict[str, Any]]:
    assert options.apply is not None
    if options.orderby or options.expand or options.select is not None:
        raise NotSupportedError("$orderby, $expand and $select cannot be combined with $apply; the groups come "
                                "back ordered by their properties.", target="$apply")
    reader = environment.records.reader(caller)
    resolver: TableResolver = reader.resolver(table)  # related tables keep to what the caller may read
    functions = query_functions(user_id=caller.user_id, business_unit_id=caller.business_unit_id)
    applied = compile_apply(  # reader.where includes the caller's read conditions on the table
        options.apply, resolver, where=reader.where(table, options), dialect=environment.database.dialect,
        functions=functions,
    )
    statement = applied.statement.limit(min(options.top, MAX_GROUPS) if options.top is not None else MAX_GROUPS)
    with environment.database.read() as conn:
        rows = [dict(r) for r in conn.execute(statement).mappings()]
    shaped = []
    for row in rows:
        out: dict[str, Any] = {}
        for column in applied.columns:
            value = row.get(column.name)
            out[column.name] = to_json(column.column, value) if column.column is not None else value
            if annotations.formatted and value is not None and column.column is not None:
                label = formatted(column.column, value)
                if label is not None:
                    out[f"{column.name}@{FORMATTED}"] = label
        shaped.append(out)
    return shaped
