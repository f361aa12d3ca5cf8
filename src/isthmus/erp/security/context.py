"""From an authenticated identity to the ``CallContext`` of an ERP call: the mapped ERP user, their default legal
entity, the legal entities they may access and their entity grants."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import select

from isthmus.erp.schema import securityroleentityprivilege, securityuserrole, userinfo
from isthmus.erp.security.grants import EntityGrants
from isthmus.erp.security.roles import permission_from_row
from isthmus.erp.security.users import normalize_object_id
from isthmus.errors import ForbiddenError, ValidationError
from isthmus.storage import CallContext, Database

ADD_USER_HINT = (
    "add one with isthmus.erp.security.ensure_user(uow, '<user id>', name=..., object_id='{oid}', roles=[...]) "
    "or ask an ERP administrator to map this identity to a user"
)
FALLBACK_COMPANY = "usmf"


def _load(database: Database, oid: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    u, ur, p = userinfo.c, securityuserrole.c, securityroleentityprivilege.c
    with database.read() as conn:
        user = conn.execute(select(userinfo).where(u.objectid == oid)).mappings().first()
        if user is None:
            return None, []
        assigned = conn.execute(
            select(ur.securityrole, ur.dataareaid, p.entityname, p.readaccess, p.createaccess, p.updateaccess,
                   p.deleteaccess, p.actions, p.updatefields)
            .select_from(securityuserrole.outerjoin(securityroleentityprivilege, p.securityrole == ur.securityrole))
            .where(ur.userid == user["id"])
        ).mappings().all()
        return dict(user), [dict(r) for r in assigned]


def erp_context(
    database: Database, principal_object_id: str, *, default_company: str | None = None, origin: str = "api"
) -> CallContext:
    """The context of a call made by the identity ``principal_object_id`` (the token's ``oid``).

    * user: the ERP user mapped to that identity (``userinfo.objectid``); ForbiddenError when none is, or when it
      is disabled;
    * company: the user's default legal entity, else ``default_company``, else the first legal entity the user may
      access (a default they may not access is skipped, as finance and operations does at sign-in);
    * companies: the legal entities where the user holds any role — ``None`` when a role is held for all of them;
    * grants: ``EntityGrants``, per entity set the operations allowed per legal entity.
    """
    try:
        oid = normalize_object_id(principal_object_id)
    except ValidationError:
        oid = str(principal_object_id)
    user, assigned = _load(database, oid)
    if user is None:
        raise ForbiddenError(f"No ERP user is mapped to identity {oid}; {ADD_USER_HINT.format(oid=oid)}.")
    if not user["enable"]:
        raise ForbiddenError(
            f"ERP user {user['id']} (identity {oid}) is disabled.",
            next_step="Ask an ERP administrator to enable the user.",
        )
    grants = EntityGrants.build(
        ((r["entityname"], r["dataareaid"], permission_from_row(r)) for r in assigned if r["entityname"] is not None),
        user=user["id"],
    )
    everywhere = any(r["dataareaid"] is None for r in assigned)
    companies = None if everywhere else frozenset(r["dataareaid"].lower() for r in assigned)
    company = _default_company(user["company"], default_company, companies)
    return CallContext(
        user=user["id"], company=company, companies=companies, origin=origin, grants=grants, principal_id=oid
    )


def _default_company(own: str | None, fallback: str | None, companies: frozenset[str] | None) -> str:
    for candidate in (own, fallback):
        if candidate and (companies is None or candidate.lower() in companies):
            return candidate.lower()
    if companies:
        return min(companies)
    return (own or fallback or FALLBACK_COMPANY).lower()


def integration_context(
    database: Database,
    application_object_id: str,
    user_object_id: str,
    *,
    origin: str,
    default_company: str | None = None,
) -> CallContext:
    """The context of an integration (dual-write, virtual entities) acting for a mapped user: the user's own
    context, with grants and legal entities narrowed by what the application's ERP user may do. Both identities
    must be mapped and enabled. The audit trail names the user (and the user's identity)."""
    app = erp_context(database, application_object_id, origin=origin)
    user = erp_context(database, user_object_id, default_company=default_company, origin=origin)
    if user.companies is None:
        companies = app.companies
    elif app.companies is None:
        companies = user.companies
    else:
        companies = user.companies & app.companies
    return CallContext(
        user=user.user,
        company=_default_company(user.company, default_company, companies),
        companies=companies,
        origin=origin,
        grants=user.grants.within(app.grants),
        principal_id=user.principal_id,
    )


class ErpSecurity:
    """``erp_context`` with a short-lived cache per identity, for the HTTP layer: a request costs no security
    queries while the cached context is fresh. Role changes apply within ``ttl`` seconds (or at ``invalidate``)."""

    def __init__(self, database: Database, *, ttl: float = 5.0, default_company: str | None = None) -> None:
        self.database = database
        self.ttl = ttl
        self.default_company = default_company
        self._cache: dict[tuple[str, str], tuple[float, CallContext]] = {}
        self._lock = threading.Lock()

    def context(self, principal_object_id: str, *, origin: str = "api") -> CallContext:
        key = (principal_object_id, origin)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        ctx = erp_context(self.database, principal_object_id, default_company=self.default_company, origin=origin)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now, ctx)
        return ctx

    def invalidate(self, principal_object_id: str | None = None) -> None:
        with self._lock:
            if principal_object_id is None:
                self._cache.clear()
            else:
                for key in [k for k in self._cache if k[0] == principal_object_id]:
                    del self._cache[key]
