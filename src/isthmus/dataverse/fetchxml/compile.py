"""``FetchSpec`` → a ``Plan``: one SQLAlchemy ``SELECT`` over labelled columns (``c1``, ``c2``...), what each label
means (``Output``) and how to order the rows (``OrderKey``). Paging and ordering are applied around it by
``execute``.

Every table is aliased (``t1``, ``t2``...), every value bound, so nothing from the XML's text reaches the SQL.
``inner``/``outer`` link-entities are joins whose own filters go into the ``ON`` clause (as in Dataverse); ``exists``
and ``in`` link-entities, and ``any``/``not any``/``all``/``not all`` link-entities inside a filter, are ``EXISTS``
sub-queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from isthmus.dataverse.fetchxml.conditions import filter_expression
from isthmus.dataverse.fetchxml.model import EntitySpec, FetchColumn, FetchSpec, LinkSpec
from isthmus.dataverse.metadata.model import Column, Table
from isthmus.dataverse.metadata.physical import type_suffix
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.records.values import edm_type
from isthmus.errors import NotSupportedError, QueryOptionError

JOIN_TYPES = ("inner", "outer")
SEMI_TYPES = ("exists", "in")
FILTER_TYPES = ("any", "not any", "all", "not all")


@dataclass
class Scope:
    """The entity or one link-entity of the query: its table, its SQL alias and how it joins its parent."""

    key: str
    table: Table
    sql: Any
    spec: EntitySpec
    kind: str
    """``main``, ``inner``, ``outer`` or ``semi`` (inside an EXISTS sub-query)."""
    parent: Scope | None = None
    from_: str | None = None
    to: str | None = None

    @property
    def many_to_one(self) -> bool:
        """Joining it cannot repeat parent rows: it joins on its own primary id."""
        return self.from_ == self.table.primary_id


@dataclass
class Output:
    column: FetchColumn
    label: str
    scope: Scope
    type_label: str | None = None
    """Label of the hidden ``<lookup>__type`` column of a polymorphic lookup."""
    target: str | None = None
    """The table a single-target lookup points to."""
    integer_avg: bool = False


@dataclass
class OrderKey:
    label: str
    column: Column | None
    descending: bool = False


@dataclass
class Plan:
    table: Table
    select: Any
    outputs: list[Output]
    orders: list[OrderKey]
    pid_label: str | None
    keyset: bool
    """The rows are ordered by the main primary id only and appear once each: a paging cookie can seek."""
    aggregate: bool
    raw_order: bool = False


@dataclass
class Context:
    dialect: str
    now: dt.datetime
    user_id: str | None = None
    business_unit_id: str | None = None
    security: Callable[[Table, Any], list[Any]] | None = None
    """Conditions keeping a table (given its SQL alias) to the rows the caller may read; applied to the entity and to
    every link-entity (``dataverse.security``)."""


@dataclass
class Compiler:
    registry: Registry
    fetch: FetchSpec
    context: Context
    scopes: dict[str, Scope] = field(default_factory=dict)
    joins: list[Scope] = field(default_factory=list)
    selected: list[tuple[str, Any]] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    orders: list[OrderKey] = field(default_factory=list)
    _counter: int = 0

    # --- what conditions need ------------------------------------------------------------------------------------

    @property
    def now(self) -> dt.datetime:
        return self.context.now

    @property
    def user_id(self) -> str | None:
        return self.context.user_id

    @property
    def business_unit_id(self) -> str | None:
        return self.context.business_unit_id

    def table(self, name: str) -> Table:
        table = self.registry.tables.get(name)
        if table is None:
            raise QueryOptionError(f"The entity '{name}' does not exist.", target=name)
        if table.is_virtual:
            raise NotSupportedError(f"FetchXML queries over the virtual table '{name}' are not supported.", target=name)
        return table

    def column(self, scope: Scope, name: str) -> Column:
        column = scope.table.column(name)
        if column is None:
            raise QueryOptionError(
                f"The attribute '{name}' does not exist on entity '{scope.table.logical_name}'.", target=name
            )
        return column

    def scope_for(self, entityname: str | None, current: Scope) -> Scope:
        if not entityname:
            return current
        found = self.scopes.get(entityname) or self.scopes.get(entityname.lower())
        if found is None and entityname.lower() == self.main.key:
            found = self.main
        if found is None:
            raise QueryOptionError(f"No entity or link-entity in the fetch has the alias or name '{entityname}'.")
        return found

    def name(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def select(self, expression: Any, prefix: str = "c") -> str:
        label = self.name(prefix)
        self.selected.append((label, expression))
        return label

    # --- the whole query -----------------------------------------------------------------------------------------

    def compile(self) -> Plan:
        spec = self.fetch.entity
        table = self.table(spec.name)
        main = Scope(spec.name, table, self.registry.sql[spec.name].alias(self.name("t")), spec, "main")
        self.main = main  # link-entities are in self.scopes; the entity is found by name when no link has it
        self._register(main, self.joins)
        source = main.sql
        for scope in self.joins:
            source = source.join(scope.sql, self._on(scope), isouter=scope.kind == "outer")
        where = self._restrictions(main)
        if self.fetch.aggregate:
            from isthmus.dataverse.fetchxml.aggregate import compile_aggregate

            return compile_aggregate(self, source, where)
        return self._rows(source, where)

    def _rows(self, source: Any, where: list[Any]) -> Plan:
        distinct = self.fetch.distinct
        keys: dict[str, Output] = {}
        for scope in (self.main, *self.joins):
            if scope.spec.all_attributes:
                for column in scope.table.columns:
                    self._output(scope, column, None, keys)
            for attribute in scope.spec.attributes:
                if attribute.aggregate or attribute.groupby:
                    raise QueryOptionError(
                        f"The attribute '{attribute.name}' uses {'aggregate' if attribute.aggregate else 'groupby'}, "
                        "but the fetch is not an aggregate query; set aggregate='true' on the fetch element.",
                        target=attribute.name,
                    )
                self._output(scope, self.column(scope, attribute.name), attribute.alias, keys)
            if scope is self.main and not distinct:
                self._output(scope, self.column(scope, scope.table.primary_id), None, keys)
        pid = next((o for o in self.outputs if o.scope is self.main and o.column.column is not None
                    and o.column.column.is_primary_id and o.column.key == o.column.column.logical_name), None)
        explicit = self._explicit_orders(keys)
        ordered = {key.label for key in self.orders}
        if distinct:
            tiebreak = [o.label for o in self.outputs]
        else:
            tiebreak = [pid.label] if pid is not None else []
            for scope in self.joins:
                if not scope.many_to_one:
                    tiebreak.append(self.select(scope.sql.c[scope.table.primary_id], "k"))
        for label in tiebreak:
            if label not in ordered:
                self.orders.append(OrderKey(label, None))
        keyset = (
            not distinct and pid is not None and all(s.many_to_one for s in self.joins)
            and all(key.label == pid.label for key in explicit)
        )
        stmt = sa.select(*[expr.label(label) for label, expr in self.selected]).select_from(source)
        if where:
            stmt = stmt.where(*where)
        if distinct:
            stmt = stmt.distinct()
        return Plan(self.main.table, stmt, self.outputs, self.orders, pid.label if pid else None, keyset, False,
                    self.fetch.raw_order)

    def _output(self, scope: Scope, column: Column, alias: str | None, keys: dict[str, Output]) -> None:
        if scope.kind == "semi":
            raise QueryOptionError(
                f"A link-entity of type exists/in cannot return attributes ('{column.logical_name}')."
            )
        key = alias or (column.value_property if scope is self.main else f"{scope.key}.{column.logical_name}")
        if key in keys:
            if keys[key].scope is scope and keys[key].column.column == column:
                return
            raise QueryOptionError(
                f"Two attributes of the fetch are both returned as '{key}'; give one a different alias."
            )
        label = self.select(scope.sql.c[column.logical_name])
        type_label = self.select(scope.sql.c[type_suffix(column.logical_name)], "p") if column.polymorphic else None
        output = Output(
            FetchColumn(key, column, scope.table.logical_name, edm_type(column), attribute=column.logical_name),
            label, scope, type_label, column.targets[0] if column.is_lookup and len(column.targets) == 1 else None,
        )
        keys[key] = output
        self.outputs.append(output)

    def _explicit_orders(self, keys: dict[str, Output]) -> list[OrderKey]:
        explicit = []
        for scope in (self.main, *self.joins):
            for order in scope.spec.orders:
                if order.attribute is None:
                    assert order.alias is not None
                    if order.alias not in keys:
                        raise QueryOptionError(f"The order alias '{order.alias}' is not the alias of any attribute.")
                    output = keys[order.alias]
                    key = OrderKey(output.label, output.column.column, order.descending)
                else:
                    target = self.scope_for(order.entityname, scope)
                    if target.kind == "semi":
                        raise QueryOptionError(f"Rows cannot be ordered by the exists/in link-entity '{target.key}'.")
                    column = self.column(target, order.attribute)
                    label = next(
                        (o.label for o in self.outputs if o.scope is target and o.column.column == column), None
                    )
                    if label is None:
                        label = self.select(target.sql.c[column.logical_name], "o")
                    key = OrderKey(label, column, order.descending)
                explicit.append(key)
                self.orders.append(key)
        return explicit

    # --- joins and restrictions ----------------------------------------------------------------------------------

    def _register(self, parent: Scope, joins: list[Scope]) -> None:
        for link in parent.spec.links:
            kind = link.link_type
            if kind in SEMI_TYPES:
                continue  # an EXISTS condition of the parent, compiled with its restrictions
            if kind in FILTER_TYPES:
                raise QueryOptionError(f"A link-entity with link-type '{kind}' must be placed inside a filter element.")
            if kind == "matchfirstrowusingcrossapply":
                raise NotSupportedError("The link-type 'matchfirstrowusingcrossapply' is not supported.")
            if kind not in JOIN_TYPES:
                raise QueryOptionError(f"'{kind}' is not a valid link-type.")
            scope = self._scope(link, parent, kind, anonymous_ok=False)
            joins.append(scope)
            self._register(scope, joins)

    def _scope(self, link: LinkSpec, parent: Scope, kind: str, *, anonymous_ok: bool) -> Scope:
        table = self.table(link.name)
        key = link.alias or link.name
        from_, to = self._link_columns(parent, table, link)
        sql = self.registry.sql[table.logical_name].alias(self.name("t"))
        scope = Scope(key, table, sql, link, kind, parent, from_, to)
        if key in self.scopes:
            if anonymous_ok and not link.alias:
                return scope  # an unaliased filter link-entity: nothing refers to it by name
            raise QueryOptionError(f"Two link-entities are both named '{key}'; give each a distinct alias.")
        self.scopes[key] = scope
        return scope

    def _link_columns(self, parent: Scope, table: Table, link: LinkSpec) -> tuple[str, str]:
        from_, to = link.from_, link.to
        if from_ is None or to is None:
            candidates: list[tuple[str, str]] = []
            for r in self.registry.relationships:
                if r.kind != "OneToMany":
                    continue
                if r.referenced_table == table.logical_name and r.referencing_table == parent.table.logical_name:
                    candidates.append((table.primary_id, r.referencing_column))
                if r.referencing_table == table.logical_name and r.referenced_table == parent.table.logical_name:
                    candidates.append((r.referencing_column, parent.table.primary_id))
            matching = [c for c in dict.fromkeys(candidates)
                        if (from_ is None or c[0] == from_) and (to is None or c[1] == to)]
            if len(matching) != 1:
                raise QueryOptionError(
                    f"The link-entity '{link.name}' needs 'from' and 'to' attributes: "
                    f"{'no' if not matching else 'more than one'} relationship joins it to "
                    f"'{parent.table.logical_name}'."
                )
            from_, to = matching[0]
        linked = self.column(Scope(link.name, table, None, link, "x"), from_)
        own = self.column(parent, to)
        if edm_type(linked) != edm_type(own):
            raise QueryOptionError(
                f"The link-entity '{link.name}' joins '{link.name}.{from_}' ({linked.type}) to "
                f"'{parent.table.logical_name}.{to}' ({own.type}); the types differ."
            )
        return from_, to

    def _on(self, scope: Scope) -> Any:
        assert scope.parent is not None and scope.from_ and scope.to
        return sa.and_(scope.sql.c[scope.from_] == scope.parent.sql.c[scope.to], *self._restrictions(scope))

    def _restrictions(self, scope: Scope) -> list[Any]:
        """The scope's filters and exists/in link-entities (WHERE for the entity, ON for a link-entity)."""
        parts = [filter_expression(self, f, scope) for f in scope.spec.filters]
        parts += [self.link_condition(link, scope) for link in scope.spec.links if link.link_type in SEMI_TYPES]
        if self.context.security is not None:
            parts += self.context.security(scope.table, scope.sql)
        return parts

    def link_condition(self, link: LinkSpec, parent: Scope, *, in_filter: bool = False) -> Any:
        """An exists/in link-entity, or an any/not any/all/not all link-entity inside a filter, as EXISTS."""
        kind = link.link_type
        allowed = FILTER_TYPES + SEMI_TYPES if in_filter else SEMI_TYPES
        if kind not in allowed:
            raise QueryOptionError(
                f"A link-entity inside a filter must use link-type any, not any, all or not all; got '{kind}'."
            )
        if link.attributes or link.all_attributes:
            raise QueryOptionError(f"A link-entity with link-type '{kind}' cannot return attributes.")
        scope = self._scope(link, parent, "semi", anonymous_ok=True)
        nested: list[Scope] = []
        self._register(scope, nested)
        source = scope.sql
        for child in nested:
            source = source.join(child.sql, self._on(child), isouter=child.kind == "outer")
        join = scope.sql.c[scope.from_] == parent.sql.c[scope.to]
        restrictions = self._restrictions(scope)
        matched = sa.and_(*restrictions) if restrictions else sa.true()
        if kind in ("all", "not all"):
            failing = sa.case((matched, 1), else_=0) == 0  # rows the filter does not accept (null counts as not)
            exists = sa.exists(sa.select(sa.literal_column("1")).select_from(source).where(join, failing))
            return ~exists if kind == "all" else exists
        exists = sa.exists(sa.select(sa.literal_column("1")).select_from(source).where(join, matched))
        return ~exists if kind == "not any" else exists


def compile_fetch(registry: Registry, fetch: FetchSpec, context: Context) -> Plan:
    return Compiler(registry, fetch, context).compile()
