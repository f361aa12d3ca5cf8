"""ERP security: users mapped to identities, standard roles with privileges on data entities, role assignment per
legal entity, and the ``CallContext`` an authenticated ERP call runs with (``erp_context``).

The entity service enforces what ``CallContext.grants`` (an ``EntityGrants``) allows; a context without grants (the
system itself, seeding, development mode) is unrestricted. See ``roles`` for the standard roles.
"""

from isthmus.erp.security.context import ErpSecurity, erp_context, integration_context
from isthmus.erp.security.grants import ALL, EntityGrants, Permission
from isthmus.erp.security.roles import (
    ACCOUNTANT,
    CUSTOMER_SERVICE,
    DUAL_WRITE,
    SALES_CLERK,
    SALES_MANAGER,
    SYSTEM_ADMINISTRATOR,
    VIRTUAL_ENTITIES,
    RoleDefinition,
    ensure_role,
    ensure_standard_roles,
    standard_roles,
)
from isthmus.erp.security.users import (
    DEMO_USERS,
    DemoUser,
    assign_role,
    ensure_demo_users,
    ensure_user,
    revoke_role,
    set_enabled,
)

__all__ = [
    "ACCOUNTANT",
    "ALL",
    "CUSTOMER_SERVICE",
    "DEMO_USERS",
    "DUAL_WRITE",
    "SALES_CLERK",
    "SALES_MANAGER",
    "SYSTEM_ADMINISTRATOR",
    "VIRTUAL_ENTITIES",
    "DemoUser",
    "EntityGrants",
    "ErpSecurity",
    "Permission",
    "RoleDefinition",
    "assign_role",
    "ensure_demo_users",
    "ensure_role",
    "ensure_standard_roles",
    "ensure_user",
    "erp_context",
    "integration_context",
    "revoke_role",
    "set_enabled",
    "standard_roles",
]
