"""The demo people and applications: created once, secrets handed out once and stored only hashed, resettable."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from isthmus.errors import NotFoundError
from isthmus.identity import (
    ADMIN,
    ERP,
    Directory,
    TokenService,
    development_principal,
    ensure_demo_identities,
    reset_secret,
)
from isthmus.identity.schema import principal

PEOPLE = ["admin@isthmus.local", "csr@isthmus.local", "sales@isthmus.local", "salesmanager@isthmus.local",
          "accountant@isthmus.local"]
APPLICATIONS = ["isthmus-dualwrite", "isthmus-integration"]


def test_the_demo_identities_are_created_once_with_their_secrets_returned_once(directory: Directory) -> None:
    first = ensure_demo_identities(directory)
    assert [d.name for d in first] == PEOPLE + APPLICATIONS
    assert [d.kind for d in first] == ["user"] * 5 + ["application"] * 2
    assert all(d.created and d.secret and d.role and d.display_name for d in first)
    assert all(len(d.secret) >= (8 if d.kind == "user" else 32) for d in first)  # type: ignore[arg-type]
    assert len({d.secret for d in first}) == len(first)
    assert all(d.secret not in repr(d) for d in first)  # type: ignore[operator]
    admin = directory.get("admin@isthmus.local")
    assert admin.directory_roles == ("Administrator",) and admin.email == "admin@isthmus.local"
    assert [d.directory_roles for d in first[1:]] == [()] * 6

    for demo in first:  # the secrets work, and are not in the database
        verify = directory.verify_password if demo.kind == "user" else directory.verify_client_secret
        assert verify(demo.name, demo.secret).name == demo.name  # type: ignore[arg-type]
    with directory.database.read() as conn:
        stored = " ".join(str(v) for row in conn.execute(select(principal)).all() for v in row)
    assert not any(d.secret in stored for d in first)  # type: ignore[operator]

    again = ensure_demo_identities(directory)
    assert [d.name for d in again] == [d.name for d in first]
    assert all(d.secret is None and not d.created for d in again)
    assert len(directory.list_principals()) == 7


def test_only_missing_demo_identities_are_created(directory: Directory) -> None:
    directory.create_user("CSR@isthmus.local", "Existing", None, "existing-password")
    result = {d.name: d for d in ensure_demo_identities(directory)}
    assert result["csr@isthmus.local"].secret is None and result["sales@isthmus.local"].secret
    assert directory.verify_password("csr@isthmus.local", "existing-password").display_name == "Existing"


def test_a_secret_can_be_reset_and_the_old_one_stops_working(directory: Directory) -> None:
    demo = {d.name: d for d in ensure_demo_identities(directory)}
    new_password = reset_secret(directory, "sales@isthmus.local")
    new_secret = reset_secret(directory, "ISTHMUS-INTEGRATION")
    assert new_password != demo["sales@isthmus.local"].secret and len(new_secret) >= 32
    assert directory.verify_password("sales@isthmus.local", new_password).name == "sales@isthmus.local"
    assert directory.verify_client_secret("isthmus-integration", new_secret).name == "isthmus-integration"
    with pytest.raises(Exception, match="incorrect"):
        directory.verify_password("sales@isthmus.local", demo["sales@isthmus.local"].secret)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        reset_secret(directory, "ghost@isthmus.local")


def test_the_development_principal_is_the_demo_administrator(directory: Directory, tokens: TokenService) -> None:
    ensure_demo_identities(directory)
    principal = development_principal(directory)()
    assert principal.name == "admin@isthmus.local" and principal.is_administrator
    assert principal.audience == ADMIN and principal.claims["development_mode"] is True
    assert development_principal(directory)().object_id == directory.get("admin@isthmus.local").object_id


def test_demo_secrets_sign_in_through_the_token_service(directory: Directory, tokens: TokenService) -> None:
    demo = {d.name: d for d in ensure_demo_identities(directory)}
    record = directory.verify_client_secret("isthmus-dualwrite", demo["isthmus-dualwrite"].secret)  # type: ignore[arg-type]
    assert tokens.validate(tokens.issue(record, ERP).access_token, ERP).claims["appid"] == "isthmus-dualwrite"
