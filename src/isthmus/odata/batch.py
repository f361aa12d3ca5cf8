"""OData v4 multipart ``$batch``: running the requests of a parsed batch against the app and writing the response.

Shared by the finance-and-operations-style ``/data/`` API and the Dataverse-style ``/api/data/v9.2/`` API. Parsing the
body is ``isthmus.odata.batch_parse`` (re-exported here, so callers need only this module). This module owns:

* URL resolution — absolute, absolute-path, service-root-relative and ``$<Content-ID>`` URLs to a path on this server;
* dispatch — each request goes through the whole ASGI app in-process (middleware, authentication, routing), with the
  outer request's connection facts and credentials;
* OData 4.0 semantics — a change set runs inside one ``changeset_scope()`` (normally ``Database.unit_of_work``, which
  the handlers join through its context variable) and is rolled back and answered with its one failed response if any
  request fails; outside change sets processing stops at the first failure unless ``Prefer: odata.continue-on-error``;
* the ``multipart/mixed`` response.

A typical endpoint::

    items = parse_batch(await request.body(), request.headers.get("content-type", ""), max_operations=5000)
    result = await execute_batch(request.app, request.scope, items, service_root_path="/data",
                                 changeset_scope=lambda: database.unit_of_work(context))
    return Response(result.body, status_code=200, headers=result.headers)
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import anyio
from starlette.types import ASGIApp, Message, Scope

from isthmus.errors import ClientError, InvalidRequestError, IsthmusError, RetryableError
from isthmus.odata.batch_parse import (
    BatchRequest,
    ChangeSet,
    content_id_reference,
    parse_batch,
    parse_content_type,
)

__all__ = [
    "BatchRequest",
    "BatchResponse",
    "ChangeSet",
    "InnerResponse",
    "content_id_reference",
    "default_error_response",
    "execute_batch",
    "parse_batch",
    "parse_content_type",
    "resolve_url",
]

log = logging.getLogger(__name__)

CRLF = b"\r\n"
_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Characters left as they are when a URL from a batch part becomes raw_path / query_string: everything legal in that
# component, and "%" so that what the client already escaped stays escaped. Spaces and non-ASCII get escaped.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?[]"
# Outer headers an inner request does not inherit: they describe the multipart body or its negotiation (an inherited
# Accept-Encoding would let a GZip middleware compress a part), are batch-level preferences, or are preconditions meant
# for the $batch resource. Everything else (Authorization, Cookie, Host, OData-Version, impersonation headers such as
# MSCRMCallerID) is inherited unless the inner request sets it.
_NOT_INHERITED = frozenset(
    {
        b"content-type",
        b"content-length",
        b"content-encoding",
        b"content-md5",
        b"transfer-encoding",
        b"expect",
        b"accept",
        b"accept-encoding",
        b"prefer",
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"if-range",
        b"range",
        b"content-id",
    }
)
# Inner headers recomputed here: the body may have been normalised or had references replaced.
_RECOMPUTED = frozenset({b"content-length", b"transfer-encoding"})
# Hop-by-hop response headers that mean nothing inside a multipart part.
_HOP_BY_HOP = frozenset({b"transfer-encoding", b"connection", b"keep-alive"})
# Names whose conventional spelling is not plain Title-Case; naive client parsers compare names case-sensitively.
_HEADER_SPELLING = {
    "odata-version": "OData-Version",
    "odata-maxversion": "OData-MaxVersion",
    "odata-entityid": "OData-EntityId",
    "etag": "ETag",
    "content-id": "Content-ID",
    "www-authenticate": "WWW-Authenticate",
}
_BIND_PROPERTY = re.compile(rb'("(?:[^"\\]|\\.)*@odata\.bind"\s*:\s*)(\[[^\]]*\]|"(?:[^"\\]|\\.)*")')
_REFERENCE_STRING = re.compile(rb'"\$([^"/?\\]+)((?:/[^"\\]*)?)"')


@dataclass(frozen=True)
class InnerResponse:
    """What the app answered to one request of the batch (header names lower-case, as ASGI sends them)."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("latin-1")
        return next((v.decode("latin-1") for k, v in self.headers if k.lower() == wanted), None)


