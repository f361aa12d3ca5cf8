"""One running Isthmus: its settings, its databases and the services over them, built once and shared by the HTTP
app, the CLI and the tests."""

from __future__ import annotations

from sqlalchemy import func, inspect, select

from isthmus.config import Settings
from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.erp.entities.catalog import Catalog
from isthmus.erp.entities.service import EntityService
from isthmus.erp.schema import dataarea
from isthmus.erp.schema import metadata as erp_metadata
from isthmus.storage import Database


class System:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.erp_database = Database(settings.erp_url, name="erp")
        self.catalog = Catalog()
        self.entities = EntityService(self.erp_database, self.catalog, max_page_size=settings.max_page_size)
        self.dataverse_database = Database(settings.dataverse_url, name="dataverse")
        self._dataverse: DataverseEnvironment | None = None

    @property
    def dataverse(self) -> DataverseEnvironment:
        """The default Dataverse environment, bootstrapped on first use (standard tables and base records)."""
        if self._dataverse is None:
            self._dataverse = DataverseEnvironment(self.dataverse_database)
        return self._dataverse

    def create_schema(self) -> None:
        """Create every table that does not exist yet (idempotent)."""
        self.erp_database.create_schema(erp_metadata)

    def erp_is_empty(self) -> bool:
        if not inspect(self.erp_database.engine).has_table("dataarea"):
            return True
        with self.erp_database.read() as conn:
            return conn.execute(select(func.count()).select_from(dataarea)).scalar_one() == 0

    def close(self) -> None:
        self.erp_database.dispose()
        self.dataverse_database.dispose()
