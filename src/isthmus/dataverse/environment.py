"""One Dataverse environment: its database, metadata, plug-in pipeline and record service, and the records every
environment starts with — the organization, the root business unit, the system administrator, the base currencies,
and the SDK message filters that tell clients which tables take CreateMultiple/UpdateMultiple/UpsertMultiple."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from isthmus.dataverse.metadata.model import metadata_id
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.metadata.store import MetadataStore
from isthmus.dataverse import standard_rules
from isthmus.dataverse.pipeline import Pipeline
from isthmus.dataverse.records.service import Caller, RecordService
from isthmus.storage import CallContext, Database

BULK_MESSAGES = ("CreateMultiple", "UpdateMultiple", "UpsertMultiple")
BASE_CURRENCIES = (("USD", "US Dollar", "$"), ("EUR", "Euro", "€"), ("GBP", "Pound Sterling", "£"))


class DataverseEnvironment:
    def __init__(self, database: Database, *, name: str = "default") -> None:
        self.name = name
        self.database = database
        self.store = MetadataStore(database)
        self.pipeline = Pipeline()
        standard_rules.register(self.pipeline)
        self.store.bootstrap()
        self.records = RecordService(database, self.store, self.pipeline)
        self.organization_id = metadata_id("organization", name)
        self.root_business_unit_id = metadata_id("businessunit", name, "root")
        self.admin_user_id = metadata_id("systemuser", name, "admin")
        self._ensure_base_records()

    @property
    def registry(self) -> Registry:
        return self.store.registry

    def admin(self) -> Caller:
        return Caller(self.admin_user_id, self.root_business_unit_id, self.organization_id,
                      CallContext(user=self.admin_user_id, company=""))

    def _ensure_base_records(self) -> None:
        admin = self.admin()
        registry = self.registry
        with self.database.unit_of_work(admin.context):
            self._ensure(admin, "organization", self.organization_id, {"name": f"Isthmus {self.name}", "languagecode": "1033"})
            self._ensure(admin, "businessunit", self.root_business_unit_id, {"name": f"Isthmus {self.name}"})
            self._ensure(admin, "systemuser", self.admin_user_id, {
                "fullname": "System Administrator", "firstname": "System", "lastname": "Administrator",
                "domainname": "admin@isthmus.local", "internalemailaddress": "admin@isthmus.local",
                "businessunitid@odata.bind": f"/businessunits({self.root_business_unit_id})", "accessmode": 1,
            })
            for code, name, symbol in BASE_CURRENCIES:
                self._ensure(admin, "transactioncurrency", metadata_id("currency", self.name, code), {
                    "currencyname": name, "isocurrencycode": code, "currencysymbol": symbol,
                    "exchangerate": 1, "currencyprecision": 2,
                })
            self._ensure_message_filters(admin, registry)

    def _ensure(self, caller: Caller, table: str, record_id: str, body: dict[str, Any]) -> None:
        definition = self.registry.tables[table]
        sql = self.registry.sql[table]
        with self.database.read() as conn:
            exists = conn.execute(select(sql.c[definition.primary_id]).where(sql.c[definition.primary_id] == record_id)).first()
        if not exists:
            self.records.create(caller, definition, {**body, definition.primary_id: record_id})

    def sync_message_filters(self) -> None:
        """Give tables created since start-up their SDK message filters (call after a metadata change commits)."""
        admin = self.admin()
        with self.database.unit_of_work(admin.context):
            self._ensure_message_filters(admin, self.registry)

    def _ensure_message_filters(self, caller: Caller, registry: Registry) -> None:
        for message in BULK_MESSAGES:
            self._ensure(caller, "sdkmessage", metadata_id("sdkmessage", message), {"name": message})
        for table in registry.tables.values():
            if table.is_virtual:
                continue
            for message in BULK_MESSAGES:
                self._ensure(caller, "sdkmessagefilter", metadata_id("sdkmessagefilter", message, table.logical_name), {
                    "name": f"{message} of {table.logical_name}", "primaryobjecttypecode": table.logical_name,
                    "iscustomprocessingstepallowed": True,
                    "sdkmessageid@odata.bind": f"/sdkmessages({metadata_id('sdkmessage', message)})",
                })
