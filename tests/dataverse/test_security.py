"""Dataverse security through the record service: every privilege at every depth, allowed and refused, over records
owned by the caller, a colleague in the same business unit, a user in a child unit and a user in another unit; the
Append/AppendTo rule for lookups; Assign; teams; the standard roles; the administrator; application users; and
``caller_for``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.records.reads import PageRequest
from isthmus.dataverse.records.service import Caller
from isthmus.dataverse.records.shape import Annotations
from isthmus.dataverse.security.access import Access
from isthmus.dataverse.security.model import RIGHTS, Depth, privilege_id
from isthmus.dataverse.security.roles import STANDARD_ROLES, grants
from isthmus.errors import ForbiddenError
from isthmus.odata.query import parse_query_options
from isthmus.storage import CallContext, Database

ALL = {"$select", "$filter", "$orderby", "$top", "$expand", "$count"}
DEPTHS = (Depth.NONE, Depth.USER, Depth.BUSINESS_UNIT, Depth.PARENT_CHILD, Depth.ORGANIZATION)
PLACES = ("own", "colleague", "child", "other")
REACH = {
    Depth.NONE: set(),
    Depth.USER: {"own"},
    Depth.BUSINESS_UNIT: {"own", "colleague"},
    Depth.PARENT_CHILD: {"own", "colleague", "child"},
    Depth.ORGANIZATION: set(PLACES),
}


def options(**kw: str):  # type: ignore[no-untyped-def]
    return parse_query_options([(f"${k}", v) for k, v in kw.items()], supported=ALL)


@dataclass
class World:
    """Business units root → Sales → Sales East, and root → Service; one user in each, plus a colleague in Sales."""

    env: DataverseEnvironment
    sales: str
    east: str
    service: str
    colleague: str
    east_user: str
    service_user: str

    def user(self, privileges: dict, *, unit: str | None = None, name: str | None = None) -> Caller:
        """A user in ``unit`` (default Sales) holding one role with exactly ``privileges``."""
        tag = name or uuid.uuid4().hex[:8]
        role = self.env.ensure_role(f"Role {tag}", privileges)
        user_id = self.env.ensure_systemuser(str(uuid.uuid4()), name=f"{tag}@test", full_name=f"User {tag}",
                                             roles=[role], business_unit_id=unit or self.sales)
        return self.env.caller_for_user(user_id)

    def table(self, name: str):  # type: ignore[no-untyped-def]
        return self.env.registry.tables[name]

    def account(self, owner: str, name: str, **values: Any) -> str:
        owner_bind = {"ownerid@odata.bind": f"/systemusers({owner})"}
        return self.env.records.create(self.env.admin(), self.table("account"), {"name": name, **owner_bind, **values})

    def accounts_at(self, caller: Caller) -> dict[str, str]:
        """One account in each place, seen from ``caller`` (a Sales user)."""
        return {
            "own": self.account(caller.user_id, "Own"),
            "colleague": self.account(self.colleague, "Colleague's"),
            "child": self.account(self.east_user, "Sales East's"),
            "other": self.account(self.service_user, "Service's"),
        }

    def names(self, caller: Caller, table: str = "account", **kw: str) -> list[str]:
        page = self.env.records.retrieve_multiple(caller, self.table(table), options(**kw), PageRequest(), Annotations())
        key = self.table(table).primary_name
        return sorted(r[key] for r in page.rows)


@pytest.fixture
def world(dataverse_db: Database) -> World:
    env = DataverseEnvironment(dataverse_db)
    sales = env.ensure_business_unit("Sales")
    east = env.ensure_business_unit("Sales East", parent_id=sales)
    service = env.ensure_business_unit("Service")

    def person(name: str, unit: str) -> str:
        return env.ensure_systemuser(str(uuid.uuid4()), name=f"{name}@test", full_name=name, roles=["Basic User"],
                                     business_unit_id=unit)

    return World(env, sales, east, service, person("Cole League", sales), person("Eve East", east),
                 person("Sam Service", service))


def attempt(env: DataverseEnvironment, action: Callable[[], object]) -> ForbiddenError | None:
    """Run ``action`` and roll it back; the ForbiddenError it raised, or None when it was allowed."""

    class Undo(Exception):
        pass

    try:
        with env.database.unit_of_work(CallContext(user="test", company="")):
            action()
            raise Undo
    except Undo:
        return None
    except ForbiddenError as refused:
        return refused


# --- the matrix ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("right", RIGHTS)
def test_each_privilege_at_each_depth(world: World, right: str) -> None:
    env, account = world.env, world.table("account")
    parent = world.account(world.service_user, "Parent")
    for depth in DEPTHS:
        privileges: dict[str, dict[str, Depth]] = {"account": {right: depth}}
        if right in ("Append", "AppendTo", "Assign"):
            # the other privileges the operation needs, held org-wide, so only `right` at `depth` decides
            privileges["account"].update({"Write": Depth.ORGANIZATION, "Read": Depth.ORGANIZATION})
            if right != "Append":
                privileges["account"]["Append"] = Depth.ORGANIZATION
            if right != "AppendTo":
                privileges["account"]["AppendTo"] = Depth.ORGANIZATION
        caller = world.user(privileges, name=f"{right}-{depth.label}")
        records = world.accounts_at(caller)
        prv = f"prv{right}Account"

        if right == "Create":
            refused = attempt(env, lambda caller=caller: env.records.create(caller, account, {"name": "New"}))
            assert (refused is None) == (depth != Depth.NONE), (depth, refused)
            if refused is not None:
                assert prv in refused.message and "is missing" in refused.message and refused.code == "0x80040220"
            continue

        for place, record_id in records.items():
            act = _operation(world, caller, right, record_id, own=records["own"], parent=parent)
            refused = attempt(env, act)
            allowed = place in REACH[depth]
            assert (refused is None) == allowed, (right, depth.label, place, refused)
            if refused is not None:
                assert refused.code == "0x80040220" and prv in refused.message
                if depth == Depth.NONE:
                    assert "is missing" in refused.message and "OTC=1 for entity 'account'" in refused.message
                else:
                    assert f"does not have {right} access on the account record (Id={record_id})" in refused.message
                    assert depth.label in refused.message


def _operation(world: World, caller: Caller, right: str, record_id: str, *, own: str, parent: str) -> Callable[[], object]:
    """The operation that needs ``right`` on ``record_id`` (for AppendTo: on the record a lookup is set to)."""
    env, account, key = world.env, world.table("account"), ((None, record_id),)
    if right == "Read":
        return lambda: env.records.retrieve(caller, account, key, options(), Annotations())
    if right == "Write":
        return lambda: env.records.update(caller, account, key, {"name": "Changed"})
    if right == "Delete":
        return lambda: env.records.delete(caller, account, key)
    if right == "Append":  # point this record's lookup at an account
        return lambda: env.records.update(caller, account, key, {"parentaccountid@odata.bind": f"/accounts({parent})"})
    if right == "AppendTo":  # point the caller's own record at this one
        return lambda: env.records.update(caller, account, ((None, own),),
                                          {"parentaccountid@odata.bind": f"/accounts({record_id})"})
    # Assign: give this record to someone else
    return lambda: env.records.update(caller, account, key, {"ownerid@odata.bind": f"/systemusers({env.admin_user_id})"})


def test_refusals_write_nothing(world: World) -> None:
    caller = world.user({"account": {"Read": Depth.ORGANIZATION, "Write": Depth.USER}})
    other = world.account(world.service_user, "Untouched")
    with pytest.raises(ForbiddenError, match="does not have Write access"):
        world.env.records.update(caller, world.table("account"), ((None, other),), {"name": "Changed"})
    row = world.env.records.retrieve(world.env.admin(), world.table("account"), ((None, other),), options(), Annotations())
    assert row["name"] == "Untouched"


def test_read_of_a_missing_record_is_404_and_without_privilege_403(world: World) -> None:
    from isthmus.errors import NotFoundError

    reader = world.user({"account": {"Read": Depth.USER}})
    missing = ((None, str(uuid.uuid4())),)
    with pytest.raises(NotFoundError):
        world.env.records.retrieve(reader, world.table("account"), missing, options(), Annotations())
    nothing = world.user({"contact": {"Read": Depth.USER}})
    with pytest.raises(ForbiddenError, match="missing prvReadAccount"):
        world.env.records.retrieve(nothing, world.table("account"), missing, options(), Annotations())


# --- append / append to -------------------------------------------------------------------------------------------


def test_lookups_need_append_on_the_record_and_append_to_on_the_target(world: World) -> None:
    env = world.env
    contact = world.table("contact")
    base = {"contact": {"Create": Depth.USER, "Read": Depth.USER}, "account": {"Read": Depth.ORGANIZATION}}
    mine = world.user({**base, "contact": {**base["contact"], "Append": Depth.USER},
                       "account": {"Read": Depth.ORGANIZATION, "AppendTo": Depth.USER}})
    own_account = world.account(mine.user_id, "Mine")
    far_account = world.account(world.service_user, "Far")

    # Append on contact and AppendTo on an account the caller owns: allowed
    created = env.records.create(mine, contact, {"lastname": "Lee", "parentcustomerid_account@odata.bind": f"/accounts({own_account})"})
    assert created
    # AppendTo at user depth does not reach an account in another business unit
    with pytest.raises(ForbiddenError) as refused:
        env.records.create(mine, contact, {"lastname": "Kim", "parentcustomerid_account@odata.bind": f"/accounts({far_account})"})
    assert "does not have AppendTo access on the account record" in refused.value.message
    assert "prvAppendToAccount" in refused.value.message

    # without Append on contact: refused, naming prvAppendContact; without a lookup: allowed
    no_append = world.user({**base, "account": {"Read": Depth.ORGANIZATION, "AppendTo": Depth.ORGANIZATION}})
    with pytest.raises(ForbiddenError, match="missing prvAppendContact privilege"):
        env.records.create(no_append, contact, {"lastname": "Roe", "parentcustomerid_account@odata.bind": f"/accounts({own_account})"})
    assert env.records.create(no_append, contact, {"lastname": "Roe"})

    # without AppendTo on account at all
    no_append_to = world.user({**base, "contact": {**base["contact"], "Append": Depth.USER}})
    with pytest.raises(ForbiddenError, match="missing prvAppendToAccount privilege"):
        env.records.create(no_append_to, contact, {"lastname": "Poe", "parentcustomerid_account@odata.bind": f"/accounts({own_account})"})


def test_deep_insert_is_checked_level_by_level(world: World) -> None:
    env = world.env
    privileges = {"account": {"Create": Depth.USER, "Read": Depth.USER, "Append": Depth.USER, "AppendTo": Depth.USER},
                  "contact": {"Create": Depth.USER, "Read": Depth.USER}}
    caller = world.user(privileges)
    body = {"name": "Parent", "account_contact_parentcustomerid": [{"lastname": "Child"}]}
    with pytest.raises(ForbiddenError, match="missing prvAppendContact"):  # the child points at the new account
        env.records.create(caller, world.table("account"), body)
    privileges["contact"]["Append"] = Depth.USER
    allowed = world.user(privileges)
    account_id = env.records.create(allowed, world.table("account"), body)
    assert world.names(allowed, "contact") == ["Child"] and account_id


# --- assign -------------------------------------------------------------------------------------------------------


def test_create_for_someone_else_needs_assign_and_takes_their_business_unit(world: World) -> None:
    env, account = world.env, world.table("account")
    creator = world.user({"account": {"Create": Depth.USER, "Read": Depth.USER}})
    with pytest.raises(ForbiddenError, match="missing prvAssignAccount"):
        env.records.create(creator, account, {"name": "For Sam", "ownerid@odata.bind": f"/systemusers({world.service_user})"})
    assigner = world.user({"account": {"Create": Depth.USER, "Read": Depth.USER, "Assign": Depth.USER}})
    record_id = env.records.create(assigner, account, {"name": "For Sam", "ownerid@odata.bind": f"/systemusers({world.service_user})"})
    row = env.records.retrieve(env.admin(), account, ((None, record_id),), options(), Annotations())
    assert row["_ownerid_value"] == world.service_user and row["_owningbusinessunit_value"] == world.service
    # the record now belongs to Sam in Service: out of the creator's user-level reach
    with pytest.raises(ForbiddenError, match="does not have Read access"):
        env.records.retrieve(assigner, account, ((None, record_id),), options(), Annotations())


def test_changing_the_owner_needs_assign_on_the_record(world: World) -> None:
    env, account = world.env, world.table("account")
    writer = world.user({"account": {"Read": Depth.ORGANIZATION, "Write": Depth.ORGANIZATION}})
    own = world.account(writer.user_id, "Mine")
    with pytest.raises(ForbiddenError, match="missing prvAssignAccount"):
        env.records.update(writer, account, ((None, own),), {"ownerid@odata.bind": f"/systemusers({world.east_user})"})
    assert env.records.update(writer, account, ((None, own),), {"name": "Renamed"})  # writing without assigning is fine
    assigner = world.user({"account": {"Read": Depth.ORGANIZATION, "Write": Depth.ORGANIZATION, "Assign": Depth.USER}})
    theirs = world.account(assigner.user_id, "Theirs")
    env.records.update(assigner, account, ((None, theirs),), {"ownerid@odata.bind": f"/systemusers({world.east_user})"})
    row = env.records.retrieve(env.admin(), account, ((None, theirs),), options(), Annotations())
    assert row["_ownerid_value"] == world.east_user and row["_owningbusinessunit_value"] == world.east


# --- teams --------------------------------------------------------------------------------------------------------


def test_team_owned_records_are_visible_to_members_at_user_depth(world: World) -> None:
    env = world.env
    role = env.ensure_role("Own accounts", {"account": {"Read": Depth.USER, "Write": Depth.USER}})
    member = world.user({"contact": {"Read": Depth.USER}})
    outsider = world.user({"account": {"Read": Depth.USER}})
    team = env.ensure_team("Key accounts", business_unit_id=world.service, roles=[role], members=[member.user_id])
    member = env.caller_for_user(member.user_id)  # privileges come from the team's role
    assert member.team_ids == (team,) and Access(member).depth(world.table("account"), "Read") == Depth.USER
    team_account = env.records.create(env.admin(), world.table("account"), {
        "name": "Team's", "ownerid@odata.bind": f"/teams({team})"})
    world.account(world.service_user, "Someone else's")
    assert world.names(member) == ["Team's"]
    assert world.names(outsider) == []
    env.records.update(member, world.table("account"), ((None, team_account),), {"name": "Team's, renamed"})
    row = env.records.retrieve(env.admin(), world.table("account"), ((None, team_account),), options(), Annotations())
    assert row["_owningbusinessunit_value"] == world.service  # a team-owned record is in the team's unit


def test_the_deepest_depth_over_user_and_team_roles_wins(world: World) -> None:
    env = world.env
    low = env.ensure_role("Low", {"account": {"Read": Depth.USER}})
    high = env.ensure_role("High", {"account": {"Read": Depth.ORGANIZATION}})
    user = env.ensure_systemuser(str(uuid.uuid4()), name="mix@test", full_name="Max Mix", roles=[low],
                                 business_unit_id=world.sales)
    assert Access(env.caller_for_user(user)).depth(world.table("account"), "Read") == Depth.USER
    env.ensure_team("Readers", roles=[high], members=[user])
    assert Access(env.caller_for_user(user)).depth(world.table("account"), "Read") == Depth.ORGANIZATION


# --- standard roles, administrator, application users ------------------------------------------------------------


def test_standard_roles_and_privileges_are_stored(world: World) -> None:
    env = world.env
    registry = env.registry
    with env.database.read() as conn:
        roles = {r.name for r in conn.execute(select(registry.sql["role"].c.name))}
        assert set(STANDARD_ROLES) <= roles
        privilege = registry.sql["privilege"]
        row = conn.execute(select(privilege).where(privilege.c.name == "prvReadAccount")).mappings().one()
        assert row["privilegeid"] == privilege_id("account", "Read") and row["accessright"] == 1 and row["canbebasic"]
        assert conn.execute(select(privilege.c.name).where(privilege.c.name == "prvAssignTransactioncurrency")).first() is None
        admin_rows = registry.sql["roleprivileges"]
        count = conn.execute(select(func.count()).select_from(admin_rows)
                             .where(admin_rows.c.roleid == env.system_administrator_role_id)).scalar_one()
        assert count == conn.execute(select(func.count()).select_from(privilege)).scalar_one()
        user_roles = registry.sql["systemuserroles"]
        assert conn.execute(select(user_roles.c.roleid).where(user_roles.c.systemuserid == env.admin_user_id)).scalar_one() \
            == env.system_administrator_role_id
    # a second start changes nothing
    again = DataverseEnvironment(env.database)
    with env.database.read() as conn:
        assert conn.execute(select(func.count()).select_from(registry.sql["privilege"])).scalar_one() == count
    assert again.system_administrator_role_id == env.system_administrator_role_id


def test_new_tables_get_privileges_for_the_system_administrator(world: World) -> None:
    from isthmus.dataverse.metadata.model import Column, Table
    from isthmus.dataverse.metadata.standard import standard_columns

    env = world.env
    project = Table("new_project", "new_projects", "new_projectid", "new_name",
                    (*standard_columns("new_project", "new_projectid"),
                     Column("new_name", "String", max_length=100, is_primary_name=True, is_custom=True)),
                    schema_name="new_Project", is_custom=True)
    with env.database.engine.begin() as conn:
        env.store.create_table(conn, project)
    env.sync_message_filters()
    with env.database.read() as conn:
        privilege = env.registry.sql["privilege"]
        names = {r[0] for r in conn.execute(select(privilege.c.name).where(privilege.c.name.like("%new_Project")))}
    assert names == {f"prv{r}new_Project" for r in RIGHTS}
    salesperson = world.user({"account": {"Read": Depth.ORGANIZATION}})
    with pytest.raises(ForbiddenError, match="missing prvCreatenew_Project"):
        env.records.create(salesperson, env.registry.tables["new_project"], {"new_name": "P"})
    admin_user = env.caller_for_user(env.admin_user_id)
    assert env.records.create(admin_user, env.registry.tables["new_project"], {"new_name": "P"})


def test_administrator_sees_everything(world: World) -> None:
    env = world.env
    for owner, name in ((world.colleague, "A"), (world.east_user, "B"), (world.service_user, "C")):
        world.account(owner, name)
    object_id = str(uuid.uuid4())
    # the demo administrator's identity is linked to the built-in administrator, not duplicated
    assert env.ensure_systemuser(object_id, name="admin@isthmus.local", roles=["System Administrator"]) == env.admin_user_id
    admin = env.caller_for(object_id, application=False)
    assert admin.user_id == env.admin_user_id and admin.security is not None
    assert admin.security.everywhere == Depth.ORGANIZATION
    assert world.names(admin) == ["A", "B", "C"] == world.names(env.admin())
    for right in RIGHTS:
        assert Access(admin).depth(world.table("account"), right) == Depth.ORGANIZATION


def test_standard_roles_for_the_demo_people(world: World) -> None:
    env, account = world.env, world.table("account")

    def person(role: str, unit: str) -> Caller:
        object_id = str(uuid.uuid4())
        env.ensure_systemuser(object_id, name=f"{role}@test", full_name=f"{role} Person", roles=[role], business_unit_id=unit)
        return env.caller_for(object_id, application=False)

    csr, rep, manager = person("Customer Service Representative", world.service), person("Salesperson", world.sales), \
        person("Sales Manager", world.sales)
    others = world.account(world.east_user, "East")
    colleague_account = world.account(world.colleague, "Colleague")
    # CSR: reads and writes every account, opens cases, cannot delete accounts
    env.records.update(csr, account, ((None, others),), {"telephone1": "555"})
    case = env.records.create(csr, world.table("incident"), {"title": "Broken", "customerid_account@odata.bind": f"/accounts({others})"})
    assert case
    with pytest.raises(ForbiddenError, match="missing prvDeleteAccount"):
        env.records.delete(csr, account, ((None, others),))
    # Salesperson: reads every account, writes only their own, takes orders
    assert {"East", "Colleague"} <= set(world.names(rep))
    with pytest.raises(ForbiddenError, match="does not have Write access"):
        env.records.update(rep, account, ((None, colleague_account),), {"name": "Mine now"})
    order = env.records.create(rep, world.table("salesorder"), {"name": "SO", "customerid_account@odata.bind": f"/accounts({others})"})
    with pytest.raises(ForbiddenError, match="does not have Read access on the salesorder"):
        env.records.retrieve(person("Salesperson", world.sales), world.table("salesorder"), ((None, order),), options(), Annotations())
    # Sales Manager: writes and deletes in their business unit, not below or elsewhere
    env.records.update(manager, account, ((None, colleague_account),), {"name": "Managed"})
    env.records.retrieve(manager, world.table("salesorder"), ((None, order),), options(), Annotations())
    with pytest.raises(ForbiddenError, match="does not have Write access"):
        env.records.update(manager, account, ((None, others),), {"name": "Too far"})


def test_application_users_are_callers_like_people(world: World) -> None:
    env = world.env
    app_id = str(uuid.uuid4())
    user_id = env.ensure_application_user(app_id, "Integration", roles=["Salesperson"], business_unit_id=world.sales)
    assert env.ensure_application_user(app_id, "Integration", roles=["Salesperson"]) == user_id  # idempotent
    with pytest.raises(ForbiddenError, match=f"add a systemuser with azureactivedirectoryobjectid = {app_id}"):
        env.caller_for(app_id, application=False)
    app = env.caller_for(app_id, application=True)
    assert app.application and app.user_id == user_id and app.business_unit_id == world.sales
    row = env.records.retrieve(env.admin(), world.table("systemuser"), ((None, user_id),), options(), Annotations())
    assert row["applicationid"] == app_id and row["accessmode"] == 4 and row["fullname"] == "Integration"
    account_id = env.records.create(app, world.table("account"), {"name": "Made by an app"})
    with pytest.raises(ForbiddenError, match="missing prvDeleteAccount"):
        env.records.delete(app, world.table("account"), ((None, account_id),))


def test_caller_for_unknown_and_disabled_users(world: World) -> None:
    env = world.env
    unknown = str(uuid.uuid4())
    with pytest.raises(ForbiddenError) as refused:
        env.caller_for(unknown, application=False)
    assert refused.value.message == (
        f"No user in this environment for identity {unknown}; add a systemuser with azureactivedirectoryobjectid = {unknown}."
    )
    object_id = str(uuid.uuid4())
    user_id = env.ensure_systemuser(object_id, name="gone@test", full_name="Gone Away", roles=["Basic User"])
    caller = env.caller_for(object_id.upper(), application=False)  # object ids compare as GUIDs
    assert caller.user_id == user_id and caller.context.principal_id == object_id.upper()
    env.records.update(env.admin(), world.table("systemuser"), ((None, user_id),), {"isdisabled": True})
    with pytest.raises(ForbiddenError, match="is disabled"):
        env.caller_for(object_id, application=False)


def test_upsert_and_bulk_operations_go_through_the_same_checks(world: World) -> None:
    env, account = world.env, world.table("account")
    caller = world.user({"account": {"Create": Depth.USER, "Read": Depth.USER, "Write": Depth.USER}})
    theirs = world.account(world.service_user, "Theirs", accountnumber="T-1")
    with pytest.raises(ForbiddenError, match="does not have Write access"):
        env.records.upsert(caller, account, (("accountnumber", "T-1"),), {"name": "Mine?"})
    created, new_id = env.records.upsert(caller, account, (("accountnumber", "M-1"),), {"name": "Mine"})
    assert created and new_id
    reader = world.user({"account": {"Read": Depth.ORGANIZATION}})
    with pytest.raises(ForbiddenError, match="missing prvCreateAccount"):
        env.records.create_multiple(reader, account, [{"name": "One"}, {"name": "Two"}])
    assert env.records.create_multiple(caller, account, [{"name": "One"}, {"name": "Two"}])
    # one target out of reach: none of the batch is written
    with pytest.raises(ForbiddenError), env.database.unit_of_work(caller.context):
        env.records.update(caller, account, ((None, new_id),), {"name": "Changed"})
        env.records.update(caller, account, ((None, theirs),), {"name": "Changed"})
    assert world.names(caller) == ["Mine", "One", "Two"]


def test_grants_on_tables_without_owners_are_organization_wide(world: World) -> None:
    env = world.env
    caller = world.user({"transactioncurrency": {"Read": Depth.USER}})
    assert Access(caller).depth(world.table("transactioncurrency"), "Read") == Depth.ORGANIZATION
    assert len(world.names(caller, "transactioncurrency")) == 3
    with pytest.raises(Exception, match="no Assign privilege"):
        env.ensure_role("Bad", {"transactioncurrency": {"Assign": Depth.ORGANIZATION}})
    assert grants(("a", "b"), ("Read",), Depth.USER) == {"a": {"Read": Depth.USER}, "b": {"Read": Depth.USER}}
