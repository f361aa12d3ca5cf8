"""ERP security: grants arithmetic, standard roles and users (idempotent set-up), erp_context, and the entity service
enforcing entity privileges and legal entity access — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from isthmus.api.erp_odata import SUPPORTED_OPTIONS
from isthmus.erp.entities.catalog import ENTITIES, Catalog
from isthmus.erp.entities.service import EntityService
from isthmus.erp.schema import securityroleentityprivilege, securityuserrole, userinfo
from isthmus.erp.security import (
    ACCOUNTANT,
    CUSTOMER_SERVICE,
    DEMO_USERS,
    DUAL_WRITE,
    SALES_CLERK,
    SALES_MANAGER,
    SYSTEM_ADMINISTRATOR,
    VIRTUAL_ENTITIES,
    EntityGrants,
    ErpSecurity,
    Permission,
    ensure_demo_users,
    ensure_standard_roles,
    ensure_user,
    erp_context,
    integration_context,
    set_enabled,
    standard_roles,
)
from isthmus.erp.security.roles import ADMIN_CATEGORIES, CONTACT_FIELDS
from isthmus.errors import ConflictError, ForbiddenError, ValidationError
from isthmus.odata.query import parse_query_options
from isthmus.storage import CallContext, Database

SETUP = CallContext(user="setup", origin="setup")


def oid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"isthmus-test:{name}"))


USERS: dict[str, tuple[list, str | None]] = {
    "admin": ([SYSTEM_ADMINISTRATOR], "usmf"),
    "csr": ([(CUSTOMER_SERVICE, "usmf")], "usmf"),
    "clerk": ([(SALES_CLERK, "usmf")], "usmf"),
    "manager": ([(SALES_MANAGER, "usmf"), (SALES_MANAGER, "demf")], "usmf"),
    "accountant": ([ACCOUNTANT], "usmf"),
    "mixed": ([(SALES_CLERK, "usmf"), (ACCOUNTANT, "demf")], "usmf"),
    "demfclerk": ([(SALES_CLERK, "demf")], "usmf"),  # default company it may not access
    "norole": ([], "usmf"),
    "dualwrite": ([DUAL_WRITE], None),
    "veapp": ([VIRTUAL_ENTITIES], None),
}


def set_up_security(database: Database) -> None:
    with database.unit_of_work(SETUP) as uow:
        ensure_standard_roles(uow)
        for name, (roles, company) in USERS.items():
            ensure_user(uow, name, name=name.title(), object_id=oid(name), roles=roles, default_company=company)
        ensure_user(uow, "gone", name="Gone", object_id=oid("gone"), roles=[SYSTEM_ADMINISTRATOR], enabled=False)


@pytest.fixture
def secured(erp_db: Database) -> Iterator[Database]:
    set_up_security(erp_db)
    yield erp_db


@pytest.fixture
def service(secured: Database) -> EntityService:
    return EntityService(secured, Catalog())


def as_user(database: Database, name: str) -> CallContext:
    return erp_context(database, oid(name))


def options(**params: str):  # type: ignore[no-untyped-def]
    return parse_query_options(list(params.items()), supported=SUPPORTED_OPTIONS)


# --- grants arithmetic (no database) ------------------------------------------------------------------------------


def test_permissions_union_and_intersection() -> None:
    contact = Permission(read=True, update=True, update_fields=frozenset({"Phone"}))
    full = Permission(read=True, update=True)
    assert contact.union(full).update_fields is None
    assert contact.union(Permission(update=True, update_fields=frozenset({"Email"}))).update_fields == {"Phone", "Email"}
    assert contact.intersect(full).update_fields == {"Phone"}
    assert Permission(actions=frozenset({"*"})).intersect(Permission(actions=frozenset({"Confirm"}))).actions == {"Confirm"}
    assert Permission(actions=frozenset({"A"})).union(Permission(actions=frozenset({"*"}))).actions == {"*"}
    disjoint = Permission(update=True, update_fields=frozenset({"A"})).intersect(Permission(update=True, update_fields=frozenset({"B"})))
    assert not disjoint.update


def test_grants_per_company_and_wildcards() -> None:
    grants = EntityGrants.build([
        ("CustomersV3", "usmf", Permission(read=True)),
        ("CustomersV3", "DEMF", Permission(read=True, update=True)),
        ("*", None, Permission(actions=frozenset({"Confirm"}))),
        ("Currencies", "demf", Permission(read=True)),
    ])
    assert grants.allows("CustomersV3", "read", "usmf") and not grants.allows("CustomersV3", "update", "usmf")
    assert grants.allows("CustomersV3", "update", "demf")
    assert not grants.allows("CustomersV3", "read", "frrt")
    assert grants.companies("CustomersV3", "read") == {"usmf", "demf"}
    assert grants.companies("CustomersV3", "update") == {"demf"}
    assert grants.allows("SalesOrderHeadersV2", "actions", "frrt", action="Confirm")
    assert not grants.allows("SalesOrderHeadersV2", "actions", "frrt", action="PostInvoice")
    assert grants.companies("SalesOrderHeadersV2", "read") == frozenset()
    # an entity that is not per company counts a privilege granted in any company
    assert grants.allows("Currencies", "read", None)
    narrowed = grants.within(EntityGrants.build([("CustomersV3", None, Permission(read=True))]))
    assert narrowed.allows("CustomersV3", "read", "demf") and not narrowed.allows("CustomersV3", "update", "demf")
    assert narrowed.companies("CustomersV3", "read") == {"usmf", "demf"}
    assert not narrowed.allows("Currencies", "read", None)


def test_standard_roles_name_only_real_entities_and_actions() -> None:
    catalog = Catalog()
    for role in standard_roles():
        for entity_set, permission in role.privileges:
            if entity_set == "*":
                continue
            entity = catalog.entity(entity_set)
            assert entity is not None, f"{role.aotname} names unknown entity set {entity_set}"
            for action in permission.actions - {"*"}:
                assert entity.action(action) is not None, f"{role.aotname}: {entity_set} has no action {action}"
            if permission.update_fields is not None:
                assert permission.update_fields <= {f.name for f in entity.fields}
    ve = next(r for r in standard_roles() if r.aotname == VIRTUAL_ENTITIES)
    assert {name for name, _ in ve.privileges} == {e.set_name for e in ENTITIES if e.category not in ADMIN_CATEGORIES}
    assert "DatabaseLogs" not in dict(ve.privileges) and "SystemUsers" not in dict(ve.privileges)


# --- set-up and erp_context ----------------------------------------------------------------------------------------


def _count(database: Database, table) -> int:  # type: ignore[no-untyped-def]
    with database.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_set_up_is_idempotent(secured: Database) -> None:
    counts = [_count(secured, t) for t in (userinfo, securityuserrole, securityroleentityprivilege)]
    with secured.unit_of_work(SETUP) as uow:
        ensure_standard_roles(uow)
        for name, (roles, company) in USERS.items():
            ensure_user(uow, name, name=name.title(), object_id=oid(name), roles=roles, default_company=company)
        assert uow.changes == []  # nothing written the second time
    assert [_count(secured, t) for t in (userinfo, securityuserrole, securityroleentityprivilege)] == counts


def test_ensure_user_validates_and_can_replace_roles(secured: Database) -> None:
    with pytest.raises(ValidationError, match="No security role named Nope"), secured.unit_of_work(SETUP) as uow:
        ensure_user(uow, "x", name="X", object_id=oid("x"), roles=["Nope"])
    with pytest.raises(ValidationError, match="not an object id"), secured.unit_of_work(SETUP) as uow:
        ensure_user(uow, "x", name="X", object_id="not-a-guid")
    with pytest.raises(ConflictError, match="already mapped to ERP user admin"), secured.unit_of_work(SETUP) as uow:
        ensure_user(uow, "x", name="X", object_id=oid("admin"))
    with secured.unit_of_work(SETUP) as uow:
        ensure_user(uow, "clerk", name="Clerk", object_id=oid("clerk"), roles=[(SALES_MANAGER, "usmf")], exclusive=True)
    ctx = as_user(secured, "clerk")
    assert ctx.grants.allows("CustomersV3", "update", "usmf")
    assert not ctx.grants.allows("SalesOrderHeadersV2", "read", "demf")


def test_erp_context_maps_identity_to_user_companies_and_grants(secured: Database) -> None:
    admin = as_user(secured, "admin")
    assert (admin.user, admin.company, admin.companies, admin.principal_id) == ("admin", "usmf", None, oid("admin"))
    manager = as_user(secured, "manager")
    assert manager.companies == {"usmf", "demf"} and manager.grants.user == "manager"
    # a default company the user may not access is skipped, as finance and operations does at sign-in
    assert as_user(secured, "demfclerk").company == "demf"
    dual = erp_context(secured, oid("dualwrite"), default_company="usmf", origin="dualwrite")
    assert dual.company == "usmf" and dual.origin == "dualwrite" and dual.companies is None
    norole = as_user(secured, "norole")
    assert norole.companies == frozenset() and norole.grants.empty


def test_erp_context_refuses_unmapped_and_disabled_identities(secured: Database) -> None:
    stranger = str(uuid.uuid4())
    with pytest.raises(ForbiddenError, match=f"No ERP user is mapped to identity {stranger}; add one with"):
        erp_context(secured, stranger)
    with pytest.raises(ForbiddenError, match="ERP user gone .* is disabled"):
        erp_context(secured, oid("gone"))
    with secured.unit_of_work(SETUP) as uow:
        set_enabled(uow, "csr", False)
    with pytest.raises(ForbiddenError, match="disabled"):
        erp_context(secured, oid("csr"))


def test_cached_contexts(secured: Database) -> None:
    security = ErpSecurity(secured, ttl=60)
    first = security.context(oid("clerk"))
    assert security.context(oid("clerk")) is first
    security.invalidate(oid("clerk"))
    assert security.context(oid("clerk")) is not first


def test_demo_users_follow_the_identity_names(erp_db: Database) -> None:
    identities = {d.identity: str(uuid.uuid4()) for d in DEMO_USERS}
    with erp_db.unit_of_work(SETUP) as uow:
        ensure_demo_users(uow, identities)
    with erp_db.unit_of_work(SETUP) as uow:
        ensure_demo_users(uow, identities)
        assert uow.changes == []
    csr = erp_context(erp_db, identities["csr@isthmus.local"])
    assert csr.user == "csr" and csr.companies == {"usmf"}
    assert erp_context(erp_db, identities["salesmanager@isthmus.local"]).companies == {"usmf", "demf"}
    assert erp_context(erp_db, identities["isthmus-dualwrite"]).grants.allows("CustomersV3", "create", "demf")


# --- enforcement in the entity service ----------------------------------------------------------------------------


def test_without_grants_nothing_changes(service: EntityService) -> None:
    ctx = CallContext()
    assert len(service.query(ctx, service.entity("CustomersV3"), options(), cross_company=True).rows) == 4
    assert service.get(ctx, service.entity("SystemUsers"), [(None, "admin")])["UserID"] == "admin"


def test_read_needs_the_read_privilege(service: EntityService) -> None:
    clerk = as_user(service.database, "clerk")
    assert len(service.query(clerk, service.entity("CustomersV3"), options()).rows) == 3
    with pytest.raises(ForbiddenError) as refused:
        service.query(clerk, service.entity("GeneralJournalAccountEntries"), options())
    assert "You may not read GeneralJournalAccountEntries in company usmf" in refused.value.message
    assert "the Read privilege" in refused.value.message and refused.value.target == "GeneralJournalAccountEntries"
    with pytest.raises(ForbiddenError, match="read SystemUsers"):
        service.get(clerk, service.entity("SystemUsers"), [(None, "admin")])
    with pytest.raises(ForbiddenError, match="read CustomerTransactions"):
        service.count(clerk, service.entity("CustomerTransactions"), options())
    norole = as_user(service.database, "norole")
    with pytest.raises(ForbiddenError, match="no access to company usmf"):
        service.query(norole, service.entity("CustomersV3"), options())


def test_cross_company_covers_only_readable_companies(service: EntityService) -> None:
    customers = service.entity("CustomersV3")

    def companies(name: str, entity_set: str = "CustomersV3") -> set[str]:
        ctx = as_user(service.database, name)
        page = service.query(ctx, service.entity(entity_set), options(), cross_company=True)
        return {r["dataAreaId"] for r in page.rows}

    assert companies("admin") == {"usmf", "demf"}
    assert companies("clerk") == {"usmf"}
    assert companies("manager") == {"usmf", "demf"}
    # mixed: sales clerk in usmf, accountant in demf — customer transactions only where the accountant role holds
    with service.database.unit_of_work(CallContext()) as uow:
        from isthmus.erp import payments

        payments.post_payment(uow, "usmf", "US-002", Decimal(10))
        payments.post_payment(uow, "demf", "DE-001", Decimal(10))
    assert companies("admin", "CustomerTransactions") == {"usmf", "demf"}
    assert companies("mixed", "CustomerTransactions") == {"demf"}
    with pytest.raises(ForbiddenError, match="You may not read CustomerTransactions in any company"):
        service.query(as_user(service.database, "clerk"), service.entity("CustomerTransactions"), options(), cross_company=True)
    assert service.count(as_user(service.database, "clerk"), customers, options(), cross_company=True) == 3


def test_record_in_another_company_is_refused(service: EntityService) -> None:
    clerk = as_user(service.database, "clerk")
    customers = service.entity("CustomersV3")
    key = [("dataAreaId", "demf"), ("CustomerAccount", "DE-001")]
    for call in (
        lambda: service.get(clerk, customers, key),
        lambda: service.update(clerk, customers, key, {"PrimaryContactPhone": "1"}),
        lambda: service.delete(clerk, customers, key),
        lambda: service.invoke(clerk, customers, key, "PostPayment", {"Amount": 1}),
        lambda: service.create(clerk, customers, {"dataAreaId": "demf", "OrganizationName": "X", "CustomerGroupId": "10"}),
    ):
        with pytest.raises(ForbiddenError, match="You have no access to company demf."):
            call()


def test_writes_need_their_privileges(service: EntityService) -> None:
    db = service.database
    customers, orders = service.entity("CustomersV3"), service.entity("SalesOrderHeadersV2")
    key = [("dataAreaId", "usmf"), ("CustomerAccount", "US-001")]
    new_customer = {"OrganizationName": "Northwind", "CustomerGroupId": "10"}
    with pytest.raises(ForbiddenError, match="You may not create CustomersV3 in company usmf"):
        service.create(as_user(db, "clerk"), customers, new_customer)
    assert service.create(as_user(db, "manager"), customers, new_customer)["OrganizationName"] == "Northwind"
    with pytest.raises(ForbiddenError, match="You may not delete CustomersV3"):
        service.delete(as_user(db, "manager"), customers, key)
    order = service.create(as_user(db, "clerk"), orders, {"OrderingCustomerAccountNumber": "US-002"})
    order_key = [("dataAreaId", "usmf"), ("SalesOrderNumber", order["SalesOrderNumber"])]
    service.create(as_user(db, "clerk"), service.entity("SalesOrderLines"),
                   {"SalesOrderNumber": order["SalesOrderNumber"], "ItemNumber": "T0002", "OrderedSalesQuantity": 1})
    assert service.invoke(as_user(db, "clerk"), orders, order_key, "Confirm", None)[1]["SalesOrderProcessingStatus"] == "Confirmed"
    with pytest.raises(ForbiddenError, match="run the action PostInvoice on SalesOrderHeadersV2 in company usmf"):
        service.invoke(as_user(db, "clerk"), orders, order_key, "PostInvoice", None)
    with pytest.raises(ForbiddenError, match="run the action Confirm"):
        service.invoke(as_user(db, "accountant"), orders, order_key, "Confirm", None)
    service.invoke(as_user(db, "clerk"), orders, order_key, "PostPackingSlip", None)
    assert service.invoke(as_user(db, "accountant"), orders, order_key, "PostInvoice", None)[0] == "Edm.String"
    with pytest.raises(ForbiddenError, match="update CustomersV3"):
        service.update(as_user(db, "accountant"), customers, key, {"CreditLimit": 1})


def test_customer_service_updates_contact_data_only(service: EntityService) -> None:
    csr = as_user(service.database, "csr")
    customers = service.entity("CustomersV3")
    key = [("dataAreaId", "usmf"), ("CustomerAccount", "US-001")]
    row = service.update(csr, customers, key, {"PrimaryContactPhone": "+1 555 0199", "DeliveryAddressCity": "La Jolla"})
    assert row["PrimaryContactPhone"] == "+1 555 0199"
    with pytest.raises(ForbiddenError) as refused:
        service.update(csr, customers, key, {"PrimaryContactEmail": "x@y.example", "CreditLimit": 99999})
    assert refused.value.target == "CreditLimit" and "You may not change CreditLimit of CustomersV3" in refused.value.message
    # sending an unchanged value of a restricted field (a full PUT) is fine
    unchanged = {"CreditLimit": float(row["CreditLimit"]), "OrganizationName": row["OrganizationName"]}
    assert service.update(csr, customers, key, {**unchanged, "PrimaryContactURL": "https://x.example"})
    assert "CreditLimit" not in CONTACT_FIELDS
    manager = as_user(service.database, "manager")
    assert service.update(manager, customers, key, {"CreditLimit": 5000})["CreditLimit"] == 5000


def test_expand_needs_read_on_the_target(service: EntityService) -> None:
    csr = as_user(service.database, "csr")
    customers = service.entity("CustomersV3")
    expanded = service.get(csr, customers, [(None, "US-001")], options(**{"$expand": "SalesOrders,CustomerGroup"}))
    assert expanded["CustomerGroup"]["CustomerGroupId"] == "10"
    clerk = as_user(service.database, "clerk")
    with pytest.raises(ForbiddenError, match="read CustomerTransactions"):
        service.query(clerk, customers, options(**{"$expand": "CustomerTransactions"}))


def test_integration_acts_as_the_mapped_user(service: EntityService) -> None:
    db = service.database
    ve_for_clerk = integration_context(db, oid("veapp"), oid("clerk"), origin="virtualentity")
    assert ve_for_clerk.user == "clerk" and ve_for_clerk.principal_id == oid("clerk")
    assert ve_for_clerk.companies == {"usmf"} and ve_for_clerk.origin == "virtualentity"
    assert len(service.query(ve_for_clerk, service.entity("CustomersV3"), options(), cross_company=True).rows) == 3
    with pytest.raises(ForbiddenError, match="update CustomersV3"):
        service.update(ve_for_clerk, service.entity("CustomersV3"), [(None, "US-001")], {"CreditLimit": 1})
    # even the administrator sees no security entity through the virtual entity application
    ve_for_admin = integration_context(db, oid("veapp"), oid("admin"), origin="virtualentity")
    with pytest.raises(ForbiddenError, match="read SystemUsers"):
        service.query(ve_for_admin, service.entity("SystemUsers"), options())
    dw_for_admin = integration_context(db, oid("dualwrite"), oid("admin"), origin="dualwrite")
    with pytest.raises(ForbiddenError, match="run the action PostPayment"):
        service.invoke(dw_for_admin, service.entity("CustomersV3"), [(None, "US-001")], "PostPayment", {"Amount": 1})
