"""Values an instance generates once and keeps in its control-plane database: its tenant id (the ``tid`` of every
token) and, unless one is configured, the key that signs tokens.

Keeping them in the database (rather than in a file next to one process) means every process of the instance —
server workers, the CLI — agrees on them, and tokens survive a restart. Two processes racing to create a value both
end up with the one that was stored first.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Callable

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from isthmus.errors import ConfigurationError
from isthmus.identity.schema import instance
from isthmus.storage import Database
from isthmus.storage.types import utcnow

MIN_SIGNING_KEY_BYTES = 32
TENANT_ID = "tenant_id"
SIGNING_KEY = "token_signing_key"


def stored_value(database: Database, name: str, generate: Callable[[], str]) -> str:
    """The value stored under ``name``, generated and stored first if there is none."""
    existing = _read(database, name)
    if existing is not None:
        return existing
    try:
        with database.engine.begin() as conn:
            conn.execute(insert(instance).values(name=name, value=generate(), createddatetime=utcnow()))
    except IntegrityError:
        pass  # another process stored it first; theirs wins
    value = _read(database, name)
    assert value is not None
    return value


def tenant_id(database: Database) -> str:
    return stored_value(database, TENANT_ID, lambda: str(uuid.uuid4()))


def signing_key(database: Database, configured: str | bytes | None = None) -> bytes:
    """The HS256 key: the configured one if given (at least 32 bytes), else 64 random bytes generated once and kept
    in the control-plane database."""
    if configured:
        key = configured.encode("utf-8") if isinstance(configured, str) else bytes(configured)
        if len(key) < MIN_SIGNING_KEY_BYTES:
            raise ConfigurationError(
                f"The token signing key is {len(key)} bytes long; at least {MIN_SIGNING_KEY_BYTES} are required.",
                next_step="Generate one with `python -c \"import secrets; print(secrets.token_urlsafe(48))\"`, or "
                "leave it unset to let Isthmus generate and keep one in the control-plane database.",
            )
        return key
    encoded = stored_value(database, SIGNING_KEY, lambda: base64.b64encode(secrets.token_bytes(64)).decode("ascii"))
    return base64.b64decode(encoded)


def _read(database: Database, name: str) -> str | None:
    with database.engine.connect() as conn:
        return conn.execute(select(instance.c.value).where(instance.c.name == name)).scalar_one_or_none()
