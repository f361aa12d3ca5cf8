"""One running Isthmus: its settings, the control plane (environments and links), and the services of every
environment — built once and shared by the HTTP app, the CLI and the tests.

The *default* environments (finance and operations ``default`` over ``Settings.erp_url`` and Power Platform
``default`` over ``Settings.dataverse_url``) answer at the root URLs; every environment, default or not, also
answers under ``/environments/<name>/``. Services of other environments are built on first use.
"""

from __future__ import annotations

import threading
from types import MappingProxyType

from sqlalchemy import func, inspect, select

from isthmus import audit
from isthmus.config import Settings
from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.environments.model import EnablementAction
from isthmus.environments.provisioning import Provisioner
from isthmus.environments.service import EnvironmentService
from isthmus.erp.entities.catalog import Catalog
from isthmus.erp.entities.service import EntityService
from isthmus.erp.schema import dataarea
from isthmus.erp.security import ensure_demo_users, ensure_standard_roles
from isthmus.identity import ADMINISTRATOR, DemoIdentity, Directory, Principal, TokenService, ensure_demo_identities
from isthmus.erp.schema import metadata as erp_metadata
from isthmus.errors import NotFoundError
from isthmus.storage import CallContext, Database

DEFAULT = "default"
DEVELOPMENT_PRINCIPAL = Principal(
    object_id="00000000-0000-0000-0000-0000000000de",
    kind="user",
    name="developer",
    display_name="Development mode (no token)",
    email=None,
    directory_roles=(ADMINISTRATOR,),
    audience="",
    claims=MappingProxyType({"development_mode": True}),
)
"""Who a request without a token is in development mode: an administrator everywhere, named as such in audits."""


# Who the demo identities are in the default Dataverse environment: (roles, business unit or None for the root).
DATAVERSE_DEMO_ROLES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "admin@isthmus.local": (("System Administrator",), None),
    "csr@isthmus.local": (("Customer Service Representative",), None),
    "sales@isthmus.local": (("Salesperson",), "Sales"),
    "salesmanager@isthmus.local": (("Sales Manager", "Salesperson"), "Sales"),
    "accountant@isthmus.local": (("Basic User",), None),
    "isthmus-dualwrite": (("System Administrator",), None),
    "isthmus-integration": (("Basic User",), None),
}


def map_demo_people(environment: DataverseEnvironment, object_ids: dict[str, str]) -> None:
    """Give the demo identities their systemusers and roles in a Dataverse environment (idempotent)."""
    units: dict[str, str] = {}
    for name, (roles, unit) in DATAVERSE_DEMO_ROLES.items():
        object_id = object_ids.get(name)
        if object_id is None:
            continue
        unit_id = None
        if unit is not None:
            unit_id = units.get(unit) or units.setdefault(unit, environment.ensure_business_unit(unit))
        application = "@" not in name
        environment.ensure_systemuser(object_id, application=application, name=name, email=None if application else name,
                                      roles=roles, business_unit_id=unit_id)


