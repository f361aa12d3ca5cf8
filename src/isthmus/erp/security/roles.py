"""The standard ERP security roles, what each may do with the data entities, and their set-up.

Finance and operations builds roles from duties, duties from privileges and privileges from permissions on menu items,
tables and data entities. The ``/data`` API only serves data entities, so Isthmus keeps the last step: a role holds
*entity privileges* (``securityroleentityprivilege``): read, create, update, delete and named bound actions on one
entity set, or on every entity set (``*``). An update privilege can be limited to some fields (finance and operations
does that with field-level permissions). Roles only add up; nothing denies.

A user holds roles per legal entity (``securityuserrole.dataareaid``; NULL = every legal entity), like "Assign
organizations" in finance and operations. The legal entities a user may access are those where they hold any role.

Standard roles (``ensure_standard_roles`` creates them and re-aligns their privileges with this module; roles of your
own are left alone):

* **System administrator** (``-SYSADMIN-``): everything on every entity, every action. Assign it for all legal
  entities.
* **Accountant** (``LedgerAccountant``): reads everything financial — ledger entries, customer transactions, invoices,
  orders, customers, products, inventory transactions, reference data. Posts customer payments
  (``CustomersV3/PostPayment``) and invoices (``SalesOrderHeadersV2/PostInvoice``), runs the year-end close
  (``FiscalYears/CloseYear``), opens and closes periods (update of ``FiscalPeriods``), maintains terms of payment.
  No customer master edits.
* **Sales clerk** (``SalesClerk``): reads customers, customer groups, terms of payment, products, units, invoices.
  Orders and order lines in full — create, update, delete, and the actions Confirm, PostPackingSlip and Cancel; not
  PostInvoice (an accountant's or the sales manager's job).
* **Sales manager** (``SalesManager``): everything the sales clerk may do, plus creating and updating customers with
  every field — the only standard role besides the administrator that changes credit limits and on-hold status —,
  maintaining customer groups, reading customer transactions, and every order action including PostInvoice.
* **Customer service representative** (``CustServiceRepresentative``): reads customers and updates only their contact
  data (``CONTACT_FIELDS``: e-mail, phone, URL, language, delivery and invoice addresses); reads orders, order lines,
  invoices, customer transactions, products and reference data.
* **Dual-write integration** (``DualWriteIntegration``): what the out-of-box dual-write table maps touch — reads legal
  entities, currencies and units; creates, updates and deletes customer groups, terms of payment, customers, released
  products, sales order headers and lines; reads sales invoice headers and lines. No actions.
* **Virtual entity integration** (``VirtualEntityIntegration``, the counterpart of finance and operations'
  ``CDSVirtualEntityApplication``): read, create, update, delete and every action on every business entity (not the
  security and audit entities). The application never acts on its own account: each call runs as the Dataverse user's
  mapped ERP user, and ``integration_context`` narrows the application's grants by that user's, so the ERP's own
  security decides what the user sees. Dual-write calls made for a user are narrowed the same way.

The role identifiers other than ``-SYSADMIN-`` are Isthmus's own, in finance and operations' naming style.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from isthmus.erp.schema import securityrole, securityroleentityprivilege
from isthmus.erp.security.grants import ALL, FULL_PERMISSION, Permission
from isthmus.storage import UnitOfWork

SYSTEM_ADMINISTRATOR = "-SYSADMIN-"
ACCOUNTANT = "LedgerAccountant"
SALES_CLERK = "SalesClerk"
SALES_MANAGER = "SalesManager"
CUSTOMER_SERVICE = "CustServiceRepresentative"
DUAL_WRITE = "DualWriteIntegration"
VIRTUAL_ENTITIES = "VirtualEntityIntegration"

ADMIN_CATEGORIES = frozenset({"Security"})
"""Entity categories only the system administrator sees (users, roles, the database log)."""

CONTACT_FIELDS = frozenset(
    {
        "PrimaryContactEmail",
        "PrimaryContactPhone",
        "PrimaryContactURL",
        "LanguageId",
        *(f"{kind}Address{part}" for kind in ("Delivery", "Invoice")
          for part in ("Street", "City", "State", "ZipCode", "County", "CountryRegionISOCode")),
    }
)
"""The CustomersV3 fields a customer service representative may change."""

READ = Permission(read=True)
CRUD = Permission(read=True, create=True, update=True, delete=True)
REFERENCE = ("LegalEntities", "Currencies", "UnitsOfMeasure", "PaymentTerms", "CustomerGroups")


def _read(*actions: str) -> Permission:
    return Permission(read=True, actions=frozenset(actions))


@dataclass(frozen=True)
class RoleDefinition:
    aotname: str
    name: str
    description: str
    privileges: tuple[tuple[str, Permission], ...]
    """(entity set or ``*``, permission) pairs."""


def _role(aotname: str, name: str, description: str, privileges: dict[str, Permission]) -> RoleDefinition:
    return RoleDefinition(aotname, name, description, tuple(sorted(privileges.items())))


def standard_roles(entity_sets: Iterable[tuple[str, str]] | None = None) -> tuple[RoleDefinition, ...]:
    """The standard roles. ``entity_sets`` are (set name, category) pairs of the catalog — the virtual entity role
    covers every business entity of it; by default the ERP's own catalog."""
    if entity_sets is None:
        from isthmus.erp.entities.catalog import ENTITIES  # the catalog imports the entities, not this module

        entity_sets = [(e.set_name, e.category) for e in ENTITIES]
    business = sorted(name for name, category in entity_sets if category not in ADMIN_CATEGORIES)
    reference = {name: READ for name in REFERENCE}
    clerk = {
        **reference,
        "CustomersV3": READ,
        "ReleasedProductsV2": READ,
        "SalesOrderHeadersV2": Permission(True, True, True, True, frozenset({"Confirm", "PostPackingSlip", "Cancel"})),
        "SalesOrderLines": CRUD,
        "SalesInvoiceHeadersV2": READ,
        "SalesInvoiceLines": READ,
    }
    return (
        _role(SYSTEM_ADMINISTRATOR, "System administrator", "Full access to every entity and action.", {ALL: FULL_PERMISSION}),
        _role(
            ACCOUNTANT,
            "Accountant",
            "Reads financial data, posts payments and invoices, closes periods and fiscal years.",
            {
                **reference,
                "PaymentTerms": CRUD,
                "MainAccounts": READ,
                "CustomersV3": _read("PostPayment"),
                "CustomerTransactions": READ,
                "ReleasedProductsV2": READ,
                "InventoryTransactions": READ,
                "SalesOrderHeadersV2": _read("PostInvoice"),
                "SalesOrderLines": READ,
                "SalesInvoiceHeadersV2": READ,
                "SalesInvoiceLines": READ,
                "GeneralJournalAccountEntries": READ,
                "FiscalPeriods": Permission(read=True, update=True),
                "FiscalYears": _read("CloseYear"),
            },
        ),
        _role(SALES_CLERK, "Sales clerk", "Takes and processes sales orders; reads customers and products.", clerk),
        _role(
            SALES_MANAGER,
            "Sales manager",
            "Everything a sales clerk does, plus customer master data including credit limits, and invoicing orders.",
            {
                **clerk,
                "CustomersV3": Permission(read=True, create=True, update=True),
                "CustomerGroups": CRUD,
                "CustomerTransactions": READ,
                "SalesOrderHeadersV2": FULL_PERMISSION,
            },
        ),
        _role(
            CUSTOMER_SERVICE,
            "Customer service representative",
            "Answers customers: reads customers, orders and invoices, and keeps customer contact data up to date.",
            {
                **reference,
                "CustomersV3": Permission(read=True, update=True, update_fields=CONTACT_FIELDS),
                "CustomerTransactions": READ,
                "ReleasedProductsV2": READ,
                "SalesOrderHeadersV2": READ,
                "SalesOrderLines": READ,
                "SalesInvoiceHeadersV2": READ,
                "SalesInvoiceLines": READ,
            },
        ),
        _role(
            DUAL_WRITE,
            "Dual-write integration",
            "The dual-write application: the entities the out-of-box table maps read and write.",
            {
                "LegalEntities": READ,
                "Currencies": READ,
                "UnitsOfMeasure": READ,
                "CustomerGroups": CRUD,
                "PaymentTerms": CRUD,
                "CustomersV3": CRUD,
                "ReleasedProductsV2": CRUD,
                "SalesOrderHeadersV2": CRUD,
                "SalesOrderLines": CRUD,
                "SalesInvoiceHeadersV2": READ,
                "SalesInvoiceLines": READ,
            },
        ),
        _role(
            VIRTUAL_ENTITIES,
            "Virtual entity integration",
            "The virtual entity application: every business entity, always narrowed by the mapped user's own roles.",
            {name: FULL_PERMISSION for name in business},
        ),
    )


