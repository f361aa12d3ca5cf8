"""Fixtures for the Dataverse platform: a bootstrapped environment database (standard tables created) on SQLite and
PostgreSQL, copied per test from a per-backend template."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from isthmus.dataverse.metadata.store import MetadataStore
from isthmus.storage import Database
from tests.conftest import BACKENDS, clone_database, postgres_template_from


def _bootstrap(url: str) -> None:
    database = Database(url, name="dataverse-template")
    MetadataStore(database).bootstrap()
    database.dispose()


@pytest.fixture(scope="session")
def dataverse_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dv-template") / "dataverse.db"
    _bootstrap(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def dataverse_postgres_template() -> Iterator[str]:
    yield from postgres_template_from(_bootstrap, "isthmus_dvtpl")


@pytest.fixture(params=BACKENDS)
def dataverse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from clone_database(
        request, tmp_path, "dataverse_sqlite_template", "dataverse_postgres_template", request.param, "dataverse.db"
    )


@pytest.fixture
def dataverse_db(dataverse_url: str) -> Iterator[Database]:
    database = Database(dataverse_url, name="dataverse")
    yield database
    database.dispose()


@pytest.fixture
def metadata_store(dataverse_db: Database) -> MetadataStore:
    store = MetadataStore(dataverse_db)
    store.bootstrap()
    return store
