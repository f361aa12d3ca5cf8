"""Reading an OData v4 multipart ``$batch`` request body into the requests and change sets it carries.

This module owns the *syntax* of a ``multipart/mixed`` batch (RFC 2046 parts, OData 4.0 Part 1 §11.7 rules on
change sets and Content-IDs) and nothing else; running the requests and writing the batch response is
``isthmus.odata.batch``. Clients disagree on line endings (Microsoft's SDK sends CRLF, the ``dataverse-api`` client
sends bare LF, hand-built bodies mix both), so every line break here is CRLF or LF. Bodies stay bytes. Every defect is
an ``InvalidRequestError`` naming the part at fault, because part numbers are all a client has to find it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from isthmus.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError

__all__ = [
    "METHODS",
    "BatchRequest",
    "ChangeSet",
    "content_id_reference",
    "parse_batch",
    "parse_content_type",
]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
"""The methods a batch part may carry."""

_READ_METHODS = frozenset({"GET", "HEAD"})
# URLs starting with one of these "$" names address an OData resource, not a Content-ID ("$metadata", "$entity"...).
_SYSTEM_RESOURCES = frozenset({"metadata", "batch", "entity", "crossjoin", "all", "root"})
# Encodings that leave the bytes as sent. base64 or quoted-printable would need decoding, and no OData client uses them.
_IDENTITY_ENCODINGS = frozenset({"binary", "8bit", "7bit"})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HTTP_VERSION = re.compile(r"HTTP/\d(\.\d)?")
# A line that reads like a request line, to explain a missing blank line better than "malformed header".
_LOOKS_LIKE_REQUEST_LINE = re.compile(r"^[A-Za-z]+ \S.* HTTP/\d")


@dataclass(frozen=True)
class BatchRequest:
    """One HTTP request of a batch, as sent: ``url`` is absolute, absolute-path, relative to the service root, or a
    ``$<Content-ID>`` reference; header names keep the client's case."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    content_id: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return _header(self.headers, name)


@dataclass(frozen=True)
class ChangeSet:
    """Requests that succeed or fail together (one unit of work)."""

    requests: tuple[BatchRequest, ...]


def parse_batch(body: bytes, content_type: str, *, max_operations: int) -> list[BatchRequest | ChangeSet]:
    """Split a ``$batch`` body into its requests and change sets, in order.

    ``content_type`` is the outer request's Content-Type header (it carries the boundary). Raises
    ``InvalidRequestError`` for malformed input, ``UnsupportedMediaTypeError`` for a body that is not
    ``multipart/mixed``, and ``PayloadTooLargeError`` when the batch holds more than ``max_operations`` requests
    (counting those inside change sets).
    """
    boundary = _batch_boundary(content_type)
    if not body.strip():
        raise InvalidRequestError(
            "The $batch request body is empty.",
            next_step=f"Send at least the closing delimiter '--{boundary}--'.",
        )
    items: list[BatchRequest | ChangeSet] = []
    operations = 0
    changesets = 0
    for index, part in enumerate(_split_multipart(body, boundary, "The batch body"), start=1):
        where = f"Batch part {index}"
        mime, content = _mime_part(part, where)
        media, params = _part_type(mime, where)
        if media == "multipart/mixed":
            changesets += 1
            changeset = _parse_changeset(content, params.get("boundary"), index, changesets)
            operations += len(changeset.requests)
            items.append(changeset)
        else:
            request = _parse_request(content, mime, where)
            reference = content_id_reference(request.url)
            if reference is not None:
                raise InvalidRequestError(
                    f"{where} refers to ${reference}, but Content-ID references work only between requests of "
                    "the same change set.",
                    next_step="Put the request and the one it refers to in one change set.",
                )
            operations += 1
            items.append(request)
        if operations > max_operations:
            raise PayloadTooLargeError(
                f"The batch holds more than {max_operations} requests, the most one $batch may carry.",
                next_step="Split the requests into several $batch requests.",
                details={"max_operations": max_operations},
            )
    return items


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """``'multipart/mixed; boundary="b"'`` → ``("multipart/mixed", {"boundary": "b"})``: the media type and parameter
    names lower-cased, quoted values unquoted."""
    pieces = _split_outside_quotes(value, ";")
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, eq, raw = piece.partition("=")
        if eq:
            params[name.strip().lower()] = _unquote(raw.strip())
    return pieces[0].strip().lower(), params


def content_id_reference(url: str) -> str | None:
    """The Content-ID that ``url`` starts with a reference to (``$1/SalesOrderLines`` → ``"1"``), or ``None``."""
    if not url.startswith("$"):
        return None
    head = re.split(r"[/?(]", url[1:], maxsplit=1)[0]
    if not head or head.lower() in _SYSTEM_RESOURCES:
        return None
    return head


