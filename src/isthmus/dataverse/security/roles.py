"""Security roles: the privilege catalogue, the standard roles every environment starts with, and defining roles.

Storage (standard Dataverse tables, ``metadata/standard.py``): one ``privilege`` row per table and access right
(``prvReadAccount``…, deterministic ids) with its table in ``privilegeobjecttypecodes``; a role's privileges are
``roleprivileges`` rows (role, privilege, ``privilegedepthmask``). Roles live in the ``role`` table, one business
unit each (the standard ones in the root unit).

Standard roles (``STANDARD_ROLES``), created once per environment and then the administrator's to change:

* **System Administrator** — every privilege on every table at Organization depth, including tables made later
  (it is recognised by id, as Dataverse's own is, and its rows are kept in step by ``ensure_privileges``).
* **Basic User** — reads the reference tables (organization, business units, users, teams, currencies, units,
  companies, products, customer groups, payment terms, SDK messages) org-wide and may point lookups at them;
  accounts, contacts and emails of their own.
* **Customer Service Representative** — accounts and contacts read/write org-wide (create their own); cases
  create/read/write/assign org-wide; orders read org-wide; their own emails.
* **Salesperson** — accounts and contacts read org-wide, create/write/assign their own; orders and order lines
  create/read/write/delete/assign their own; cases read in their business unit; their own emails.
* **Sales Manager** — accounts, contacts, orders and order lines read org-wide and create/write/delete/append/assign
  in their business unit; cases read org-wide; emails in their business unit.

Column-level (field) security is not implemented: a Salesperson who may write an account may also change its
``creditlimit``. Dataverse would need a field security profile for that; here a plug-in can refuse it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, select

from isthmus.dataverse.metadata.model import Table, metadata_id
from isthmus.dataverse.security.model import (
    ACCESS_RIGHTS,
    APPEND,
    APPEND_TO,
    ASSIGN,
    CREATE,
    DELETE,
    READ,
    RIGHTS,
    WRITE,
    Depth,
    is_user_owned,
    privilege_id,
    privilege_name,
    rights_of,
)
from isthmus.errors import NotFoundError, ValidationError
from isthmus.storage import UnitOfWork
from isthmus.storage.types import utcnow

if TYPE_CHECKING:
    from isthmus.dataverse.environment import DataverseEnvironment

Grants = Mapping[str, Mapping[str, Depth]]
"""table logical name → access right → depth."""

SYSTEM_ADMINISTRATOR = "System Administrator"
BASIC_USER = "Basic User"
CUSTOMER_SERVICE_REPRESENTATIVE = "Customer Service Representative"
SALESPERSON = "Salesperson"
SALES_MANAGER = "Sales Manager"

USER, UNIT, ORG = Depth.USER, Depth.BUSINESS_UNIT, Depth.ORGANIZATION

REFERENCE_TABLES = (
    "organization", "businessunit", "systemuser", "team", "role", "transactioncurrency", "uom", "cdm_company",
    "product", "msdyn_customergroup", "msdyn_paymentterm", "sdkmessage", "sdkmessagefilter",
)


def grants(tables: Iterable[str], rights: Iterable[str], depth: Depth) -> dict[str, dict[str, Depth]]:
    """The same depth for each of ``rights`` on each of ``tables``."""
    rights = tuple(rights)
    return {t: {r: depth for r in rights} for t in tables}


def merge(*parts: Grants) -> dict[str, dict[str, Depth]]:
    """Several grants as one; the deepest depth wins where they overlap."""
    result: dict[str, dict[str, Depth]] = {}
    for part in parts:
        for table, rights in part.items():
            mine = result.setdefault(table, {})
            for right, depth in rights.items():
                mine[right] = max(mine.get(right, Depth.NONE), depth)
    return result


REFERENCE = grants(REFERENCE_TABLES, (READ, APPEND_TO), ORG)
MINE = (CREATE, READ, WRITE, DELETE, APPEND, APPEND_TO, ASSIGN)

STANDARD_ROLES: dict[str, Grants] = {
    SYSTEM_ADMINISTRATOR: {},  # every table at Organization depth: see ensure_privileges and SecurityProfile.everywhere
    BASIC_USER: merge(REFERENCE, grants(("account", "contact", "email"), MINE, USER)),
    CUSTOMER_SERVICE_REPRESENTATIVE: merge(
        REFERENCE,
        grants(("account", "contact"), (READ, WRITE, APPEND, APPEND_TO), ORG),
        grants(("account", "contact"), (CREATE,), USER),
        grants(("incident",), (CREATE, READ, WRITE, APPEND, APPEND_TO, ASSIGN), ORG),
        grants(("salesorder", "salesorderdetail"), (READ, APPEND_TO), ORG),
        grants(("email",), (CREATE, READ, WRITE, DELETE, APPEND, APPEND_TO), USER),
    ),
    SALESPERSON: merge(
        REFERENCE,
        grants(("account", "contact"), (READ, APPEND_TO), ORG),
        grants(("account", "contact"), (CREATE, WRITE, APPEND, ASSIGN), USER),
        grants(("salesorder", "salesorderdetail"), MINE, USER),
        grants(("incident",), (READ,), UNIT),
        grants(("email",), (CREATE, READ, WRITE, APPEND, APPEND_TO), USER),
    ),
    SALES_MANAGER: merge(
        REFERENCE,
        grants(("account", "contact", "salesorder", "salesorderdetail"), (READ, APPEND_TO), ORG),
        grants(("account", "contact", "salesorder", "salesorderdetail"), (CREATE, WRITE, DELETE, APPEND, ASSIGN), UNIT),
        grants(("incident",), (READ,), ORG),
        grants(("email",), (CREATE, READ, WRITE, DELETE, APPEND, APPEND_TO, ASSIGN), UNIT),
    ),
}


def standard_role_id(environment_name: str, role: str) -> str:
    """The id of a standard role: the same on every start of the same environment."""
    return metadata_id("role", environment_name, role)


# --- rows written in bulk -----------------------------------------------------------------------------------------


def insert_rows(environment: DataverseEnvironment, uow: UnitOfWork, table: str, rows: Sequence[Mapping[str, Any]],
                *, track: bool = True) -> None:
    """Insert security rows (privileges, role privileges, memberships) in one statement, stamped like the record
    service stamps a create. ``track=False`` keeps bootstrap rows out of the unit of work's change log."""
    if not rows:
        return
    sql = environment.registry.sql[table]
    first = environment.records.allocate_versions(uow.connection, len(rows))
    now = utcnow()
    user = uow.context.user
    stamped = []
    for offset, row in enumerate(rows):
        values = {"createdon": now, "modifiedon": now, "createdby": user, "modifiedby": user, "statecode": 0,
                  "statuscode": 1, "versionnumber": first + offset,
                  "owningbusinessunit": environment.root_business_unit_id, **row}
        stamped.append({k: v for k, v in values.items() if k in sql.c})
    uow.insert_many(sql, stamped, track=track)


