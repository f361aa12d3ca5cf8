"""Security principals: who a request runs as (``caller_for``), and the business units, teams and users — people and
application users — an environment's administrator (or ``isthmus up``'s demo bootstrap) sets up.

A caller is computed once per request: the systemuser behind the token (by ``azureactivedirectoryobjectid`` for
people, ``applicationid`` for applications), the teams they belong to (``teammembership``), their roles and their
teams' roles (``systemuserroles``, ``teamroles``), the deepest depth per table and right over those roles
(``roleprivileges``), and the business units below theirs (for ParentChildBusinessUnits depth).

Roles are not bound to business units the way Dataverse binds them (it copies every role into every unit and lets a
user hold only their own unit's copies): here a user may hold any role of the environment.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select, update

from isthmus.dataverse.metadata.model import metadata_id
from isthmus.dataverse.records.service import Caller
from isthmus.dataverse.security.model import RIGHT_OF_ACCESS, Depth, SecurityProfile
from isthmus.dataverse.security.roles import associate, role_ids
from isthmus.errors import ForbiddenError, NotFoundError, ValidationError
from isthmus.storage import CallContext

if TYPE_CHECKING:
    from isthmus.dataverse.environment import DataverseEnvironment

NOT_A_MEMBER = "0x80072560"
USER_DISABLED = "0x80040225"


# --- callers ------------------------------------------------------------------------------------------------------


def caller_for(environment: DataverseEnvironment, object_id: str, *, application: bool) -> Caller:
    """The caller for an identity: the systemuser whose ``azureactivedirectoryobjectid`` (a person) or
    ``applicationid`` (an application) is ``object_id``, with their teams, roles and privileges."""
    column = "applicationid" if application else "azureactivedirectoryobjectid"
    systemuser = environment.registry.sql["systemuser"]
    with environment.database.read() as conn:
        found = conn.execute(
            select(systemuser.c.systemuserid).where(systemuser.c[column] == _guid(object_id))
        ).first()
        if found is None:
            raise ForbiddenError(
                f"No user in this environment for identity {object_id}; add a systemuser with {column} = {object_id}.",
                code=NOT_A_MEMBER, target=column,
            )
        return load_caller(environment, conn, found[0], principal_id=str(object_id), application=application)


def caller_for_user(environment: DataverseEnvironment, systemuser_id: str) -> Caller:
    """The caller for a systemuser by its id (a mapped user of an integration, tests)."""
    with environment.database.read() as conn:
        return load_caller(environment, conn, systemuser_id)


def load_caller(environment: DataverseEnvironment, conn: Connection, systemuser_id: str, *,
                principal_id: str | None = None, application: bool | None = None) -> Caller:
    registry = environment.registry
    systemuser = registry.sql["systemuser"]
    user = conn.execute(
        select(systemuser.c.systemuserid, systemuser.c.businessunitid, systemuser.c.isdisabled,
               systemuser.c.applicationid, systemuser.c.fullname)
        .where(systemuser.c.systemuserid == systemuser_id)
    ).mappings().first()
    if user is None:
        raise ForbiddenError(f"No systemuser with id {systemuser_id} in this environment.", code=NOT_A_MEMBER)
    if user["isdisabled"]:
        raise ForbiddenError(
            f"The user {user['fullname'] or systemuser_id} (Id={systemuser_id}) is disabled in this environment.",
            code=USER_DISABLED, next_step="An administrator can enable the systemuser again (isdisabled = false).",
        )
    unit = user["businessunitid"] or environment.root_business_unit_id
    membership, team = registry.sql["teammembership"], registry.sql["team"]
    teams = tuple(sorted(r[0] for r in conn.execute(
        select(membership.c.teamid).join(team, team.c.teamid == membership.c.teamid)
        .where(membership.c.systemuserid == systemuser_id)
    )))
    user_roles, team_roles = registry.sql["systemuserroles"], registry.sql["teamroles"]
    roles = {r[0] for r in conn.execute(select(user_roles.c.roleid).where(user_roles.c.systemuserid == systemuser_id))}
    if teams:
        roles |= {r[0] for r in conn.execute(select(team_roles.c.roleid).where(team_roles.c.teamid.in_(teams)))}
    depths: dict[tuple[str, str], Depth] = {}
    if roles:
        role_privileges, kinds = registry.sql["roleprivileges"], registry.sql["privilegeobjecttypecodes"]
        privilege = registry.sql["privilege"]
        rows = conn.execute(
            select(kinds.c.objecttypecode, privilege.c.accessright, role_privileges.c.privilegedepthmask)
            .select_from(role_privileges
                         .join(privilege, privilege.c.privilegeid == role_privileges.c.privilegeid)
                         .join(kinds, kinds.c.privilegeid == privilege.c.privilegeid))
            .where(role_privileges.c.roleid.in_(sorted(roles)))
        )
        for table, access_right, mask in rows:
            right = RIGHT_OF_ACCESS.get(access_right)
            if right is None:
                continue
            key = (table, right)
            depths[key] = max(depths.get(key, Depth.NONE), Depth.from_mask(mask))
    everywhere = Depth.ORGANIZATION if environment.system_administrator_role_id in roles else Depth.NONE
    profile = SecurityProfile(
        depths=depths, business_units=_units_below(environment, conn, unit), everywhere=everywhere,
        role_count=len(roles), privilege_count=sum(1 for d in depths.values() if d != Depth.NONE),
    )
    return Caller(
        systemuser_id, unit, environment.organization_id,
        CallContext(user=systemuser_id, company="", principal_id=principal_id),
        team_ids=teams, role_ids=tuple(sorted(roles)), security=profile,
        application=bool(user["applicationid"]) if application is None else application,
    )


def _guid(value: object) -> str:
    """A GUID in the form the platform stores (lower case, hyphenated); other text as given."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def _units_below(environment: DataverseEnvironment, conn: Connection, unit: str) -> frozenset[str]:
    """``unit`` and every business unit under it."""
    businessunit = environment.registry.sql["businessunit"]
    children: dict[str | None, list[str]] = defaultdict(list)
    for unit_id, parent in conn.execute(select(businessunit.c.businessunitid, businessunit.c.parentbusinessunitid)):
        children[parent].append(unit_id)
    found, todo = {unit}, [unit]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return frozenset(found)


