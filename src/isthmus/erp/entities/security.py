"""Security data entities, read-only: SystemUsers, SecurityRoles, SecurityRoleEntityPrivileges and
SecurityUserRoles (which roles a user holds, in which legal entity — ``*`` for all). They are changed through
``isthmus.erp.security`` (``ensure_user``, ``assign_role``...), not through ``/data``."""

from __future__ import annotations

from sqlalchemy import func

from isthmus.erp.entities.fields import noyes, text
from isthmus.erp.entities.model import DataEntity, Navigation
from isthmus.erp.schema import securityrole, securityroleentityprivilege, securityuserrole, userinfo

u = userinfo.c
SYSTEM_USERS = DataEntity(
    name="SystemUser",
    set_name="SystemUsers",
    physical_name="SystemUserEntity",
    label="Users",
    category="Security",
    table=userinfo,
    fields=(
        text("UserID", u.id, key=True),
        text("UserName", u.name),
        text("Email", u.networkalias),
        text("ObjectId", u.objectid),
        text("Company", u.company),
        noyes("Enabled", u.enable),
    ),
    navigation=(Navigation("UserRoles", "SecurityUserRoles", True, (("UserID", "UserId"),)),),
)

r = securityrole.c
SECURITY_ROLES = DataEntity(
    name="SecurityRole",
    set_name="SecurityRoles",
    physical_name="SecurityRoleEntity",
    label="Security roles",
    category="Security",
    table=securityrole,
    fields=(
        text("SecurityRoleIdentifier", r.aotname, key=True),
        text("SecurityRoleName", r.name),
        text("Description", r.description),
    ),
    navigation=(
        Navigation("EntityPrivileges", "SecurityRoleEntityPrivileges", True, (("SecurityRoleIdentifier", "SecurityRoleIdentifier"),)),
    ),
)

p = securityroleentityprivilege.c
SECURITY_ROLE_PRIVILEGES = DataEntity(
    name="SecurityRoleEntityPrivilege",
    set_name="SecurityRoleEntityPrivileges",
    physical_name="SecurityRoleEntityPrivilegeEntity",
    label="Security role privileges on data entities",
    category="Security",
    table=securityroleentityprivilege,
    fields=(
        text("SecurityRoleIdentifier", p.securityrole, key=True),
        text("EntityName", p.entityname, key=True),
        noyes("Read", p.readaccess),
        noyes("Create", p.createaccess),
        noyes("Update", p.updateaccess),
        noyes("Delete", p.deleteaccess),
        text("Actions", p.actions),
        text("UpdateFields", p.updatefields),
    ),
)

ur = securityuserrole.c
SECURITY_USER_ROLES = DataEntity(
    name="SecurityUserRole",
    set_name="SecurityUserRoles",
    physical_name="SecurityUserRoleEntity",
    label="User role assignments",
    category="Security",
    table=securityuserrole,
    fields=(
        text("UserId", ur.userid, key=True),
        text("SecurityRoleIdentifier", ur.securityrole, key=True),
        text("LegalEntity", func.coalesce(ur.dataareaid, "*"), key=True, read_only=True, max_length=8),
    ),
)
