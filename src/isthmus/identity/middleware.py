"""Authentication for every API: a pure ASGI middleware that lets a request reach a protected API only with a valid
bearer token for that API's audience (RFC 6750), and records who is calling in ``scope["isthmus.principal"]``.

``protected`` maps a path prefix to the audience it requires; a prefix also matches after ``/environments/<name>``
(so ``/environments/contoso/data/Customers`` needs the ``/data`` audience). Prefixes are matched whole-segment and
without regard to case, after collapsing ``//`` and dot segments, so a path cannot dodge its prefix by spelling.
Other paths (``/``, ``/health``, ``/oauth2/token``) pass untouched.

A missing or invalid token gets 401 with the OData error body every API uses and a ``WWW-Authenticate: Bearer``
header. In development mode a request *without* a token runs as the development principal; a token that is sent is
still validated, so clients can be tested against the real checks.
"""

from __future__ import annotations

import dataclasses
import logging
import posixpath
import re
from collections.abc import Callable, Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from isthmus.api.http import error_response
from isthmus.errors import AuthenticationError
from isthmus.identity.principal import SCOPE_KEY, Principal, principal_of
from isthmus.identity.tokens import TokenService

log = logging.getLogger(__name__)

ENVIRONMENT_PREFIX = re.compile(r"^/environments/[^/]+(?=/|$)", re.IGNORECASE)
_B64TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")  # RFC 6750 §2.1
REALM = "isthmus"

__all__ = ["Authentication", "principal_of"]


class Authentication:
    def __init__(
        self,
        app: ASGIApp,
        tokens: TokenService,
        *,
        protected: Mapping[str, str],
        development_mode: bool = False,
        development_principal: Callable[[], Principal] | None = None,
    ) -> None:
        if development_mode and development_principal is None:
            raise ValueError("development mode needs a development_principal")
        self.app = app
        self.tokens = tokens
        # longest prefix first, so a nested prefix wins over the one containing it
        self.protected = sorted(((_normalize(p).lower(), a) for p, a in protected.items()), key=lambda i: -len(i[0]))
        self.development_mode = development_mode
        self.development_principal = development_principal

    def audience_for(self, path: str) -> str | None:
        """The audience a request path needs, or ``None`` if the path is not protected."""
        path = _normalize(path).lower()
        candidates = [path]
        environment = ENVIRONMENT_PREFIX.match(path)
        if environment:
            candidates.append(path[environment.end():] or "/")
        for candidate in candidates:
            for prefix, audience in self.protected:
                if candidate == prefix or candidate.startswith(prefix.rstrip("/") + "/"):
                    return audience
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        audience = self.audience_for(_route_path(scope))
        if audience is None:
            await self.app(scope, receive, send)
            return
        try:
            principal = self._authenticate(scope, audience)
        except AuthenticationError as exc:
            await _refuse(scope, receive, send, exc, audience)
            return
        scope[SCOPE_KEY] = principal
        await self.app(scope, receive, send)

    def _authenticate(self, scope: Scope, audience: str) -> Principal:
        values = [v for k, v in scope.get("headers", ()) if k.lower() == b"authorization"]
        if not values and self.development_mode:
            assert self.development_principal is not None
            return dataclasses.replace(self.development_principal(), audience=audience)
        if len(values) > 1:
            raise AuthenticationError("The request has more than one Authorization header; send exactly one.")
        token = _bearer_token(values[0].decode("latin-1")) if values else None
        return self.tokens.validate(token, audience)


def _bearer_token(header: str) -> str:
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthenticationError(
            f"The Authorization header uses the {scheme or 'empty'} scheme; send Authorization: Bearer <token>."
            if scheme else "The Authorization header is empty; send Authorization: Bearer <token>."
        )
    token = rest.strip()
    if not token:
        raise AuthenticationError("The Authorization header has no token after Bearer; send "
                                  "Authorization: Bearer <token>.")
    if not _B64TOKEN.match(token):
        raise AuthenticationError("The Authorization header is malformed: the bearer token must be a single word of "
                                  "base64url characters; send Authorization: Bearer <token>.")
    return token


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: AuthenticationError, audience: str) -> None:
    log.info("identity: refused %s %s: %s", scope.get("method", "WEBSOCKET"), scope.get("path"), exc.message)
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": exc.message[:120]})
        return
    response = error_response(exc)
    response.headers["WWW-Authenticate"] = _challenge(exc, audience)
    await response(scope, receive, send)


def _challenge(exc: AuthenticationError, audience: str) -> str:
    """RFC 6750 §3: ``error="invalid_token"`` with a description; a request that sent no credentials at all gets
    the bare challenge, as §3.1 asks."""
    parts = [f'realm="{REALM}"', f'resource_id="{audience}"']
    if not exc.message.startswith("No token"):
        description = exc.message.replace("\\", "\\\\").replace('"', "'")
        parts += ['error="invalid_token"', f'error_description="{description}"']
    return "Bearer " + ", ".join(parts)


def _route_path(scope: Scope) -> str:
    path: str = scope.get("path", "/")
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path):]
    return path or "/"


def _normalize(path: str) -> str:
    """Collapse ``//`` and resolve ``.``/``..`` so that ``/x/../data`` and ``//data`` are matched as ``/data``."""
    return "/" + posixpath.normpath("/" + path.lstrip("/")).lstrip("/")