# --- setting principals up ----------------------------------------------------------------------------------------


def ensure_business_unit(environment: DataverseEnvironment, name: str, *, parent_id: str | None = None) -> str:
    """The business unit ``name`` under ``parent_id`` (default the root unit), created if missing."""
    parent = parent_id or environment.root_business_unit_id
    admin = environment.admin()
    businessunit = environment.registry.sql["businessunit"]
    with environment.database.unit_of_work(admin.context) as uow:
        found = uow.connection.execute(
            select(businessunit.c.businessunitid)
            .where(businessunit.c.name == name, businessunit.c.parentbusinessunitid == parent)
        ).first()
        if found is not None:
            return found[0]
        return environment.records.create(admin, environment.registry.tables["businessunit"], {
            "businessunitid": metadata_id("businessunit", environment.name, parent, name), "name": name,
            "parentbusinessunitid@odata.bind": f"/businessunits({parent})",
        })


def ensure_team(environment: DataverseEnvironment, name: str, *, business_unit_id: str | None = None,
                roles: Iterable[str] = (), members: Iterable[str] = ()) -> str:
    """The owner team ``name`` in ``business_unit_id`` (default the root unit), created if missing, holding at least
    ``roles`` (names or ids) and with at least ``members`` (systemuser ids)."""
    unit = business_unit_id or environment.root_business_unit_id
    admin = environment.admin()
    team = environment.registry.sql["team"]
    with environment.database.unit_of_work(admin.context) as uow:
        found = uow.connection.execute(
            select(team.c.teamid).where(team.c.name == name, team.c.businessunitid == unit)
        ).first()
        team_id = found[0] if found else environment.records.create(admin, environment.registry.tables["team"], {
            "teamid": metadata_id("team", environment.name, unit, name), "name": name, "teamtype": 0,
            "businessunitid@odata.bind": f"/businessunits({unit})",
        })
        associate(environment, uow, "teamroles", "teamid", team_id, "roleid",
                   role_ids(environment, uow.connection, roles, unit))
        for member in members:
            associate(environment, uow, "teammembership", "systemuserid", member, "teamid", [team_id])
    return team_id


