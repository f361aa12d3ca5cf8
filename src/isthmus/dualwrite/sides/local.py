"""The in-process transport: both apps in this process, reached through their services.

A session opens a unit of work on the receiving app's database and keeps it open: writes go through the app's own
services (the ERP's business logic, Dataverse's plug-in pipeline and security), joined to that unit, and the unit
commits only when the sending transaction has committed. Dual-write calls Dataverse as its application user and
the ERP as the integration, both marked ``origin="dualwrite"`` so nothing echoes back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError

from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.records.service import Caller
from isthmus.erp.entities.service import EntityService
from isthmus.errors import NotFoundError, UnavailableError
from isthmus.storage import CallContext, Database, UnitOfWork

DUALWRITE_USER = "dualwrite"


class DataverseReader:
    """Reads of one Dataverse database over a connection: the lookups the converters need."""

    def __init__(self, environment: DataverseEnvironment, connection: Connection) -> None:
        self.environment = environment
        self.connection = connection
        self.registry = environment.registry
        self._ids: dict[tuple[str, tuple], str | None] = {}

    def find_id(self, table: str, criteria: Mapping[str, Any]) -> str | None:
        cache_key = (table, tuple(sorted(criteria.items())))
        if cache_key in self._ids and self._ids[cache_key] is not None:
            return self._ids[cache_key]
        definition = self.registry.tables[table]
        sql = self.registry.sql[table]
        found = self.connection.execute(
            select(sql.c[definition.primary_id]).where(*[sql.c[k] == v for k, v in criteria.items()]).limit(1)
        ).first()
        record_id = found[0] if found else None
        self._ids[cache_key] = record_id
        return record_id

    def column_value(self, table: str, record_id: str, column: str) -> Any:
        definition = self.registry.tables[table]
        sql = self.registry.sql[table]
        return self.connection.execute(
            select(sql.c[column]).where(sql.c[definition.primary_id] == record_id)
        ).scalar()

    def entity_set(self, table: str) -> str:
        return self.registry.tables[table].entity_set_name

    def is_per_company(self, table: str) -> bool:
        definition = self.registry.tables.get(table)
        return definition is not None and definition.column("msdyn_company") is not None

    def company_id(self, code: str) -> str | None:
        return self.find_id("cdm_company", {"cdm_companycode": code})

    def company_code(self, company_id: str) -> str | None:
        return self.column_value("cdm_company", company_id, "cdm_companycode")

    def owner_team(self, company_id: str) -> str | None:
        company = self.read("cdm_company", company_id)
        if company is None or company.get("msdyn_owningbusinessunit") is None:
            return None
        return self.find_id("team", {"businessunitid": company["msdyn_owningbusinessunit"],
                                     "name": company["cdm_companycode"]})

    def read(self, table: str, record_id: str) -> dict[str, Any] | None:
        definition = self.registry.tables[table]
        sql = self.registry.sql[table]
        row = self.connection.execute(select(sql).where(sql.c[definition.primary_id] == record_id)).mappings().first()
        return dict(row) if row else None


class LocalDataverseSession(DataverseReader):
    """One Dataverse unit of work that receives one ERP transaction."""

    def __init__(self, environment: DataverseEnvironment, caller: Caller, uow: UnitOfWork) -> None:
        super().__init__(environment, uow.connection)
        self.caller = caller
        self.uow = uow
        self.database = environment.database

    def create(self, table: str, body: dict[str, Any]) -> str:
        definition = self.registry.tables[table]
        with self.database.joined(self.uow):
            record_id = self.environment.records.create(self.caller, definition, body)
        return record_id

    def update(self, table: str, record_id: str, body: dict[str, Any]) -> None:
        with self.database.joined(self.uow):
            self.environment.records.update(self.caller, self.registry.tables[table], [(None, record_id)], body)

    def delete(self, table: str, record_id: str) -> None:
        with self.database.joined(self.uow):
            self.environment.records.delete(self.caller, self.registry.tables[table], [(None, record_id)])
        self._ids = {k: v for k, v in self._ids.items() if v != record_id}

    def prepare(self) -> None:
        with self.database.joined(self.uow):
            self.uow.prepare()

    def commit(self) -> None:
        self.database.commit(self.uow)

    def rollback(self) -> None:
        self.database.rollback(self.uow)


class LocalDataverse:
    """Dataverse in this process, called as the dual-write application user."""

    def __init__(self, environment: DataverseEnvironment, caller: Caller) -> None:
        self.environment = environment
        self.caller = caller

    @property
    def database(self) -> Database:
        return self.environment.database

    def open(self, transaction_id: str) -> LocalDataverseSession:
        context = replace(self.caller.context, origin="dualwrite", origin_transaction=transaction_id)
        uow = self.database.begin(context)
        return LocalDataverseSession(self.environment, replace(self.caller, context=context), uow)

    @contextmanager
    def reader(self) -> Iterator[DataverseReader]:
        with self.database.read() as conn:
            yield DataverseReader(self.environment, conn)

    def available(self) -> bool:
        return _reachable(self.database)


class LocalErpSession:
    """One ERP unit of work that receives one Dataverse transaction."""

    def __init__(self, service: EntityService, context: CallContext, uow: UnitOfWork) -> None:
        self.service = service
        self.context = context
        self.uow = uow
        self.database = service.database

    def _key(self, entity: str, key: Mapping[str, Any]) -> list[tuple[str, Any]]:
        return list(key.items())

    def read(self, entity: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        definition = self.service.entity(entity)
        with self.database.joined(self.uow):
            try:
                return self.service.get(self._context_for(key), definition, self._key(entity, key))
            except NotFoundError:
                return None

    def create(self, entity: str, body: dict[str, Any]) -> None:
        with self.database.joined(self.uow):
            self.service.create(self._context_for(body), self.service.entity(entity), body)

    def update(self, entity: str, key: Mapping[str, Any], body: dict[str, Any]) -> None:
        with self.database.joined(self.uow):
            self.service.update(self._context_for(key), self.service.entity(entity), self._key(entity, key), body)

    def delete(self, entity: str, key: Mapping[str, Any]) -> None:
        with self.database.joined(self.uow):
            self.service.delete(self._context_for(key), self.service.entity(entity), self._key(entity, key))

    def _context_for(self, values: Mapping[str, Any]) -> CallContext:
        company = values.get("dataAreaId")
        return replace(self.context, company=company) if company else self.context

    def prepare(self) -> None:
        with self.database.joined(self.uow):
            self.uow.prepare()

    def commit(self) -> None:
        self.database.commit(self.uow)

    def rollback(self) -> None:
        self.database.rollback(self.uow)


class LocalErp:
    """The ERP in this process, called as the dual-write integration (every company, no entity grants)."""

    def __init__(self, service: EntityService) -> None:
        self.service = service

    @property
    def database(self) -> Database:
        return self.service.database

    def open(self, transaction_id: str) -> LocalErpSession:
        context = CallContext(user=DUALWRITE_USER, company="", origin="dualwrite", origin_transaction=transaction_id)
        return LocalErpSession(self.service, context, self.database.begin(context))

    def available(self) -> bool:
        return _reachable(self.database)


def _reachable(database: Database) -> bool:
    try:
        with database.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return True
    except OperationalError:
        return False
    except UnavailableError:
        return False
