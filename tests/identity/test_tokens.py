"""Access tokens: the claims issued, and every way validation refuses a token, each with its own message."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from isthmus.config import Settings
from isthmus.errors import AuthenticationError, ConfigurationError, InvalidRequestError, ValidationError
from isthmus.identity import ADMIN, DATAVERSE, ERP, Directory, TokenService
from isthmus.identity.resources import ScopeError, resolve_audience
from isthmus.identity.tokens import ALGORITHM
from isthmus.storage import Database


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _refusal(tokens: TokenService, token: str | None, audience: str = ERP) -> str:
    with pytest.raises(AuthenticationError) as caught:
        tokens.validate(token, audience)
    assert caught.value.code == "Unauthorized"
    return caught.value.message


def test_a_user_token_carries_the_entra_style_claims(tokens: TokenService, alice) -> None:
    issued = tokens.issue(alice, ERP)
    claims = _claims(issued.access_token)
    assert jwt.get_unverified_header(issued.access_token) == {"alg": "HS256", "typ": "JWT"}
    assert claims["iss"] == tokens.issuer == f"https://login.isthmus.local/{tokens.tenant_id}/v2.0"
    assert claims["sub"] == claims["oid"] == alice.object_id
    assert claims["aud"] == ERP and claims["tid"] == tokens.tenant_id
    assert claims["nbf"] == claims["iat"] and claims["exp"] - claims["iat"] == 3600 == issued.expires_in
    assert abs(claims["iat"] - time.time()) < 5
    assert claims["name"] == "Alice Example" and claims["preferred_username"] == "alice@isthmus.test"
    assert claims["roles"] == ["Administrator"] and claims["idtyp"] == "user" and "appid" not in claims
    assert issued.scope == "api://isthmus/erp/.default"
    assert issued.access_token not in repr(issued)


def test_an_application_token_names_the_client(tokens: TokenService, robot) -> None:
    claims = _claims(tokens.issue(robot, DATAVERSE).access_token)
    assert claims["appid"] == "robot-app" and claims["idtyp"] == "app" and claims["roles"] == []
    assert "preferred_username" not in claims and claims["aud"] == DATAVERSE


def test_a_valid_token_gives_the_principal_for_its_audience(tokens: TokenService, alice, robot) -> None:
    for record, audience in ((alice, ERP), (alice, ADMIN), (robot, DATAVERSE)):
        principal = tokens.validate(tokens.issue(record, audience).access_token, audience)
        assert (principal.object_id, principal.kind, principal.name, principal.audience) == (
            record.object_id, record.kind, record.name, audience)
        assert principal.claims["aud"] == audience and principal.directory_roles == record.directory_roles
    assert tokens.validate(tokens.issue(alice, ERP).access_token, ERP).is_administrator


def test_no_token(tokens: TokenService) -> None:
    assert _refusal(tokens, None) == "No token: send Authorization: Bearer <token>."
    assert _refusal(tokens, "") == "No token: send Authorization: Bearer <token>."


def test_an_expired_token(directory: Directory, alice) -> None:
    two_hours_ago = TokenService(directory, clock=lambda: time.time() - 7200)
    token = two_hours_ago.issue(alice, ERP).access_token
    assert _refusal(TokenService(directory), token) == "The token has expired."


def test_expiry_allows_a_small_clock_skew(directory: Directory, alice) -> None:
    nearly = TokenService(directory, clock=lambda: time.time() - 3610)  # expired 10 s ago, leeway 30 s
    assert TokenService(directory).validate(nearly.issue(alice, ERP).access_token, ERP).name == alice.name


def test_a_token_not_valid_yet(directory: Directory, alice) -> None:
    future = TokenService(directory, clock=lambda: time.time() + 600)
    token = future.issue(alice, ERP).access_token
    assert _refusal(TokenService(directory), token) == "The token is not valid yet (its nbf or iat is in the future)."


def test_a_bad_signature(tokens: TokenService, alice) -> None:
    token = tokens.issue(alice, ERP).access_token
    header, _, signature = token.split(".")
    tampered_claims = {**_claims(token), "roles": ["Administrator", "Auditor"]}
    tampered = ".".join((header, base64.urlsafe_b64encode(json.dumps(tampered_claims).encode()).decode().rstrip("="),
                         signature))
    assert _refusal(tokens, tampered) == "The token's signature is invalid."
    forged = jwt.encode(_claims(token), "another key of thirty-two bytes or more!", algorithm=ALGORITHM)
    assert _refusal(tokens, forged) == "The token's signature is invalid."


def test_an_unsigned_or_differently_signed_token(tokens: TokenService, alice) -> None:
    claims = _claims(tokens.issue(alice, ERP).access_token)
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert _refusal(tokens, unsigned) == "The token is not signed with HS256, the only algorithm accepted."


def test_a_wrong_audience(tokens: TokenService, alice) -> None:
    token = tokens.issue(alice, ERP).access_token
    assert _refusal(tokens, token, DATAVERSE) == (
        "The token's audience api://isthmus/erp is not valid for this API (expected api://isthmus/dataverse).")


def test_a_wrong_issuer(directory: Directory, tokens: TokenService, alice) -> None:
    other = TokenService(directory, issuer="https://login.example.com/other/v2.0")
    token = other.issue(alice, ERP).access_token
    assert _refusal(tokens, token) == (
        f"The token's issuer https://login.example.com/other/v2.0 is not valid (expected {tokens.issuer}).")


def test_a_disabled_principal(directory: Directory, tokens: TokenService, alice, robot) -> None:
    user_token, app_token = tokens.issue(alice, ERP).access_token, tokens.issue(robot, ERP).access_token
    tokens.validate(user_token, ERP)  # cached now; disabling must still count at once
    directory.disable(alice.object_id)
    directory.disable("robot-app")
    assert _refusal(tokens, user_token) == "The token's user alice@isthmus.test is disabled."
    assert _refusal(tokens, app_token) == "The token's application robot-app is disabled."
    with pytest.raises(AuthenticationError, match="is disabled"):
        tokens.issue(directory.get(alice.object_id), ERP)


def test_a_deleted_principal(directory: Directory, tokens: TokenService, alice) -> None:
    token = tokens.issue(alice, ERP).access_token
    directory.delete(alice.object_id)
    assert _refusal(tokens, token) == f"The token's principal {alice.object_id} no longer exists in the directory."


def test_a_malformed_token_or_missing_claims(tokens: TokenService, alice) -> None:
    assert _refusal(tokens, "not-a-jwt") == "The token is malformed: it is not a signed JWT."
    assert _refusal(tokens, "a.b.c") == "The token is malformed: it is not a signed JWT."
    claims = _claims(tokens.issue(alice, ERP).access_token)
    del claims["oid"]
    assert _refusal(tokens, jwt.encode(claims, tokens._key, algorithm=ALGORITHM)) == "The token has no oid claim."


def test_messages_say_where_to_get_a_token(tokens: TokenService) -> None:
    with pytest.raises(AuthenticationError) as caught:
        tokens.validate(None, DATAVERSE)
    assert caught.value.next_step == "Get one from POST /oauth2/token with scope=api://isthmus/dataverse/.default."


def test_the_key_and_tenant_are_kept_in_the_control_plane_database(control_db: Database, directory: Directory,
                                                                   alice) -> None:
    first = TokenService(directory)
    again = TokenService(Directory(control_db))  # another process: same key, same tenant, same issuer
    assert again.tenant_id == first.tenant_id and again.issuer == first.issuer
    assert again.validate(first.issue(alice, ERP).access_token, ERP).name == alice.name


def test_a_configured_key_is_used_and_must_be_long_enough(directory: Directory, alice) -> None:
    key = "k" * 32
    configured = TokenService(directory, signing_key=key)
    token = configured.issue(alice, ERP).access_token
    assert jwt.decode(token, key, algorithms=["HS256"], audience=ERP)["oid"] == alice.object_id
    assert _refusal(TokenService(directory), token) == "The token's signature is invalid."
    with pytest.raises(ConfigurationError, match="31 bytes long; at least 32 are required"):
        TokenService(directory, signing_key="k" * 31)


def test_settings_may_carry_the_key_and_issuer(directory: Directory, alice) -> None:
    settings = Settings(extra={"token_signing_key": "s" * 40, "token_issuer": "https://isthmus.example/"})
    tokens = TokenService.from_settings(directory, settings)
    claims = jwt.decode(tokens.issue(alice, ADMIN).access_token, "s" * 40, algorithms=["HS256"], audience=ADMIN)
    assert claims["iss"] == "https://isthmus.example/"


def test_tokens_are_issued_only_for_known_resources(tokens: TokenService, alice) -> None:
    with pytest.raises(ValidationError, match="not a resource"):
        tokens.issue(alice, "api://elsewhere")


@pytest.mark.parametrize(("scope", "resource", "audience"), [
    ("api://isthmus/erp/.default", None, ERP),
    ("openid profile offline_access api://isthmus/dataverse/.default", None, DATAVERSE),
    ("api://isthmus/admin/", None, ADMIN),
    (None, "api://isthmus/erp", ERP),
    ("api://isthmus/erp/.default", "api://isthmus/erp", ERP),
])
def test_scopes_name_one_resource(scope: str | None, resource: str | None, audience: str) -> None:
    assert resolve_audience(scope, resource) == audience


def test_bad_scopes() -> None:
    with pytest.raises(InvalidRequestError, match="The request needs a scope"):
        resolve_audience(None, None)
    with pytest.raises(ScopeError, match="api://elsewhere is not a resource of this instance"):
        resolve_audience("api://elsewhere/.default")
    with pytest.raises(ScopeError, match="A token is for one resource"):
        resolve_audience("api://isthmus/erp/.default api://isthmus/admin/.default")
    with pytest.raises(ScopeError, match="names no resource"):
        resolve_audience("openid profile")