def ensure_systemuser(
    environment: DataverseEnvironment,
    object_id: str,
    *,
    application: bool = False,
    name: str,
    full_name: str | None = None,
    email: str | None = None,
    roles: Sequence[str] = (),
    business_unit_id: str | None = None,
    teams: Iterable[str] = (),
) -> str:
    """The systemuser of an identity, created if missing, holding at least ``roles`` (names or ids) and belonging
    to at least ``teams`` (team ids). Returns its id.

    A person (``application=False``) is found by ``azureactivedirectoryobjectid``; a person not yet linked whose
    ``domainname`` is ``name`` (the built-in administrator, ``admin@isthmus.local``) is linked to ``object_id``
    rather than duplicated. An application is found by ``applicationid`` and created as a non-interactive user.
    An existing user keeps their business unit (moving a user between units is a separate decision)."""
    if not object_id:
        raise ValidationError("A systemuser needs the identity's object id.", target="object_id")
    object_id = _guid(object_id)
    column = "applicationid" if application else "azureactivedirectoryobjectid"
    unit = business_unit_id or environment.root_business_unit_id
    admin = environment.admin()
    registry = environment.registry
    systemuser = registry.sql["systemuser"]
    with environment.database.unit_of_work(admin.context) as uow:
        conn = uow.connection
        found = conn.execute(select(systemuser.c.systemuserid).where(systemuser.c[column] == object_id)).first()
        user_id = found[0] if found else None
        if user_id is None and not application:
            unlinked = conn.execute(
                select(systemuser.c.systemuserid)
                .where(systemuser.c.domainname == name, systemuser.c.azureactivedirectoryobjectid.is_(None),
                       systemuser.c.applicationid.is_(None))
            ).first()
            if unlinked is not None:
                user_id = unlinked[0]
                conn.execute(update(systemuser).where(systemuser.c.systemuserid == user_id)
                             .values(azureactivedirectoryobjectid=object_id))
        if user_id is None:
            display = full_name or name
            first, _, last = display.partition(" ")
            body = {
                "systemuserid": metadata_id("systemuser", environment.name, column, object_id),
                "domainname": name, column: object_id,
                "accessmode": 4 if application else 0,
                "businessunitid@odata.bind": f"/businessunits({unit})",
            }
            if application or not last:
                body["fullname"] = display
            else:
                body.update(firstname=first, lastname=last)
            if email:
                body["internalemailaddress"] = email
            user_id = environment.records.create(admin, registry.tables["systemuser"], body)
        associate(environment, uow, "systemuserroles", "systemuserid", user_id, "roleid",
                   role_ids(environment, conn, roles, unit))
        for team_id in teams:
            associate(environment, uow, "teammembership", "systemuserid", user_id, "teamid", [team_id])
    return user_id


def assign_roles(environment: DataverseEnvironment, principal_id: str, roles: Iterable[str], *, team: bool = False) -> None:
    """Give a systemuser (or, with ``team=True``, a team) the roles ``roles`` (names or ids) it lacks."""
    table, column = ("teamroles", "teamid") if team else ("systemuserroles", "systemuserid")
    owner_table = environment.registry.sql["team" if team else "systemuser"]
    with environment.database.unit_of_work(environment.admin().context) as uow:
        row = uow.connection.execute(
            select(owner_table.c.businessunitid).where(owner_table.c[column] == principal_id)
        ).first()
        if row is None:
            raise NotFoundError(f"{'team' if team else 'systemuser'} With Id = {principal_id} Does Not Exist",
                                code="0x80040217")
        associate(environment, uow, table, column, principal_id, "roleid",
                   role_ids(environment, uow.connection, roles, row[0]))


def add_team_members(environment: DataverseEnvironment, team_id: str, user_ids: Iterable[str]) -> None:
    with environment.database.unit_of_work(environment.admin().context) as uow:
        for user_id in user_ids:
            associate(environment, uow, "teammembership", "systemuserid", user_id, "teamid", [team_id])