@dataclass(frozen=True)
class BatchResponse:
    """The body and Content-Type of the ``$batch`` response (always sent with status 200)."""

    content_type: str
    body: bytes
    preference_applied: str | None = None
    """``odata.continue-on-error`` when the batch honoured it, for the ``Preference-Applied`` header."""

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": self.content_type, "OData-Version": "4.0"}
        if self.preference_applied:
            headers["Preference-Applied"] = self.preference_applied
        return headers


ErrorRenderer = Callable[[BaseException], InnerResponse]


def default_error_response(exc: BaseException) -> InnerResponse:
    """An OData JSON error for a failure this module has to answer itself (an unresolvable ``$n`` reference, an app
    that raised instead of answering, a change set whose commit failed).

    The status follows only the recovery marker and the family root; pass ``error_response=`` to ``execute_batch``
    to use the HTTP layer's full family-to-status mapping instead.
    """
    if isinstance(exc, IsthmusError):
        status = 503 if isinstance(exc, RetryableError) else 400 if isinstance(exc, ClientError) else 500
        error: dict[str, Any] = {"code": exc.code, "message": exc.full_message}
        if exc.target:
            error["target"] = exc.target
    else:  # an unexpected exception: its text may reveal internals, so it goes to the log only
        status = 500
        error = {
            "code": "InternalServerError",
            "message": "The request failed unexpectedly; the server log has why.",
        }
    body = json.dumps({"error": error}).encode("utf-8")
    headers = (
        (b"content-type", b"application/json; odata.metadata=minimal"),
        (b"odata-version", b"4.0"),
        (b"content-length", str(len(body)).encode("ascii")),
    )
    return InnerResponse(status, headers, body)


def resolve_url(url: str, service_root_path: str, content_ids: Mapping[str, str]) -> tuple[str, str]:
    """``(path, query_string)`` on this server for a URL from a batch part; both stay percent-encoded as sent.

    ``service_root_path`` is the path of the service root (``"/data"``); relative URLs are relative to it (to be exact,
    to the ``$batch`` URL inside it). ``content_ids`` maps the Content-IDs of earlier requests of the change set to
    the path of the entity each created; ``$1/SalesOrderLines`` becomes that path plus ``/SalesOrderLines``.
    """
    url = url.strip().split("#", 1)[0]
    if _ABSOLUTE_URL.match(url):
        parts = urlsplit(url)
        return parts.path or "/", parts.query
    path, _, query = url.partition("?")
    if path.startswith("/"):
        return path, query
    reference = content_id_reference(path)
    if reference is not None and reference in content_ids:
        return content_ids[reference].rstrip("/") + path[1 + len(reference) :], query
    root = service_root_path.strip("/")
    return (f"/{root}/{path}" if root else f"/{path}"), query


async def execute_batch(
    app: ASGIApp,
    scope: Scope,
    items: Sequence[BatchRequest | ChangeSet],
    *,
    service_root_path: str,
    changeset_scope: Callable[[], AbstractContextManager[Any]],
    error_response: ErrorRenderer = default_error_response,
) -> BatchResponse:
    """Run ``items`` (from ``parse_batch``) one after the other against ``app`` and build the batch response.

    ``scope`` is the outer ``$batch`` request's scope: inner requests get its scheme, server, client, root_path,
    lifespan state and headers (see ``_NOT_INHERITED``). ``app`` is the app that scope's ``root_path`` belongs to —
    ``request.app`` for a ``$batch`` route of that app. ``service_root_path`` is the service root as that app routes
    it (``"/data"``), without the root_path. ``changeset_scope`` opens what makes a change set atomic, e.g.
    ``lambda: database.unit_of_work(context)``; ``error_response`` renders failures this module answers itself.
    """
    runner = _Runner(app, scope, service_root_path, error_response)
    continue_on_error = _prefers_continue_on_error(scope)
    parts: list[bytes] = []
    for item in items:
        if isinstance(item, ChangeSet):
            part, failed = await runner.run_changeset(item, changeset_scope)
        else:
            response = await runner.run_request(item, {}, {})
            part, failed = _http_part(response, item.content_id), response.status >= 400
        parts.append(part)
        if failed and not continue_on_error:
            break  # OData 4.0 §11.7.4: without odata.continue-on-error the batch ends at the first failure
    boundary = f"batchresponse_{uuid.uuid4()}"
    return BatchResponse(
        content_type=f"multipart/mixed; boundary={boundary}",
        body=_multipart(boundary, parts) + CRLF,
        preference_applied="odata.continue-on-error" if continue_on_error else None,
    )


