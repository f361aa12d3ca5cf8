"""The resources (APIs) a token can be issued for, and how a token request names one.

Each API is a resource with its own audience; a token is good for exactly one. Clients ask for one the way they ask
Entra ID: ``scope=<resource>/.default`` (OAuth 2.0 v2 style), or ``resource=<resource>`` as older (v1) clients do.
"""

from __future__ import annotations

from isthmus.errors import InvalidRequestError, ValidationError

ERP = "api://isthmus/erp"
DATAVERSE = "api://isthmus/dataverse"
ADMIN = "api://isthmus/admin"
RESOURCES: tuple[str, ...] = (ERP, DATAVERSE, ADMIN)

# Scopes that OpenID-aware clients add to every request; they name no resource and are ignored.
_IGNORED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})


class ScopeError(ValidationError):
    """The request names no resource, an unknown one, or more than one (RFC 6749 ``invalid_scope``)."""

    code = "invalid_scope"


def scope_for(audience: str) -> str:
    return f"{audience}/.default"


def _resource_of(item: str) -> str:
    value = item.strip()
    if value.lower().endswith("/.default"):
        value = value[: -len("/.default")]
    return value.rstrip("/")


def resolve_audience(scope: str | None, resource: str | None = None) -> str:
    """The audience a token request asks for. ``InvalidRequestError`` when it names none, ``ScopeError`` when what
    it names is not one of ``RESOURCES`` or is more than one."""
    known = ", ".join(scope_for(r) for r in RESOURCES)
    wanted: list[str] = []
    if scope and scope.strip():
        wanted += [_resource_of(s) for s in scope.split() if s.lower() not in _IGNORED_SCOPES]
        if not wanted:
            raise ScopeError(f"The scope names no resource; ask for one of {known}.")
    if resource and resource.strip():
        wanted.append(_resource_of(resource))
    if not wanted:
        raise InvalidRequestError(f"The request needs a scope: send scope=<resource>/.default with one of {known}.")
    unknown = [w for w in wanted if w not in RESOURCES]
    if unknown:
        raise ScopeError(f"{unknown[0]} is not a resource of this instance; ask for one of {known}.")
    if len(set(wanted)) > 1:
        raise ScopeError(f"A token is for one resource, but the request names {len(set(wanted))} "
                         f"({', '.join(sorted(set(wanted)))}); ask for one token per resource.")
    return wanted[0]
