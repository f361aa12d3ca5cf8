"""HTTP helpers both OData services use: JSON responses with OData headers, reading bounded bodies, Prefer headers,
and the error wrapper that turns every failure into an OData error response."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from isthmus.api.errors import error_payload
from isthmus.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from isthmus.odata.batch import InnerResponse
from isthmus.odata.values import dumps, loads

log = logging.getLogger(__name__)

JSON = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"
ODATA_HEADERS = {"OData-Version": "4.0"}


def service_base(request: Request) -> str:
    """Scheme, host and the path mounts added (``/environments/<name>``), without a trailing slash: where this
    request's service root lives."""
    root_path = request.scope.get("root_path", "")
    app_root = request.scope.get("app_root_path", "")
    mounted = root_path[len(app_root):] if root_path.startswith(app_root) else root_path
    return str(request.base_url).rstrip("/") + mounted


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(payload), status_code=status, media_type=JSON, headers={**ODATA_HEADERS, **(headers or {})})


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    return Response(b"", status_code=status, headers={**ODATA_HEADERS, **(headers or {})})


def batch_error_response(exc: BaseException) -> InnerResponse:
    """The same error a request would get, for a ``$batch`` part the batch runner has to answer itself."""
    status, body, headers = error_payload(exc)
    pairs = [(b"content-type", b"application/json; charset=utf-8"), (b"odata-version", b"4.0")]
    pairs += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return InnerResponse(status, tuple(pairs), body)


def error_response(exc: BaseException) -> Response:
    status, body, headers = error_payload(exc)
    return Response(body, status_code=status, media_type="application/json; charset=utf-8", headers={**ODATA_HEADERS, **headers})


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"The request body is {declared} bytes; at most {limit} are accepted.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"The request body is larger than the {limit} bytes accepted.")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int, *, required: bool = True) -> Any:
    body = await read_body(request, limit)
    if not body.strip():
        if required:
            raise InvalidRequestError("The request needs a JSON body.")
        return None
    content_type = request.headers.get("content-type", "application/json")
    if "json" not in content_type:
        raise UnsupportedMediaTypeError(f"The body must be application/json, not {content_type}.")
    try:
        return loads(body)
    except ValueError as exc:
        raise InvalidRequestError(f"The request body is not valid JSON: {exc}.") from exc


def prefer(request: Request) -> dict[str, str]:
    """Parse the Prefer header(s) into {preference: value}; quoted values may contain commas
    (``odata.include-annotations="A,B"``)."""
    result: dict[str, str] = {}
    for header in request.headers.getlist("prefer"):
        for item in _split_unquoted(header, ","):
            name, _, value = item.strip().partition("=")
            if name:
                result[name.strip().lower()] = value.strip().strip('"')
    return result


def _split_unquoted(text: str, separator: str) -> list[str]:
    parts, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


Handler = Callable[[Request], Awaitable[Response]]


def guarded(handler: Handler) -> Handler:
    """Every failure becomes an OData error response; an unexpected one is logged and answered with 500."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception as exc:  # the one place a request's failure is turned into a response
            return error_response(exc)

    return endpoint