class System:
    def __init__(self, settings: Settings, *, provisioner: Provisioner | None = None) -> None:
        self.settings = settings
        self.catalog = Catalog()
        self.control_database = Database(settings.control_url, name="control")
        self.environments = EnvironmentService(self.control_database, settings.data_dir, provisioner)
        self.directory = Directory(self.control_database)
        self.directory.create_schema()
        self.tokens = TokenService.from_settings(self.directory, settings)
        self._lock = threading.Lock()
        self._erp: dict[str, EntityService] = {}
        self._dataverse: dict[str, DataverseEnvironment] = {}
        self.erp_database = self._erp_database(DEFAULT, settings.erp_url)
        self.dataverse_database = Database(settings.dataverse_url, name="dataverse")
        from isthmus.dualwrite.service import DualWriteService

        self.dualwrite = DualWriteService(self)

    # --- the default environments (root URLs) ----------------------------------------------------------------

    @property
    def entities(self) -> EntityService:
        return self.erp(DEFAULT)

    @property
    def dataverse(self) -> DataverseEnvironment:
        """The default Dataverse environment, bootstrapped on first use (standard tables and base records)."""
        return self.dataverse_for(DEFAULT)

    def create_schema(self) -> None:
        """Create every ERP table that does not exist yet, and the standard security roles (idempotent)."""
        self.erp_database.create_schema(erp_metadata)
        with self.erp_database.unit_of_work(CallContext(user="system", origin="setup")) as uow:
            ensure_standard_roles(uow)

    def erp_is_empty(self) -> bool:
        if not inspect(self.erp_database.engine).has_table("dataarea"):
            return True
        with self.erp_database.read() as conn:
            return conn.execute(select(func.count()).select_from(dataarea)).scalar_one() == 0

    def prepare(self) -> list[EnablementAction]:
        """Register the default environments and run automatic enablement (at start-up)."""
        self.create_schema()
        self.environments.ensure(DEFAULT, "finance_operations", database_url=self.settings.erp_url, provision=False)
        self.environments.ensure(DEFAULT, "power_platform", database_url=self.settings.dataverse_url, provision=False)
        return self.environments.auto_enable()

    def prepare_demo_identities(self) -> list[DemoIdentity]:
        """Create the demo people and applications (secrets returned only when created now) and give each its
        access in the default environments."""
        identities = ensure_demo_identities(self.directory)
        object_ids = {p.name: p.object_id for p in self.directory.list_principals()}
        with self.erp_database.unit_of_work(CallContext(user="system", origin="setup")) as uow:
            ensure_demo_users(uow, object_ids)
        map_demo_people(self.dataverse, object_ids)
        return identities

    # --- every environment ----------------------------------------------------------------------------------

    def erp(self, name: str) -> EntityService:
        """The /data service of finance and operations environment ``name``."""
        with self._lock:
            service = self._erp.get(name)
            if service is None:
                database = self.erp_database if name == DEFAULT else self._erp_database(
                    name, self.environments.get(name, "finance_operations").database_url)
                service = EntityService(database, self.catalog, max_page_size=self.settings.max_page_size)
                self._erp[name] = service
            return service

    def dataverse_for(self, name: str) -> DataverseEnvironment:
        """The Dataverse of Power Platform environment ``name``."""
        with self._lock:
            environment = self._dataverse.get(name)
            if environment is None:
                if name == DEFAULT:
                    database = self.dataverse_database
                else:
                    definition = self.environments.get(name, "power_platform")
                    if not definition.has_dataverse:
                        raise NotFoundError(f"Power Platform environment {name} has no Dataverse database.",
                                            next_step="Link a finance and operations environment to it to add one.")
                    database = Database(definition.database_url, name=f"dataverse:{name}")
                environment = DataverseEnvironment(database, name=name)
                # Audit from here on: the bootstrap's base records are set-up, not changes anyone made.
                audit.create_schema(database)
                if not audit.installed(database):
                    audit.install(database, audit.DATAVERSE_POLICY)
                self._dataverse[name] = environment
            return environment

    def forget(self, name: str, kind: str) -> None:
        """Drop the cached services of a deleted environment."""
        with self._lock:
            cache = self._erp if kind == "finance_operations" else self._dataverse
            service = cache.pop(name, None)
            if service is not None:
                service.database.dispose()

    @staticmethod
    def _erp_database(name: str, url: str) -> Database:
        """An ERP database with its audit trail: every unit of work records who changed which columns."""
        database = Database(url, name=f"erp:{name}")
        audit.create_schema(database)
        audit.install(database, audit.ERP_POLICY)
        return database

    def close(self) -> None:
        self.dualwrite.close()
        for service in self._erp.values():
            service.database.dispose()
        for environment in self._dataverse.values():
            environment.database.dispose()
        self.erp_database.dispose()
        self.dataverse_database.dispose()
        self.control_database.dispose()
