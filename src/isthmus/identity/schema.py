"""The identity tables of the control-plane database, in their own ``MetaData`` (``Directory.create_schema`` creates
them; nothing else shares this metadata).

* ``identity_principal`` — one row per user or application (Entra ID's users and service principals).
  ``name_key`` is the lower-cased name, unique, so names are unique case-insensitively on SQLite and PostgreSQL
  alike. ``secret_hash`` holds a salted scrypt hash (``isthmus.identity.hashing``), never a secret.
* ``identity_instance`` — per-instance values generated once: the tenant id and, unless configured, the token
  signing key.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, MetaData, String, Table, Text

from isthmus.storage.types import UtcDateTime

metadata = MetaData()

principal = Table(
    "identity_principal",
    metadata,
    Column("object_id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(256), nullable=False),
    Column("name_key", String(256), nullable=False, unique=True),
    Column("display_name", String(256), nullable=False),
    Column("email", String(320), nullable=True),
    Column("secret_hash", String(256), nullable=True),
    Column("directory_roles", Text, nullable=False, default="[]"),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("createddatetime", UtcDateTime, nullable=False),
    Column("createdby", String(256), nullable=False),
    Column("modifieddatetime", UtcDateTime, nullable=False),
    Column("modifiedby", String(256), nullable=False),
)

instance = Table(
    "identity_instance",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("createddatetime", UtcDateTime, nullable=False),
)
