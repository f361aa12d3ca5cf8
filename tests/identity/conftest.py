"""Identity fixtures: a control-plane database with the identity tables on SQLite (a fresh copy of a template file per
test) and PostgreSQL (one database per session, emptied after each test, which is far faster than a database per
test for these few small tables), a directory over it with cheap scrypt parameters (so tests stay fast; the parameters travel
with each hash, so verification is the same code), and a token service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from isthmus.identity import Directory, TokenService
from isthmus.identity.hashing import ScryptParams
from isthmus.identity.schema import metadata
from isthmus.storage import Database
from tests.conftest import BACKENDS, PG_SERVER, clone_database, postgres_template_from

FAST_KDF = ScryptParams(ln=10, r=8, p=1)
PASSWORD = "correct horse battery"
CLIENT_SECRET = "client-secret-0123456789"


def _build(url: str) -> None:
    database = Database(url, name="control-template")
    Directory(database).create_schema()
    database.dispose()


@pytest.fixture(scope="session")
def control_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("control-template") / "control.db"
    _build(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def control_postgres_database() -> Iterator[str]:
    yield from postgres_template_from(_build, "isthmus_idtpl")


@pytest.fixture(params=BACKENDS)
def control_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield from clone_database(request, tmp_path, "control_sqlite_template", "", "sqlite", "control.db")
        return
    url = f"{PG_SERVER}/{request.getfixturevalue('control_postgres_database')}"
    yield url
    emptied = Database(url, name="control-cleanup")
    with emptied.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    emptied.dispose()


@pytest.fixture
def control_db(control_url: str) -> Iterator[Database]:
    database = Database(control_url, name="control")
    yield database
    database.dispose()


@pytest.fixture
def directory(control_db: Database) -> Directory:
    return Directory(control_db, kdf=FAST_KDF)


@pytest.fixture
def tokens(directory: Directory) -> TokenService:
    return TokenService(directory)


@pytest.fixture
def alice(directory: Directory):  # type: ignore[no-untyped-def]
    return directory.create_user("alice@isthmus.test", "Alice Example", "alice@example.com", PASSWORD, ["Administrator"])


@pytest.fixture
def robot(directory: Directory):  # type: ignore[no-untyped-def]
    return directory.create_application("robot-app", "Robot", CLIENT_SECRET)
