"""The authenticated caller of one request, as the APIs see it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from isthmus.identity.directory import ADMINISTRATOR, APPLICATION, PrincipalRecord

SCOPE_KEY = "isthmus.principal"
"""Where ``isthmus.identity.middleware.Authentication`` puts the ``Principal`` in the ASGI scope."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, for which API (``audience``), with the token's claims. ``directory_roles`` are the directory's
    roles at the time of the request (a role taken away counts at once, not when the token expires)."""

    object_id: str
    kind: str
    name: str
    display_name: str
    email: str | None
    directory_roles: tuple[str, ...]
    audience: str
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False, compare=False)

    @classmethod
    def from_record(cls, record: PrincipalRecord, audience: str, claims: Mapping[str, Any] | None = None) -> Principal:
        return cls(
            object_id=record.object_id,
            kind=record.kind,
            name=record.name,
            display_name=record.display_name,
            email=record.email,
            directory_roles=record.directory_roles,
            audience=audience,
            claims=MappingProxyType(dict(claims or {})),
        )

    @property
    def is_application(self) -> bool:
        return self.kind == APPLICATION

    @property
    def is_administrator(self) -> bool:
        return self.has_role(ADMINISTRATOR)

    def has_role(self, role: str) -> bool:
        return role.lower() in {r.lower() for r in self.directory_roles}


def principal_of(scope_or_request: Any) -> Principal | None:
    """The principal the authentication middleware put on a request (a Starlette ``Request`` or an ASGI scope);
    ``None`` on a path the middleware does not protect."""
    scope = getattr(scope_or_request, "scope", scope_or_request)
    found = scope.get(SCOPE_KEY) if isinstance(scope, Mapping) else None
    return found if isinstance(found, Principal) else None