# --- the privilege catalogue --------------------------------------------------------------------------------------


def privilege_rows(table: Table) -> list[dict[str, Any]]:
    owned = is_user_owned(table)
    return [
        {"privilegeid": privilege_id(table.logical_name, right), "name": privilege_name(table, right),
         "accessright": ACCESS_RIGHTS[right], "canbebasic": owned, "canbelocal": owned, "canbedeep": owned,
         "canbeglobal": True}
        for right in rights_of(table)
    ]


def ensure_privileges(environment: DataverseEnvironment, uow: UnitOfWork, *, track: bool = False) -> None:
    """Give every table its privileges, and the System Administrator role each of them at Organization depth
    (run at start and after a metadata change, as Dataverse does for a new table)."""
    conn = uow.connection
    registry = environment.registry
    privilege = registry.sql["privilege"]
    have = {r[0] for r in conn.execute(select(privilege.c.privilegeid))}
    rows: list[dict[str, Any]] = []
    kinds: list[dict[str, Any]] = []
    for table in registry.tables.values():
        for row in privilege_rows(table):
            if row["privilegeid"] not in have:
                rows.append(row)
                kinds.append({"privilegeobjecttypecodeid": metadata_id("privilegeobjecttypecode", row["privilegeid"]),
                              "privilegeid": row["privilegeid"], "objecttypecode": table.logical_name})
    insert_rows(environment, uow, "privilege", rows, track=track)
    insert_rows(environment, uow, "privilegeobjecttypecodes", kinds, track=track)
    admin_role = environment.system_administrator_role_id
    role_privileges = registry.sql["roleprivileges"]
    granted = {r[0] for r in conn.execute(select(role_privileges.c.privilegeid).where(role_privileges.c.roleid == admin_role))}
    wanted = [row["privilegeid"] for t in registry.tables.values() for row in privilege_rows(t)]
    insert_rows(environment, uow, "roleprivileges", [
        {"roleprivilegeid": metadata_id("roleprivilege", admin_role, pid), "roleid": admin_role, "privilegeid": pid,
         "privilegedepthmask": int(Depth.ORGANIZATION)}
        for pid in wanted if pid not in granted
    ], track=track)


