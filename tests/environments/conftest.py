"""Fixtures: an empty control-plane database on SQLite and PostgreSQL, and an EnvironmentService over it whose
environment databases live under the test's temporary folder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from isthmus.environments.provisioning import Provisioner
from isthmus.environments.service import EnvironmentService
from isthmus.storage import Database
from tests.conftest import BACKENDS, PG_SERVER, _pg_admin


@pytest.fixture(params=BACKENDS)
def control_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'control.db'}"
        return
    name = f"isthmus_cp_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class FlakyProvisioner(Provisioner):
    """Fails the next ``failures`` Dataverse set-ups, then works: a dependency that is down, then back."""

    def __init__(self) -> None:
        self.failures = 0

    def provision_dataverse(self, url: str, name: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the database server did not answer")
        super().provision_dataverse(url, name)


@pytest.fixture
def provisioner() -> FlakyProvisioner:
    return FlakyProvisioner()


@pytest.fixture
def environments(control_url: str, tmp_path: Path, provisioner: FlakyProvisioner) -> Iterator[EnvironmentService]:
    database = Database(control_url, name="control")
    yield EnvironmentService(database, tmp_path, provisioner)
    database.dispose()
