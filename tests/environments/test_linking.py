"""Environments, the Power Platform integration link and its rules, failure and resume, feature gating, guarded
unlink, and automatic enablement."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from isthmus.environments.errors import NotLinkedError
from isthmus.environments.service import EnvironmentService
from isthmus.errors import ConflictError, NotFoundError, ValidationError
from isthmus.storage import Database
from tests.environments.conftest import FlakyProvisioner

FO, PP = "finance_operations", "power_platform"


def test_create_list_show_delete(environments: EnvironmentService) -> None:
    fo = environments.create("contoso-test", FO)
    assert fo.type == "sandbox" and fo.managed_database and not fo.has_dataverse
    erp = Database(fo.database_url)
    assert inspect(erp.engine).has_table("custtable")  # the ERP was provisioned with its DAT company
    erp.dispose()
    pp = environments.create("crm", PP)
    assert pp.has_dataverse and pp.free_capacity_gb == 9.0
    assert [(e.kind, e.name) for e in environments.list()] == [(FO, "contoso-test"), (PP, "crm")]
    environments.delete("crm", PP)
    with pytest.raises(NotFoundError, match="No Power Platform environment named crm"):
        environments.get("crm", PP)


@pytest.mark.parametrize(
    ("name", "kind", "kw", "fragment"),
    [("Bad_Name", FO, {}, "lower-case letters"), ("ok", "mainframe", {}, "kind"),
     ("ok", FO, {"type": "staging"}, "type"), ("ok", PP, {"capacity_gb": -1}, "negative")],
)
def test_bad_environments_are_refused(environments: EnvironmentService, name: str, kind: str, kw: dict, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        environments.create(name, kind, **kw)
    assert environments.list() == []


def test_link_to_a_new_environment(environments: EnvironmentService) -> None:
    environments.create("contoso", FO)
    link = environments.link("contoso")
    assert (link.state, link.mode, link.power_platform) == ("linked", "new", "contoso")
    assert "dual_write" in link.unlocked and "archival" in link.unlocked
    pp = environments.get("contoso", PP)
    assert pp.has_dataverse
    dataverse = Database(pp.database_url)
    assert inspect(dataverse.engine).has_table("account")  # platform packages installed
    dataverse.dispose()


def test_new_link_takes_the_initial_environment_of_the_same_name(environments: EnvironmentService) -> None:
    environments.create("fabrikam", FO)
    environments.create("fabrikam", PP, with_dataverse=False)
    link = environments.link("fabrikam")
    assert link.power_platform == "fabrikam" and environments.get("fabrikam", PP).has_dataverse


@pytest.mark.parametrize(
    ("pp_kw", "fo_kw", "fragment"),
    [
        ({"with_dataverse": False}, {}, "has no Dataverse database"),
        ({"geography": "europe"}, {}, "geography europe, not unitedstates"),
        ({"tenant_id": "11111111-1111-1111-1111-111111111111"}, {}, "another tenant"),
        ({"capacity_gb": 1.5}, {}, "0.5 GB of free capacity; linking needs 1 GB"),
    ],
)
def test_existing_environment_rules(environments: EnvironmentService, pp_kw: dict, fo_kw: dict, fragment: str) -> None:
    environments.create("contoso", FO, **fo_kw)
    environments.create("crm", PP, **pp_kw)
    with pytest.raises(ValidationError, match=fragment):
        environments.link("contoso", "crm")
    assert environments.link_of("contoso") is None


def test_links_are_one_to_one_and_developer_links_only_to_new(environments: EnvironmentService) -> None:
    environments.create("a", FO)
    environments.create("b", FO)
    environments.create("dev", FO, type="developer")
    environments.create("crm", PP)
    environments.link("a", "crm")
    with pytest.raises(ConflictError, match="already linked to Power Platform environment crm"):
        environments.link("a")
    with pytest.raises(ValidationError, match="already linked to finance and operations environment a"):
        environments.link("b", "crm")
    with pytest.raises(ValidationError, match="developer environment can only be linked to a new"):
        environments.link("dev", "crm")
    assert environments.link("dev").mode == "new"


def test_failed_link_shows_reason_and_resumes(environments: EnvironmentService, provisioner: FlakyProvisioner) -> None:
    environments.create("contoso", FO)
    provisioner.failures = 1
    failed = environments.link("contoso")
    assert failed.state == "failed"
    assert "did not answer" in (failed.reason or "") and "--resume" in (failed.resume_action or "")
    assert failed.unlocked == ()
    with pytest.raises(NotLinkedError):
        environments.activate("contoso", "virtual_entities")
    with pytest.raises(ConflictError, match="Resume it"):
        environments.link("contoso")
    resumed = environments.resume("contoso")
    assert resumed.state == "linked" and resumed.resume_action is None
    with pytest.raises(ConflictError, match="only a failed link can be resumed"):
        environments.resume("contoso")


def test_features_need_the_link_and_guard_unlink(environments: EnvironmentService) -> None:
    environments.create("contoso", FO)
    for feature in ("dual_write", "virtual_entities", "data_events", "archival", "addins", "ai"):
        with pytest.raises(NotLinkedError) as info:
            environments.activate("contoso", feature)
        assert info.value.code == "0x80048d0b" and "not linked" in info.value.message
    assert environments.activate("contoso", "business_events").active  # business events need no link
    environments.link("contoso")
    assert environments.activate("contoso", "dual_write").power_platform == "contoso"
    with pytest.raises(ConflictError, match="while dual write is active"):
        environments.unlink("contoso")
    with pytest.raises(ConflictError, match="is linked to"):
        environments.delete("contoso", FO)
    with pytest.raises(ConflictError, match="is linked to"):
        environments.delete("contoso", PP)
    environments.deactivate("contoso", "dual_write")
    environments.unlink("contoso")
    assert environments.link_of("contoso") is None
    with pytest.raises(ValidationError, match="Unknown feature"):
        environments.activate("contoso", "teleportation")


def test_automatic_enablement(environments: EnvironmentService) -> None:
    environments.create("uses-crm", FO)
    environments.create("fresh", FO)
    environments.create("done", FO)
    environments.create("far-away", FO)
    environments.create("crm", PP)
    environments.create("eu-crm", PP, geography="europe")
    environments.link("done")
    environments.record_legacy_connection("uses-crm", "dual_write", "crm")
    environments.record_legacy_connection("far-away", "virtual_entities", "eu-crm")
    actions = {a.environment: a for a in environments.auto_enable()}
    assert set(actions) == {"uses-crm", "fresh", "far-away"}  # "done" was already linked
    assert actions["uses-crm"].action == "linked_existing" and actions["uses-crm"].power_platform == "crm"
    assert "already used Power Platform environment crm for dual write" in actions["uses-crm"].reason
    assert actions["fresh"].action == "linked_new" and environments.link_of("fresh").power_platform == "fresh"
    assert actions["far-away"].action == "failed" and "geography" in actions["far-away"].reason
    assert environments.link_of("uses-crm").reason.startswith("Automatic enablement")
    history = environments.enablement_history()
    assert {a.environment for a in history} == {"uses-crm", "fresh", "far-away"}
    again = environments.auto_enable()
    assert [(a.environment, a.action) for a in again] == [("far-away", "failed")]


def test_legacy_connections_are_only_dual_write_or_virtual_entities(environments: EnvironmentService) -> None:
    environments.create("contoso", FO)
    environments.create("crm", PP)
    with pytest.raises(ValidationError, match="predate the link"):
        environments.record_legacy_connection("contoso", "archival", "crm")


def test_connection_secrets_are_stored_encrypted(control_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from isthmus.environments import schema
    from isthmus.secrets import SecretBox

    database = Database(control_url, name="control")
    try:
        plain = EnvironmentService(database, tmp_path, secret_box=None)
        plain.secret_box = None
        url = "postgresql+psycopg://integration:S3cret-Pa55@127.0.0.1:5432/contoso"
        with pytest.raises(ValidationError, match="ISTHMUS_SECRET_KEY"):
            plain.create("contoso", FO, database_url=url, provision=False)
        sealed = EnvironmentService(database, tmp_path, secret_box=SecretBox(SecretBox.generate_key()))
        env = sealed.create("contoso", FO, database_url=url, provision=False)
        assert env.database_url == url
        with database.engine.connect() as conn:
            stored = conn.execute(select(schema.environment.c.database_url)).scalar_one()
        assert stored.startswith("sealed:") and "S3cret" not in stored
        assert sealed.get("contoso", FO).database_url == url
        other_key = EnvironmentService(database, tmp_path, secret_box=SecretBox(SecretBox.generate_key()))
        with pytest.raises(Exception, match="ISTHMUS_SECRET_KEY|key"):
            other_key.get("contoso", FO)
    finally:
        database.dispose()
