"""Records of Dataverse tables: create, retrieve, update, upsert, delete and query, each through the plug-in
pipeline inside one unit of work, with Dataverse's rules for system columns, alternate keys, optimistic
concurrency and the status of a state.

A table with a ``data_provider`` keeps no rows here: every operation goes to the registered provider (virtual
tables use this hook).

Every operation is checked against the caller's security roles (``dataverse.security``): Create; Read (queries keep
to readable records, a Retrieve of a record out of reach is a 403); Write; Delete; Append on the record and AppendTo
on every record a lookup is set to; Assign when the owner is set to someone else or changes. Virtual tables are
checked at table level only. ``Caller`` without a security profile is the system itself and may do everything.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Column as SqlColumn
from sqlalchemy import Connection, Integer, MetaData, String, func, select, update
from sqlalchemy import Table as SqlTable

from isthmus.dataverse.metadata.model import Table
from isthmus.dataverse.metadata.physical import type_suffix
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.metadata.store import MetadataStore
from isthmus.dataverse.pipeline import Pipeline, PluginContext
from isthmus.dataverse.records.body import read_body
from isthmus.dataverse.records.functions import query_functions
from isthmus.dataverse.records.reads import PageRequest, QueryPage, Reader
from isthmus.dataverse.records.shape import Annotations
from isthmus.dataverse.records.values import from_json, parse_guid
from isthmus.dataverse.security.access import Access
from isthmus.dataverse.security.model import (
    APPEND,
    APPEND_TO,
    ASSIGN,
    CREATE,
    DELETE,
    READ,
    WRITE,
    SecurityProfile,
    is_user_owned,
)
from isthmus.errors import (
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)
from isthmus.odata.query.options import QueryOptions
from isthmus.storage import CallContext, Database, UnitOfWork
from isthmus.storage.types import utcnow

sequences = MetaData()
version_sequence = SqlTable(
    "dv_sequence", sequences, SqlColumn("name", String(40), primary_key=True), SqlColumn("value", Integer, nullable=False)
)


@dataclass(frozen=True)
class Caller:
    """Who is calling the platform: the user, the business unit and the organization (WhoAmI), the teams the user
    belongs to, the security roles that apply (the user's and the teams'), and what those roles allow."""

    user_id: str
    business_unit_id: str
    organization_id: str
    context: CallContext
    team_ids: tuple[str, ...] = ()
    role_ids: tuple[str, ...] = ()
    security: SecurityProfile | None = field(default=None, compare=False, repr=False)
    """The caller's privileges (``DataverseEnvironment.caller_for``); ``None`` for the system itself
    (``DataverseEnvironment.admin()``), which holds every privilege at Organization depth."""
    application: bool = False
    """An application user (a systemuser with an ``applicationid``)."""


class DataProvider(Protocol):
    """Where a virtual table's rows come from. Values are Web API JSON shapes."""

    def retrieve(self, caller: Caller, table: Table, record_id: str, options: QueryOptions, annotations: Annotations) -> dict[str, Any] | None: ...

    def retrieve_multiple(self, caller: Caller, table: Table, options: QueryOptions, page: PageRequest, annotations: Annotations) -> QueryPage: ...

    def create(self, caller: Caller, table: Table, body: dict[str, Any]) -> str: ...

    def update(self, caller: Caller, table: Table, record_id: str, body: dict[str, Any]) -> None: ...

    def delete(self, caller: Caller, table: Table, record_id: str) -> None: ...