class _ChangeSetFailed(Exception):
    """Raised inside ``changeset_scope()`` so that the scope rolls the change set back."""


class _Runner:
    def __init__(
        self, app: ASGIApp, scope: Scope, service_root_path: str, error_response: ErrorRenderer
    ) -> None:
        self.app = app
        self.scope = scope
        self.error_response = error_response
        # Inner paths include the outer root_path, as an ASGI server would put it there (Starlette strips it to route).
        root = "/".join(p for p in (scope.get("root_path", "").strip("/"), service_root_path.strip("/")) if p)
        self.service_root = f"/{root}" if root else ""

    async def run_changeset(
        self, changeset: ChangeSet, changeset_scope: Callable[[], AbstractContextManager[Any]]
    ) -> tuple[bytes, bool]:
        answered: list[tuple[BatchRequest, InnerResponse]] = []
        failure: InnerResponse | None = None
        failed_request: BatchRequest | None = None
        try:
            with changeset_scope():
                content_ids: dict[str, str] = {}  # Content-ID → path of the entity created, for URLs
                locations: dict[str, str] = {}  # Content-ID → the URL as the app wrote it, for @odata.bind
                for request in changeset.requests:
                    response = await self.run_request(request, content_ids, locations)
                    if response.status >= 400:
                        failure, failed_request = response, request
                        raise _ChangeSetFailed
                    answered.append((request, response))
                    location = response.header("location") or response.header("odata-entityid")
                    if request.content_id is not None and location:
                        content_ids[request.content_id] = _url_path(location)
                        locations[request.content_id] = location
        except _ChangeSetFailed:
            pass
        except Exception as exc:
            # The scope itself failed: opening the transaction, committing it (a pre-commit hook such as dual-write
            # refused), or rolling back after a failed request. Nothing of the change set was kept either way.
            log.warning(
                "A change set of %d requests failed in its scope", len(changeset.requests), exc_info=True
            )
            if failure is None:
                failure = self.error_response(exc)
        if failure is not None:
            # OData 4.0: a failed change set is answered with the single response of the request that failed.
            return _http_part(failure, failed_request.content_id if failed_request else None), True
        boundary = f"changesetresponse_{uuid.uuid4()}"
        head = b"Content-Type: multipart/mixed; boundary=" + boundary.encode("ascii") + CRLF + CRLF
        parts = [_http_part(response, request.content_id) for request, response in answered]
        return head + _multipart(boundary, parts), False

    async def run_request(
        self, request: BatchRequest, content_ids: Mapping[str, str], locations: Mapping[str, str]
    ) -> InnerResponse:
        reference = content_id_reference(request.url)
        if reference is not None and reference not in content_ids:
            return self.error_response(
                InvalidRequestError(
                    f"{request.method} {request.url} refers to ${reference}, but no earlier request of its change "
                    f"set with Content-ID {reference} created an entity (no Location or OData-EntityId header).",
                    target=request.url,
                )
            )
        path, query = resolve_url(request.url, self.service_root, content_ids)
        body = _replace_bind_references(request.body, locations) if locations else request.body
        return await self._dispatch(self._inner_scope(request, path, query, body), body)

    def _inner_scope(self, request: BatchRequest, path: str, query: str, body: bytes) -> dict[str, Any]:
        own = [
            (name.strip().lower().encode("latin-1"), value.encode("utf-8", "surrogateescape"))
            for name, value in request.headers
            if name.strip().lower().encode("latin-1") not in _RECOMPUTED
        ]
        own_names = {name for name, _ in own}
        inherited = [
            (name.lower(), value)
            for name, value in self.scope.get("headers", [])
            if name.lower() not in _NOT_INHERITED and name.lower() not in own_names
        ]
        headers = inherited + own
        if body or request.method in ("POST", "PUT", "PATCH"):
            headers.append((b"content-length", str(len(body)).encode("ascii")))
        raw_path = quote(path, safe=_PATH_SAFE, errors="surrogateescape")
        inner: dict[str, Any] = {
            "type": "http",
            "asgi": dict(self.scope.get("asgi") or {"version": "3.0"}),
            "http_version": self.scope.get("http_version", "1.1"),
            "method": request.method,
            "scheme": self.scope.get("scheme", "http"),
            "path": unquote(raw_path),
            "raw_path": raw_path.encode("ascii"),
            "query_string": quote(query, safe=_QUERY_SAFE, errors="surrogateescape").encode("ascii"),
            "root_path": self.scope.get("root_path", ""),
            "headers": headers,
            "server": self.scope.get("server"),
            "client": self.scope.get("client"),
        }
        if "app_root_path" in self.scope:
            inner["app_root_path"] = self.scope["app_root_path"]
        if "state" in self.scope:  # lifespan state, shallow-copied per request as an ASGI server does
            inner["state"] = dict(self.scope["state"])
        return inner

    async def _dispatch(self, scope: dict[str, Any], body: bytes) -> InnerResponse:
        status: int | None = None
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        complete = anyio.Event()
        body_sent = False

        async def receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            # Like a real connection, report a disconnect only once the response is over: Starlette's streaming
            # responses listen for it and would stop early.
            await complete.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    complete.set()

        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            # Starlette's ServerErrorMiddleware answers 500 and then re-raises for the server to log; the batch goes
            # on, so log it here and keep the answer if it was complete.
            log.exception("%s %s inside a $batch raised", scope["method"], scope["path"])
            if status is None or not complete.is_set():
                return self.error_response(exc)
        finally:
            complete.set()
        if status is None:
            return self.error_response(RuntimeError(f"{scope['method']} {scope['path']} sent no response"))
        return InnerResponse(status, tuple(headers), b"".join(chunks))


