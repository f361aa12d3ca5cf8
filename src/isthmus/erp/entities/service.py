"""Reading and writing data entities: the work behind every ``/data`` request, independent of HTTP.

Reads compile ``QueryOptions`` to one SQL statement per page (plus one per expanded navigation property and one for
``$count``), scoped to the caller's company unless cross-company is asked for. Writes map public field names to
storage columns, convert and check types, and hand the values to the entity's writer — the business logic — inside
one unit of work. A written record is read back through the entity inside the same transaction, so the answer shows
exactly what was committed.

Security: a context with ``grants`` (``isthmus.erp.security.EntityGrants``) gets the ERP's entity privileges
enforced — read on the entity set (and on an ``$expand`` target), create, update (possibly limited to some fields),
delete and each bound action, in the record's legal entity. Cross-company queries cover only the legal entities
where the caller may read the entity, silently, as finance and operations does; a record addressed in a legal entity
outside ``ctx.companies`` is refused. A context without grants (``grants is None``) is unrestricted.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, tuple_

from isthmus.errors import (
    ForbiddenError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotFoundError,
    NotSupportedError,
    PreconditionFailedError,
    QueryOptionError,
    ValidationError,
)
from isthmus.erp.entities.catalog import Catalog
from isthmus.erp.entities.model import NAMESPACE, DataEntity, EntityField
from isthmus.erp.entities.resolver import EntityResolver
from isthmus.odata import values
from isthmus.odata.query.filter import print_filter
from isthmus.odata.query.options import ExpandItem, QueryOptions
from isthmus.odata.query.sql import FilterCompiler
from isthmus.storage import CallContext, Database

VERSION = "__version"
STATEMENT_CACHE_SIZE = 2048


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    count: int | None
    next_skip: int | None


def etag(version: int) -> str:
    return f'W/"{version}"'


def key_predicate(entity: DataEntity, row: dict[str, Any]) -> str:
    parts = []
    for f in entity.keys:
        value = row[f.name]
        literal = str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"
        parts.append(f"{f.name}={literal}")
    return "(" + ",".join(parts) + ")"


class EntityService:
    def __init__(self, database: Database, catalog: Catalog, *, max_page_size: int = 10_000) -> None:
        self.database = database
        self.catalog = catalog
        self.max_page_size = max_page_size
        self._statements: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()

    # --- lookup ---------------------------------------------------------------------------------------------

    def entity(self, set_name: str) -> DataEntity:
        entity = self.catalog.entity(set_name)
        if entity is None:
            raise NotFoundError(
                f"No entity set named {set_name!r}.", next_step="GET /data/ lists the entity sets.", target=set_name
            )
        return entity

    # --- reads ---------------------------------------------------------------------------------------------

    def query(
        self,
        ctx: CallContext,
        entity: DataEntity,
        options: QueryOptions,
        *,
        cross_company: bool = False,
        page_size: int | None = None,
        extra_where: Sequence[Any] = (),
    ) -> Page:
        page_size = min(page_size or self.max_page_size, self.max_page_size)
        selected = self._selected(entity, options)
        skip = options.skip or 0
        limit = page_size if options.top is None else min(options.top, page_size)
        stmt, count_stmt = self._page_statements(ctx, entity, options, selected, cross_company, extra_where, limit, skip)
        with self.database.read() as conn:
            raw = [dict(r) for r in conn.execute(stmt).mappings()]
            more = len(raw) > limit
            raw = raw[:limit]
            count = None
            if options.count:
                count = conn.execute(count_stmt).scalar_one()
            expanded = self._expand(conn, ctx, entity, raw, options.expand) if options.expand else None
        remaining_top = None if options.top is None else options.top - len(raw)
        next_skip = skip + len(raw) if more and (remaining_top is None or remaining_top > 0) else None
        rows = [self._to_api(entity, r, selected) for r in raw]
        if expanded:
            for row, extra in zip(rows, expanded, strict=True):
                row.update(extra)
        return Page(rows, count, next_skip)

    def _page_statements(
        self,
        ctx: CallContext,
        entity: DataEntity,
        options: QueryOptions,
        selected: tuple[EntityField, ...],
        cross_company: bool,
        extra_where: Sequence[Any],
        limit: int,
        skip: int,
    ) -> tuple[Any, Any]:
        """The page and count statements for a query. Built statements are cached by the query's shape and values:
        building one and deriving SQLAlchemy's cache key costs more than running it, and clients repeat queries."""
        filter_text = print_filter(options.filter) if options.filter is not None else None
        key = None
        # A filter calling now() binds the clock when compiled; extra conditions come from a parent record.
        scope_where, scope = self._read_scope(ctx, entity, cross_company)
        if not extra_where and not (filter_text and "now(" in filter_text.lower()):
            key = (entity.set_name, filter_text, tuple(f.name for f in selected), options.orderby, limit, skip,
                   bool(options.expand), cross_company, scope)
            cached = self._statements.get(key)
            if cached is not None:
                self._statements.move_to_end(key)
                return cached
        where = [*scope_where, *extra_where]
        if options.filter is not None:
            where.append(self._compile(entity, options.filter))
        columns = self._columns(entity, selected, with_all=bool(options.expand))
        page = select(*columns).select_from(entity.from_clause).where(*where).order_by(*self._order(entity, options))
        # One row more than the page tells whether a next page exists without counting.
        page = page.limit(limit + 1).offset(skip or None)
        count = select(func.count()).select_from(entity.from_clause).where(*where)
        if key is not None:
            self._statements[key] = (page, count)
            if len(self._statements) > STATEMENT_CACHE_SIZE:
                self._statements.popitem(last=False)
        return page, count

    def count(self, ctx: CallContext, entity: DataEntity, options: QueryOptions, *, cross_company: bool = False) -> int:
        where = self._scope(ctx, entity, cross_company)
        if options.filter is not None:
            where.append(self._compile(entity, options.filter))
        with self.database.read() as conn:
            return conn.execute(select(func.count()).select_from(entity.from_clause).where(*where)).scalar_one()

    def get(self, ctx: CallContext, entity: DataEntity, key: Any, options: QueryOptions | None = None) -> dict[str, Any]:
        options = options or QueryOptions()
        if options.filter is not None or options.orderby or options.top is not None or options.skip is not None:
            raise QueryOptionError("$filter, $orderby, $top and $skip apply to collections, not to a single record.")
        key_values = self.resolve_key(ctx, entity, key)
        self._authorize(ctx, entity, "read", key_values.get("dataAreaId"))
        selected = self._selected(entity, options)
        stmt = _key_statement(entity, tuple(f.name for f in selected), bool(options.expand))
        with self.database.read() as conn:
            row = conn.execute(stmt, {f"k_{n}": v for n, v in key_values.items()}).mappings().first()
            if row is None:
                raise self._not_found(entity, key_values)
            raw = dict(row)
            expanded = self._expand(conn, ctx, entity, [raw], options.expand) if options.expand else None
        result = self._to_api(entity, raw, selected)
        if expanded:
            result.update(expanded[0])
        return result

    # --- writes --------------------------------------------------------------------------------------------

    def create(self, ctx: CallContext, entity: DataEntity, body: Any) -> dict[str, Any]:
        writer = self._writer(entity)
        company, changes = self._body(ctx, entity, body, creating=True)
        self._authorize(ctx, entity, "create", company)
        with self.database.unit_of_work(ctx) as uow:
            stored = writer.create(uow, company, changes)
            return self._read_back(uow.connection, entity, stored["recid"])

    def update(
        self, ctx: CallContext, entity: DataEntity, key: Any, body: Any, *, if_match: str | None = None
    ) -> dict[str, Any]:
        writer = self._writer(entity)
        key_values = self.resolve_key(ctx, entity, key)
        self._authorize(ctx, entity, "update", key_values.get("dataAreaId"))
        company, changes = self._body(ctx, entity, body, creating=False, key_values=key_values)
        with self.database.unit_of_work(ctx) as uow:
            row = self._stored(uow.connection, entity, key_values)
            _check_etag(if_match, row["recversion"])
            self._authorize_fields(ctx, entity, company, row, changes)
            stored = writer.update(uow, company, row, changes)
            return self._read_back(uow.connection, entity, stored["recid"])

    def delete(self, ctx: CallContext, entity: DataEntity, key: Any, *, if_match: str | None = None) -> None:
        writer = self._writer(entity)
        key_values = self.resolve_key(ctx, entity, key)
        self._authorize(ctx, entity, "delete", key_values.get("dataAreaId"))
        with self.database.unit_of_work(ctx) as uow:
            row = self._stored(uow.connection, entity, key_values)
            _check_etag(if_match, row["recversion"])
            writer.delete(uow, key_values.get("dataAreaId"), row)

    def invoke(self, ctx: CallContext, entity: DataEntity, key: Any, name: str, body: Any) -> tuple[str, Any]:
        """Run a bound action; returns ("entity", row) or (edm type, value)."""
        action = entity.action(name)
        if action is None:
            raise NotFoundError(f"{entity.set_name} has no action named {name!r}.", target=name)
        params = self._action_parameters(action.parameters, body, name)
        key_values = self.resolve_key(ctx, entity, key)
        self._authorize(ctx, entity, "actions", key_values.get("dataAreaId"), action=name)
        with self.database.unit_of_work(ctx) as uow:
            row = self._stored(uow.connection, entity, key_values)
            result = action.handler(uow, key_values.get("dataAreaId"), row, params)
            if action.returns == "entity":
                return "entity", self._read_back(uow.connection, entity, row["recid"])
            return action.returns or "Edm.String", result

    # --- keys -----------------------------------------------------------------------------------------------

    def resolve_key(self, ctx: CallContext, entity: DataEntity, key: Any) -> dict[str, Any]:
        """Key predicate pairs → {key field name: stored value}; a missing dataAreaId is the caller's company."""
        keys = entity.keys
        given: dict[str, Any] = {}
        pairs = list(key or ())
        if len(pairs) == 1 and pairs[0][0] is None:
            own = [f for f in keys if f.name != "dataAreaId"]
            if len(own) != 1:
                raise InvalidRequestError(
                    f"{entity.set_name} has a composite key; name its parts, e.g. "
                    f"{entity.set_name}({','.join(f.name + '=...' for f in keys)})."
                )
            given[own[0].name] = pairs[0][1]
        else:
            for name, value in pairs:
                field = entity.field(name)
                if field is None or not field.key:
                    raise InvalidRequestError(
                        f"{name!r} is not a key property of {entity.set_name}; its key is "
                        f"{', '.join(f.name for f in keys)}."
                    )
                given[name] = value
        if entity.company_column is not None and "dataAreaId" not in given:
            given["dataAreaId"] = ctx.company
        missing = [f.name for f in keys if f.name not in given]
        if missing:
            raise InvalidRequestError(f"The key of {entity.set_name} is missing {', '.join(missing)}.")
        result = {}
        for f in keys:
            value = given[f.name]
            expected = int if f.type in ("Edm.Int32", "Edm.Int64") else str
            if not isinstance(value, expected) or isinstance(value, bool):
                raise InvalidRequestError(f"Key property {f.name} must be {'a whole number' if expected is int else 'quoted text'}.")
            result[f.name] = f.codec.to_storage(value) if f.codec else value
        if "dataAreaId" in result and not ctx.may_access(result["dataAreaId"]):
            raise ForbiddenError(f"You have no access to company {result['dataAreaId']}.", target="dataAreaId")
        return result

    # --- internals ------------------------------------------------------------------------------------------

    def _writer(self, entity: DataEntity) -> Any:
        if entity.writer is None:
            raise MethodNotAllowedError(f"{entity.set_name} is read-only.", target=entity.set_name)
        return entity.writer

    def _not_found(self, entity: DataEntity, key_values: dict[str, Any]) -> NotFoundError:
        described = ", ".join(f"{k}={v!r}" for k, v in key_values.items())
        return NotFoundError(f"No {entity.set_name} record has the key {described}.")

    def _scope(self, ctx: CallContext, entity: DataEntity, cross_company: bool) -> list[Any]:
        return self._read_scope(ctx, entity, cross_company)[0]

    def _read_scope(self, ctx: CallContext, entity: DataEntity, cross_company: bool) -> tuple[list[Any], Any]:
        """The conditions that keep a query to what the caller may read, and a hashable description of them.

        Without cross-company: the caller's company, which they must be allowed to access and read the entity in.
        With it: every legal entity where they may read the entity (all of them for an unrestricted caller); 403
        only when there is none."""
        column = entity.company_column
        if column is None:
            self._authorize(ctx, entity, "read", None)
            return [], None
        if not cross_company:
            if not ctx.may_access(ctx.company):
                raise ForbiddenError(f"You have no access to company {ctx.company}.", target="dataAreaId")
            self._authorize(ctx, entity, "read", ctx.company)
            return [column == ctx.company], ctx.company
        companies = self._readable_companies(ctx, entity)
        if companies is None:
            return [], None
        if not companies:
            raise self._refusal(ctx, entity, "read", None, anywhere=True)
        ordered = tuple(sorted(companies))
        return [column.in_(ordered)], ordered

    def _readable_companies(self, ctx: CallContext, entity: DataEntity) -> frozenset[str] | None:
        """Legal entities whose records of ``entity`` the caller may read; ``None`` means all of them."""
        companies = ctx.companies
        if ctx.grants is None:
            return companies
        readable = ctx.grants.companies(entity.set_name, "read")
        if readable is None:
            return companies
        return readable if companies is None else readable & companies

    # --- authorization --------------------------------------------------------------------------------------

    def _authorize(
        self, ctx: CallContext, entity: DataEntity, operation: str, company: str | None, *, action: str | None = None
    ) -> None:
        """Refuse (403) unless the caller's grants allow ``operation`` on the entity set in ``company`` (``None``
        for an entity that is not per company). A context without grants is unrestricted."""
        grants = ctx.grants
        if grants is None:
            return
        scoped = company if entity.company_column is not None else None
        if not grants.allows(entity.set_name, operation, scoped, action=action):
            raise self._refusal(ctx, entity, operation, scoped, action=action)

    def _authorize_fields(
        self, ctx: CallContext, entity: DataEntity, company: str | None, row: dict[str, Any], changes: dict[str, Any]
    ) -> None:
        """An update privilege limited to some fields: every field the update actually changes must be one."""
        if ctx.grants is None:
            return
        allowed = ctx.grants.updatable_fields(entity.set_name, company if entity.company_column is not None else None)
        if allowed is None:
            return
        changed = [
            f.name for f in entity.fields
            if f.storage is not None and f.storage in changes and row.get(f.storage) != changes[f.storage]
        ]
        refused = [name for name in changed if name not in allowed]
        if refused:
            raise ForbiddenError(
                f"You may not change {', '.join(refused)} of {entity.set_name}: your security roles let you update "
                f"only {', '.join(sorted(allowed))}.",
                target=refused[0],
                next_step="Ask an administrator for a security role that grants updating these fields.",
            )

    @staticmethod
    def _refusal(
        ctx: CallContext,
        entity: DataEntity,
        operation: str,
        company: str | None,
        *,
        action: str | None = None,
        anywhere: bool = False,
    ) -> ForbiddenError:
        what = f"run the action {action} on" if operation == "actions" else operation
        privilege = f"the action {action}" if operation == "actions" else f"the {operation.capitalize()} privilege"
        where = " in any company" if anywhere else (f" in company {company}" if company else "")
        user = getattr(ctx.grants, "user", None) or ctx.user
        return ForbiddenError(
            f"You may not {what} {entity.set_name}{where}: none of the security roles of user {user} grants "
            f"{privilege} on {entity.set_name} ({entity.physical_name}).",
            target=entity.set_name,
            next_step="Ask an administrator for a security role that grants it.",
        )

    def _compile(self, entity: DataEntity, node: Any) -> Any:
        compiler = FilterCompiler(
            EntityResolver(self.catalog, entity), dialect=self.database.dialect, wildcards=True
        )
        return compiler.compile(node)

    def _selected(self, entity: DataEntity, options: QueryOptions) -> tuple[EntityField, ...]:
        if options.select is None:
            return entity.fields
        chosen = []
        for path in options.select:
            field = entity.field(path[0]) if len(path) == 1 else None
            if field is None:
                if len(path) == 1 and entity.navigation_property(path[0]):
                    raise QueryOptionError(f"{path[0]} is a navigation property; use $expand={path[0]} to include it.", target="$select")
                raise QueryOptionError(f"$select names {'/'.join(path)!r}, which is not a property of {entity.set_name}.", target="$select")
            if field not in chosen:
                chosen.append(field)
        return tuple(chosen)

    def _columns(self, entity: DataEntity, selected: Sequence[EntityField], *, with_all: bool) -> list[Any]:
        fields = entity.fields if with_all else selected
        return [f.column.label(f.name) for f in fields] + [entity.version_column.label(VERSION)]

    def _order(self, entity: DataEntity, options: QueryOptions) -> list[Any]:
        resolver = EntityResolver(self.catalog, entity)
        order, seen = [], set()
        for item in options.orderby:
            ref = resolver.field(item.path)
            expr = ref.column.desc() if item.descending else ref.column.asc()
            if ref.nullable:
                # SQLite and PostgreSQL disagree on where nulls go; pin it so both databases page identically.
                expr = expr.nulls_last() if item.descending else expr.nulls_first()
            order.append(expr)
            seen.add(item.path)
        order.extend(f.column for f in entity.keys if (f.name,) not in seen)
        return order

    def _to_api(self, entity: DataEntity, raw: dict[str, Any], selected: Sequence[EntityField]) -> dict[str, Any]:
        row: dict[str, Any] = {"@odata.etag": etag(raw[VERSION])}
        for f in selected:
            value = raw[f.name]
            row[f.name] = f.codec.to_api(value) if f.codec is not None and value is not None else value
        return row

    def _stored(self, conn: Connection, entity: DataEntity, key_values: dict[str, Any]) -> dict[str, Any]:
        conditions = [entity.field(name).column == value for name, value in key_values.items()]  # type: ignore[union-attr]
        stmt = select(entity.table).select_from(entity.from_clause).where(*conditions)
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(of=entity.table)
        row = conn.execute(stmt).mappings().first()
        if row is None:
            raise self._not_found(entity, key_values)
        return dict(row)

    def _read_back(self, conn: Connection, entity: DataEntity, recid: int) -> dict[str, Any]:
        stmt = select(*self._columns(entity, entity.fields, with_all=True)).select_from(entity.from_clause).where(
            entity.table.c.recid == recid
        )
        return self._to_api(entity, dict(conn.execute(stmt).mappings().one()), entity.fields)

    def _body(
        self,
        ctx: CallContext,
        entity: DataEntity,
        body: Any,
        *,
        creating: bool,
        key_values: dict[str, Any] | None = None,
    ) -> tuple[str | None, dict[str, Any]]:
        if not isinstance(body, dict):
            raise InvalidRequestError("The request body must be a JSON object.")
        changes: dict[str, Any] = {}
        company: str | None = None
        for name, raw in body.items():
            if "@" in name:
                continue  # annotations (@odata.type, @odata.etag) carry no data
            field = entity.field(name)
            if field is None:
                if entity.navigation_property(name):
                    raise NotSupportedError(f"Deep insert through {name} is not supported; write {name} separately.", target=name)
                raise ValidationError(
                    f"The property {name!r} does not exist on type '{NAMESPACE}.{entity.name}'.", target=name
                )
            value = values.from_json(raw, field.type, name=name, enum=field.enum, max_length=field.max_length)
            if field.codec is not None and value is not None:
                value = field.codec.to_storage(value)
            if value is None and creating:
                continue  # clients such as python-odata post every property; null on create means "use the default"
            if field.name == "dataAreaId":
                company = value
                continue
            if field.key and not creating:
                assert key_values is not None
                if value != key_values[field.name]:
                    raise ValidationError(f"The key property {name} cannot be changed.", target=name)
                continue
            if field.read_only:
                raise ValidationError(f"The property {name} is read-only.", target=name)
            if value is None and (field.key or field.mandatory):
                raise ValidationError(f"The property {name} cannot be null.", target=name)
            changes[field.storage or name] = value
        if entity.company_column is not None:
            if creating:
                company = company or ctx.company
            else:
                assert key_values is not None
                if company is not None and company != key_values["dataAreaId"]:
                    raise ValidationError("dataAreaId cannot be changed.", target="dataAreaId")
                company = key_values["dataAreaId"]
            if not ctx.may_access(company):
                raise ForbiddenError(f"You have no access to company {company}.", target="dataAreaId")
        if creating:
            missing = [f.name for f in entity.fields if f.mandatory and f.storage not in changes]
            if missing:
                raise ValidationError(
                    f"{entity.set_name} needs {', '.join(missing)} to create a record.", target=missing[0]
                )
        return company, changes

    def _action_parameters(self, declared: Sequence[Any], body: Any, name: str) -> dict[str, Any]:
        if body in (None, b"", ""):
            body = {}
        if not isinstance(body, dict):
            raise InvalidRequestError(f"The parameters of {name} must be a JSON object.")
        known = {p.name: p for p in declared}
        unknown = [k for k in body if k not in known and "@" not in k]
        if unknown:
            raise ValidationError(f"{name} has no parameter {unknown[0]!r}.", target=unknown[0])
        params = {}
        for p in declared:
            value = values.from_json(body.get(p.name), p.type, name=p.name)
            if value is None and not p.nullable:
                raise ValidationError(f"{name} needs the parameter {p.name}.", target=p.name)
            params[p.name] = value
        return params

    def _expand(
        self,
        conn: Connection,
        ctx: CallContext,
        entity: DataEntity,
        raw_rows: list[dict[str, Any]],
        items: Sequence[ExpandItem],
    ) -> list[dict[str, Any]]:
        """For each row, the expanded navigation properties; one query per navigation property for the page."""
        extras: list[dict[str, Any]] = [{} for _ in raw_rows]
        if not raw_rows:
            return extras
        for item in items:
            if len(item.path) != 1:
                raise NotSupportedError("Only one level of $expand is supported.", target="$expand")
            nav = entity.navigation_property(item.path[0])
            if nav is None:
                raise QueryOptionError(f"{item.path[0]!r} is not a navigation property of {entity.set_name}.", target="$expand")
            if item.options.expand:
                raise NotSupportedError("Only one level of $expand is supported.", target="$expand")
            target = self.entity(nav.target)
            selected = self._selected(target, item.options)
            target_fields = [target.field(b) for _, b in nav.pairs]
            parents = {tuple(r[a] for a, _ in nav.pairs) for r in raw_rows}
            where: list[Any] = [tuple_(*[f.column for f in target_fields]).in_(sorted(parents, key=str))]  # type: ignore[union-attr]
            if ctx.grants is not None:
                where.extend(self._read_scope(ctx, target, cross_company=True)[0])
            if item.options.filter is not None:
                where.append(self._compile(target, item.options.filter))
            stmt = (
                select(*self._columns(target, target.fields, with_all=True))
                .select_from(target.from_clause)
                .where(*where)
                .order_by(*self._order(target, item.options))
            )
            grouped: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
            for r in conn.execute(stmt).mappings():
                child = dict(r)
                grouped[tuple(child[b] for _, b in nav.pairs)].append(child)
            for extra, parent in zip(extras, raw_rows, strict=True):
                children = grouped.get(tuple(parent[a] for a, _ in nav.pairs), [])
                if item.options.skip:
                    children = children[item.options.skip :]
                if item.options.top is not None:
                    children = children[: item.options.top]
                shaped = [self._to_api(target, c, selected) for c in children]
                extra[nav.name] = shaped if nav.collection else (shaped[0] if shaped else None)
        return extras


@lru_cache(maxsize=512)
def _key_statement(entity: DataEntity, selected: tuple[str, ...], with_all: bool) -> Any:
    """The prepared key lookup for an entity and a $select: built once, so a GET by key only binds values."""
    fields = entity.fields if with_all else tuple(entity.field(n) for n in selected)
    columns = [f.column.label(f.name) for f in fields] + [entity.version_column.label(VERSION)]  # type: ignore[union-attr]
    conditions = [f.column == bindparam(f"k_{f.name}") for f in entity.keys]
    return select(*columns).select_from(entity.from_clause).where(and_(*conditions))


def _check_etag(if_match: str | None, version: int) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    tags = [t.strip() for t in if_match.split(",")]
    if etag(version) not in tags and f'"{version}"' not in tags:
        raise PreconditionFailedError(
            "The record has changed since it was read: its ETag is "
            f"{etag(version)}, the request's If-Match is {if_match}.",
            next_step="Read the record again and reapply the change.",
        )

