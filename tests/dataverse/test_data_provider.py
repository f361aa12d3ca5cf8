"""The data-provider hook: a table whose rows come from elsewhere. Every operation reaches the provider; nothing is
stored in the platform's database (virtual tables build on this)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import inspect

from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.metadata.model import Column, Table
from isthmus.dataverse.metadata.standard import text
from isthmus.dataverse.records.reads import PageRequest, QueryPage
from isthmus.dataverse.records.service import Caller
from isthmus.dataverse.records.shape import Annotations
from isthmus.errors import ValidationError
from isthmus.odata.query import QueryOptions, parse_query_options
from isthmus.storage import Database


class InMemoryProvider:
    """Keeps rows in a dict: the smallest provider that proves the hook carries every operation."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    def retrieve(self, caller: Caller, table: Table, record_id: str, options: QueryOptions, annotations: Annotations):  # type: ignore[no-untyped-def]
        self.calls.append("retrieve")
        return self.rows.get(record_id)

    def retrieve_multiple(self, caller, table, options, page, annotations):  # type: ignore[no-untyped-def]
        self.calls.append(f"retrieve_multiple top={options.top}")
        rows = sorted(self.rows.values(), key=lambda r: r["new_name"])
        return QueryPage(rows[: options.top or len(rows)], len(rows) if options.count else None, None)

    def create(self, caller, table, body):  # type: ignore[no-untyped-def]
        if "new_name" not in body:
            raise ValidationError("The remote system needs new_name.", target="new_name")
        record_id = str(uuid.uuid4())
        self.rows[record_id] = {table.primary_id: record_id, "new_name": body["new_name"]}
        self.calls.append("create")
        return record_id

    def update(self, caller, table, record_id, body):  # type: ignore[no-untyped-def]
        self.rows[record_id].update(body)
        self.calls.append("update")

    def delete(self, caller, table, record_id):  # type: ignore[no-untyped-def]
        del self.rows[record_id]
        self.calls.append("delete")


@pytest.fixture
def env_with_virtual_table(dataverse_db: Database) -> tuple[DataverseEnvironment, InMemoryProvider, Table]:
    env = DataverseEnvironment(dataverse_db)
    table = Table("new_remote", "new_remotes", "new_remoteid", "new_name",
                  (Column("new_remoteid", "Uniqueidentifier", is_primary_id=True), text("new_name", 100, is_primary_name=True)),
                  is_custom=True, data_provider="memory", ownership="OrganizationOwned")
    with dataverse_db.engine.begin() as conn:
        env.store.create_table(conn, table)
    provider = InMemoryProvider()
    env.records.providers["memory"] = provider
    return env, provider, env.registry.tables["new_remote"]


def test_every_operation_goes_to_the_provider(env_with_virtual_table, dataverse_db: Database) -> None:  # type: ignore[no-untyped-def]
    env, provider, table = env_with_virtual_table
    admin = env.admin()
    record_id = env.records.create(admin, table, {"new_name": "Remote A"})
    env.records.create(admin, table, {"new_name": "Remote B"})
    assert env.records.retrieve(admin, table, ((None, record_id),), QueryOptions(), Annotations())["new_name"] == "Remote A"
    env.records.update(admin, table, ((None, record_id),), {"new_name": "Remote A2"})
    page = env.records.retrieve_multiple(admin, table, parse_query_options([("$top", "1"), ("$count", "true")], supported={"$top", "$count"}),
                                         PageRequest(), Annotations())
    assert [r["new_name"] for r in page.rows] == ["Remote A2"] and page.count == 2
    env.records.delete(admin, table, ((None, record_id),))
    assert provider.calls == ["create", "create", "retrieve", "update", "retrieve_multiple top=1", "delete"]
    assert not inspect(dataverse_db.engine).has_table("new_remote")
    with pytest.raises(ValidationError, match="remote system needs new_name"):
        env.records.create(admin, table, {})
