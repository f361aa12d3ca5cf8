"""Shared fixtures: an ERP database with known base data on SQLite *and* PostgreSQL, a System over it, and an HTTP
client for the API.

Each backend's base data is built once per test session into a template (a SQLite file, a PostgreSQL template
database) and every test gets a fresh copy, so tests never see each other's writes and stay fast.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from isthmus.config import Settings
from isthmus.erp.schema import metadata
from isthmus.storage import CallContext, Database
from isthmus.system import System
from tests.support import build_base_data

PG_SERVER = os.environ.get("ISTHMUS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _pg_admin():  # type: ignore[no-untyped-def]
    return create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")


def _build(url: str) -> None:
    database = Database(url, name="template")
    database.create_schema(metadata)
    with database.unit_of_work(CallContext(user="test")) as uow:
        build_base_data(uow)
    database.dispose()


def clone_database(request: pytest.FixtureRequest, tmp_path: Path, sqlite_fixture: str, postgres_fixture: str,
                   backend: str, filename: str) -> Iterator[str]:
    """A fresh copy of a per-backend template database: the SQLite file copied, or CREATE DATABASE … TEMPLATE."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue(sqlite_fixture)
        target = tmp_path / filename
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    template_name: str = request.getfixturevalue(postgres_fixture)
    name = f"isthmus_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_template_from(build: Callable[[str], None], prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the suite promises PostgreSQL coverage; say how to get it rather than skip quietly
        pytest.fail(
            f"PostgreSQL at {PG_SERVER} is not reachable ({exc.__class__.__name__}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or deselect with -m 'not postgres'."
        )
    build(f"{PG_SERVER}/{name}")
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "erp.db"
    _build(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    yield from postgres_template_from(_build, "isthmus_tpl")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from clone_database(request, tmp_path, "sqlite_template", "postgres_template", request.param, "erp.db")


@pytest.fixture
def erp_db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, name="erp")
    yield database
    database.dispose()


@pytest.fixture
def system(database_url: str, tmp_path: Path) -> Iterator[System]:
    instance = System(Settings(data_dir=tmp_path, erp_database_url=database_url, development_mode=True))
    yield instance
    instance.close()


@pytest.fixture
def client(system: System) -> Iterator[TestClient]:
    from isthmus.api.app import create_app

    with TestClient(create_app(system), base_url="http://isthmus.test") as test_client:
        yield test_client


@pytest.fixture
def ctx() -> CallContext:
    return CallContext(user="tester", company="usmf")
