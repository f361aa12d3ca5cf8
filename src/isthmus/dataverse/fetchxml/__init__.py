"""FetchXML: Dataverse's XML query language, run against the environment's tables.

``run_fetch`` parses the XML (guarded: no DTD or entities, at most 1 MB), checks every name against the metadata,
compiles it to one parameterized SQLAlchemy Core query that gives the same rows on SQLite and PostgreSQL, and returns
one page of stored values with the paging state (``more_records``, ``paging_cookie``). The Web API
(``dataverse.fetch_api``) turns that into JSON with its annotations.

Modules: ``parse`` (XML → ``model.FetchSpec``), ``conditions`` and ``convert`` (filters, operators, typed values),
``compile`` and ``aggregate`` (the SELECT), ``execute`` (ordering, paging, rows) and ``paging`` (cookies).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from isthmus.dataverse.fetchxml.compile import Context, compile_fetch
from isthmus.dataverse.fetchxml.execute import execute
from isthmus.dataverse.fetchxml.model import FetchColumn, FetchResult, FetchSpec
from isthmus.dataverse.fetchxml.parse import parse_fetch
from isthmus.dataverse.metadata.registry import Registry

__all__ = ["FetchColumn", "FetchResult", "FetchSpec", "parse_fetch", "run_fetch", "value_to_json"]


def run_fetch(
    conn: Connection,
    registry: Registry,
    fetch_xml: str,
    *,
    dialect: str,
    user_id: str | None = None,
    business_unit_id: str | None = None,
    max_page_size: int = 5000,
    now: dt.datetime | None = None,
    security: Callable[[Any, Any], list[Any]] | None = None,
) -> FetchResult:
    """Run ``fetch_xml`` and return the requested page.

    ``user_id``/``business_unit_id`` serve ``eq-userid``/``eq-businessid`` and their negations; ``now`` (UTC,
    default the current time) anchors the relative date operators. ``security(table, sql_alias)`` returns the
    conditions that keep each table of the query (entity and link-entities) to what the caller may read. Raises ``QueryOptionError`` for a query that is
    malformed or names something that does not exist, ``NotSupportedError`` for valid FetchXML this server does not
    implement (fiscal-period operators, hierarchy operators, ``matchfirstrowusingcrossapply``...).
    """
    spec = parse_fetch(fetch_xml)
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    context = Context(
        dialect=dialect, now=moment.astimezone(dt.UTC), user_id=user_id, business_unit_id=business_unit_id,
        security=security,
    )
    plan = compile_fetch(registry, spec, context)
    return execute(conn, registry, plan, spec, dialect=dialect, max_page_size=max_page_size)


def value_to_json(column: FetchColumn, value: Any) -> Any:
    """The JSON value of one result value: through ``records.values.to_json`` when the value is a value of the
    column, as is otherwise (counts, date parts)."""
    from isthmus.dataverse.records.values import to_json

    if value is None:
        return None
    if column.column is None:
        return value
    return to_json(column.column, value)
