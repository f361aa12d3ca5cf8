"""Dual-write fixtures: one System whose default ERP and Dataverse environments are linked, on SQLite and on
PostgreSQL (both databases on the same backend), with the out-of-box maps run through initial sync."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from isthmus.config import Settings
from isthmus.system import System
from tests.conftest import BACKENDS, clone_database
from tests.dataverse.conftest import (  # noqa: F401  (fixtures)
    dataverse_postgres_template,
    dataverse_sqlite_template,
)

LINK = "default"
DV = "/api/data/v9.2"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def pair_urls(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> Iterator[tuple[str, str]]:
    """A fresh ERP database (base data) and a fresh Dataverse database, both on ``backend``."""
    erp = clone_database(request, tmp_path, "sqlite_template", "postgres_template", backend, "erp.db")
    dataverse = clone_database(request, tmp_path, "dataverse_sqlite_template", "dataverse_postgres_template", backend,
                               "dataverse.db")
    erp_url = next(erp)
    dataverse_url = next(dataverse)
    yield erp_url, dataverse_url
    for generator in (dataverse, erp):
        next(generator, None)


@pytest.fixture
def linked_system(pair_urls: tuple[str, str], tmp_path: Path) -> Iterator[System]:
    """The default environments linked (automatic enablement), maps not running yet."""
    erp_url, dataverse_url = pair_urls
    system = System(Settings(data_dir=tmp_path, erp_database_url=erp_url, dataverse_database_url=dataverse_url,
                             development_mode=True, dataverse_request_limit=1_000_000))
    system.prepare()
    yield system
    system.close()


@pytest.fixture
def synced(linked_system: System) -> System:
    """Every out-of-box map running, after an initial sync from the ERP."""
    service = linked_system.dualwrite
    service.run(LINK, [m.name for m in service.maps(LINK)], initial_sync=True)
    return linked_system


@pytest.fixture
def api(synced: System) -> Iterator[TestClient]:
    from isthmus.api.app import create_app

    with TestClient(create_app(synced), base_url="https://isthmus.test") as client:
        client.headers.update({"OData-MaxVersion": "4.0", "OData-Version": "4.0", "Accept": "application/json"})
        yield client
