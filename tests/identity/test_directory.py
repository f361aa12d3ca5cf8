"""The identity directory on SQLite and PostgreSQL: principals, unique names, hashed secrets, sign-in checks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from isthmus.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from isthmus.identity import Directory, hashing
from isthmus.identity.hashing import ScryptParams
from isthmus.identity.schema import principal
from tests.identity.conftest import CLIENT_SECRET, FAST_KDF, PASSWORD


def _row(directory: Directory, name: str) -> dict:
    with directory.database.read() as conn:
        return dict(conn.execute(select(principal).where(principal.c.name == name)).mappings().one())


def test_a_user_is_stored_with_a_guid_roles_and_only_a_hash_of_the_password(directory: Directory, alice) -> None:
    assert len(alice.object_id) == 36 and alice.object_id.count("-") == 4
    assert (alice.kind, alice.name, alice.display_name, alice.email) == (
        "user", "alice@isthmus.test", "Alice Example", "alice@example.com")
    assert alice.directory_roles == ("Administrator",) and not alice.disabled
    assert alice.created.tzinfo is not None and alice.modified >= alice.created
    row = _row(directory, "alice@isthmus.test")
    assert row["secret_hash"].startswith("$scrypt$ln=10,r=8,p=1$")
    assert all(PASSWORD not in str(value) for value in row.values())
    assert "secret_hash" not in repr(alice) and "scrypt" not in repr(alice)


def test_an_application_is_stored_with_only_a_hash_of_its_secret(directory: Directory, robot) -> None:
    assert (robot.kind, robot.name, robot.email, robot.is_application) == ("application", "robot-app", None, True)
    row = _row(directory, "robot-app")
    assert row["secret_hash"].startswith("$scrypt$")
    assert all(CLIENT_SECRET not in str(value) for value in row.values())


def test_names_are_unique_without_regard_to_case(directory: Directory, alice, robot) -> None:
    with pytest.raises(ConflictError, match="already has a user or application named 'ALICE@isthmus.test'"):
        directory.create_user("ALICE@isthmus.test", "Other", None, "another-password")
    with pytest.raises(ConflictError, match="named 'Robot-App'"):
        directory.create_user("Robot-App", "Other", None, "another-password")
    assert directory.get_by_name("ALICE@ISTHMUS.TEST") == alice


@pytest.mark.parametrize(("name", "password", "message"), [
    ("bob@isthmus.test", "", "A password is required."),
    ("bob@isthmus.test", "short", "The password is 5 characters long; at least 8 are required."),
    ("bob@isthmus.test", "1234567", "The password is 7 characters long; at least 8 are required."),
    ("", "long-enough-password", "A user name is required."),
    ("bob smith", "long-enough-password", "must be at most 256 characters without spaces"),
])
def test_bad_users_are_refused_with_a_clear_message(directory: Directory, name: str, password: str,
                                                    message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        directory.create_user(name, "Bob", None, password)
    assert message in caught.value.message
    if password:
        assert password not in caught.value.full_message
    assert directory.list_principals() == []


def test_bad_applications_and_emails_are_refused(directory: Directory) -> None:
    with pytest.raises(ValidationError, match="The client secret is 9 characters long; at least 16 are required."):
        directory.create_application("app", "App", "too-short")
    with pytest.raises(ValidationError, match="A client id is required."):
        directory.create_application(" ", "App", CLIENT_SECRET)
    with pytest.raises(ValidationError, match="is not an email address"):
        directory.create_user("carol", "Carol", "not-an-email", PASSWORD)
    with pytest.raises(ValidationError, match="directory role"):
        directory.create_user("carol", "Carol", None, PASSWORD, ["  "])


def test_an_eight_character_password_is_enough(directory: Directory) -> None:
    directory.create_user("dave", "", None, "12345678")
    assert directory.verify_password("dave", "12345678").display_name == "dave"


def test_password_verification(directory: Directory, alice, robot) -> None:
    assert directory.verify_password("Alice@Isthmus.Test", PASSWORD) == alice
    for name, password in (("alice@isthmus.test", PASSWORD + "x"), ("alice@isthmus.test", ""),
                           ("nobody@isthmus.test", PASSWORD), ("robot-app", CLIENT_SECRET)):
        with pytest.raises(AuthenticationError) as caught:
            directory.verify_password(name, password)
        assert caught.value.message == "The user name or password is incorrect."


def test_client_secret_verification(directory: Directory, alice, robot) -> None:
    assert directory.verify_client_secret("robot-app", CLIENT_SECRET) == robot
    for client_id, secret in (("robot-app", CLIENT_SECRET.upper()), ("nobody", CLIENT_SECRET),
                              ("alice@isthmus.test", PASSWORD)):
        with pytest.raises(AuthenticationError, match=r"^The client id or client secret is incorrect\.$"):
            directory.verify_client_secret(client_id, secret)


def test_an_unknown_name_costs_the_same_scrypt_work_as_a_wrong_secret(directory: Directory, alice,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = hashing._derive
    monkeypatch.setattr(hashing, "_derive", lambda *a, **k: calls.append(a[2].n) or real(*a, **k))
    for name in ("alice@isthmus.test", "nobody@isthmus.test"):
        with pytest.raises(AuthenticationError):
            directory.verify_password(name, "wrong password")
    assert calls == [FAST_KDF.n, FAST_KDF.n]


def test_a_disabled_principal_cannot_sign_in_until_enabled(directory: Directory, alice) -> None:
    disabled = directory.disable("alice@isthmus.test")
    assert disabled.disabled and directory.get_by_id(alice.object_id).disabled
    with pytest.raises(AuthenticationError, match="The user alice@isthmus.test is disabled."):
        directory.verify_password("alice@isthmus.test", PASSWORD)
    with pytest.raises(AuthenticationError, match="^The user name or password is incorrect.$"):
        directory.verify_password("alice@isthmus.test", "wrong password")  # disabled is told only to the owner
    directory.enable(alice.object_id)
    assert directory.verify_password("alice@isthmus.test", PASSWORD).object_id == alice.object_id


def test_a_secret_can_be_reset(directory: Directory, alice, robot) -> None:
    before = _row(directory, "robot-app")["secret_hash"]
    directory.set_secret("robot-app", "a-brand-new-client-secret")
    assert _row(directory, "robot-app")["secret_hash"] != before
    assert directory.verify_client_secret("robot-app", "a-brand-new-client-secret") == directory.get("robot-app")
    with pytest.raises(AuthenticationError):
        directory.verify_client_secret("robot-app", CLIENT_SECRET)
    with pytest.raises(ValidationError, match="at least 8"):
        directory.set_secret(alice.object_id, "short")
    with pytest.raises(NotFoundError, match="no user or application named 'ghost'"):
        directory.set_secret("ghost", "long enough password")


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_the_next_sign_in(control_db) -> None:
    old = Directory(control_db, kdf=ScryptParams(ln=9))
    old.create_user("erin", "Erin", None, PASSWORD)
    assert _row(old, "erin")["secret_hash"].startswith("$scrypt$ln=9,")
    new = Directory(control_db, kdf=FAST_KDF)
    new.verify_password("erin", PASSWORD)
    assert _row(new, "erin")["secret_hash"].startswith("$scrypt$ln=10,")
    assert new.verify_password("erin", PASSWORD).name == "erin"


def test_get_list_roles_and_delete(directory: Directory, alice, robot) -> None:
    assert directory.get("robot-app") == robot and directory.get(alice.object_id) == alice
    assert directory.get_by_id("00000000-0000-0000-0000-000000000000") is None
    assert [p.name for p in directory.list_principals()] == ["alice@isthmus.test", "robot-app"]
    assert directory.list_principals("application") == [robot]
    updated = directory.set_roles("alice@isthmus.test", ["Administrator", "administrator", "Auditor"])
    assert updated.directory_roles == ("Administrator", "Auditor")
    assert directory.delete("robot-app") == robot
    assert directory.get_by_name("robot-app") is None
    with pytest.raises(NotFoundError):
        directory.delete("robot-app")
