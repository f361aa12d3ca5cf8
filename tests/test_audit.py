"""The audit trail (issue 4, section 5): who changed which columns of which record when, with old and new values —
written in the same transaction as the change (a rollback leaves no audit row, a failed audit write fails the
change), one INSERT per unit of work, for the ERP and for Dataverse, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import orjson
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError

from isthmus import audit
from isthmus.audit import reader
from isthmus.audit.recorder import AuditPolicy, json_value
from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.erp import customers, sales
from isthmus.erp.schema import custtable
from isthmus.errors import BusinessRuleError, ConfigurationError
from isthmus.storage import CallContext, Database
from tests.dataverse.conftest import (  # noqa: F401  (fixtures)
    dataverse_db,
    dataverse_postgres_template,
    dataverse_sqlite_template,
    dataverse_url,
)

OID = "6a1f0c1e-3b5d-4c1e-9b1a-2f7e5d9c8b01"
CLERK = CallContext(user="casey", company="usmf", principal_id=OID)


@pytest.fixture
def audited(erp_db: Database) -> Iterator[Database]:
    audit.create_schema(erp_db)
    audit.install(erp_db)
    yield erp_db
    audit.uninstall(erp_db)


def customer_recid(database: Database, account: str, company: str = "usmf") -> int:
    with database.read() as conn:
        return conn.execute(
            select(custtable.c.recid).where(custtable.c.accountnum == account, custtable.c.dataareaid == company)
        ).scalar_one()


def count_rows(database: Database) -> int:
    with database.read() as conn:
        return conn.execute(select(func.count()).select_from(audit.auditlog)).scalar_one()


def test_create_update_delete_are_recorded_with_old_and_new_values(audited: Database) -> None:
    with audited.unit_of_work(CLERK) as uow:
        created = customers.create(uow, "usmf", {"accountnum": "US-900", "name": "Northwind", "custgroup": "20",
                                                 "creditmax": Decimal("2500.50")})
    with audited.unit_of_work(CLERK) as uow:
        customers.update(uow, "usmf", "US-900", {"creditmax": Decimal(5000), "phone": "+1 555 0111"})
    with audited.unit_of_work(CallContext(user="admin", origin="dualwrite")) as uow:
        customers.delete(uow, "usmf", "US-900")

    history = reader.history(audited, "custtable", created["recid"])
    assert [e.operation for e in history] == ["create", "update", "delete"]
    create, update, delete = history
    assert create.new("name") == "Northwind" and create.new("creditmax") == "2500.5" and create.old("name") is None
    assert create.company == "usmf" and create.user == "casey" and create.principal_id == OID and create.origin == "api"
    assert not {"recid", "recversion", "createddatetime", "createdby", "modifieddatetime", "modifiedby"} & set(
        create.changed_columns
    )
    assert update.changes == (("creditmax", "2500.5", "5000"), ("phone", None, "+1 555 0111"))
    assert update.changed_columns == ("creditmax", "phone")
    assert delete.old("name") == "Northwind" and delete.new("name") is None
    assert (delete.user, delete.principal_id, delete.origin) == ("admin", None, "dualwrite")
    assert create.created <= update.created <= delete.created
    assert len({create.transaction_id, update.transaction_id, delete.transaction_id}) == 3


def test_a_rolled_back_unit_of_work_leaves_no_audit_row(audited: Database) -> None:
    before = count_rows(audited)
    with pytest.raises(RuntimeError), audited.unit_of_work(CLERK) as uow:
        customers.update(uow, "usmf", "US-001", {"creditmax": Decimal(1)})
        raise RuntimeError("the request failed after the write")
    # a business rule refusing in a pre-commit check rolls the whole unit back too
    with pytest.raises(BusinessRuleError), audited.unit_of_work(CLERK) as uow:
        order = sales.create(uow, "usmf", {"custaccount": "US-001"}, [{"itemid": "T0001", "qty": Decimal(20)}])
        sales.confirm(uow, "usmf", order["salesid"])  # 3,000.00 over a 2,000.00 mandatory credit limit
    assert count_rows(audited) == before
    with audited.read() as conn:
        assert conn.execute(select(custtable.c.creditmax).where(custtable.c.accountnum == "US-001")).scalar_one() == 2000


def test_nothing_commits_unaudited(erp_db: Database) -> None:
    with pytest.raises(ConfigurationError, match="no audit table"):
        audit.install(erp_db)
    audit.install(erp_db, check_schema=False)  # misconfigured on purpose: the audit insert will fail
    try:
        with pytest.raises(DBAPIError), erp_db.unit_of_work(CLERK) as uow:
            customers.update(uow, "usmf", "US-002", {"phone": "+1 555 0122"})
    finally:
        audit.uninstall(erp_db)
    with erp_db.read() as conn:
        assert conn.execute(select(custtable.c.phone).where(custtable.c.accountnum == "US-002")).scalar_one() is None


def test_one_insert_per_unit_of_work(audited: Database) -> None:
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if audit.auditlog.name in statement and statement.lstrip().upper().startswith("INSERT"):
            statements.append(statement)

    event.listen(audited.engine, "before_cursor_execute", capture)
    try:
        with audited.unit_of_work(CLERK) as uow:
            order = sales.create(uow, "usmf", {"custaccount": "US-002"},
                                 [{"itemid": "T0001", "qty": Decimal(1)}, {"itemid": "T0002", "qty": Decimal(3)}])
            customers.update(uow, "usmf", "US-002", {"phone": "+1 555 0123"})
    finally:
        event.remove(audited.engine, "before_cursor_execute", capture)
    assert len(statements) == 1
    logged = reader.entries(audited, table=["salestable", "salesline", "custtable"], newest_first=False)
    assert [e.table for e in logged] == ["salestable", "salesline", "salesline", "salestable", "custtable"]
    assert len({e.transaction_id for e in logged}) == 1
    assert logged[0].new("salesid") == order["salesid"]
    # the order's number was drawn from a number sequence: noise, not audited by default
    assert reader.entries(audited, table="numbersequence") == []


def test_policy_chooses_tables_and_origins(audited: Database) -> None:
    audit.install(audited, AuditPolicy(tables=frozenset({"salestable"}), exclude_origins=frozenset({"seed"})))
    with audited.unit_of_work(CLERK) as uow:
        customers.update(uow, "usmf", "US-002", {"phone": "1"})
        sales.create(uow, "usmf", {"custaccount": "US-002"}, [])
    with audited.unit_of_work(CallContext(user="seed", origin="seed")) as uow:
        sales.create(uow, "usmf", {"custaccount": "US-002"}, [])
    assert [e.table for e in reader.entries(audited)] == ["salestable"]
    assert audit.installed(audited).policy.tables == {"salestable"}

    default = audit.ERP_POLICY
    assert AuditPolicy.parse("", default=default) is default
    assert AuditPolicy.parse("all", default=default).audits("numbersequence")
    assert not AuditPolicy.parse("none", default=default).audits("custtable")
    only = AuditPolicy.parse("custtable, salestable", default=default)
    assert only.audits("custtable") and not only.audits("salesline")
    fewer = AuditPolicy.parse("-salesline", default=default)
    assert fewer.audits("custtable") and not fewer.audits("salesline") and not fewer.audits("numbersequence")
    assert not default.audits(audit.auditlog.name)


def test_updates_of_nothing_but_stamps_are_not_logged(audited: Database) -> None:
    before = count_rows(audited)
    with audited.unit_of_work(CLERK) as uow:
        recid = customer_recid(audited, "US-003")
        uow.update(custtable, recid, {})  # bumps recversion and the modified stamps only
    assert count_rows(audited) == before


def test_reader_filters_and_dataverse_shape(audited: Database) -> None:
    with audited.unit_of_work(CLERK) as uow:
        customers.update(uow, "usmf", "US-001", {"creditmax": Decimal(3000)})
    with audited.unit_of_work(CallContext(user="hans", company="demf")) as uow:
        customers.update(uow, "demf", "DE-001", {"phone": "+49 30 1234"})
    assert [e.record_key for e in reader.entries(audited, companies=["demf"])] == [str(customer_recid(audited, "DE-001", "demf"))]
    assert [e.user for e in reader.entries(audited, user="casey")] == ["casey"]
    assert len(reader.entries(audited, operation="update", limit=1)) == 1
    newest = reader.entries(audited, limit=1)[0]
    shaped = reader.as_dataverse(newest)
    assert shaped["auditid"] == reader.audit_guid(newest.id) and uuid.UUID(shaped["auditid"])
    assert reader.audit_recid(shaped["auditid"]) == newest.id and reader.audit_recid(str(uuid.uuid4())) is None
    assert reader.get(audited, shaped["auditid"]) == newest
    assert (shaped["action"], shaped["operation"], shaped["objecttypecode"]) == (2, 2, "custtable")
    assert shaped["_userid_value"] == "hans" and shaped["attributemask"] == "phone"
    assert orjson.loads(shaped["changedata"]) == {
        "changedAttributes": [{"logicalName": "phone", "oldValue": None, "newValue": "+49 30 1234"}]
    }
    assert shaped["createdon"].endswith("Z")


def test_json_values() -> None:
    import datetime as dt

    assert json_value(Decimal("2000.000000")) == "2000"
    assert json_value(Decimal("12.500000")) == "12.5"
    assert json_value(Decimal("-0.000000")) == "0"
    assert json_value(dt.date(2024, 1, 5)) == "2024-01-05"
    assert json_value(dt.datetime(2024, 1, 5, 10, 30, tzinfo=dt.UTC)) == "2024-01-05T10:30:00.000Z"
    assert json_value(True) is True and json_value(None) is None


def test_dataverse_changes_are_audited_too(dataverse_db: Database) -> None:  # noqa: F811
    env = DataverseEnvironment(dataverse_db)
    audit.create_schema(dataverse_db)
    audit.install(dataverse_db, audit.DATAVERSE_POLICY)
    admin = env.admin()
    account = env.records.create(admin, env.registry.tables["account"], {"name": "Contoso", "creditlimit": 2000})
    env.records.update(admin, env.registry.tables["account"], ((None, account),), {"creditlimit": 4000, "telephone1": "555"})
    env.records.delete(admin, env.registry.tables["account"], ((None, account),))
    history = reader.history(dataverse_db, "account", account)
    assert [e.operation for e in history] == ["create", "update", "delete"]
    create, update, delete = history
    assert create.new("name") == "Contoso" and create.user == admin.user_id and create.company is None
    assert not {"versionnumber", "modifiedon", "createdon", "modifiedby", "createdby"} & set(create.changed_columns)
    assert set(update.changed_columns) == {"creditlimit", "telephone1"}
    assert update.old("creditlimit") == "2000" and update.new("creditlimit") == "4000"
    assert delete.old("name") == "Contoso"
    shaped = [reader.as_dataverse(e) for e in history]
    assert [s["action"] for s in shaped] == [1, 2, 3] and {s["_objectid_value"] for s in shaped} == {account}


def test_writes_made_by_later_pre_commit_hooks_are_audited(audited: Database) -> None:
    """Dual-write and events register their pre-commit hooks after the audit trail is installed; the trail must still
    hold what they write, because it runs in the final pre-commit phase."""

    def integration_hook(uow) -> None:  # type: ignore[no-untyped-def]
        if uow.context.origin == "api":
            customers.update(uow, "usmf", "US-003", {"phone": "+1 555 0133"})

    audited.hooks.pre_commit.append(integration_hook)
    try:
        with audited.unit_of_work(CLERK) as uow:
            customers.update(uow, "usmf", "US-002", {"phone": "+1 555 0122"})
    finally:
        audited.hooks.pre_commit.remove(integration_hook)
    hooked = reader.history(audited, "custtable", customer_recid(audited, "US-003"))
    direct = reader.history(audited, "custtable", customer_recid(audited, "US-002"))
    assert [e.changes for e in hooked] == [(("phone", None, "+1 555 0133"),)]
    assert hooked[0].transaction_id == direct[0].transaction_id
