"""Tests of ``isthmus.odata.batch`` (and ``batch_parse``): parsing the bodies real clients send, resolving URLs, and
running batches against a tiny Starlette app whose "database" is a dict of lists with a snapshot/restore change-set
scope — and once against a real ``Database.unit_of_work``, to prove that handlers join the change set's unit."""

from __future__ import annotations

import copy
import functools
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent
from typing import Any
from urllib.parse import urljoin

import anyio
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from isthmus.errors import (
    BusinessRuleError,
    InvalidRequestError,
    IsthmusError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from isthmus.odata.batch import (
    BatchRequest,
    ChangeSet,
    execute_batch,
    parse_batch,
    resolve_url,
)
from isthmus.storage import CallContext, Database

CRLF = "\r\n"
MAX = 100

# --- how the reference clients build bodies ---------------------------------------------------------------------


@dataclass
class RawRequest:
    """Mirrors powerplatform-dataverse-client's ``_RawRequest``."""

    method: str
    url: str
    body: str | None = None
    headers: dict[str, str] | None = None
    content_id: int | None = None


def ms_sdk_part(req: RawRequest, boundary: str) -> str:
    """``_BatchBase._serialize_raw_request`` of Microsoft's PowerPlatform-Dataverse-Client (CRLF, absolute URLs)."""
    part_header_lines = [
        f"--{boundary}",
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
    ]
    if req.content_id is not None:
        part_header_lines.append(f"Content-ID: {req.content_id}")
    inner_lines = [f"{req.method} {req.url} HTTP/1.1"]
    if req.body is not None:
        inner_lines.append("Content-Type: application/json; type=entry")
    for k, v in (req.headers or {}).items():
        inner_lines.append(f"{k}: {v}")
    inner_lines.append("")
    if req.body is not None:
        inner_lines.append(req.body)
    return CRLF.join(part_header_lines) + CRLF + CRLF + CRLF.join(inner_lines) + CRLF


def ms_sdk_body(items: list[RawRequest | list[RawRequest]]) -> tuple[bytes, str]:
    """``_build_batch_body`` / ``_serialize_changeset_item``: quoted boundaries, nested change sets."""
    batch_boundary = f"batch_{uuid.uuid4()}"
    parts = []
    for item in items:
        if isinstance(item, list):
            cs_boundary = f"changeset_{uuid.uuid4()}"
            cs_body = "".join(ms_sdk_part(r, cs_boundary) for r in item) + f"--{cs_boundary}--{CRLF}"
            outer = (
                f'--{batch_boundary}{CRLF}Content-Type: multipart/mixed; boundary="{cs_boundary}"{CRLF}{CRLF}'
            )
            parts.append(outer + cs_body + CRLF)
        else:
            parts.append(ms_sdk_part(item, batch_boundary))
    body = "".join(parts) + f"--{batch_boundary}--{CRLF}"
    return body.encode("utf-8"), f'multipart/mixed; boundary="{batch_boundary}"'


def dataverse_api_command(
    batch_id: str, api_url: str, method: str, url: str, data: dict | None = None, headers: dict | None = None
) -> str:
    """``BatchCommand.encode`` of the dataverse-api client: LF only, built with textwrap.dedent."""
    content_type = "Content-Type: application/json" + ("; type=entry" if method == "POST" else "")
    extra_header = "\n".join(f"{k}: {v}" for k, v in headers.items()) if headers else ""
    url = urljoin(api_url, url)
    payload = "" if data is None else json.dumps(data)
    row_command = f"""\
    --{batch_id}
    Content-Type: application/http
    Content-Transfer-Encoding: binary

    {method} {url} HTTP/1.1
    {content_type}
    {extra_header}\n
    {payload}
    """
    return dedent(row_command)


def dataverse_api_body(commands: list[tuple]) -> tuple[bytes, str]:
    # The client's id generator is ``lambda: str(uuid4)``: the boundary really contains "<function uuid4 at 0x...>".
    batch_id = "batch_<function uuid4 at 0x7f3a2c1d9e40>"
    api_url = "https://org.example.com/api/data/v9.2/"
    rows = [dataverse_api_command(batch_id, api_url, *command) for command in commands]
    rows.append(f"\n--{batch_id}--\n\n")
    return "\n".join(rows).encode("utf-8"), f'multipart/mixed; boundary="{batch_id}"'


def part(request: str, *, mime: str = "", boundary: str = "b", eol: str = CRLF) -> str:
    head = f"--{boundary}{eol}Content-Type: application/http{eol}Content-Transfer-Encoding: binary{eol}{mime}"
    return head + eol + request.replace("\n", eol) + eol


def body_of(*parts: str, boundary: str = "b", eol: str = CRLF) -> bytes:
    return ("".join(parts) + f"--{boundary}--{eol}").encode("utf-8")


def changeset(*parts: str, boundary: str = "cs", outer: str = "b") -> str:
    inner = "".join(parts) + f"--{boundary}--{CRLF}"
    return f"--{outer}{CRLF}Content-Type: multipart/mixed; boundary={boundary}{CRLF}{CRLF}{inner}"


# --- parsing ------------------------------------------------------------------------------------------------------


def test_parses_the_microsoft_sdk_shape_crlf_absolute_urls_and_quoted_boundaries() -> None:
    api = "https://org.example.com/api/data/v9.2"
    body, content_type = ms_sdk_body(
        [
            RawRequest("GET", f"{api}/accounts?$select=name&$top=1"),
            [
                RawRequest("POST", f"{api}/accounts", body=json.dumps({"name": "Contoso"}), content_id=1),
                RawRequest(
                    "PATCH",
                    "$1",
                    body=json.dumps({"name": "Contoso 2"}),
                    headers={"If-Match": "*"},
                    content_id=2,
                ),
            ],
        ]
    )
    get, cs = parse_batch(body, content_type, max_operations=MAX)
    assert get == BatchRequest("GET", f"{api}/accounts?$select=name&$top=1", (), b"", None)
    assert isinstance(cs, ChangeSet)
    post, patch = cs.requests
    assert (post.method, post.url, post.content_id) == ("POST", f"{api}/accounts", "1")
    assert post.header("content-type") == "application/json; type=entry"
    assert json.loads(post.body) == {"name": "Contoso"}
    assert (patch.method, patch.url, patch.content_id, patch.header("IF-MATCH")) == ("PATCH", "$1", "2", "*")
    assert patch.body == b'{"name": "Contoso 2"}'


def test_parses_the_dataverse_api_shape_lf_only_built_with_dedent() -> None:
    body, content_type = dataverse_api_body(
        [
            ("POST", "accounts", {"name": "Fabrikam"}),
            (
                "PATCH",
                "accounts(11111111-1111-1111-1111-111111111111)",
                {"name": "F"},
                {"MSCRM.SuppressDuplicateDetection": "false"},
            ),
            ("DELETE", "accounts(22222222-2222-2222-2222-222222222222)"),
        ]
    )
    assert b"\r" not in body
    post, patch, delete = parse_batch(body, content_type, max_operations=MAX)
    assert (post.method, post.url) == ("POST", "https://org.example.com/api/data/v9.2/accounts")
    assert json.loads(post.body) == {"name": "Fabrikam"}
    assert patch.header("MSCRM.SuppressDuplicateDetection") == "false"
    assert json.loads(patch.body) == {"name": "F"}
    # The client leaves empty lines where a DELETE has no body: that is an empty body.
    assert (delete.method, delete.body) == ("DELETE", b"")


def test_parses_mixed_line_endings_and_all_url_forms() -> None:
    body = (
        b"--b\r\nContent-Type: application/http\nContent-Transfer-Encoding: binary\r\n\n"
        b"GET CustomersV3?$top=1 HTTP/1.1\r\nAccept: application/json\n\n"
        b"--b\nContent-Type: application/http\r\n\r\n"
        b"GET /data/CustomersV3 HTTP/1.1\n\r\n"
        b"--b\r\ncontent-type: APPLICATION/HTTP\r\nCONTENT-ID: 7\n\n"
        b"POST https://fo.example.com/data/CustomersV3 HTTP/1.1\nContent-Type: application/json\r\n\r\n"
        b'{"CustomerAccount": "US-001"}\n'
        b"--b--"
    )
    relative, absolute_path, absolute = parse_batch(body, "multipart/mixed; boundary=b", max_operations=MAX)
    assert (relative.url, relative.header("accept")) == ("CustomersV3?$top=1", "application/json")
    assert absolute_path.url == "/data/CustomersV3"
    assert (absolute.url, absolute.content_id) == ("https://fo.example.com/data/CustomersV3", "7")
    assert absolute.body == b'{"CustomerAccount": "US-001"}'


def test_keeps_binary_bodies_byte_for_byte() -> None:
    payload = b"\x00\xff\r\nline\n\r\n--not-a-delimiter\r\n\x89PNG"
    body = (
        b"--b\r\nContent-Type: application/http\r\n\r\n"
        b"PUT accounts(1)/entityimage HTTP/1.1\r\nContent-Type: application/octet-stream\r\n\r\n"
        + payload
        + b"\r\n--b--\r\n"
    )
    (request,) = parse_batch(body, "multipart/mixed; boundary=b", max_operations=MAX)
    assert request.body == payload


def test_ignores_preamble_and_epilogue_and_accepts_an_empty_batch() -> None:
    body = b"preamble text\r\n" + body_of(part("GET Items HTTP/1.1")) + b"epilogue\r\n"
    assert [r.url for r in parse_batch(body, "multipart/mixed; boundary=b", max_operations=MAX)] == ["Items"]
    assert parse_batch(b"--b--\r\n", "multipart/mixed; boundary=b", max_operations=MAX) == []


def test_reads_content_id_from_inner_headers_folded_headers_and_spaces_in_urls() -> None:
    body = body_of(
        changeset(
            part("POST Items HTTP/1.1\nContent-ID: a\nX-Long: one\n  two\n\n{}", boundary="cs"),
            part("POST $a/Notes HTTP/1.1\n\n{}", mime="Content-ID: b\r\n", boundary="cs"),
        ),
        part("GET Items?$filter=name eq 'a b' HTTP/1.1"),
    )
    cs, get = parse_batch(body, "multipart/mixed; boundary=b", max_operations=MAX)
    first, second = cs.requests
    assert (first.content_id, first.header("x-long")) == ("a", "one two")
    assert (second.url, second.content_id) == ("$a/Notes", "b")
    assert get.url == "Items?$filter=name eq 'a b'"


def test_operation_limit_counts_requests_inside_change_sets() -> None:
    body = body_of(
        changeset(*(part("POST Items HTTP/1.1\n\n{}", boundary="cs") for _ in range(3))),
        part("GET Items HTTP/1.1"),
    )
    assert len(parse_batch(body, "multipart/mixed; boundary=b", max_operations=4)) == 2
    with pytest.raises(PayloadTooLargeError, match="more than 3 requests"):
        parse_batch(body, "multipart/mixed; boundary=b", max_operations=3)


GET = part("GET Items HTTP/1.1")
POST = part("POST Items HTTP/1.1\nContent-Type: application/json\n\n{}", boundary="cs")
POST_1 = POST.replace("binary\r\n", "binary\r\nContent-ID: 1\r\n")
CT = "multipart/mixed; boundary=b"


@pytest.mark.parametrize(
    ("content_type", "error", "message"),
    [
        ("", InvalidRequestError, "The $batch request has no Content-Type header."),
        ("application/json", UnsupportedMediaTypeError, "must be multipart/mixed, not 'application/json'."),
        ("multipart/mixed", InvalidRequestError, "The $batch Content-Type header has no boundary parameter."),
        (
            "multipart/mixed; boundary=other",
            InvalidRequestError,
            "The batch body contains no delimiter line '--other'.",
        ),
    ],
)
def test_content_type_problems_raise_a_precise_error(
    content_type: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        parse_batch(body_of(GET), content_type, max_operations=MAX)
    assert type(info.value) is error and message in str(info.value)


# The message each malformed body must raise (InvalidRequestError), and the body.
MALFORMED: dict[str, bytes] = {
    "The $batch request body is empty.": b"  \r\n",
    "The batch body does not end with the closing delimiter '--b--'.": GET.encode(),
    "Batch part 1 has no Content-Type header.": b"--b\r\n\r\nGET Items HTTP/1.1\r\n--b--",
    "Batch part 1 has Content-Type 'text/plain'": b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--",
    "Batch part 1 uses Content-Transfer-Encoding 'base64'.": (
        b"--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: base64\r\n\r\nR0VU\r\n--b--"
    ),
    "Batch part 2 has no request line.": body_of(GET, part("")),
    "Batch part 3 has a malformed request line 'this is not a request'.": body_of(
        GET, GET, part("this is not a request")
    ),
    "Batch part 1 has a malformed request line 'GARBAGE'.": body_of(part("GARBAGE")),
    "Batch part 1 has a malformed request line 'GET Items'.": body_of(part("GET Items")),
    "Batch part 1 uses the method 'FETCH'": body_of(part("FETCH Items HTTP/1.1")),
    "Batch part 2 has a malformed request header line 'Accept application/json' (no colon).": body_of(
        GET, part("GET Items HTTP/1.1\nAccept application/json")
    ),
    "Batch part 1 has a malformed MIME header line 'binary' (no colon).": (
        b"--b\r\nContent-Type: application/http\r\nbinary\r\n\r\nGET x HTTP/1.1\r\n--b--"
    ),
    "Batch part 1 has no blank line between its MIME headers and its request line": (
        b"--b\r\nContent-Type: application/http\r\nGET https://h/x HTTP/1.1\r\n\r\n--b--"
    ),
    "Batch part 1 is itself a $batch request": body_of(part("POST $batch HTTP/1.1")),
    "A change set may not contain GET requests (part 2 of change set 1).": body_of(
        changeset(POST, part("GET Items HTTP/1.1", boundary="cs"))
    ),
    "Change sets may not be nested (part 2 of change set 2).": body_of(
        GET, changeset(POST), changeset(POST, changeset(POST, outer="cs", boundary="cs2"))
    ),
    "Content-ID 1 appears twice in change set 1 (parts 1 and 3).": body_of(changeset(POST_1, POST, POST_1)),
    "The Content-Type of change set 1 (batch part 1) has no boundary parameter.": body_of(
        f"--b{CRLF}Content-Type: multipart/mixed{CRLF}{CRLF}"
    ),
    "Change set 1 (batch part 1) does not end with the closing delimiter '--cs--'.": body_of(
        changeset(POST).replace("--cs--", "")
    ),
    "Part 2 of change set 1 refers to $2, but no earlier request of change set 1 has Content-ID 2.": body_of(
        changeset(POST_1, part("PATCH $2 HTTP/1.1\n\n{}", boundary="cs", mime="Content-ID: 2\r\n"))
    ),
    "Batch part 1 refers to $1, but Content-ID references work only between requests of the same change set.": (
        body_of(part("PATCH $1 HTTP/1.1\n\n{}"))
    ),
}


@pytest.mark.parametrize(("message", "body"), MALFORMED.items(), ids=range(len(MALFORMED)))
def test_malformed_batches_raise_a_precise_error(message: str, body: bytes) -> None:
    with pytest.raises(InvalidRequestError) as info:
        parse_batch(body, CT, max_operations=MAX)
    assert type(info.value) is InvalidRequestError
    assert message in str(info.value)


def test_system_resources_starting_with_a_dollar_are_not_content_id_references() -> None:
    body = body_of(part("GET $metadata HTTP/1.1"), part("GET $crossjoin(Items,Notes) HTTP/1.1"))
    assert [r.url for r in parse_batch(body, "multipart/mixed; boundary=b", max_operations=MAX)] == [
        "$metadata",
        "$crossjoin(Items,Notes)",
    ]


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
NAMES = st.tuples(st.sampled_from(LETTERS), st.text(LETTERS + "0123456789-", max_size=15)).map("".join)
VALUES = st.text("".join(map(chr, range(32, 127))), max_size=20).map(str.strip)
URLS = st.tuples(st.sampled_from(LETTERS), st.text(LETTERS + "0123456789/()',=&?.%-", max_size=30)).map(
    "".join
)


@st.composite
def batch_requests(draw: st.DrawFn) -> BatchRequest:
    method = draw(st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE"]))
    url = draw(URLS)
    names = NAMES.filter(lambda n: n.lower() != "content-id")
    headers = tuple(draw(st.lists(st.tuples(names, VALUES), max_size=4)))
    # A body that is only blanks means "no body"; one ending in CR is ambiguous before an LF delimiter line.
    body = draw(
        st.binary(max_size=60).filter(
            lambda b: b.strip(b" \t\r\n") != b"" and not b.endswith(b"\r") and b"--b" not in b
        )
    )
    return BatchRequest(method, url, headers, b"" if method == "GET" else body, None)


def serialise(requests: list[BatchRequest], eols: list[str]) -> bytes:
    """Write requests as a batch, taking each line break from ``eols`` in turn (CRLF and LF mixed at random)."""
    breaks = iter(eols * 50)
    out = b""
    for request in requests:
        lines = ["--b", "Content-Type: application/http", "", f"{request.method} {request.url} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in request.headers] + [""]
        out += (
            b"".join(line.encode() + next(breaks).encode() for line in lines)
            + request.body
            + next(breaks).encode()
        )
    return out + b"--b--"


@given(
    st.lists(batch_requests(), max_size=5), st.lists(st.sampled_from(["\r\n", "\n"]), min_size=1, max_size=7)
)
def test_any_requests_survive_a_round_trip_whatever_the_line_endings(
    requests: list[BatchRequest], eols: list[str]
) -> None:
    assert (
        parse_batch(serialise(requests, eols), "multipart/mixed; boundary=b", max_operations=MAX) == requests
    )


VALID = body_of(
    GET,
    changeset(
        POST.replace("binary\r\n", "binary\r\nContent-ID: 1\r\n"),
        part("PATCH $1 HTTP/1.1\n\n{}", boundary="cs"),
    ),
)


@given(st.integers(0, len(VALID)), st.integers(0, 40), st.binary(max_size=8))
def test_a_damaged_body_parses_or_raises_an_isthmus_error(start: int, length: int, junk: bytes) -> None:
    damaged = VALID[:start] + junk + VALID[start + length :]
    try:
        parse_batch(damaged, "multipart/mixed; boundary=b", max_operations=MAX)
    except IsthmusError as exc:
        assert exc.message


@given(st.binary(max_size=200), st.text(max_size=40))
def test_arbitrary_input_parses_or_raises_an_isthmus_error(body: bytes, content_type: str) -> None:
    for ct in (content_type, "multipart/mixed; boundary=b"):
        try:
            parse_batch(body, ct, max_operations=MAX)
        except IsthmusError as exc:
            assert exc.message


# --- URL resolution -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "root", "expected"),
    [
        ("CustomersV3?$top=1", "/data", ("/data/CustomersV3", "$top=1")),
        ("https://x.example/data/CustomersV3", "/data", ("/data/CustomersV3", "")),
        (
            "https://x.example:8443/api/data/v9.2/accounts?$select=name",
            "/api/data/v9.2",
            ("/api/data/v9.2/accounts", "$select=name"),
        ),
        (
            "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')",
            "/data",
            ("/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')", ""),
        ),
        ("accounts", "/api/data/v9.2/", ("/api/data/v9.2/accounts", "")),
        (
            "$1/SalesOrderLines",
            "/data",
            ("/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='S1')/SalesOrderLines", ""),
        ),
        ("$1", "/data", ("/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='S1')", "")),
        (
            "$1/SalesOrderLines?$select=LineNumber",
            "/data",
            (
                "/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='S1')/SalesOrderLines",
                "$select=LineNumber",
            ),
        ),
        ("$metadata", "/data", ("/data/$metadata", "")),
        ("$2/Lines", "/data", ("/data/$2/Lines", "")),
        ("Items", "", ("/Items", "")),
    ],
)
def test_resolve_url(url: str, root: str, expected: tuple[str, str]) -> None:
    content_ids = {"1": "/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='S1')"}
    assert resolve_url(url, root, content_ids) == expected


# --- the test app ---------------------------------------------------------------------------------------------------


@dataclass
class Store:
    """The in-memory "database": tables of rows, plus what the change-set scope did."""

    tables: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"Items": [], "Notes": [], "accounts": [], "contacts": []}
    )
    next_id: int = 0
    commits: int = 0
    rollbacks: int = 0
    fail_commit: bool = False

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


@contextmanager
def snapshot_scope(store: Store) -> Iterator[None]:
    """A fake unit of work: restore the tables if anything inside raised."""
    saved = copy.deepcopy(store.tables)
    try:
        yield
        if store.fail_commit:  # what a refusing pre-commit hook (dual-write) looks like to the batch
            raise BusinessRuleError("Dual-write refused the change: the customer group is unknown.")
    except BaseException:
        store.tables = saved
        store.rollbacks += 1
        raise
    store.commits += 1


def make_app(store: Store) -> Starlette:
    def find(table: str, key: int) -> dict[str, Any] | None:
        return next((row for row in store.tables[table] if row["id"] == key), None)

    def invalid(message: str, status: int = 400) -> JSONResponse:
        return JSONResponse({"error": {"code": "ValidationFailed", "message": message}}, status_code=status)

    async def create_item(request: Request) -> Response:
        data = json.loads(await request.body() or b"{}")
        if not data.get("name") or data["name"] == "bad":
            return invalid(f"Item name {data.get('name')!r} is not valid.")
        row = {"id": store.new_id(), "name": data["name"]}
        store.tables["Items"].append(row)
        location = str(request.url.replace(path=f"{request.url.path}({row['id']})", query=""))
        return JSONResponse(row, status_code=201, headers={"Location": location})

    async def update_item(request: Request) -> Response:
        row = find("Items", request.path_params["id"])
        if row is None:
            return invalid("No such item.", 404)
        data = json.loads(await request.body())
        if data.get("name") == "bad":
            return invalid("Item name 'bad' is not valid.")
        row.update(data)
        return Response(status_code=204)

    async def list_items(request: Request) -> Response:
        return JSONResponse({"value": store.tables["Items"]})

    async def add_note(request: Request) -> Response:
        item = find("Items", request.path_params["id"])
        if item is None:
            return invalid("No such item.", 404)
        note = {"id": store.new_id(), "item": item["id"], "text": json.loads(await request.body())["text"]}
        store.tables["Notes"].append(note)
        return JSONResponse(note, status_code=201, headers={"Location": f"/data/Notes({note['id']})"})

    async def whoami(request: Request) -> Response:
        return JSONResponse(
            {
                "authorization": request.headers.get("authorization"),
                "prefer": request.headers.get("prefer"),
                "if-none-match": request.headers.get("if-none-match"),
                "accept-encoding": request.headers.get("accept-encoding"),
                "odata-version": request.headers.get("odata-version"),
                "filter": request.query_params.get("$filter"),
                "path": request.url.path,
                "root_path": request.scope.get("root_path"),
            }
        )

    async def boom(request: Request) -> Response:
        raise RuntimeError("the handler crashed")

    async def stream(request: Request) -> Response:
        async def chunks() -> Any:
            for i in range(3):
                yield f"chunk{i};".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    async def create_account(request: Request) -> Response:
        data = json.loads(await request.body())
        row = {"id": str(uuid.UUID(int=store.new_id())), **data}
        store.tables["accounts"].append(row)
        entity_id = f"{request.base_url}api/data/v9.2/accounts({row['id']})"
        return Response(status_code=204, headers={"OData-EntityId": entity_id, "OData-Version": "4.0"})

    async def update_account(request: Request) -> Response:
        row = next((r for r in store.tables["accounts"] if r["id"] == request.path_params["id"]), None)
        if row is None:
            return invalid("No such account.", 404)
        row.update(json.loads(await request.body()))
        return Response(status_code=204, headers={"OData-Version": "4.0"})

    async def create_contact(request: Request) -> Response:
        data = json.loads(await request.body())
        row = {"id": str(uuid.UUID(int=store.new_id())), **data}
        store.tables["contacts"].append(row)
        entity_id = f"{request.base_url}api/data/v9.2/contacts({row['id']})"
        return Response(status_code=204, headers={"OData-EntityId": entity_id})

    def batch_endpoint(service_root: str) -> Any:
        async def endpoint(request: Request) -> Response:
            items = parse_batch(
                await request.body(), request.headers.get("content-type", ""), max_operations=MAX
            )
            result = await execute_batch(
                request.app,
                request.scope,
                items,
                service_root_path=service_root,
                changeset_scope=lambda: snapshot_scope(store),
            )
            return Response(result.body, headers=result.headers)

        return endpoint

    class RequireBearer(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: Any) -> Response:
            if request.headers.get("authorization") != "Bearer good":
                return JSONResponse(
                    {"error": {"code": "Unauthorized", "message": "Bad token."}}, status_code=401
                )
            return await call_next(request)

    return Starlette(
        routes=[
            Route("/data/Items", list_items, methods=["GET"]),
            Route("/data/Items", create_item, methods=["POST"]),
            Route("/data/Items({id:int})", update_item, methods=["PATCH"]),
            Route("/data/Items({id:int})/Notes", add_note, methods=["POST"]),
            Route("/data/whoami", whoami, methods=["GET"]),
            Route("/data/boom", boom, methods=["GET"]),
            Route("/data/stream", stream, methods=["GET"]),
            Route("/data/$batch", batch_endpoint("/data"), methods=["POST"]),
            Route("/api/data/v9.2/accounts", create_account, methods=["POST"]),
            Route("/api/data/v9.2/accounts({id})", update_account, methods=["PATCH"]),
            Route("/api/data/v9.2/contacts", create_contact, methods=["POST"]),
            Route("/api/data/v9.2/$batch", batch_endpoint("/api/data/v9.2"), methods=["POST"]),
        ],
        middleware=[Middleware(RequireBearer)],
    )


# --- a response parser written independently of the module --------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    content_id: str | None

    def json(self) -> Any:
        return json.loads(self.body)


def parse_response(body: bytes, content_type: str) -> list[Answer | list[Answer]]:
    match = re.fullmatch(r"multipart/mixed; boundary=(batchresponse_[0-9a-f-]{36})", content_type)
    assert match, content_type
    assert b"\n" not in body.replace(b"\r\n", b""), "the response uses CRLF everywhere"
    return _split(body, match.group(1))


def _split(body: bytes, boundary: str) -> list[Answer | list[Answer]]:
    delimiter = f"--{boundary}".encode()
    body = body.removesuffix(b"\r\n")
    assert body.endswith(delimiter + b"--")
    if body == delimiter + b"--":
        return []
    assert body.startswith(delimiter + b"\r\n")
    chunks = body[len(delimiter) + 2 : -len(delimiter) - 4].split(b"\r\n" + delimiter + b"\r\n")
    answers: list[Answer | list[Answer]] = []
    for chunk in chunks:
        mime_block, _, rest = chunk.partition(b"\r\n\r\n")
        mime = dict(line.split(": ", 1) for line in mime_block.decode().split("\r\n"))
        if mime["Content-Type"].startswith("multipart/mixed; boundary=changesetresponse_"):
            answers.append(_split(rest, mime["Content-Type"].split("boundary=")[1]))  # type: ignore[arg-type]
            continue
        assert (mime["Content-Type"], mime["Content-Transfer-Encoding"]) == ("application/http", "binary")
        head, _, payload = rest.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode().split("\r\n")
        version, status, reason = status_line.split(" ", 2)
        assert version == "HTTP/1.1" and reason
        headers = dict(line.split(": ", 1) for line in header_lines)
        answers.append(Answer(int(status), headers, payload, mime.get("Content-ID")))
    return answers


def run(client: Client, body: bytes, content_type: str, path: str = "/data/$batch", **headers: str) -> Any:
    response = client.post(
        path, content=body, headers={"Content-Type": content_type, "Authorization": "Bearer good", **headers}
    )
    assert response.status_code == 200, response.text
    return response, parse_response(response.content, response.headers["content-type"])


@pytest.fixture
def store() -> Store:
    return Store()


class Client:
    """A synchronous httpx client over ASGITransport (Starlette's TestClient warns about httpx)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def post(self, path: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                return await http.post(path, content=content, headers=headers)

        return anyio.run(send)


@pytest.fixture
def client(store: Store) -> Client:
    return Client(make_app(store))


def post_item(name: str, *, boundary: str = "b", content_id: str | None = None) -> str:
    mime = f"Content-ID: {content_id}\r\n" if content_id else ""
    return part(
        f'POST Items HTTP/1.1\nContent-Type: application/json\n\n{{"name": "{name}"}}',
        boundary=boundary,
        mime=mime,
    )


# --- execution ----------------------------------------------------------------------------------------------------


def test_change_set_with_content_id_references_commits_as_one(client: Client, store: Store) -> None:
    body = body_of(
        changeset(
            post_item("first", boundary="cs", content_id="1"),
            part(
                'POST $1/Notes HTTP/1.1\nContent-Type: application/json\n\n{"text": "hello"}',
                boundary="cs",
                mime="Content-ID: 2\r\n",
            ),
            part(
                'PATCH $1 HTTP/1.1\nContent-Type: application/json\n\n{"name": "renamed"}',
                boundary="cs",
                mime="Content-ID: 3\r\n",
            ),
        ),
        part("GET Items HTTP/1.1"),
    )
    _, (cs, listing) = run(client, body, "multipart/mixed; boundary=b")
    assert [(a.status, a.content_id) for a in cs] == [(201, "1"), (201, "2"), (204, "3")]
    assert cs[0].headers["Location"] == "http://testserver/data/Items(1)"
    assert cs[1].json() == {"id": 2, "item": 1, "text": "hello"}
    assert listing.status == 200 and listing.json() == {"value": [{"id": 1, "name": "renamed"}]}
    assert (store.commits, store.rollbacks) == (1, 0)


def test_change_set_with_a_failing_second_request_leaves_nothing_written(
    client: Client, store: Store
) -> None:
    body = body_of(
        changeset(
            post_item("good", boundary="cs", content_id="1"),
            post_item("bad", boundary="cs", content_id="2"),
            post_item("never", boundary="cs", content_id="3"),
        ),
        part("GET Items HTTP/1.1"),
    )
    _, answers = run(client, body, "multipart/mixed; boundary=b", Prefer="odata.continue-on-error")
    (failed, listing) = answers
    assert isinstance(failed, Answer), "a failed change set is answered with its one failed response"
    assert (failed.status, failed.content_id) == (400, "2")
    assert failed.json()["error"]["message"] == "Item name 'bad' is not valid."
    assert listing.json() == {"value": []}
    assert store.tables["Items"] == [] and (store.commits, store.rollbacks) == (0, 1)


def test_processing_stops_at_the_first_failure_without_continue_on_error(
    client: Client, store: Store
) -> None:
    body = body_of(post_item("a"), post_item("bad"), post_item("c"))
    response, answers = run(client, body, "multipart/mixed; boundary=b")
    assert [a.status for a in answers] == [201, 400]
    assert [row["name"] for row in store.tables["Items"]] == ["a"]
    assert "preference-applied" not in response.headers


def test_processing_goes_on_with_continue_on_error(client: Client, store: Store) -> None:
    body = body_of(post_item("a"), post_item("bad"), post_item("c"))
    response, answers = run(
        client, body, "multipart/mixed; boundary=b", Prefer="return=minimal, odata.continue-on-error"
    )
    assert [a.status for a in answers] == [201, 400, 201]
    assert [row["name"] for row in store.tables["Items"]] == ["a", "c"]
    assert response.headers["preference-applied"] == "odata.continue-on-error"


def test_a_failed_change_set_also_stops_the_batch_without_continue_on_error(
    client: Client, store: Store
) -> None:
    body = body_of(changeset(post_item("bad", boundary="cs")), post_item("after"))
    _, answers = run(client, body, "multipart/mixed; boundary=b")
    assert [a.status for a in answers] == [400]  # type: ignore[union-attr]
    assert store.tables["Items"] == []


def test_inner_requests_inherit_credentials_but_not_batch_level_headers(client: Client) -> None:
    body = body_of(
        part("GET whoami?$filter=name eq 'a b' HTTP/1.1"),
        part("GET /data/whoami HTTP/1.1\nPrefer: odata.maxpagesize=10"),
        part("GET https://elsewhere.example/data/whoami HTTP/1.1\nAuthorization: Bearer stolen"),
    )
    _, (inherited, own_prefer, own_token) = run(
        client,
        body,
        "multipart/mixed; boundary=b",
        Prefer="odata.continue-on-error",
        **{"If-None-Match": "null", "OData-Version": "4.0"},
    )
    assert inherited.json() == {
        "authorization": "Bearer good",
        "prefer": None,
        "if-none-match": None,
        "accept-encoding": None,
        "odata-version": "4.0",
        "filter": "name eq 'a b'",
        "path": "/data/whoami",
        "root_path": "",
    }
    assert own_prefer.json()["prefer"] == "odata.maxpagesize=10"
    assert own_token.status == 401, "an inner Authorization header replaces the inherited one"


def test_a_crashing_handler_is_answered_with_500_and_streaming_responses_arrive_whole(client: Client) -> None:
    body = body_of(part("GET boom HTTP/1.1"), part("GET stream HTTP/1.1"))
    _, (crashed, streamed) = run(
        client, body, "multipart/mixed; boundary=b", Prefer="odata.continue-on-error"
    )
    assert crashed.status == 500
    assert (streamed.status, streamed.body) == (200, b"chunk0;chunk1;chunk2;")


def test_reference_to_a_request_that_created_nothing_fails_the_change_set(
    client: Client, store: Store
) -> None:
    client_body = body_of(post_item("existing"))
    run(client, client_body, "multipart/mixed; boundary=b")
    body = body_of(
        changeset(
            post_item("new", boundary="cs", content_id="0"),
            part('PATCH Items(1) HTTP/1.1\n\n{"name": "x"}', boundary="cs", mime="Content-ID: 1\r\n"),
            part('POST $1/Notes HTTP/1.1\n\n{"text": "t"}', boundary="cs", mime="Content-ID: 2\r\n"),
        )
    )
    _, (failed,) = run(client, body, "multipart/mixed; boundary=b")
    assert (failed.status, failed.content_id) == (400, "2")
    assert "refers to $1" in failed.json()["error"]["message"]
    assert [row["name"] for row in store.tables["Items"]] == ["existing"]


def test_a_commit_refused_by_the_scope_fails_the_whole_change_set(client: Client, store: Store) -> None:
    store.fail_commit = True
    body = body_of(changeset(post_item("a", boundary="cs", content_id="1")))
    _, (failed,) = run(client, body, "multipart/mixed; boundary=b")
    assert (failed.status, failed.content_id) == (400, None)
    assert failed.json()["error"]["code"] == "BusinessRuleViolation"
    assert store.tables["Items"] == [] and store.rollbacks == 1


def test_microsoft_sdk_change_set_against_the_dataverse_style_root(client: Client, store: Store) -> None:
    api = "http://testserver/api/data/v9.2"
    body, content_type = ms_sdk_body(
        [
            [
                RawRequest("POST", f"{api}/accounts", body=json.dumps({"name": "Contoso"}), content_id=1),
                RawRequest(
                    "POST",
                    f"{api}/contacts",
                    content_id=2,
                    body=json.dumps({"lastname": "Doe", "parentcustomerid_account@odata.bind": "$1"}),
                ),
                RawRequest(
                    "PATCH",
                    "$1",
                    body=json.dumps({"name": "Contoso Ltd"}),
                    headers={"If-Match": "*"},
                    content_id=3,
                ),
            ]
        ]
    )
    _, (cs,) = run(client, body, content_type, path="/api/data/v9.2/$batch")
    assert [(a.status, a.content_id) for a in cs] == [(204, "1"), (204, "2"), (204, "3")]
    account_url = cs[0].headers["OData-EntityId"]
    assert account_url.startswith(f"{api}/accounts(")
    assert store.tables["accounts"][0]["name"] == "Contoso Ltd"
    # "$1" in an @odata.bind value becomes the URL of the account the change set created.
    assert store.tables["contacts"][0]["parentcustomerid_account@odata.bind"] == account_url


def test_dataverse_api_lf_batch_runs(client: Client, store: Store) -> None:
    body, content_type = dataverse_api_body(
        [("POST", "accounts", {"name": "Fabrikam"}), ("POST", "accounts", {"name": "Northwind"})]
    )
    body = body.replace(b"https://org.example.com", b"http://testserver")
    _, answers = run(client, body, content_type, path="/api/data/v9.2/$batch")
    assert [a.status for a in answers] == [204, 204]
    assert [row["name"] for row in store.tables["accounts"]] == ["Fabrikam", "Northwind"]


def test_empty_batch_answers_an_empty_multipart(client: Client) -> None:
    _, answers = run(client, b"--b--\r\n", "multipart/mixed; boundary=b")
    assert answers == []


def test_inner_paths_carry_the_outer_root_path(store: Store) -> None:
    app = make_app(store)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/erp/data/$batch",
        "raw_path": b"/erp/data/$batch",
        "query_string": b"",
        "root_path": "/erp",
        "headers": [(b"host", b"fo.example.com"), (b"authorization", b"Bearer good")],
        "server": ("fo.example.com", 443),
        "client": ("10.0.0.1", 50000),
    }
    items = [BatchRequest("GET", "whoami", (), b""), BatchRequest("POST", "Items", (), b'{"name": "n"}')]
    run_batch = functools.partial(
        execute_batch,
        app,
        scope,
        items,
        service_root_path="/data",
        changeset_scope=lambda: snapshot_scope(store),
    )
    result = anyio.run(run_batch)
    whoami, created = parse_response(result.body, result.content_type)
    assert (whoami.json()["path"], whoami.json()["root_path"]) == ("/erp/data/whoami", "/erp")
    assert created.headers["Location"] == "https://fo.example.com/erp/data/Items(1)"


# --- with the real unit of work -----------------------------------------------------------------------------------


def test_change_sets_join_the_ambient_unit_of_work_of_a_real_database(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'batch.db'}")
    metadata = MetaData()
    items = Table(
        "items",
        metadata,
        Column("recid", Integer, primary_key=True),
        Column("name", String(40), nullable=False),
    )
    database.create_schema(metadata)
    context = CallContext()
    units_seen: list[int] = []

    def write(name: str) -> int:
        # Runs in a worker thread, as a sync service call would: it must still find the change set's unit of work.
        with database.unit_of_work(context) as uow:
            units_seen.append(id(uow))
            return int(uow.insert(items, {"name": name})["recid"])

    async def create(request: Request) -> Response:
        name = json.loads(await request.body())["name"]
        if name == "bad":
            return JSONResponse(
                {"error": {"code": "ValidationFailed", "message": "bad name"}}, status_code=400
            )
        recid = await run_in_threadpool(write, name)
        return JSONResponse({"recid": recid}, status_code=201, headers={"Location": f"/data/items({recid})"})

    async def batch(request: Request) -> Response:
        parsed = parse_batch(await request.body(), request.headers["content-type"], max_operations=MAX)
        result = await execute_batch(
            request.app,
            request.scope,
            parsed,
            service_root_path="/data",
            changeset_scope=lambda: database.unit_of_work(context),
        )
        return Response(result.body, headers=result.headers)

    app = Starlette(
        routes=[
            Route("/data/items", create, methods=["POST"]),
            Route("/data/$batch", batch, methods=["POST"]),
        ]
    )
    http = Client(app)

    def names() -> list[str]:
        with database.read() as conn:
            return list(conn.execute(select(items.c.name).order_by(items.c.recid)).scalars())

    def post(name: str) -> str:
        return part(
            f'POST items HTTP/1.1\nContent-Type: application/json\n\n{{"name": "{name}"}}', boundary="cs"
        )

    try:
        response = http.post(
            "/data/$batch",
            content=body_of(changeset(post("a"), post("b"))),
            headers={"Content-Type": "multipart/mixed; boundary=b"},
        )
        ((first, second),) = parse_response(response.content, response.headers["content-type"])
        assert (first.status, second.status) == (201, 201)
        assert len(units_seen) == 2 and units_seen[0] == units_seen[1], "both writes ran in one unit of work"

        response = http.post(
            "/data/$batch",
            content=body_of(changeset(post("c"), post("bad"))),
            headers={"Content-Type": "multipart/mixed; boundary=b"},
        )
        (failed,) = parse_response(response.content, response.headers["content-type"])
        assert failed.status == 400  # type: ignore[union-attr]
        assert names() == ["a", "b"], "the change set's first write was rolled back with it"
        with database.read() as conn:
            assert conn.execute(select(func.count()).select_from(items)).scalar_one() == 2
    finally:
        database.dispose()
