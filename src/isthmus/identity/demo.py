"""The demo people and applications ``isthmus up`` creates, so that every API can be tried at once.

``ensure_demo_identities`` creates whichever of them is missing, with a freshly generated password or client secret,
and returns all of them. A secret is returned only by the call that created its principal, so the caller can print
it once; it is stored only as a hash. ``reset_secret`` replaces a lost one (``isthmus identity reset-secret NAME``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from isthmus.errors import ConflictError
from isthmus.identity.directory import ADMINISTRATOR, APPLICATION, USER, Directory, Kind
from isthmus.identity.principal import Principal
from isthmus.identity.resources import ADMIN

log = logging.getLogger(__name__)

ADMIN_USER = "admin@isthmus.local"


@dataclass(frozen=True)
class DemoIdentity:
    """One demo principal. ``secret`` is its password or client secret, set only when this call created it."""

    name: str
    kind: Kind
    display_name: str
    role: str
    """What the principal is for, in words (``Head of sales — …``)."""
    directory_roles: tuple[str, ...] = ()
    secret: str | None = field(default=None, repr=False)

    @property
    def created(self) -> bool:
        return self.secret is not None


DEMO_IDENTITIES: tuple[DemoIdentity, ...] = (
    DemoIdentity(ADMIN_USER, USER, "Isthmus Administrator",
                 "Administrator: manages environments, identities and security (admin API)", (ADMINISTRATOR,)),
    DemoIdentity("csr@isthmus.local", USER, "Casey Morgan",
                 "Customer service representative: handles customers' cases and orders"),
    DemoIdentity("sales@isthmus.local", USER, "Sam Rivera",
                 "Sales representative: works leads, opportunities and quotes"),
    DemoIdentity("salesmanager@isthmus.local", USER, "Robin Hayes",
                 "Head of sales: manages the sales team and sees all of its pipeline"),
    DemoIdentity("accountant@isthmus.local", USER, "Alex Chen",
                 "Accountant: posts invoices and payments and reads the ledger"),
    DemoIdentity("isthmus-dualwrite", APPLICATION, "Dual-write",
                 "Application user of dual-write: keeps ERP and Dataverse records in step"),
    DemoIdentity("isthmus-integration", APPLICATION, "Integration",
                 "Application user for integrations and scripts (client credentials)"),
)


def generate_secret(kind: Kind) -> str:
    """A random password (user) or client secret (application), URL-safe so it needs no quoting."""
    return secrets.token_urlsafe(15 if kind == USER else 30)


def ensure_demo_identities(directory: Directory) -> list[DemoIdentity]:
    """Create the missing demo principals; return all of them, with the secret of those created now."""
    result: list[DemoIdentity] = []
    for demo in DEMO_IDENTITIES:
        if directory.get_by_name(demo.name) is not None:
            result.append(demo)
            continue
        secret = generate_secret(demo.kind)
        try:
            if demo.kind == USER:
                directory.create_user(demo.name, demo.display_name, demo.name, secret, demo.directory_roles)
            else:
                directory.create_application(demo.name, demo.display_name, secret, demo.directory_roles)
        except ConflictError:  # another process created it in the meantime; its secret is theirs to print
            result.append(demo)
            continue
        result.append(DemoIdentity(demo.name, demo.kind, demo.display_name, demo.role, demo.directory_roles, secret))
    return result


def reset_secret(directory: Directory, name: str) -> str:
    """Give the user or application ``name`` a new generated password or client secret and return it (once)."""
    record = directory.get(name)
    secret = generate_secret(record.kind)
    directory.set_secret(record.object_id, secret)
    return secret


def development_principal(directory: Directory, name: str = ADMIN_USER) -> Callable[[], Principal]:
    """For ``Authentication(development_mode=True)``: requests without a token run as ``name`` (the demo
    administrator by default), looked up once on first use."""
    found: list[Principal] = []

    def principal() -> Principal:
        if not found:
            record = directory.get(name)
            found.append(Principal.from_record(record, ADMIN, {"development_mode": True}))
        return found[0]

    return principal
