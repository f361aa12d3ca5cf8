"""The identity directory (what Entra ID is to Microsoft's clouds): the people and applications that may sign in,
kept in the control-plane database.

A principal is a *user* (signs in with a user name and password) or an *application* (signs in with a client id and
client secret). Names are unique case-insensitively. Secrets are hashed with scrypt (``isthmus.identity.hashing``)
and checked in constant time; they are never stored, returned or logged in clear. Writes go through a unit of work.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from isthmus.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from isthmus.identity import hashing
from isthmus.identity.schema import metadata, principal
from isthmus.storage import CallContext, Database

log = logging.getLogger(__name__)

Kind = Literal["user", "application"]
USER: Kind = "user"
APPLICATION: Kind = "application"
ADMINISTRATOR = "Administrator"
"""The directory role that administers the instance (the admin API requires it)."""

MIN_PASSWORD_CHARS = 8
MIN_CLIENT_SECRET_CHARS = 16
_NAME = re.compile(r"^[^\s\x00-\x1f\x7f]{1,256}$")
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+$")
WRONG_PASSWORD = "The user name or password is incorrect."
WRONG_CLIENT_SECRET = "The client id or client secret is incorrect."

__all__ = ["ADMINISTRATOR", "APPLICATION", "USER", "Directory", "PrincipalRecord", "metadata"]


@dataclass(frozen=True)
class PrincipalRecord:
    """One principal as the directory stores it (without its secret hash)."""

    object_id: str
    kind: Kind
    name: str
    display_name: str
    email: str | None
    directory_roles: tuple[str, ...]
    disabled: bool
    created: dt.datetime
    modified: dt.datetime

    @property
    def is_application(self) -> bool:
        return self.kind == APPLICATION


class Directory:
    """Principals in one control-plane ``Database``. Call ``create_schema()`` once before use."""

    def __init__(self, database: Database, *, kdf: hashing.ScryptParams = hashing.DEFAULT_PARAMS) -> None:
        self.database = database
        self.kdf = kdf
        self.generation = 0
        """Bumped after every write in this process, so caches of principals (``TokenService``) drop stale rows."""

    def create_schema(self) -> None:
        self.database.create_schema(metadata)

    # --- creating ---------------------------------------------------------------------------------------------

    def create_user(self, name: str, display_name: str, email: str | None, password: str, roles: Iterable[str] = (),
                    *, context: CallContext | None = None) -> PrincipalRecord:
        """A person who signs in with ``name`` (for example ``someone@isthmus.local``) and ``password``."""
        return self._create(USER, name, display_name, email, password, roles, context)

    def create_application(self, client_id: str, display_name: str, secret: str, roles: Iterable[str] = (),
                           *, context: CallContext | None = None) -> PrincipalRecord:
        """An application user that signs in with the client credentials grant."""
        return self._create(APPLICATION, client_id, display_name, None, secret, roles, context)

    def _create(self, kind: Kind, name: str, display_name: str, email: str | None, secret: str,
                roles: Iterable[str], context: CallContext | None) -> PrincipalRecord:
        name = _valid_name(kind, name)
        _check_secret(kind, secret)
        if email is not None and email.strip() and not _EMAIL.match(email.strip()):
            raise ValidationError(f"{email!r} is not an email address.", target="email")
        if self.get_by_name(name) is not None:
            raise _duplicate(name)
        values = {
            "object_id": str(uuid.uuid4()),
            "kind": kind,
            "name": name,
            "name_key": name.lower(),
            "display_name": (display_name or "").strip() or name,
            "email": (email or "").strip() or None,
            "secret_hash": hashing.hash_secret(secret, self.kdf),
            "directory_roles": json.dumps(_valid_roles(roles)),
            "disabled": False,
        }
        try:
            with self.database.unit_of_work(context or _SYSTEM) as uow:
                row = uow.insert(principal, values)
        except IntegrityError as exc:  # another process created the same name in between
            raise _duplicate(name) from exc
        self.generation += 1
        log.info("identity: created %s %s (%s)", kind, name, row["object_id"])
        return _record(row)

    # --- reading ----------------------------------------------------------------------------------------------

    def get_by_id(self, object_id: str) -> PrincipalRecord | None:
        with self.database.read() as conn:
            row = conn.execute(select(principal).where(principal.c.object_id == str(object_id))).mappings().first()
        return _record(row) if row else None

    def get_by_name(self, name: str) -> PrincipalRecord | None:
        with self.database.read() as conn:
            row = _row_by_name(conn, name)
        return _record(row) if row else None

    def get(self, name_or_id: str) -> PrincipalRecord:
        """By name (case-insensitive) or object id; ``NotFoundError`` if neither matches."""
        found = self.get_by_name(name_or_id) or self.get_by_id(name_or_id)
        if found is None:
            raise NotFoundError(f"There is no user or application named {name_or_id!r} in the directory.",
                                next_step="List them with `isthmus identity list`.")
        return found

    def list_principals(self, kind: Kind | None = None) -> list[PrincipalRecord]:
        stmt = select(principal).order_by(principal.c.kind.desc(), principal.c.name_key)
        if kind is not None:
            stmt = stmt.where(principal.c.kind == kind)
        with self.database.read() as conn:
            return [_record(row) for row in conn.execute(stmt).mappings()]

    # --- signing in -------------------------------------------------------------------------------------------

    def verify_password(self, name: str, password: str) -> PrincipalRecord:
        """The user ``name`` if ``password`` is theirs; otherwise ``AuthenticationError``. An unknown name and a wrong
        password get the same answer after the same work, so the answer does not reveal which names exist."""
        return self._verify(USER, name, password, WRONG_PASSWORD)

    def verify_client_secret(self, client_id: str, secret: str) -> PrincipalRecord:
        """The application ``client_id`` if ``secret`` is its secret; otherwise ``AuthenticationError``."""
        return self._verify(APPLICATION, client_id, secret, WRONG_CLIENT_SECRET)

    def _verify(self, kind: Kind, name: str, secret: str, wrong: str) -> PrincipalRecord:
        with self.database.read() as conn:
            row = _row_by_name(conn, name or "")
        if row is None or row["kind"] != kind or not row["secret_hash"]:
            hashing.burn_time(self.kdf)
            raise AuthenticationError(wrong)
        if not hashing.verify_secret(secret or "", row["secret_hash"]):
            raise AuthenticationError(wrong)
        record = _record(row)
        if record.disabled:
            raise AuthenticationError(f"The {_noun(kind)} {record.name} is disabled.",
                                      next_step="An administrator must enable it again.")
        if hashing.needs_rehash(row["secret_hash"], self.kdf):
            self._store_hash(record, hashing.hash_secret(secret, self.kdf), _SYSTEM)
        return record

    # --- changing ---------------------------------------------------------------------------------------------

    def set_secret(self, name_or_id: str, secret: str, *, context: CallContext | None = None) -> PrincipalRecord:
        """Replace the password (user) or client secret (application)."""
        record = self.get(name_or_id)
        _check_secret(record.kind, secret)
        updated = self._store_hash(record, hashing.hash_secret(secret, self.kdf), context or _SYSTEM)
        log.info("identity: secret of %s %s replaced", record.kind, record.name)
        return updated

    def set_roles(self, name_or_id: str, roles: Iterable[str], *, context: CallContext | None = None) -> PrincipalRecord:
        record = self.get(name_or_id)
        return self._update(record, {"directory_roles": json.dumps(_valid_roles(roles))}, context)

    def disable(self, name_or_id: str, *, context: CallContext | None = None) -> PrincipalRecord:
        """Refuse sign-ins and every token already issued to the principal."""
        record = self.get(name_or_id)
        log.info("identity: disabling %s %s", record.kind, record.name)
        return self._update(record, {"disabled": True}, context)

    def enable(self, name_or_id: str, *, context: CallContext | None = None) -> PrincipalRecord:
        return self._update(self.get(name_or_id), {"disabled": False}, context)

    def delete(self, name_or_id: str, *, context: CallContext | None = None) -> PrincipalRecord:
        record = self.get(name_or_id)
        with self.database.unit_of_work(context or _SYSTEM) as uow:
            uow.delete(principal, record.object_id)
        self.generation += 1
        log.info("identity: deleted %s %s", record.kind, record.name)
        return record

    def _store_hash(self, record: PrincipalRecord, secret_hash: str, context: CallContext) -> PrincipalRecord:
        return self._update(record, {"secret_hash": secret_hash}, context)

    def _update(self, record: PrincipalRecord, values: dict[str, Any], context: CallContext | None) -> PrincipalRecord:
        with self.database.unit_of_work(context or _SYSTEM) as uow:
            row = uow.update(principal, record.object_id, values)
        self.generation += 1
        return _record(row)


_SYSTEM = CallContext(user="system", origin="identity")


def _row_by_name(conn: Connection, name: str) -> Any:
    key = name.strip().lower()
    return conn.execute(select(principal).where(principal.c.name_key == key)).mappings().first()


def _record(row: Any) -> PrincipalRecord:
    return PrincipalRecord(
        object_id=row["object_id"],
        kind=row["kind"],
        name=row["name"],
        display_name=row["display_name"],
        email=row["email"],
        directory_roles=tuple(json.loads(row["directory_roles"] or "[]")),
        disabled=bool(row["disabled"]),
        created=row["createddatetime"],
        modified=row["modifieddatetime"],
    )


def _noun(kind: str) -> str:
    return "application" if kind == APPLICATION else "user"


def _valid_name(kind: Kind, name: str) -> str:
    label = "client id" if kind == APPLICATION else "user name"
    name = (name or "").strip()
    if not name:
        raise ValidationError(f"A {label} is required.", target="name")
    if not _NAME.match(name):
        raise ValidationError(f"The {label} {name!r} must be at most 256 characters without spaces or control "
                              "characters.", target="name")
    return name


def _check_secret(kind: str, secret: str) -> None:
    """Refuse a secret that is missing, too short or too long; the message never contains the secret."""
    label, minimum = ("client secret", MIN_CLIENT_SECRET_CHARS) if kind == APPLICATION else ("password", MIN_PASSWORD_CHARS)
    if not isinstance(secret, str) or not secret:
        raise ValidationError(f"A {label} is required.", target=label)
    if len(secret) < minimum:
        raise ValidationError(f"The {label} is {len(secret)} characters long; at least {minimum} are required.",
                              target=label)
    if len(secret) > hashing.MAX_SECRET_CHARS:
        raise ValidationError(f"The {label} is longer than {hashing.MAX_SECRET_CHARS} characters.", target=label)


def _valid_roles(roles: Iterable[str]) -> list[str]:
    if isinstance(roles, str):
        roles = (roles,)
    result: list[str] = []
    for role in roles:
        role = (role or "").strip() if isinstance(role, str) else ""
        if not role or len(role) > 100:
            raise ValidationError("A directory role must be a name of 1 to 100 characters.", target="roles")
        if role.lower() not in {r.lower() for r in result}:
            result.append(role)
    return result


def _duplicate(name: str) -> ConflictError:
    return ConflictError(f"The directory already has a user or application named {name!r} (names are compared "
                         "without regard to case).", target="name", next_step="Choose another name.")