class RecordService:
    def __init__(self, database: Database, store: MetadataStore, pipeline: Pipeline | None = None) -> None:
        self.database = database
        self.store = store
        self.pipeline = pipeline or Pipeline()
        self.providers: dict[str, DataProvider] = {}
        with database.engine.begin() as conn:
            sequences.create_all(conn)
            if conn.execute(select(version_sequence.c.name).where(version_sequence.c.name == "versionnumber")).first() is None:
                conn.execute(version_sequence.insert().values(name="versionnumber", value=1000))

    @property
    def registry(self) -> Registry:
        return self.store.registry

    def table_for_set(self, entity_set: str) -> Table:
        table = self.registry.by_set.get(entity_set)
        if table is None:
            raise NotFoundError(f"Resource not found for the segment '{entity_set}'.", code="0x80060888")
        return table

    def reader(self, caller: Caller) -> Reader:
        functions = query_functions(user_id=caller.user_id, business_unit_id=caller.business_unit_id)
        return Reader(self.registry, self.database.dialect, functions, access=Access(caller))

    def _provider(self, table: Table) -> DataProvider:
        provider = self.providers.get(table.data_provider or "")
        if provider is None:
            raise ConfigurationError(f"No data provider named {table.data_provider!r} serves the virtual table {table.logical_name}.")
        return provider

    # --- keys -------------------------------------------------------------------------------------------------

    def find(self, conn: Connection, table: Table, key: Sequence[tuple[str | None, object]]) -> str | None:
        """The id addressed by a key predicate: ``(<guid>)`` or an alternate key ``(accountnumber='A-1')``."""
        pairs = list(key)
        if len(pairs) == 1 and (pairs[0][0] is None or pairs[0][0] == table.primary_id):
            record_id = parse_guid(pairs[0][1], name=table.primary_id)
            if table.is_virtual:
                return record_id
            sql = self.registry.sql[table.logical_name]
            found = conn.execute(select(sql.c[table.primary_id]).where(sql.c[table.primary_id] == record_id)).first()
            return record_id if found else None
        names = {n for n, _ in pairs}
        alternate = next((k for k in table.keys if set(k.columns) == names), None)
        if alternate is None:
            raise InvalidRequestError(
                f"The key ({', '.join(str(n) for n in names)}) is not an alternate key of {table.logical_name}; its keys are "
                + "; ".join("(" + ", ".join(k.columns) + ")" for k in table.keys) + ".", code="0x80060888",
            )
        sql = self.registry.sql[table.logical_name]
        conditions = []
        for name, value in pairs:
            column = table.column(str(name))
            assert column is not None
            stored = value if column.is_lookup else from_json(column, value)
            conditions.append(sql.c[column.logical_name] == stored)
        found = conn.execute(select(sql.c[table.primary_id]).where(*conditions)).first()
        return found[0] if found else None

    def require(self, conn: Connection, table: Table, key: Sequence[tuple[str | None, object]]) -> str:
        record_id = self.find(conn, table, key)
        if record_id is None:
            described = ",".join(f"{n}={v}" if n else str(v) for n, v in key)
            raise NotFoundError(f"{table.logical_name} With Id = {described} Does Not Exist", code="0x80040217")
        return record_id

    def _resolver(self, conn: Connection) -> Callable[[Table, tuple[tuple[str | None, object], ...]], str]:
        return lambda table, key: self.require(conn, table, key)

    # --- reads ------------------------------------------------------------------------------------------------

    def retrieve(self, caller: Caller, table: Table, key: Any, options: QueryOptions, annotations: Annotations) -> dict[str, Any]:
        access = Access(caller)
        access.require(table, READ)
        if table.is_virtual:
            record_id = parse_guid(dict(key).get(None) or dict(key).get(table.primary_id), name=table.primary_id)
            row = self._provider(table).retrieve(caller, table, record_id, options, annotations)
        else:
            with self.database.read() as conn:
                record_id = self.require(conn, table, key)
                self._require_on(conn, access, table, READ, record_id)
                row = self.reader(caller).retrieve(conn, table, record_id, options, annotations)
        if row is None:
            raise NotFoundError(f"{table.logical_name} With Id = {key} Does Not Exist", code="0x80040217")
        context = PluginContext("Retrieve", table.logical_name, "PostOperation", caller.context, record_id=row.get(table.primary_id), output=row)
        self.pipeline.run(context, "PostOperation")
        return context.output

    def retrieve_multiple(
        self, caller: Caller, table: Table, options: QueryOptions, page: PageRequest, annotations: Annotations,
        *, extra_where: Sequence[Any] = (),
    ) -> QueryPage:
        if table.is_virtual:
            Access(caller).require(table, READ)
            result = self._provider(table).retrieve_multiple(caller, table, options, page, annotations)
        else:
            with self.database.read() as conn:
                result = self.reader(caller).query(conn, table, options, page, annotations, extra_where=extra_where)
        context = PluginContext("RetrieveMultiple", table.logical_name, "PostOperation", caller.context, output=result)
        self.pipeline.run(context, "PostOperation")
        return context.output

    def count(self, caller: Caller, table: Table, options: QueryOptions) -> int:
        """An exact ``$count`` of the records the caller may read."""
        with self.database.read() as conn:
            where = self.reader(caller).where(table, options)
            return conn.execute(select(func.count()).select_from(self.registry.sql[table.logical_name]).where(*where)).scalar_one()

    # --- writes -----------------------------------------------------------------------------------------------

    def create(self, caller: Caller, table: Table, body: dict[str, Any]) -> str:
        if table.is_virtual:
            Access(caller).require(table, CREATE)
            return self._provider(table).create(caller, table, body)
        with self.database.unit_of_work(caller.context) as uow:
            return self._create(uow, caller, table, body, depth=1)

    def update(self, caller: Caller, table: Table, key: Any, body: dict[str, Any], *, if_match: str | None = None) -> str:
        if table.is_virtual:
            Access(caller).require(table, WRITE)
            record_id = parse_guid(dict(key).get(None), name=table.primary_id)
            self._provider(table).update(caller, table, record_id, body)
            return record_id
        with self.database.unit_of_work(caller.context) as uow:
            record_id = self.require(uow.connection, table, key)
            self._update(uow, caller, table, record_id, body, if_match=if_match, depth=1)
            return record_id

    def upsert(
        self, caller: Caller, table: Table, key: Any, body: dict[str, Any], *,
        if_match: str | None = None, if_none_match: str | None = None,
    ) -> tuple[bool, str]:
        """PATCH to a key URL: update if the record exists, otherwise create it with the key's values.
        ``If-Match: *`` means update only (404 when missing); ``If-None-Match: *`` create only (412 when present)."""
        with self.database.unit_of_work(caller.context) as uow:
            existing = self.find(uow.connection, table, key)
            if existing is not None:
                if if_none_match == "*":
                    raise PreconditionFailedError("A record with matching key values already exists.", code="0x80040237")
                self._update(uow, caller, table, existing, body, if_match=if_match, depth=1)
                return False, existing
            if if_match is not None:
                raise NotFoundError(f"{table.logical_name} With Id = {dict(key)} Does Not Exist", code="0x80040217")
            full = dict(body)
            for name, value in key:
                if name is None or name == table.primary_id:
                    full[table.primary_id] = value
                elif name not in full:
                    full[str(name)] = value
            return True, self._create(uow, caller, table, full, depth=1)

    def delete(self, caller: Caller, table: Table, key: Any, *, if_match: str | None = None) -> None:
        if table.is_virtual:
            Access(caller).require(table, DELETE)
            self._provider(table).delete(caller, table, parse_guid(dict(key).get(None), name=table.primary_id))
            return
        with self.database.unit_of_work(caller.context) as uow:
            record_id = self.require(uow.connection, table, key)
            self._delete(uow, caller, table, record_id, if_match=if_match)

    def associate(self, caller: Caller, table: Table, key: Any, navigation: str, target_key: Any) -> None:
        """``POST {set}(id)/{nav}/$ref`` (or ``PUT`` for a single-valued one): link two existing records — set the
        lookup for a one-to-many relationship, add a pair for a many-to-many one (idempotent)."""
        nav, target = self._navigation(table, navigation)
        with self.database.unit_of_work(caller.context) as uow:
            record_id = self.require(uow.connection, table, key)
            target_id = self.require(uow.connection, target, target_key)
            if nav.kind == "single":
                bind = nav.name if table.column(nav.local_column).polymorphic else nav.local_column  # type: ignore[union-attr]
                self._update(uow, caller, table, record_id, {f"{bind}@odata.bind": f"/{target.entity_set_name}({target_id})"},
                             if_match=None, depth=1)
            elif nav.kind == "collection":
                lookup = target.column(nav.remote_column)
                assert lookup is not None
                bind = nav.remote_column if not lookup.polymorphic else f"{nav.remote_column}_{table.logical_name}"
                self._update(uow, caller, target, target_id, {f"{bind}@odata.bind": f"/{table.entity_set_name}({record_id})"},
                             if_match=None, depth=1)
            else:
                intersect, mine, theirs = self._intersect(nav, table)
                sql = self.registry.sql[intersect.logical_name]
                exists = uow.connection.execute(select(sql.c[mine]).where(sql.c[mine] == record_id, sql.c[theirs] == target_id)).first()
                if not exists:
                    self._create(uow, caller, intersect, {mine: record_id, theirs: target_id}, depth=1)

    def disassociate(self, caller: Caller, table: Table, key: Any, navigation: str, target_key: Any | None) -> None:
        """``DELETE {set}(id)/{nav}/$ref`` (single-valued) or ``DELETE {set}(id)/{nav}(other)/$ref`` /
        ``…/$ref?$id=…``: remove the link, never the records."""
        nav, target = self._navigation(table, navigation)
        with self.database.unit_of_work(caller.context) as uow:
            record_id = self.require(uow.connection, table, key)
            if nav.kind == "single":
                bind = nav.name if table.column(nav.local_column).polymorphic else nav.local_column  # type: ignore[union-attr]
                self._update(uow, caller, table, record_id, {f"{bind}@odata.bind": None}, if_match=None, depth=1)
                return
            if target_key is None:
                raise InvalidRequestError(f"Name the {target.logical_name} to remove: {navigation}(<id>)/$ref or $id=.")
            target_id = self.require(uow.connection, target, target_key)
            if nav.kind == "collection":
                lookup = target.column(nav.remote_column)
                assert lookup is not None
                sql = self.registry.sql[target.logical_name]
                current = uow.connection.execute(select(sql.c[nav.remote_column]).where(sql.c[target.primary_id] == target_id)).scalar()
                if current != record_id:
                    raise NotFoundError(f"{target.logical_name} {target_id} is not linked to {table.logical_name} {record_id} through {navigation}.")
                bind = nav.remote_column if not lookup.polymorphic else f"{nav.remote_column}_{table.logical_name}"
                self._update(uow, caller, target, target_id, {f"{bind}@odata.bind": None}, if_match=None, depth=1)
                return
            intersect, mine, theirs = self._intersect(nav, table)
            sql = self.registry.sql[intersect.logical_name]
            pair = uow.connection.execute(select(sql.c[intersect.primary_id]).where(
                sql.c[mine] == record_id, sql.c[theirs] == target_id)).scalar()
            if pair is None:
                raise NotFoundError(f"{table.logical_name} {record_id} and {target.logical_name} {target_id} are not associated through {navigation}.")
            self._delete(uow, caller, intersect, pair, if_match=None)

    def _navigation(self, table: Table, navigation: str) -> tuple[Any, Table]:
        nav = self.registry.navigation(table.logical_name, navigation)
        if nav is None:
            raise NotFoundError(f"Resource not found for the segment '{navigation}'.", code="0x80060888")
        return nav, self.registry.tables[nav.target]

    def _intersect(self, nav: Any, table: Table) -> tuple[Table, str, str]:
        relationship = nav.relationship
        intersect = self.registry.tables.get(relationship.intersect_table)
        if intersect is None:
            raise ConfigurationError(f"The many-to-many relationship {relationship.schema_name} has no intersect table.")
        mine, theirs = self.registry.intersect_sides(relationship, table.logical_name)
        return intersect, mine, theirs

    def create_multiple(self, caller: Caller, table: Table, targets: list[dict[str, Any]]) -> list[str]:
        with self.database.unit_of_work(caller.context) as uow:
            return [self._create(uow, caller, table, t, depth=1) for t in targets]

    # --- core operations (inside a unit of work) --------------------------------------------------------------

    def _create(self, uow: UnitOfWork, caller: Caller, table: Table, body: dict[str, Any], *, depth: int) -> str:
        access = Access(caller)
        access.require(table, CREATE)
        parsed = read_body(self.registry, table, body, self._resolver(uow.connection), creating=True)
        for nav, child in parsed.deep_single:
            child_id = self._create(uow, caller, self.registry.tables[nav.target], child, depth=depth + 1)
            parsed.values[nav.local_column] = child_id
            if self.registry.tables[table.logical_name].column(nav.local_column).polymorphic:  # type: ignore[union-attr]
                parsed.values[type_suffix(nav.local_column)] = nav.target
        values = parsed.values
        record_id = values.get(table.primary_id) or str(uuid.uuid4())
        values[table.primary_id] = record_id
        context = PluginContext("Create", table.logical_name, "PreValidation", caller.context, record_id=record_id,
                                target=values, uow=uow, depth=depth)
        self.pipeline.run(context, "PreValidation")
        self._stamp_create(uow, caller, table, values)
        self.pipeline.run(context, "PreOperation")
        self._check_create_access(uow.connection, access, table, values)
        self._check_state(table, values, None)
        self._check_keys(uow.connection, table, values, record_id)
        sql = self.registry.sql[table.logical_name]
        if uow.connection.execute(select(sql.c[table.primary_id]).where(sql.c[table.primary_id] == record_id)).first():
            raise PreconditionFailedError(f"A record with id {record_id} already exists in {table.logical_name}.", code="0x80040237")
        stored = uow.insert(sql, {k: v for k, v in values.items() if k in sql.c})
        context.post_image = stored
        self.pipeline.run(context, "PostOperation")
        for nav, children in parsed.deep_collection:
            child_table = self.registry.tables[nav.target]
            for child in children:
                child_body = dict(child)
                lookup = child_table.column(nav.remote_column)
                assert lookup is not None
                bind_name = nav.remote_column if not lookup.polymorphic else f"{nav.remote_column}_{table.logical_name}"
                child_body[f"{bind_name}@odata.bind"] = f"/{table.entity_set_name}({record_id})"
                self._create(uow, caller, child_table, child_body, depth=depth + 1)
        return record_id

    def _update(self, uow: UnitOfWork, caller: Caller, table: Table, record_id: str, body: dict[str, Any], *,
                if_match: str | None, depth: int) -> None:
        access = Access(caller)
        access.require(table, WRITE)
        sql = self.registry.sql[table.logical_name]
        before = uow.read_for_update(sql, record_id)
        access.require(table, WRITE, before)
        _check_etag(if_match, before.get("versionnumber"))
        parsed = read_body(self.registry, table, body, self._resolver(uow.connection), creating=False)
        if parsed.deep_single or parsed.deep_collection:
            raise InvalidRequestError("Deep insert is only allowed when creating a record.")
        values = parsed.values
        context = PluginContext("Update", table.logical_name, "PreValidation", caller.context, record_id=record_id,
                                target=values, pre_image=before, uow=uow, depth=depth)
        self.pipeline.run(context, "PreValidation")
        self.pipeline.run(context, "PreOperation")
        self._check_update_access(uow.connection, access, table, values, before)
        self._check_state(table, values, before)
        self._check_keys(uow.connection, table, {**before, **values}, record_id)
        values["modifiedon"] = utcnow()
        values["modifiedby"] = caller.user_id
        values["versionnumber"] = self._next_version(uow.connection)
        if "ownerid" in values:
            values["owningbusinessunit"] = self._owner_business_unit(uow.connection, caller, values)
        after = uow.update(sql, record_id, {k: v for k, v in values.items() if k in sql.c}, before=before)
        context.post_image = after
        self.pipeline.run(context, "PostOperation")

    def _delete(self, uow: UnitOfWork, caller: Caller, table: Table, record_id: str, *, if_match: str | None) -> None:
        access = Access(caller)
        access.require(table, DELETE)
        sql = self.registry.sql[table.logical_name]
        before = uow.read_for_update(sql, record_id)
        access.require(table, DELETE, before)
        _check_etag(if_match, before.get("versionnumber"))
        context = PluginContext("Delete", table.logical_name, "PreValidation", caller.context, record_id=record_id,
                                pre_image=before, uow=uow)
        self.pipeline.run(context, "PreValidation")
        self.pipeline.run(context, "PreOperation")
        # Relationships default to "remove link": records that point here lose the reference, they are not deleted.
        for relationship in self.registry.relationships:
            if relationship.kind != "OneToMany" or relationship.referenced_table != table.logical_name:
                continue
            child = self.registry.sql.get(relationship.referencing_table)
            if child is None or self.registry.tables[relationship.referencing_table].is_virtual:
                continue
            uow.connection.execute(
                update(child).where(child.c[relationship.referencing_column] == record_id)
                .values({relationship.referencing_column: None})
            )
        uow.delete(sql, record_id)
        self.pipeline.run(context, "PostOperation")

    # --- rules ------------------------------------------------------------------------------------------------

    def _stamp_create(self, uow: UnitOfWork, caller: Caller, table: Table, values: dict[str, Any]) -> None:
        now = utcnow()
        values.update(createdon=now, modifiedon=now, createdby=caller.user_id, modifiedby=caller.user_id,
                      versionnumber=self._next_version(uow.connection))
        if table.ownership == "UserOwned" and values.get("ownerid") is None:
            values["ownerid"] = caller.user_id
            values[type_suffix("ownerid")] = "systemuser"
        values["owningbusinessunit"] = self._owner_business_unit(uow.connection, caller, values)
        values.setdefault("statecode", 0)

    def _owner_business_unit(self, conn: Connection, caller: Caller, values: dict[str, Any]) -> str | None:
        """The owning business unit of a record: its owner's (a user's or a team's ``businessunitid``), the
        caller's when the caller owns it or it has no owner."""
        owner = values.get("ownerid")
        if owner is None or owner == caller.user_id:
            return caller.business_unit_id
        kind = values.get(type_suffix("ownerid")) or "systemuser"
        table = self.registry.tables.get(kind)
        if table is None or table.column("businessunitid") is None:
            return caller.business_unit_id
        sql = self.registry.sql[kind]
        unit = conn.execute(select(sql.c.businessunitid).where(sql.c[table.primary_id] == owner)).scalar()
        return unit or caller.business_unit_id

    # --- security ---------------------------------------------------------------------------------------------

    def _record_owner(self, conn: Connection, table: Table, record_id: str) -> dict[str, Any]:
        sql = self.registry.sql[table.logical_name]
        columns = [sql.c[table.primary_id], sql.c.ownerid, sql.c.owningbusinessunit]
        if type_suffix("ownerid") in sql.c:
            columns.append(sql.c[type_suffix("ownerid")])
        row = conn.execute(select(*columns).where(sql.c[table.primary_id] == record_id)).mappings().first()
        return dict(row) if row else {table.primary_id: record_id}

    def _require_on(self, conn: Connection, access: Access, table: Table, right: str, record_id: str) -> None:
        """``right`` on one stored record: the owner is read only when the caller's depth makes it matter."""
        if access.needs_record(table, right):
            access.require(table, right, self._record_owner(conn, table, record_id))
        else:
            access.require(table, right)

    def _set_lookups(self, table: Table, values: dict[str, Any]) -> list[tuple[Table, str]]:
        """The records this write points lookups at (Append/AppendTo): every lookup set to a value, except the
        owner (Assign covers it) and the system's own columns."""
        targets = []
        for name, value in values.items():
            column = table.column(name)
            if value is None or column is None or not column.is_lookup or column.type == "Owner":
                continue
            if not (column.valid_for_create or column.valid_for_update):
                continue
            kind = values.get(type_suffix(name)) if column.polymorphic else column.targets[0]
            target = self.registry.tables.get(kind or "")
            if target is not None:
                targets.append((target, value))
        return targets

    def _check_appends(self, conn: Connection, access: Access, table: Table, values: dict[str, Any],
                       record: dict[str, Any]) -> None:
        targets = self._set_lookups(table, values)
        if not targets:
            return
        access.require(table, APPEND, record)
        for target, target_id in targets:
            if target.is_virtual:
                access.require(target, APPEND_TO)
            else:
                self._require_on(conn, access, target, APPEND_TO, target_id)

    def _check_create_access(self, conn: Connection, access: Access, table: Table, values: dict[str, Any]) -> None:
        """Create is checked as the caller owning the new record (the depth of Create does not matter); setting
        another owner is an assignment of that record, so it needs Assign too."""
        if access.unrestricted:
            return
        own = {**values, "ownerid": access.caller.user_id, "owningbusinessunit": access.caller.business_unit_id}
        owner = values.get("ownerid")
        if owner is not None and owner != access.caller.user_id and is_user_owned(table):
            access.require(table, ASSIGN, own)
        self._check_appends(conn, access, table, values, own)

    def _check_update_access(self, conn: Connection, access: Access, table: Table, values: dict[str, Any],
                             before: dict[str, Any]) -> None:
        if access.unrestricted:
            return
        if "ownerid" in values and values["ownerid"] != before.get("ownerid") and is_user_owned(table):
            access.require(table, ASSIGN, before)
        changed = {k: v for k, v in values.items() if before.get(k) != v}
        for name in list(changed):
            column = table.column(name)
            if column is not None and column.polymorphic:
                changed[type_suffix(name)] = values.get(type_suffix(name), before.get(type_suffix(name)))
        self._check_appends(conn, access, table, changed, before)

    def _check_state(self, table: Table, values: dict[str, Any], before: dict[str, Any] | None) -> None:
        status = table.column("statuscode")
        if status is None or status.option_set is None or ("statecode" not in values and "statuscode" not in values):
            return
        state = values.get("statecode", before.get("statecode") if before else 0)
        if "statuscode" not in values or values["statuscode"] is None:
            default = next((o.value for o in status.option_set.options if o.state == state), None)
            if "statecode" in values and default is not None:
                values["statuscode"] = default
            return
        option = next((o for o in status.option_set.options if o.value == values["statuscode"]), None)
        if option is not None and option.state is not None and option.state != state:
            raise ValidationError(
                f"{values['statuscode']} is not a valid status code for state code {table.logical_name}State {state}.",
                target="statuscode", code="0x8004431a",
            )

    def _check_keys(self, conn: Connection, table: Table, values: dict[str, Any], record_id: str) -> None:
        sql = self.registry.sql[table.logical_name]
        for key in table.keys:
            if any(values.get(c) is None for c in key.columns):
                continue
            clash = conn.execute(
                select(sql.c[table.primary_id]).where(*[sql.c[c] == values[c] for c in key.columns],
                                                      sql.c[table.primary_id] != record_id)
            ).first()
            if clash:
                raise PreconditionFailedError(
                    "A record with matching key values already exists.", code="0x80040237",
                    target=key.logical_name,
                )

    def _next_version(self, conn: Connection) -> int:
        return self.allocate_versions(conn, 1)

    def allocate_versions(self, conn: Connection, count: int) -> int:
        """Reserve ``count`` consecutive row versions (for rows written in bulk) and return the first."""
        row = conn.execute(
            update(version_sequence).where(version_sequence.c.name == "versionnumber")
            .values(value=version_sequence.c.value + count).returning(version_sequence.c.value)
        ).one()
        return row[0] - count + 1


def _check_etag(if_match: str | None, version: int | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    if f'W/"{version}"' not in [t.strip() for t in if_match.split(",")]:
        raise PreconditionFailedError(
            "The version of the existing record doesn't match the RowVersion property provided.", code="0x80060882"
        )
