"""Running a ``Plan``: order the rows (choices by label, lookups by the related row's primary name, text
case-insensitively, nulls first ascending, as Dataverse), cut the requested page (a seek on the primary id when a
paging cookie allows it, an offset otherwise), fetch one row more than the page to know whether more remain, and
shape the rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from isthmus.dataverse.fetchxml.compile import OrderKey, Plan
from isthmus.dataverse.fetchxml.model import FetchResult, FetchSpec
from isthmus.dataverse.fetchxml.paging import read_cookie, write_cookie
from isthmus.dataverse.metadata.registry import Registry

DEFAULT_PAGE_SIZE = 5000
TOTAL_COUNT_LIMIT = 5000


def order_expression(registry: Registry, key: OrderKey, column: Any, *, dialect: str, raw_order: bool) -> Any:
    meta = key.column
    expression = column
    text = False
    if meta is not None and meta.is_choice and meta.option_set is not None and not raw_order:
        labels = {o.value: o.label for o in meta.option_set.options}
        expression = sa.case(labels, value=column, else_=sa.null()) if labels else column
        text = bool(labels)
    elif meta is not None and meta.is_lookup:
        names = []
        for target in meta.targets:
            table = registry.tables.get(target)
            if table is None or table.primary_name is None or table.is_virtual:
                continue
            related = registry.sql[target].alias()
            name = sa.select(related.c[table.primary_name]).where(related.c[table.primary_id] == column)
            names.append(name.limit(1).scalar_subquery())
        if names:
            expression = names[0] if len(names) == 1 else sa.func.coalesce(*names)
            text = True
    elif meta is not None and meta.type in ("String", "Memo"):
        text = True
    if text:
        expression = sa.func.lower(expression)
        if dialect == "postgresql":
            expression = expression.collate("C")
    return expression.desc().nulls_last() if key.descending else expression.asc().nulls_first()


def execute(
    conn: Connection, registry: Registry, plan: Plan, fetch: FetchSpec, *, dialect: str, max_page_size: int
) -> FetchResult:
    rows_q = plan.select.subquery("fx")
    labels = [o.label for o in plan.outputs] + [o.type_label for o in plan.outputs if o.type_label]
    stmt = sa.select(*[rows_q.c[label] for label in dict.fromkeys(labels)])
    page = fetch.page or 1
    backward = False
    orders = plan.orders
    if fetch.top is not None:
        stmt = stmt.order_by(*_order_by(registry, rows_q, orders, dialect, plan.raw_order)).limit(fetch.top)
        rows = conn.execute(stmt).all()
        return _result(plan, rows, more=False, page=page, cookie=False, total=None, exceeded=False)
    size = min(fetch.count or DEFAULT_PAGE_SIZE, max(1, max_page_size))
    offset = (page - 1) * size
    if plan.keyset and fetch.paging_cookie and plan.pid_label:
        cookie = read_cookie(fetch.paging_cookie, plan.table.primary_id)
        pid = rows_q.c[plan.pid_label]
        descending = next((k.descending for k in orders if k.label == plan.pid_label), False)
        if cookie.last is not None and cookie.first is not None:
            if page == cookie.page + 1:
                stmt = stmt.where(pid < cookie.last if descending else pid > cookie.last)
                offset = 0
            elif page == cookie.page - 1:
                stmt = stmt.where(pid > cookie.first if descending else pid < cookie.first)
                orders = [OrderKey(plan.pid_label, None, not descending)]
                offset, backward = 0, True
            elif page == cookie.page:
                stmt = stmt.where(pid <= cookie.first if descending else pid >= cookie.first)
                offset = 0
    stmt = stmt.order_by(*_order_by(registry, rows_q, orders, dialect, plan.raw_order)).limit(size + 1)
    if offset:
        stmt = stmt.offset(offset)
    rows = list(conn.execute(stmt).all())
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
        more = True
    total = exceeded = None
    if fetch.return_total:
        counted = sa.select(sa.literal_column("1")).select_from(rows_q).limit(TOTAL_COUNT_LIMIT + 1).subquery()
        number = conn.execute(sa.select(sa.func.count()).select_from(counted)).scalar_one()
        total, exceeded = min(number, TOTAL_COUNT_LIMIT), number > TOTAL_COUNT_LIMIT
    return _result(plan, rows, more=more, page=page, cookie=True, total=total, exceeded=bool(exceeded))


def _order_by(registry: Registry, rows_q: Any, orders: list[OrderKey], dialect: str, raw_order: bool) -> list[Any]:
    return [
        order_expression(registry, key, rows_q.c[key.label], dialect=dialect, raw_order=raw_order) for key in orders
    ]


def _result(plan: Plan, rows: list[Any], *, more: bool, page: int, cookie: bool, total: int | None,
            exceeded: bool) -> FetchResult:
    shaped: list[dict[str, Any]] = []
    for row in rows:
        values = row._mapping
        record: dict[str, Any] = {}
        for output in plan.outputs:
            value = values[output.label]
            if output.integer_avg and value is not None:
                value = int(Decimal(value))
            key = output.column.key
            record[key] = value
            meta = output.column.column
            if value is not None and meta is not None and meta.is_lookup:
                target = values[output.type_label] if output.type_label else output.target
                if target:
                    record[f"{key}@lookuplogicalname"] = target
        shaped.append(record)
    paging_cookie = None
    if cookie and rows:
        if plan.pid_label is not None:
            first, last = rows[0]._mapping[plan.pid_label], rows[-1]._mapping[plan.pid_label]
            paging_cookie = write_cookie(page, plan.table.primary_id, first, last)
        else:
            paging_cookie = write_cookie(page, None, None, None)
    return FetchResult(
        entity=plan.table.logical_name,
        columns=tuple(o.column for o in plan.outputs),
        rows=shaped,
        more_records=more,
        paging_cookie=paging_cookie,
        page=page,
        total_count=total,
        total_count_limit_exceeded=exceeded,
    )