# --- response writing ---------------------------------------------------------------------------------------------


def _http_part(response: InnerResponse, content_id: str | None) -> bytes:
    head = [b"Content-Type: application/http", b"Content-Transfer-Encoding: binary"]
    if content_id is not None:
        head.append(b"Content-ID: " + content_id.encode("utf-8", "surrogateescape"))
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {response.status} {reason}".encode("ascii")]
    lines += [
        _spell(name) + b": " + value for name, value in response.headers if name.lower() not in _HOP_BY_HOP
    ]
    return CRLF.join(head) + CRLF + CRLF + CRLF.join(lines) + CRLF + CRLF + response.body


def _multipart(boundary: str, parts: Sequence[bytes]) -> bytes:
    """Parts between delimiter lines, up to and including the closing delimiter (no line break after it)."""
    delimiter = b"--" + boundary.encode("ascii")
    return b"".join(delimiter + CRLF + part + CRLF for part in parts) + delimiter + b"--"


def _spell(name: bytes) -> bytes:
    lower = name.decode("latin-1").lower()
    spelled = _HEADER_SPELLING.get(lower) or "-".join(
        word[:1].upper() + word[1:] for word in lower.split("-")
    )
    return spelled.encode("latin-1")


# --- small helpers ------------------------------------------------------------------------------------------------


def _prefers_continue_on_error(scope: Scope) -> bool:
    name: bytes
    value: bytes
    for name, value in scope.get("headers", []):
        if name.lower() != b"prefer":
            continue
        for preference in value.decode("latin-1").split(","):
            token, _, setting = preference.split(";", 1)[0].partition("=")
            # odata.continue-on-error is OData 4.0; 4.01 drops the prefix and allows an explicit =true/=false.
            if token.strip().lower() in ("odata.continue-on-error", "continue-on-error"):
                return setting.strip().strip('"').lower() != "false"
    return False


def _url_path(url: str) -> str:
    """The path of an absolute or absolute-path URL (a Location header), still percent-encoded."""
    if _ABSOLUTE_URL.match(url):
        return urlsplit(url).path or "/"
    return url.split("?", 1)[0].split("#", 1)[0]


def _replace_bind_references(body: bytes, locations: Mapping[str, str]) -> bytes:
    """Replace ``$n`` in ``...@odata.bind`` values of a JSON body by the URL of the entity request ``n`` created.

    Dataverse allows ``"parentcustomerid_account@odata.bind": "$1"`` inside a change set. This works on the JSON text
    rather than a parsed copy, so the rest of the body reaches the handler byte for byte (decimals keep their digits).
    """
    if b"@odata.bind" not in body:
        return body

    def replace_string(match: re.Match[bytes]) -> bytes:
        content_id = match.group(1).decode("utf-8", "surrogateescape")
        if content_id not in locations:
            return match.group(0)
        url = locations[content_id] + match.group(2).decode("utf-8", "surrogateescape")
        return json.dumps(url).encode("utf-8")

    return _BIND_PROPERTY.sub(lambda m: m.group(1) + _REFERENCE_STRING.sub(replace_string, m.group(2)), body)
