"""Metadata: standard tables exist physically; runtime customisations persist, replay and alter the schema."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from isthmus.dataverse.metadata.model import AlternateKey, Column, Table
from isthmus.dataverse.metadata.standard import standard_columns
from isthmus.dataverse.metadata.store import MetadataStore
from isthmus.errors import ConflictError, NotFoundError, ValidationError
from isthmus.storage import Database


def _project() -> Table:
    return Table(
        "new_project", "new_projects", "new_projectid", "new_name",
        (*standard_columns("new_project", "new_projectid"), Column("new_name", "String", max_length=100, is_primary_name=True, is_custom=True)),
        is_custom=True,
    )


def test_standard_tables_and_relationships(metadata_store: MetadataStore, dataverse_db: Database) -> None:
    registry = metadata_store.registry
    for name in ("account", "contact", "incident", "email", "team", "businessunit", "systemuser", "role",
                 "transactioncurrency", "cdm_company", "msdyn_customergroup", "product", "uom", "salesorder", "salesorderdetail"):
        assert name in registry.tables
        assert inspect(dataverse_db.engine).has_table(name)
    account = registry.tables["account"]
    assert account.entity_set_name == "accounts" and account.primary_id == "accountid" and account.primary_name == "name"
    assert [k.columns for k in account.keys] == [("accountnumber",)]
    for standard in ("createdon", "modifiedon", "createdby", "modifiedby", "ownerid", "owningbusinessunit", "statecode", "statuscode", "versionnumber"):
        assert account.column(standard) is not None
    nav = registry.navigation("account", "primarycontactid")
    assert nav is not None and nav.kind == "single" and nav.target == "contact"
    assert registry.navigation("contact", "parentcustomerid_account") is not None


def test_custom_table_column_and_key_persist_and_alter_schema(metadata_store: MetadataStore, dataverse_db: Database) -> None:
    with dataverse_db.engine.begin() as conn:
        metadata_store.create_table(conn, _project())
        metadata_store.add_column(conn, "new_project", Column("new_budget", "Money", is_custom=True))
        metadata_store.add_column(conn, "account", Column("new_tier", "Integer", is_custom=True))
        metadata_store.add_key(conn, "new_project", AlternateKey("new_name_key", ("new_name",)))
    columns = {c["name"] for c in inspect(dataverse_db.engine).get_columns("new_project")}
    assert {"new_projectid", "new_name", "new_budget", "createdon", "ownerid"} <= columns
    assert "new_tier" in {c["name"] for c in inspect(dataverse_db.engine).get_columns("account")}
    fresh = MetadataStore(dataverse_db).bootstrap()
    assert fresh.tables["new_project"].column("new_budget") is not None
    assert fresh.tables["account"].column("new_tier").type == "Integer"
    assert fresh.tables["new_project"].keys[0].columns == ("new_name",)
    assert fresh.version == 4


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda s, c: s.create_table(c, _project()) and s.create_table(c, _project()), ConflictError),
        (lambda s, c: s.add_column(c, "account", Column("name", "String")), ConflictError),
        (lambda s, c: s.add_column(c, "nope", Column("x", "String")), NotFoundError),
        (lambda s, c: s.add_key(c, "account", AlternateKey("k", ("nope",))), ValidationError),
        (lambda s, c: s.delete_table(c, "account"), ValidationError),
        (lambda s, c: s.delete_column(c, "account", "name"), ValidationError),
    ],
)
def test_bad_changes_are_refused(metadata_store: MetadataStore, dataverse_db: Database, change, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error), dataverse_db.engine.begin() as conn:
        change(metadata_store, conn)
