"""ERP users (``userinfo``) and their role assignments per legal entity (``securityuserrole``).

``ensure_user`` is idempotent: run it at every start-up with the same arguments and nothing is written the second
time. It adds the roles it is given; with ``exclusive=True`` it also removes every other assignment of the user.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from isthmus.erp.schema import securityrole, securityuserrole, userinfo
from isthmus.erp.security import roles as standard
from isthmus.errors import ConflictError, NotFoundError, ValidationError
from isthmus.storage import UnitOfWork

RoleAssignment = tuple[str, str | None]
"""(role identifier, legal entity or ``None`` for all legal entities)."""


def normalize_object_id(object_id: str) -> str:
    try:
        return str(uuid.UUID(str(object_id)))
    except ValueError as exc:
        raise ValidationError(f"{object_id!r} is not an object id (a GUID).", target="objectid") from exc


def _assignments(roles: Iterable[str | RoleAssignment]) -> list[RoleAssignment]:
    out: list[RoleAssignment] = []
    for item in roles:
        role, company = (item, None) if isinstance(item, str) else item
        entry = (role, company.lower() if company else None)
        if entry not in out:
            out.append(entry)
    return out


def ensure_user(
    uow: UnitOfWork,
    user_id: str,
    *,
    name: str,
    object_id: str | None,
    roles: Iterable[str | RoleAssignment] = (),
    default_company: str | None = None,
    email: str | None = None,
    enabled: bool = True,
    exclusive: bool = False,
) -> dict[str, Any]:
    """Create the user or bring it in line with the arguments, and give it ``roles`` — role identifiers (for every
    legal entity) or (role, legal entity) pairs. Returns the stored ``userinfo`` row."""
    if not user_id or len(user_id) > 20:
        raise ValidationError("An ERP user id needs 1 to 20 characters.", target="id")
    oid = normalize_object_id(object_id) if object_id else None
    conn = uow.connection
    u = userinfo.c
    wanted_roles = _assignments(roles)
    known = set(conn.execute(select(securityrole.c.aotname)).scalars())
    unknown = sorted({role for role, _ in wanted_roles} - known)
    if unknown:
        raise ValidationError(
            f"No security role named {', '.join(unknown)}; the roles are {', '.join(sorted(known)) or 'not set up'}.",
            next_step="Run isthmus.erp.security.ensure_standard_roles first." if not known else None,
            target="securityrole",
        )
    if oid is not None:
        holder = conn.execute(select(u.id).where(u.objectid == oid, u.id != user_id)).scalar()
        if holder is not None:
            raise ConflictError(f"Identity {oid} is already mapped to ERP user {holder}.", target="objectid")
    values = {
        "name": name,
        "objectid": oid,
        "company": default_company.lower() if default_company else None,
        "networkalias": email,
        "enable": enabled,
    }
    stored = conn.execute(select(userinfo).where(u.id == user_id)).mappings().first()
    if stored is None:
        row = uow.insert(userinfo, {"id": user_id, **values})
    else:
        row = dict(stored)
        changed = {k: v for k, v in values.items() if row[k] != v}
        if changed:
            row = uow.update(userinfo, row["recid"], changed, before=row)
    _assign(uow, user_id, wanted_roles, exclusive=exclusive)
    return row


def _assign(uow: UnitOfWork, user_id: str, wanted: Sequence[RoleAssignment], *, exclusive: bool) -> None:
    ur = securityuserrole.c
    existing = {
        (r["securityrole"], r["dataareaid"]): r["recid"]
        for r in uow.connection.execute(select(securityuserrole).where(ur.userid == user_id)).mappings()
    }
    for role, company in wanted:
        if (role, company) not in existing:
            uow.insert(securityuserrole, {"userid": user_id, "securityrole": role, "dataareaid": company})
    if exclusive:
        for key, recid in existing.items():
            if key not in wanted:
                uow.delete(securityuserrole, recid)


def assign_role(uow: UnitOfWork, user_id: str, role: str, company: str | None = None) -> None:
    """Give a user one more role, in one legal entity or (``company=None``) in all of them. Idempotent."""
    _require_user(uow, user_id)
    if uow.connection.execute(select(securityrole.c.recid).where(securityrole.c.aotname == role)).first() is None:
        raise ValidationError(f"No security role named {role}.", target="securityrole")
    _assign(uow, user_id, [(role, company.lower() if company else None)], exclusive=False)


def revoke_role(uow: UnitOfWork, user_id: str, role: str, company: str | None = None) -> int:
    """Remove a role assignment (in one legal entity, or the all-companies one); returns how many were removed."""
    ur = securityuserrole.c
    condition = ur.dataareaid.is_(None) if company is None else ur.dataareaid == company.lower()
    rows = uow.connection.execute(
        select(ur.recid).where(ur.userid == user_id, ur.securityrole == role, condition)
    ).scalars().all()
    for recid in rows:
        uow.delete(securityuserrole, recid)
    return len(rows)


def set_enabled(uow: UnitOfWork, user_id: str, enabled: bool) -> None:
    row = _require_user(uow, user_id)
    if row["enable"] != enabled:
        uow.update(userinfo, row["recid"], {"enable": enabled}, before=row)


def _require_user(uow: UnitOfWork, user_id: str) -> dict[str, Any]:
    row = uow.connection.execute(select(userinfo).where(userinfo.c.id == user_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"No ERP user {user_id}.", target="id")
    return dict(row)


# --- the demo people -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    user_id: str
    name: str
    identity: str
    """The demo principal's name in the identity directory (``isthmus.identity.demo.DEMO_IDENTITIES``)."""
    roles: tuple[str | RoleAssignment, ...]
    default_company: str = "usmf"
    email: str | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Isthmus Administrator", "admin@isthmus.local", (standard.SYSTEM_ADMINISTRATOR,),
             email="admin@isthmus.local"),
    DemoUser("csr", "Casey Morgan", "csr@isthmus.local", ((standard.CUSTOMER_SERVICE, "usmf"),),
             email="csr@isthmus.local"),
    DemoUser("sales", "Sam Rivera", "sales@isthmus.local", ((standard.SALES_CLERK, "usmf"),),
             email="sales@isthmus.local"),
    DemoUser("salesmanager", "Robin Hayes", "salesmanager@isthmus.local",
             ((standard.SALES_MANAGER, "usmf"), (standard.SALES_MANAGER, "demf")), email="salesmanager@isthmus.local"),
    DemoUser("accountant", "Alex Chen", "accountant@isthmus.local", (standard.ACCOUNTANT,),
             email="accountant@isthmus.local"),
    DemoUser("dualwrite", "Dual-write", "isthmus-dualwrite", (standard.DUAL_WRITE,)),
)
"""ERP users for the demo people and the dual-write application, by the name of their identity. The customer
service representative and the sales representative work in usmf only, the head of sales in usmf and demf, the
administrator and the accountant in every legal entity."""


def ensure_demo_users(uow: UnitOfWork, object_ids: Mapping[str, str]) -> list[dict[str, Any]]:
    """Create the standard roles and every demo user whose identity name is a key of ``object_ids`` (identity name →
    object id, e.g. ``{p.name: p.object_id for p in directory principals}``). Idempotent."""
    standard.ensure_standard_roles(uow)
    created = []
    for demo in DEMO_USERS:
        object_id = object_ids.get(demo.identity)
        if object_id:
            created.append(
                ensure_user(
                    uow, demo.user_id, name=demo.name, object_id=object_id, roles=demo.roles,
                    default_company=demo.default_company, email=demo.email,
                )
            )
    return created