# --- storage -------------------------------------------------------------------------------------------------------


def _privilege_row(entity_set: str, permission: Permission) -> dict:
    return {
        "entityname": entity_set,
        "readaccess": permission.read,
        "createaccess": permission.create,
        "updateaccess": permission.update,
        "deleteaccess": permission.delete,
        "actions": ",".join(sorted(permission.actions)),
        "updatefields": ",".join(sorted(permission.update_fields)) if permission.update_fields is not None else None,
    }


def permission_from_row(row: dict) -> Permission:
    actions = frozenset(a.strip() for a in (row["actions"] or "").split(",") if a.strip())
    fields = row["updatefields"]
    return Permission(
        bool(row["readaccess"]),
        bool(row["createaccess"]),
        bool(row["updateaccess"]),
        bool(row["deleteaccess"]),
        actions,
        frozenset(f.strip() for f in fields.split(",") if f.strip()) if fields is not None else None,
    )


def ensure_role(uow: UnitOfWork, role: RoleDefinition) -> None:
    """Create the role or align it (name, description, privileges) with the definition. Idempotent: a role that
    already matches is not written at all."""
    conn = uow.connection
    r, p = securityrole.c, securityroleentityprivilege.c
    stored = conn.execute(select(securityrole).where(r.aotname == role.aotname)).mappings().first()
    if stored is None:
        uow.insert(securityrole, {"aotname": role.aotname, "name": role.name, "description": role.description})
    elif (stored["name"], stored["description"]) != (role.name, role.description):
        uow.update(securityrole, stored["recid"], {"name": role.name, "description": role.description}, before=dict(stored))
    existing = {
        row["entityname"]: dict(row)
        for row in conn.execute(select(securityroleentityprivilege).where(p.securityrole == role.aotname)).mappings()
    }
    wanted = {name: _privilege_row(name, permission) for name, permission in role.privileges}
    for name, values in wanted.items():
        row = existing.get(name)
        if row is None:
            uow.insert(securityroleentityprivilege, {"securityrole": role.aotname, **values})
        else:
            changed = {k: v for k, v in values.items() if row[k] != v}
            if changed:
                uow.update(securityroleentityprivilege, row["recid"], changed, before=row)
    for name, row in existing.items():
        if name not in wanted:
            uow.delete(securityroleentityprivilege, row["recid"])


def ensure_standard_roles(uow: UnitOfWork) -> None:
    """Create the standard roles, or bring them back to their definitions (after an upgrade). Idempotent."""
    for role in standard_roles():
        ensure_role(uow, role)


def role_names(conn) -> list[str]:  # type: ignore[no-untyped-def]
    return list(conn.execute(select(securityrole.c.aotname).order_by(securityrole.c.aotname)).scalars())
