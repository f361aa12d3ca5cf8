"""API fixtures beyond the shared ones: a client for the Dataverse Web API over each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from isthmus.config import Settings
from isthmus.system import System
from tests.dataverse.conftest import (  # noqa: F401  (fixtures)
    dataverse_postgres_template,
    dataverse_sqlite_template,
    dataverse_url,
)

ROOT = "/api/data/v9.2"


@pytest.fixture
def dv_system(dataverse_url: str, tmp_path: Path) -> Iterator[System]:  # noqa: F811
    instance = System(Settings(data_dir=tmp_path, dataverse_database_url=dataverse_url, dataverse_request_limit=1_000_000,
                               development_mode=True))
    yield instance
    instance.close()


@pytest.fixture
def dv(dv_system: System) -> Iterator[TestClient]:
    from isthmus.api.app import create_app

    with TestClient(create_app(dv_system), base_url="https://org.isthmus.test") as client:
        client.headers.update({"OData-MaxVersion": "4.0", "OData-Version": "4.0", "Accept": "application/json"})
        yield client
