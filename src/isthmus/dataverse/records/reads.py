"""Reading records: one SQL statement per page (plus one per expanded navigation property per level, and one for an
exact ``$count``), ordered stably by the requested order and then the primary id, paged with Dataverse's
``$skiptoken`` cookie.

With an ``Access`` (``RecordService.reader`` always gives one), every statement keeps to the records the caller may
read: the queried table, each ``$expand``ed table, the ``$count``, and related tables reached through navigation
paths in ``$filter``/``$orderby``."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, func, select

from isthmus.dataverse.metadata.model import Column, Table
from isthmus.dataverse.metadata.physical import type_suffix
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.records.resolver import TableResolver, column_for_property
from isthmus.dataverse.records.shape import Annotations, RowShaper
from isthmus.dataverse.security.access import Access
from isthmus.dataverse.security.resolver import SecuredResolver
from isthmus.errors import NotSupportedError, QueryOptionError
from isthmus.odata.query.options import ExpandItem, QueryOptions
from isthmus.odata.query.sql import FilterCompiler, FunctionCompiler

MAX_PAGE_SIZE = 5000
MAX_EXPANDS = 15
_COOKIE = re.compile(r'pagenumber="(\d+)"[^>]*pagingcookie="([^"]*)"')


@dataclass(frozen=True)
class PageRequest:
    size: int = MAX_PAGE_SIZE
    skiptoken: str | None = None


@dataclass
class QueryPage:
    rows: list[dict[str, Any]]
    count: int | None
    next_skiptoken: str | None


def skiptoken(page_number: int, offset: int) -> str:
    return f'<cookie pagenumber="{page_number}" pagingcookie="{quote(str(offset))}" istracking="False" />'


def parse_skiptoken(token: str) -> tuple[int, int]:
    match = _COOKIE.search(token)
    if not match or not match.group(2).isdigit():
        raise QueryOptionError("The $skiptoken is not one this server issued; follow @odata.nextLink as given.",
                               target="$skiptoken")
    return int(match.group(1)), int(match.group(2))


class Reader:
    def __init__(
        self, registry: Registry, dialect: str, functions: Mapping[str, FunctionCompiler], access: Access | None = None
    ) -> None:
        self.registry = registry
        self.dialect = dialect
        self.functions = functions
        self.access = access

    def resolver(self, table: Table, sql_table: Any | None = None) -> TableResolver:
        if self.access is None or self.access.unrestricted:
            return TableResolver(self.registry, table, sql_table)
        return SecuredResolver(self.registry, table, sql_table, access=self.access)

    def compiler(self, table: Table, sql_table: Any | None = None) -> FilterCompiler:
        resolver = self.resolver(table, sql_table)
        return FilterCompiler(resolver, dialect=self.dialect, functions=self.functions, case_insensitive=True)

    def selected(self, table: Table, options: QueryOptions) -> list[Column]:
        if options.select is None:
            return list(table.columns)
        chosen: list[Column] = [table.column(table.primary_id)]  # type: ignore[list-item]
        for path in options.select:
            column = column_for_property(table, path[0]) if len(path) == 1 else None
            if column is None and len(path) == 1 and table.column(path[0]) is not None:
                column = table.column(path[0])  # $select=primarycontactid selects the lookup's value
            if column is None:
                raise QueryOptionError(
                    f"Could not find a property named '{'/'.join(path)}' on type 'Microsoft.Dynamics.CRM.{table.logical_name}'.",
                    target="$select", code="0x80060888",
                )
            if column not in chosen:
                chosen.append(column)
        return chosen

    def _sql_columns(self, table: Table, columns: Sequence[Column], extra: Sequence[str] = ()) -> list[Any]:
        sql = self.registry.sql[table.logical_name]
        names = {c.logical_name for c in columns} | {"versionnumber", table.primary_id, *extra}
        for c in columns:
            if c.polymorphic:
                names.add(type_suffix(c.logical_name))
        return [sql.c[n] for n in sorted(names)]

    def order(self, table: Table, options: QueryOptions) -> list[Any]:
        resolver = self.resolver(table)
        order = []
        for item in options.orderby:
            ref = resolver.field(item.path)
            expr = ref.column.desc() if item.descending else ref.column.asc()
            order.append(expr.nulls_last() if item.descending else expr.nulls_first())
        order.append(self.registry.sql[table.logical_name].c[table.primary_id])
        return order

    def where(self, table: Table, options: QueryOptions, extra: Sequence[Any] = ()) -> list[Any]:
        """``extra``, the caller's read conditions on ``table`` and the compiled ``$filter``."""
        conditions = list(extra)
        if self.access is not None:
            conditions += self.access.read_conditions(table, self.registry.sql[table.logical_name])
        if options.filter is not None:
            conditions.append(self.compiler(table).compile(options.filter))
        return conditions

    def query(
        self,
        conn: Connection,
        table: Table,
        options: QueryOptions,
        page: PageRequest,
        annotations: Annotations,
        *,
        extra_where: Sequence[Any] = (),
        shaper: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
    ) -> QueryPage:
        if len(options.expand) > MAX_EXPANDS:
            raise QueryOptionError(f"At most {MAX_EXPANDS} $expand options are allowed in one query.", target="$expand")
        columns = self.selected(table, options)
        where = self.where(table, options, extra_where)
        sql = self.registry.sql[table.logical_name]
        page_number, offset = parse_skiptoken(page.skiptoken) if page.skiptoken else (1, 0)
        size = min(page.size, MAX_PAGE_SIZE)
        limit = size if options.top is None else min(options.top, MAX_PAGE_SIZE)
        needed = self._expand_columns(table, options.expand)
        stmt = (
            select(*self._sql_columns(table, columns, needed)).where(*where).order_by(*self.order(table, options))
            .limit(limit + 1).offset(offset or None)
        )
        raw = [dict(r) for r in conn.execute(stmt).mappings()]
        more = len(raw) > limit and options.top is None
        raw = raw[:limit]
        count = conn.execute(select(func.count()).select_from(sql).where(*where)).scalar_one() if options.count else None
        rows = RowShaper(self.registry, table, columns, annotations).shape(conn, raw)
        if options.expand:
            for row, extra in zip(rows, self.expand(conn, table, raw, options.expand, annotations), strict=True):
                row.update(extra)
        next_token = skiptoken(page_number + 1, offset + len(raw)) if more else None
        return QueryPage(rows, count, next_token)

    def retrieve(
        self, conn: Connection, table: Table, record_id: str, options: QueryOptions, annotations: Annotations
    ) -> dict[str, Any] | None:
        if options.filter is not None or options.orderby or options.top is not None:
            raise QueryOptionError("$filter, $orderby and $top apply to collections, not to a single record.")
        sql = self.registry.sql[table.logical_name]
        columns = self.selected(table, options)
        needed = self._expand_columns(table, options.expand)
        row = conn.execute(
            select(*self._sql_columns(table, columns, needed)).where(sql.c[table.primary_id] == record_id)
        ).mappings().first()
        if row is None:
            return None
        raw = dict(row)
        shaped = RowShaper(self.registry, table, columns, annotations).shape(conn, [raw])[0]
        if options.expand:
            shaped.update(self.expand(conn, table, [raw], options.expand, annotations)[0])
        return shaped

    def _expand_columns(self, table: Table, items: Sequence[ExpandItem]) -> list[str]:
        names = []
        for item in items:
            nav = self.registry.navigation(table.logical_name, item.path[0])
            if nav is not None:
                names.append(nav.local_column)
        return names

    def expand(
        self,
        conn: Connection,
        table: Table,
        raw_rows: list[dict[str, Any]],
        items: Sequence[ExpandItem],
        annotations: Annotations,
    ) -> list[dict[str, Any]]:
        extras: list[dict[str, Any]] = [{} for _ in raw_rows]
        for item in items:
            if len(item.path) != 1:
                raise NotSupportedError("Expanding a path of several segments is not supported.", target="$expand")
            nav = self.registry.navigation(table.logical_name, item.path[0])
            if nav is None:
                raise QueryOptionError(
                    f"Could not find a property named '{item.path[0]}' on type 'Microsoft.Dynamics.CRM.{table.logical_name}'.",
                    target="$expand", code="0x80060888",
                )
            if item.options.skip is not None or item.options.count:
                raise QueryOptionError("$skip and $count are not allowed inside $expand.", target="$expand")
            target = self.registry.tables[nav.target]
            child_sql = self.registry.sql[nav.target]
            columns = self.selected(target, item.options)
            needed = [nav.remote_column, *self._expand_columns(target, item.options.expand)]
            if nav.kind == "many_to_many":
                grouped = self._many_to_many(conn, table, target, nav, raw_rows, item, columns, needed)
            else:
                keys = sorted({r[nav.local_column] for r in raw_rows if r.get(nav.local_column) is not None})
                grouped = defaultdict(list)
                if keys:
                    where = self.where(target, item.options, [child_sql.c[nav.remote_column].in_(keys)])
                    stmt = select(*self._sql_columns(target, columns, needed)).where(*where).order_by(*self.order(target, item.options))
                    for r in conn.execute(stmt).mappings():
                        grouped[r[nav.remote_column]].append(dict(r))
            shaper = RowShaper(self.registry, target, columns, annotations)
            for extra, parent in zip(extras, raw_rows, strict=True):
                children = grouped.get(parent.get(nav.local_column), [])
                if item.options.top is not None:
                    children = children[: item.options.top]
                shaped = shaper.shape(conn, children)
                if item.options.expand and children:
                    for child_row, child_extra in zip(shaped, self.expand(conn, target, children, item.options.expand, annotations), strict=True):
                        child_row.update(child_extra)
                extra[nav.name] = (shaped[0] if shaped else None) if nav.kind == "single" else shaped
        return extras

    def _many_to_many(self, conn, table, target, nav, raw_rows, item, columns, needed):  # type: ignore[no-untyped-def]
        relationship = nav.relationship
        intersect = self.registry.sql[relationship.intersect_table]
        mine, theirs = self.registry.intersect_sides(relationship, table.logical_name)
        ids = sorted({r[table.primary_id] for r in raw_rows})
        child = self.registry.sql[target.logical_name]
        stmt = (
            select(intersect.c[mine].label("__parent"), *self._sql_columns(target, columns, [c for c in needed if c != nav.remote_column]))
            .select_from(child.join(intersect, intersect.c[theirs] == child.c[target.primary_id]))
            .where(intersect.c[mine].in_(ids), *self.where(target, item.options))
            .order_by(*self.order(target, item.options))
        )
        grouped: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for r in conn.execute(stmt).mappings():
            data = dict(r)
            grouped[data.pop("__parent")].append(data)
        return grouped