def ensure_standard_roles(environment: DataverseEnvironment, uow: UnitOfWork) -> None:
    """Create the standard roles that are missing (with their privileges), give the built-in administrator the
    System Administrator role, and keep the privilege catalogue complete."""
    admin = environment.admin()
    registry = environment.registry
    role = registry.sql["role"]
    ids = {name: standard_role_id(environment.name, name) for name in STANDARD_ROLES}
    existing = {r[0] for r in uow.connection.execute(select(role.c.roleid).where(role.c.roleid.in_(list(ids.values()))))}
    created = []
    for name, role_id in ids.items():
        if role_id in existing:
            continue
        environment.records.create(admin, registry.tables["role"], {
            "roleid": role_id, "name": name,
            "businessunitid@odata.bind": f"/businessunits({environment.root_business_unit_id})",
        })
        created.append(name)
    ensure_privileges(environment, uow)
    for name in created:
        if STANDARD_ROLES[name]:
            _write_privileges(environment, uow, ids[name], STANDARD_ROLES[name], track=False)
    associate(environment, uow, "systemuserroles", "systemuserid", environment.admin_user_id, "roleid",
               [ids[SYSTEM_ADMINISTRATOR]], track=False)


# --- defining roles -----------------------------------------------------------------------------------------------


def role_ids(environment: DataverseEnvironment, conn: Connection, names: Iterable[str],
             business_unit_id: str | None = None) -> list[str]:
    """The ids of roles named ``names`` (case-insensitive): the one in ``business_unit_id`` if there is one, else
    the root business unit's. A GUID is taken as a role id."""
    role = environment.registry.sql["role"]
    rows = conn.execute(select(role.c.roleid, role.c.name, role.c.businessunitid)).all()
    result = []
    for name in names:
        matches = [r for r in rows if r.roleid == name or (r.name or "").lower() == name.lower()]
        if not matches:
            known = ", ".join(sorted({r.name for r in rows if r.name}))
            raise NotFoundError(f"No security role named {name!r} in this environment; its roles are: {known}.",
                                target="roles")
        preferred = [r for r in matches if r.businessunitid == business_unit_id] or \
                    [r for r in matches if r.businessunitid == environment.root_business_unit_id] or matches
        result.append(preferred[0].roleid)
    return result


def ensure_role(environment: DataverseEnvironment, name: str, privileges: Grants, *,
                business_unit_id: str | None = None) -> str:
    """Create the role ``name`` in ``business_unit_id`` (default the root unit) if it is missing, and make its
    privileges exactly ``privileges`` (table → right → depth). Returns the role id."""
    unit = business_unit_id or environment.root_business_unit_id
    if name.lower() == SYSTEM_ADMINISTRATOR.lower():
        raise ValidationError("The System Administrator role holds every privilege; it cannot be redefined.")
    admin = environment.admin()
    registry = environment.registry
    with environment.database.unit_of_work(admin.context) as uow:
        role = registry.sql["role"]
        found = uow.connection.execute(
            select(role.c.roleid).where(func.lower(role.c.name) == name.lower(), role.c.businessunitid == unit)
        ).first()
        role_id = found[0] if found else metadata_id("role", environment.name, unit, name)
        if found is None:
            environment.records.create(admin, registry.tables["role"], {
                "roleid": role_id, "name": name, "businessunitid@odata.bind": f"/businessunits({unit})",
            })
        role_privileges = registry.sql["roleprivileges"]
        uow.connection.execute(delete(role_privileges).where(role_privileges.c.roleid == role_id))
        _write_privileges(environment, uow, role_id, privileges, track=True)
    return role_id


def _write_privileges(environment: DataverseEnvironment, uow: UnitOfWork, role_id: str, privileges: Grants, *,
                      track: bool) -> None:
    registry = environment.registry
    rows = []
    for table_name, rights in privileges.items():
        table = registry.tables.get(table_name)
        if table is None:
            raise NotFoundError(f"No table named {table_name!r} to grant privileges on.", target=table_name)
        for right, depth in rights.items():
            if right not in RIGHTS:
                raise ValidationError(f"{right!r} is not a privilege; use one of {', '.join(RIGHTS)}.", target=right)
            if right not in rights_of(table):
                raise ValidationError(f"{table_name} records have no owner, so there is no {right} privilege on it.",
                                      target=right)
            depth = Depth(depth)
            if depth == Depth.NONE:
                continue
            if not is_user_owned(table):
                depth = Depth.ORGANIZATION  # tables without owners know only None and Organization
            pid = privilege_id(table_name, right)
            rows.append({"roleprivilegeid": metadata_id("roleprivilege", role_id, pid), "roleid": role_id,
                         "privilegeid": pid, "privilegedepthmask": int(depth)})
    insert_rows(environment, uow, "roleprivileges", rows, track=track)


def associate(environment: DataverseEnvironment, uow: UnitOfWork, table: str, left: str, left_id: str, right: str,
               right_ids: Iterable[str], *, track: bool = True) -> None:
    """Add the missing (left, right) pairs to an intersect table."""
    sql = environment.registry.sql[table]
    definition = environment.registry.tables[table]
    have = {r[0] for r in uow.connection.execute(select(sql.c[right]).where(sql.c[left] == left_id))}
    rows = []
    for other in dict.fromkeys(right_ids):
        if other not in have:
            rows.append({definition.primary_id: metadata_id(table, left_id, other), left: left_id, right: other})
    insert_rows(environment, uow, table, rows, track=track)
