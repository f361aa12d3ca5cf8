"""One Dataverse environment: its database, metadata, plug-in pipeline and record service, and the records every
environment starts with — the organization, the root business unit, the system administrator, the base currencies,
the SDK message filters that tell clients which tables take CreateMultiple/UpdateMultiple/UpsertMultiple, and the
security model's privileges and standard roles (``dataverse.security``).

Who calls: ``admin()`` is the system itself (every privilege at Organization depth); ``caller_for(object_id,
application=…)`` is the systemuser behind a token, with their teams, roles and privileges."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select

from isthmus.dataverse import standard_rules
from isthmus.dataverse.metadata.model import metadata_id
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.metadata.store import MetadataStore
from isthmus.dataverse.pipeline import Pipeline
from isthmus.dataverse.records.service import Caller, RecordService
from isthmus.dataverse.security import principals, roles
from isthmus.dataverse.security.roles import SYSTEM_ADMINISTRATOR, Grants
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
        self.system_administrator_role_id = roles.standard_role_id(name, SYSTEM_ADMINISTRATOR)
        self._ensure_base_records()

    @property
    def registry(self) -> Registry:
        return self.store.registry

    def admin(self) -> Caller:
        """The built-in System Administrator, unrestricted (the system itself: setup, seeding, development)."""
        return Caller(self.admin_user_id, self.root_business_unit_id, self.organization_id,
                      CallContext(user=self.admin_user_id, company=""), role_ids=(self.system_administrator_role_id,))

    # --- security -----------------------------------------------------------------------------------------------

    def caller_for(self, object_id: str, *, application: bool) -> Caller:
        """The caller for a token's principal: the systemuser whose ``azureactivedirectoryobjectid`` (a person) or
        ``applicationid`` (an application) is ``object_id``, with their business unit, teams, roles and privileges.
        Raises ``ForbiddenError`` (403) when the environment has no such user, or the user is disabled."""
        return principals.caller_for(self, object_id, application=application)

    def caller_for_user(self, systemuser_id: str) -> Caller:
        """The caller for a systemuser by id (integrations acting as a mapped user, tests)."""
        return principals.caller_for_user(self, systemuser_id)

    def ensure_systemuser(self, object_id: str, *, application: bool = False, name: str, full_name: str | None = None,
                          email: str | None = None, roles: Sequence[str] = (), business_unit_id: str | None = None,
                          teams: Iterable[str] = ()) -> str:
        """Create (if missing) the systemuser for an identity with at least ``roles`` (names or ids), in
        ``business_unit_id`` (default the root unit); returns its id. See ``security.principals.ensure_systemuser``."""
        return principals.ensure_systemuser(self, object_id, application=application, name=name, full_name=full_name,
                                            email=email, roles=roles, business_unit_id=business_unit_id, teams=teams)

    def ensure_application_user(self, application_id: str, name: str, *, roles: Sequence[str] = (),
                                business_unit_id: str | None = None) -> str:
        """Create (if missing) the application user (a non-interactive systemuser with ``applicationid``) for an
        application identity, with at least ``roles``; returns its systemuser id."""
        return self.ensure_systemuser(application_id, application=True, name=name, roles=roles,
                                      business_unit_id=business_unit_id)

    def ensure_business_unit(self, name: str, *, parent_id: str | None = None) -> str:
        return principals.ensure_business_unit(self, name, parent_id=parent_id)

    def ensure_team(self, name: str, *, business_unit_id: str | None = None, roles: Iterable[str] = (),
                    members: Iterable[str] = ()) -> str:
        return principals.ensure_team(self, name, business_unit_id=business_unit_id, roles=roles, members=members)

    def ensure_role(self, name: str, privileges: Grants, *, business_unit_id: str | None = None) -> str:
        """Create or redefine a security role: ``privileges`` maps table → right → ``Depth``."""
        return roles.ensure_role(self, name, privileges, business_unit_id=business_unit_id)

    def assign_roles(self, principal_id: str, role_names: Iterable[str], *, team: bool = False) -> None:
        principals.assign_roles(self, principal_id, role_names, team=team)

    def add_team_members(self, team_id: str, user_ids: Iterable[str]) -> None:
        principals.add_team_members(self, team_id, user_ids)

    def _ensure_base_records(self) -> None:
        admin = self.admin()
        registry = self.registry
        with self.database.unit_of_work(admin.context) as uow:
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
            roles.ensure_standard_roles(self, uow)

    def _ensure(self, caller: Caller, table: str, record_id: str, body: dict[str, Any]) -> None:
        definition = self.registry.tables[table]
        sql = self.registry.sql[table]
        with self.database.read() as conn:
            exists = conn.execute(select(sql.c[definition.primary_id]).where(sql.c[definition.primary_id] == record_id)).first()
        if not exists:
            self.records.create(caller, definition, {**body, definition.primary_id: record_id})

    def sync_message_filters(self) -> None:
        """Give tables created since start-up their SDK message filters and their privileges (the System
        Administrator role gets each at Organization depth); call after a metadata change commits."""
        admin = self.admin()
        with self.database.unit_of_work(admin.context) as uow:
            self._ensure_message_filters(admin, self.registry)
            roles.ensure_privileges(self, uow)

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