# --- multipart structure -----------------------------------------------------------------------------------------


def _batch_boundary(content_type: str) -> str:
    if not content_type.strip():
        raise InvalidRequestError(
            "The $batch request has no Content-Type header.",
            next_step="Send 'Content-Type: multipart/mixed; boundary=batch_<id>'.",
        )
    media, params = parse_content_type(content_type)
    if media != "multipart/mixed":
        raise UnsupportedMediaTypeError(
            f"A $batch request body must be multipart/mixed, not {media!r}.",
            next_step="Send 'Content-Type: multipart/mixed; boundary=batch_<id>'.",
        )
    return _checked_boundary(params.get("boundary"), "The $batch Content-Type header")


def _checked_boundary(boundary: str | None, where: str) -> str:
    if not boundary:
        raise InvalidRequestError(
            f"{where} has no boundary parameter.",
            next_step="Add one, as in 'multipart/mixed; boundary=batch_<id>', and use it between the parts.",
        )
    if "\r" in boundary or "\n" in boundary:
        raise InvalidRequestError(f"{where} has a boundary with a line break in it.")
    return boundary


def _split_multipart(data: bytes, boundary: str, where: str) -> list[bytes]:
    """The parts between the delimiter lines of ``boundary``; the preamble and the epilogue are dropped.

    A delimiter is ``--boundary`` at the start of a line, with optional trailing blanks (RFC 2046 transport padding).
    The line break *before* it belongs to the delimiter, so a part's body does not end with that line break.
    """
    delimiter = re.compile(
        rb"(?:\A|\r?\n)--"
        + re.escape(boundary.encode("utf-8", "surrogateescape"))
        + rb"(--)?[ \t]*(?=\r?\n|\Z)",
    )
    parts: list[bytes] = []
    start: int | None = None
    for match in delimiter.finditer(data):
        if start is not None:
            parts.append(data[start : match.start()])
        if match.group(1):
            return parts
        start = _after_line_break(data, match.end())
    if start is None:
        raise InvalidRequestError(
            f"{where} contains no delimiter line '--{boundary}'.",
            next_step="Check that the boundary in the Content-Type header is the one used in the body, and that "
            "each delimiter starts a line.",
        )
    raise InvalidRequestError(
        f"{where} does not end with the closing delimiter '--{boundary}--'.",
        next_step="End the body with the boundary followed by two dashes, on a line of its own.",
    )


def _after_line_break(data: bytes, pos: int) -> int:
    if data.startswith(b"\r\n", pos):
        return pos + 2
    if data.startswith(b"\n", pos):
        return pos + 1
    return pos


def _read_head(data: bytes) -> tuple[list[str], bytes, bool]:
    """Split ``data`` at its first empty line: the lines before it (without line breaks), the bytes after it, and
    whether there was an empty line at all."""
    lines: list[str] = []
    pos = 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        if end == -1:
            lines.append(_decode(data[pos:].rstrip(b"\r")))
            return lines, b"", False
        line = data[pos:end].rstrip(b"\r")
        pos = end + 1
        if not line:
            return lines, data[pos:], True
        lines.append(_decode(line))
    return lines, b"", False


def _decode(raw: bytes) -> str:
    # surrogateescape: a stray non-UTF-8 byte in a URL or header survives the round trip back to bytes unchanged.
    return raw.decode("utf-8", "surrogateescape")


def _parse_headers(lines: list[str], where: str, what: str) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and headers:  # a folded continuation line (obsolete, still legal in MIME)
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name.strip()):
            if what == "MIME" and _LOOKS_LIKE_REQUEST_LINE.match(line):
                raise InvalidRequestError(
                    f"{where} has no blank line between its MIME headers and its request line {line!r}.",
                    next_step="Leave one empty line after 'Content-Transfer-Encoding: binary'.",
                )
            raise InvalidRequestError(
                f"{where} has a malformed {what} header line {line!r} (no colon).",
                next_step="Each header line reads 'Name: value'; the headers end at the first empty line.",
            )
        headers.append((name.strip(), value.strip()))
    return headers


