"""Records through the service: system columns, lookups, alternate keys, upsert, concurrency, state/status, deep
insert, deletes that remove links, and the plug-in pipeline inside the transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.pipeline import PluginContext, PluginError
from isthmus.dataverse.records.reads import PageRequest
from isthmus.dataverse.records.shape import Annotations
from isthmus.errors import NotFoundError, PreconditionFailedError, ValidationError
from isthmus.odata.query import parse_query_options
from isthmus.storage import Database

ALL = {"$select", "$filter", "$orderby", "$top", "$expand", "$count"}


@pytest.fixture
def env(dataverse_db: Database) -> DataverseEnvironment:
    return DataverseEnvironment(dataverse_db)


def options(**kw: str):  # type: ignore[no-untyped-def]
    return parse_query_options([(f"${k}", v) for k, v in kw.items()], supported=ALL)


def get(env: DataverseEnvironment, table: str, record_id: str, **kw: str) -> dict:
    return env.records.retrieve(env.admin(), env.registry.tables[table], ((None, record_id),), options(**kw), Annotations.from_prefer("*"))


def test_create_stamps_system_columns(env: DataverseEnvironment) -> None:
    admin = env.admin()
    record_id = env.records.create(admin, env.registry.tables["account"], {"name": "Contoso", "creditlimit": 2000})
    row = get(env, "account", record_id)
    assert row["accountid"] == record_id and row["name"] == "Contoso" and float(row["creditlimit"]) == 2000
    assert row["_ownerid_value"] == admin.user_id and row["_createdby_value"] == admin.user_id
    assert row["_owningbusinessunit_value"] == admin.business_unit_id
    assert row["statecode"] == 0 and row["statuscode"] == 1
    assert row["statuscode@OData.Community.Display.V1.FormattedValue"] == "Active"
    assert row["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "systemuser"
    assert row["@odata.etag"].startswith('W/"') and row["createdon"].endswith("Z")


def test_lookup_bind_and_formatted_name(env: DataverseEnvironment) -> None:
    admin = env.admin()
    contact = env.records.create(admin, env.registry.tables["contact"], {"firstname": "Ann", "lastname": "Lee"})
    assert get(env, "contact", contact)["fullname"] == "Ann Lee"
    account = env.records.create(admin, env.registry.tables["account"], {
        "name": "Fabrikam", "primarycontactid@odata.bind": f"/contacts({contact})",
    })
    row = get(env, "account", account, select="_primarycontactid_value")
    assert row["_primarycontactid_value"] == contact
    assert row["_primarycontactid_value@OData.Community.Display.V1.FormattedValue"] == "Ann Lee"
    child = env.records.create(admin, env.registry.tables["contact"], {
        "lastname": "Child", "parentcustomerid_account@odata.bind": f"https://host/api/data/v9.2/accounts({account})",
    })
    assert get(env, "contact", child)["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"nope": 1}, "Invalid property 'nope' was found in entity 'Microsoft.Dynamics.CRM.account'"),
        ({"name": 5}, "name must be text"),
        ({"name": "x" * 161}, "exceeded the maximum allowed length"),
        ({"creditlimit": "lots"}, "creditlimit must be a number"),
        ({"customertypecode": 99}, "99 is not a valid value for customertypecode"),
        ({"primarycontactid": "x"}, "is a lookup"),
        ({"primarycontactid@odata.bind": "/accounts(00000000-0000-0000-0000-000000000001)"}, "can point to contact"),
        ({"primarycontactid@odata.bind": "/contacts(00000000-0000-0000-0000-000000000001)"}, "Does Not Exist"),
        ({"createdon": "2024-01-01T00:00:00Z"}, "cannot be set on create"),
        ({"statecode": 1, "statuscode": 1}, "not a valid status code"),
    ],
)
def test_bad_bodies_write_nothing(env: DataverseEnvironment, body: dict, fragment: str) -> None:
    sql = env.registry.sql["account"]
    with env.database.read() as conn:
        before = conn.execute(select(func.count()).select_from(sql)).scalar_one()
    with pytest.raises((ValidationError, NotFoundError)) as info:
        env.records.create(env.admin(), env.registry.tables["account"], {"name": "X", **body} if "name" not in body else body)
    assert fragment in str(info.value)
    with env.database.read() as conn:
        assert conn.execute(select(func.count()).select_from(sql)).scalar_one() == before


def test_alternate_keys_upsert_and_duplicates(env: DataverseEnvironment) -> None:
    admin, account = env.admin(), env.registry.tables["account"]
    created, record_id = env.records.upsert(admin, account, (("accountnumber", "C-0001"),), {"name": "Keyed"})
    assert created and get(env, "account", record_id)["accountnumber"] == "C-0001"
    created, same = env.records.upsert(admin, account, (("accountnumber", "C-0001"),), {"creditlimit": 5000})
    assert not created and same == record_id and float(get(env, "account", record_id)["creditlimit"]) == 5000
    with pytest.raises(PreconditionFailedError, match="matching key values already exists"):
        env.records.upsert(admin, account, (("accountnumber", "C-0001"),), {"name": "x"}, if_none_match="*")
    with pytest.raises(NotFoundError):
        env.records.upsert(admin, account, (("accountnumber", "C-0404"),), {"name": "x"}, if_match="*")
    with pytest.raises(PreconditionFailedError):
        env.records.create(admin, account, {"name": "Dup", "accountnumber": "C-0001"})


def test_optimistic_concurrency(env: DataverseEnvironment) -> None:
    admin, account = env.admin(), env.registry.tables["account"]
    record_id = env.records.create(admin, account, {"name": "V"})
    tag = get(env, "account", record_id)["@odata.etag"]
    env.records.update(admin, account, ((None, record_id),), {"name": "V2"}, if_match=tag)
    with pytest.raises(PreconditionFailedError, match="doesn't match the RowVersion"):
        env.records.update(admin, account, ((None, record_id),), {"name": "V3"}, if_match=tag)
    assert get(env, "account", record_id)["name"] == "V2"


def test_deep_insert_and_expand(env: DataverseEnvironment) -> None:
    admin, account = env.admin(), env.registry.tables["account"]
    record_id = env.records.create(admin, account, {
        "name": "Deep", "primarycontactid": {"firstname": "Pat", "lastname": "Kim"},
        "account_contact_parentcustomerid": [{"lastname": "One"}, {"lastname": "Two"}],
    })
    row = get(env, "account", record_id, expand="primarycontactid($select=fullname),account_contact_parentcustomerid($select=lastname;$orderby=lastname)")
    assert row["primarycontactid"]["fullname"] == "Pat Kim"
    assert [c["lastname"] for c in row["account_contact_parentcustomerid"]] == ["One", "Two"]


def test_delete_removes_links(env: DataverseEnvironment) -> None:
    admin = env.admin()
    contact = env.records.create(admin, env.registry.tables["contact"], {"lastname": "Gone"})
    account = env.records.create(admin, env.registry.tables["account"], {"name": "A", "primarycontactid@odata.bind": f"/contacts({contact})"})
    env.records.delete(admin, env.registry.tables["contact"], ((None, contact),))
    assert get(env, "account", account)["_primarycontactid_value"] is None
    with pytest.raises(NotFoundError, match="Does Not Exist"):
        get(env, "contact", contact)


def test_query_filters_case_insensitively_with_exact_count_and_paging(env: DataverseEnvironment) -> None:
    admin, account = env.admin(), env.registry.tables["account"]
    env.records.create_multiple(admin, account, [{"name": f"Acme {n:02d}", "creditlimit": n * 100} for n in range(12)])
    page = env.records.retrieve_multiple(admin, account, options(filter="startswith(name,'ACME') and creditlimit ge 300", count="true", orderby="name"),
                                         PageRequest(size=4), Annotations())
    assert page.count == 9 and [r["name"] for r in page.rows] == ["Acme 03", "Acme 04", "Acme 05", "Acme 06"]
    names = [r["name"] for r in page.rows]
    token = page.next_skiptoken
    while token:
        page = env.records.retrieve_multiple(admin, account, options(filter="startswith(name,'ACME') and creditlimit ge 300", orderby="name"),
                                             PageRequest(size=4, skiptoken=token), Annotations())
        names += [r["name"] for r in page.rows]
        token = page.next_skiptoken
    assert names == [f"Acme {n:02d}" for n in range(3, 12)]
    exact = env.records.retrieve_multiple(admin, account, options(filter="name eq 'acme 05'"), PageRequest(), Annotations())
    assert [r["name"] for r in exact.rows] == ["Acme 05"]


def test_pipeline_runs_inside_the_transaction(env: DataverseEnvironment) -> None:
    admin, account = env.admin(), env.registry.tables["account"]
    seen: list[str] = []

    def uppercase(context: PluginContext) -> None:
        seen.append(context.stage)
        if "name" in context.target:
            context.target["name"] = context.target["name"].upper()

    def refuse_big_limits(context: PluginContext) -> None:
        if (context.target.get("creditlimit") or 0) > 1_000_000:
            raise PluginError("Credit limits above 1,000,000 need approval.")

    def audit(context: PluginContext) -> None:
        seen.append(f"post {context.post_image['name']}")

    later: list[str] = []
    env.pipeline.register("account", "Create", "PreValidation", refuse_big_limits)
    env.pipeline.register("account", "Create", "PreOperation", uppercase)
    env.pipeline.register("account", "Create", "PostOperation", audit)
    env.pipeline.register("account", "Create", "PostOperation", lambda c: later.append(c.record_id), asynchronous=True)
    record_id = env.records.create(admin, account, {"name": "quiet"})
    assert get(env, "account", record_id)["name"] == "QUIET"
    assert seen == ["PreOperation", "post QUIET"] and later == [record_id]
    with pytest.raises(PluginError, match="need approval"):
        env.records.create(admin, account, {"name": "big", "creditlimit": 5_000_000})

    def fail_after_write(context: PluginContext) -> None:
        raise PluginError("post-operation refused")

    env.pipeline.register("account", "Create", "PostOperation", fail_after_write)
    with pytest.raises(PluginError):
        env.records.create(admin, account, {"name": "rolled back"})
    with env.database.read() as conn:
        sql = env.registry.sql["account"]
        assert conn.execute(select(func.count()).select_from(sql).where(sql.c.name == "ROLLED BACK")).scalar_one() == 0
    assert later == [record_id]


def test_standard_rules_number_cases_and_orders(env: DataverseEnvironment) -> None:
    admin = env.admin()
    case = env.records.create(admin, env.registry.tables["incident"], {"title": "Change of address"})
    assert get(env, "incident", case)["ticketnumber"].startswith("CAS-")
    order = env.records.create(admin, env.registry.tables["salesorder"], {"name": "Order"})
    assert get(env, "salesorder", order)["ordernumber"].startswith("ORD-")
