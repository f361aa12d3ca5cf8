"""``POST /oauth2/token``: the OAuth 2.0 token endpoint (RFC 6749).

Two grants, each asking for one resource with ``scope=<resource>/.default`` (or ``resource=<resource>``):

* ``client_credentials`` — an application signs in with ``client_id`` and ``client_secret``, sent as form fields or
  with HTTP Basic authentication (RFC 6749 §2.3.1);
* ``password`` — a person signs in with ``username`` and ``password`` (the resource owner password grant, what Entra
  ID calls ROPC).

Success is ``{"access_token", "token_type": "Bearer", "expires_in", "scope"}``; failure is RFC 6749 §5.2 error JSON
(``invalid_request``, ``invalid_client`` with 401, ``invalid_grant``, ``unsupported_grant_type``, ``invalid_scope``).
Both carry ``Cache-Control: no-store``. Secrets, tokens and request bodies are never logged.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote_plus

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from isthmus.api.errors import translate
from isthmus.errors import AuthenticationError, InvalidRequestError, UnavailableError
from isthmus.identity.directory import PrincipalRecord
from isthmus.identity.resources import ScopeError, resolve_audience
from isthmus.identity.tokens import IssuedToken, TokenService

log = logging.getLogger(__name__)

PATH = "/oauth2/token"
MAX_BODY_BYTES = 64 * 1024
FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
GRANTS = ("client_credentials", "password")


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: ``error`` code, human-readable ``description``, HTTP ``status``."""

    def __init__(self, error: str, description: str, status: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}

    def response(self) -> Response:
        return JSONResponse({"error": self.error, "error_description": self.description}, status_code=self.status,
                            headers={**NO_STORE, **self.headers})


def token_endpoint(tokens: TokenService) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint; mount it with ``token_route(tokens)`` or ``Route(PATH, token_endpoint(tokens))``."""

    async def endpoint(request: Request) -> Response:
        try:
            if request.method != "POST":
                raise OAuthError("invalid_request", f"Send the token request with POST, not {request.method}.", 405,
                                 {"Allow": "POST"})
            form = await _read_form(request)
            issued = await run_in_threadpool(_grant, tokens, form, request.headers.get("authorization"))
        except OAuthError as exc:
            log.info("identity: token request refused: %s (%s)", exc.error, exc.description)
            return exc.response()
        except Exception as exc:  # noqa: BLE001  the directory's database failed: answer in the protocol
            failure = translate(exc)
            unavailable = isinstance(failure, UnavailableError)
            return OAuthError("temporarily_unavailable" if unavailable else "server_error", failure.message,
                              503 if unavailable else 500).response()
        return JSONResponse(
            {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in,
             "scope": issued.scope},
            headers=NO_STORE,
        )

    return endpoint


def token_route(tokens: TokenService) -> Route:
    return Route(PATH, token_endpoint(tokens), methods=["GET", "POST"])


async def _read_form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != FORM:
        raise OAuthError("invalid_request", f"The token request must be {FORM}, not {media_type or 'empty'}.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise OAuthError("invalid_request", f"The token request is larger than {MAX_BODY_BYTES} bytes.")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body.strip()))
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "The token request body is not valid form data.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.2: parameters must not be sent more than once
            raise OAuthError("invalid_request", f"The parameter {name} is sent more than once.")
        form[name] = value
    return form


def _grant(tokens: TokenService, form: dict[str, str], authorization: str | None) -> IssuedToken:
    grant_type = form.get("grant_type", "").strip()
    if not grant_type:
        raise OAuthError("invalid_request", f"The request needs grant_type ({' or '.join(GRANTS)}).")
    if grant_type not in GRANTS:
        raise OAuthError("unsupported_grant_type",
                         f"The grant type {grant_type} is not supported; use {' or '.join(GRANTS)}.")
    client = _client_credentials(form, authorization)
    try:
        audience = resolve_audience(form.get("scope"), form.get("resource"))
    except ScopeError as exc:
        raise OAuthError("invalid_scope", exc.message) from None
    except InvalidRequestError as exc:
        raise OAuthError("invalid_request", exc.message) from None
    if grant_type == "client_credentials":
        if client is None:
            raise OAuthError("invalid_request", "The client_credentials grant needs client_id and client_secret "
                             "(form fields or HTTP Basic authentication).")
        record = _authenticate_client(tokens, client)
    else:
        if client is not None:  # a confidential client signing a person in must prove who it is
            _authenticate_client(tokens, client)
        username, password = form.get("username", ""), form.get("password", "")
        if not username or not password:
            raise OAuthError("invalid_request", "The password grant needs username and password.")
        try:
            record = tokens.directory.verify_password(username, password)
        except AuthenticationError as exc:
            log.info("identity: sign-in refused for user %s", username)
            raise OAuthError("invalid_grant", exc.full_message) from None
    return tokens.issue(record, audience)


def _client_credentials(form: dict[str, str], authorization: str | None) -> Client | None:
    """The client's id and secret candidates, or ``None`` when no secret was sent."""
    basic = _basic(authorization)
    if basic is not None and "client_secret" in form:
        raise OAuthError("invalid_request", "Send the client secret either with HTTP Basic authentication or as "
                         "client_secret, not both.")
    if basic is not None:
        if form.get("client_id") and form["client_id"] not in {c[0] for c in basic.candidates}:
            raise OAuthError("invalid_request", "client_id does not match the client of the Authorization header.")
        return basic
    if form.get("client_secret"):
        return Client(((form.get("client_id", ""), form["client_secret"]),), basic=False)
    return None


class Client(NamedTuple):
    candidates: tuple[tuple[str, str], ...]
    """(client id, secret) as sent, then form-decoded if that differs: RFC 6749 §2.3.1 asks clients to form-encode
    both before Basic encoding, but many send them raw."""
    basic: bool


def _basic(authorization: str | None) -> Client | None:
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        decoded = ""
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise OAuthError("invalid_request", "The Authorization header is not valid HTTP Basic authentication "
                         "(base64 of client_id:client_secret).")
    candidates = [(client_id, secret)]
    if (unquote_plus(client_id), unquote_plus(secret)) != (client_id, secret):
        candidates.append((unquote_plus(client_id), unquote_plus(secret)))
    return Client(tuple(candidates), basic=True)


def _authenticate_client(tokens: TokenService, client: Client) -> PrincipalRecord:
    failure: AuthenticationError | None = None
    for client_id, secret in client.candidates:
        if not client_id:
            raise OAuthError("invalid_request", "The request needs client_id.")
        try:
            return tokens.directory.verify_client_secret(client_id, secret)
        except AuthenticationError as exc:
            failure = exc
    assert failure is not None
    log.info("identity: client authentication refused for client %s", client.candidates[0][0])
    headers = {"WWW-Authenticate": 'Basic realm="isthmus"'} if client.basic else {}
    raise OAuthError("invalid_client", failure.full_message, 401, headers) from None