def _header(headers: tuple[tuple[str, str], ...] | list[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def _mime_part(part: bytes, where: str) -> tuple[list[tuple[str, str]], bytes]:
    lines, content, _ = _read_head(part)
    return _parse_headers(lines, where, "MIME"), content


def _part_type(mime: list[tuple[str, str]], where: str) -> tuple[str, dict[str, str]]:
    content_type = _header(mime, "content-type")
    if content_type is None:
        raise InvalidRequestError(
            f"{where} has no Content-Type header.",
            next_step="Send 'Content-Type: application/http' for a request, or "
            "'Content-Type: multipart/mixed; boundary=changeset_<id>' for a change set.",
        )
    media, params = parse_content_type(content_type)
    if media not in ("application/http", "multipart/mixed"):
        raise InvalidRequestError(
            f"{where} has Content-Type {content_type!r}; a batch part is application/http (a request) or "
            "multipart/mixed (a change set).",
        )
    encoding = _header(mime, "content-transfer-encoding")
    if encoding is not None and encoding.lower() not in _IDENTITY_ENCODINGS:
        raise InvalidRequestError(
            f"{where} uses Content-Transfer-Encoding {encoding!r}.",
            next_step="Send the request as is, with 'Content-Transfer-Encoding: binary'.",
        )
    return media, params


def _parse_changeset(content: bytes, boundary: str | None, index: int, number: int) -> ChangeSet:
    where = f"Change set {number} (batch part {index})"
    boundary = _checked_boundary(boundary, f"The Content-Type of {where[0].lower()}{where[1:]}")
    requests: list[BatchRequest] = []
    first_part_of: dict[str, int] = {}  # Content-ID → the part that declared it
    for position, part in enumerate(_split_multipart(content, boundary, where), start=1):
        label = f"part {position} of change set {number}"
        part_where = label[0].upper() + label[1:]
        mime, inner = _mime_part(part, part_where)
        media, _ = _part_type(mime, part_where)
        if media == "multipart/mixed":
            raise InvalidRequestError(f"Change sets may not be nested ({label}).")
        request = _parse_request(inner, mime, part_where)
        if request.method in _READ_METHODS:
            raise InvalidRequestError(
                f"A change set may not contain {request.method} requests ({label}).",
                next_step="Move the read out of the change set; it can stay in the same batch.",
            )
        reference = content_id_reference(request.url)
        if reference is not None and reference not in first_part_of:
            raise InvalidRequestError(
                f"{part_where} refers to ${reference}, but no earlier request of change set {number} has "
                f"Content-ID {reference}.",
            )
        if request.content_id is not None:
            if request.content_id in first_part_of:
                raise InvalidRequestError(
                    f"Content-ID {request.content_id} appears twice in change set {number} "
                    f"(parts {first_part_of[request.content_id]} and {position}).",
                    next_step="Give every request of a change set its own Content-ID.",
                )
            first_part_of[request.content_id] = position
        requests.append(request)
    return ChangeSet(tuple(requests))


# --- one HTTP request ---------------------------------------------------------------------------------------------


def _parse_request(data: bytes, mime: list[tuple[str, str]], where: str) -> BatchRequest:
    # Some clients leave an extra empty line between the MIME headers and the request line.
    data = data.lstrip(b"\r\n")
    if not data.strip():
        raise InvalidRequestError(
            f"{where} has no request line.",
            next_step="After the MIME headers and an empty line, a part holds 'METHOD URL HTTP/1.1'.",
        )
    lines, body, _ = _read_head(data)
    method, url = _parse_request_line(lines[0], where)
    headers = _parse_headers(lines[1:], where, "request")
    # The dataverse-api client leaves empty lines where a DELETE has no body; an empty body is what it means.
    if not body.strip(b" \t\r\n"):
        body = b""
    content_id = _header(mime, "content-id") or _header(headers, "content-id")
    return BatchRequest(method, url, tuple(headers), body, content_id or None)


def _parse_request_line(line: str, where: str) -> tuple[str, str]:
    method, _, rest = line.strip().partition(" ")
    # The URL is everything between the method and the version: clients do leave spaces in $filter values.
    url, _, version = rest.strip().rpartition(" ")
    if not url.strip() or not _HTTP_VERSION.fullmatch(version):
        raise InvalidRequestError(
            f"{where} has a malformed request line {line!r}.",
            next_step="A request line reads 'METHOD URL HTTP/1.1', for example 'GET CustomersV3 HTTP/1.1'.",
        )
    method = method.upper()
    if method not in METHODS:
        raise InvalidRequestError(
            f"{where} uses the method {method!r}, which a batch cannot carry.",
            next_step="Use GET, POST, PUT, PATCH or DELETE.",
        )
    url = url.strip()
    if url.split("?", 1)[0].rstrip("/").endswith("$batch"):
        raise InvalidRequestError(f"{where} is itself a $batch request; batches may not be nested.")
    return method, url


# --- small helpers ------------------------------------------------------------------------------------------------


def _split_outside_quotes(value: str, separator: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == separator and not quoted:
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    return pieces


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw
