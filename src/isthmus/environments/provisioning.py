"""Creating and removing the databases behind environments: an ERP database with one company for a finance and
operations environment, a bootstrapped Dataverse database (standard tables, base records — the "platform
packages") for a Power Platform environment with Dataverse."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.erp import setup
from isthmus.erp.schema import dataarea
from isthmus.erp.schema import metadata as erp_metadata
from isthmus.storage import CallContext, Database
from isthmus.storage.types import utcnow


class Provisioner:
    """Makes environment databases exist. Tests substitute a failing one to exercise the failed-link path."""

    def provision_erp(self, url: str) -> None:
        database = Database(url, name="erp")
        try:
            database.create_schema(erp_metadata)
            with database.read() as conn:
                empty = conn.execute(select(func.count()).select_from(dataarea)).scalar_one() == 0
            if empty:
                year = utcnow().year
                with database.unit_of_work(CallContext(user="provisioning", origin="provisioning")) as uow:
                    # Finance and operations environments start with the DAT company.
                    setup.create_company(uow, "dat", "Company DAT", currency_code="USD", country="USA",
                                         sequence_prefix="DA", fiscal_years=range(year - 1, year + 2))
        finally:
            database.dispose()

    def provision_dataverse(self, url: str, name: str) -> None:
        database = Database(url, name=f"dataverse:{name}")
        try:
            DataverseEnvironment(database, name=name)
        finally:
            database.dispose()


def remove_managed_database(url: str) -> None:
    """Remove a SQLite database Isthmus placed under its data directory (with its WAL files and folder)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    path = Path(parsed.database)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if path.parent.exists() and not any(path.parent.iterdir()):
        shutil.rmtree(path.parent, ignore_errors=True)
