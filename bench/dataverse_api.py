"""Dataverse Web API (``/api/data/v9.2``): create throughput, and read serving against SAP CAP, same machine, same run.

BENCHMARKS.md asks for every figure as a ratio against a baseline measured in the same run. This bench has two parts:

**Create throughput** — against a running ``isthmus up`` over a fresh data directory, create N accounts (default
5,000) with the same payload shape (``name``, a unique ``accountnumber``, ``creditlimit``, ``address1_city``,
``emailaddress1``, ``telephone1``) in four ways, each from an ``httpx.AsyncClient`` with K requests in flight
(default 16, one pooled connection each):

* ``one by one`` — one ``POST accounts`` per record: the in-run baseline;
* ``CreateMultiple ×100`` and ``×1000`` — ``POST accounts/Microsoft.Dynamics.CRM.CreateMultiple`` with that many
  ``Targets`` per request;
* ``$batch ×100`` — ``POST $batch`` carrying one change set of 100 ``POST accounts`` requests.

The modes alternate for several rounds and the median records/s of each is reported with its ratio to one by one,
beside the server process's CPU time per record (steadier than wall-clock rates on a shared machine). Every response is checked (204 per record, one id per target, 204 for every part of a change set), and afterwards the
server's ``accounts/$count`` and the count per mode must equal what was sent: no silent loss.

**Read serving** — seed K accounts (default 200,000, reused between runs) through the Web API with CreateMultiple
×1000, copy the same rows into the SQLite database SAP CAP serves (``bench/cap_dataverse``: ``@sap/cds`` 9.9 +
``@cap-js/sqlite`` 2.4, the same 65 properties, the same indexes, at the same path ``/api/data/v9.2``) with one
``INSERT … SELECT`` across attached databases, check that both servers return the same rows, then run
``wrk -t1 -c16`` alternating Isthmus / CAP for each request:

* **GET by id** — ``accounts(<guid>)``, every property;
* **GET by alternate key** — ``accounts(accountnumber='…')`` (see :func:`alternate_key_paths` for CAP's form);
* **filtered page** — ``accounts?$select=name,creditlimit&$filter=creditlimit gt 50000 and
  startswith(name,'…')&$top=50``.

It reports the median req/s of each server and the ratio Isthmus / CAP. Any non-2xx response aborts the run.

    .venv/bin/python bench/dataverse_api.py [--records 5000] [--read-accounts 200000] [--rounds 3] [--duration 10]

Both servers run single-process and without authentication (see :data:`ISTHMUS_ENV`). Work files live in
``bench/.work`` (git-ignored): the create phase always starts from an empty data directory there; the read phase's
seeded data directory is reused while it holds the asked number of accounts, and CAP's database is rebuilt from it
(a few seconds) whenever Isthmus' file is newer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cap_peer  # the peer's helpers live next to this script
from odata_read import free_port

ROOT = Path(__file__).resolve().parents[1]
ISTHMUS = ROOT / ".venv" / "bin" / "isthmus"
API = "/api/data/v9.2"

#: The CAP project serving ``accounts`` (sources only; it borrows node_modules from ``bench/cap``'s install).
CAP_SOURCE_DIR = Path(__file__).resolve().parent / "cap_dataverse"
_CAP_PROJECT_FILES = ("package.json", "db/schema.cds", "srv/service.cds")
#: The table ``cds deploy`` creates for ``isthmus.bench.dataverse.Accounts`` (db/schema.cds).
CAP_TABLE = "isthmus_bench_dataverse_Accounts"

#: Name prefixes of the seeded accounts: 20 of them, so each starts 5% of the names.
NAME_PREFIXES = (
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Adventure",
    "Litware",
    "Tailspin",
    "Woodgrove",
    "Alpine",
    "Coho",
    "Proseware",
    "Wingtip",
    "Lucerne",
    "Trey",
    "Humongous",
    "Blue Yonder",
    "Margie",
    "Fourth Coffee",
    "Wide World",
    "Graphic",
    "Relecloud",
)
CITIES = ("Seattle", "Redmond", "Portland", "Chicago", "Boston", "Denver")
#: The filtered page asks for this prefix and creditlimit > 50,000: about 2.5% of the rows match.
PAGE_NAME_PREFIX = "Fabrikam"
PAGE_MIN_CREDIT = 50_000

#: How Isthmus runs for this bench, matching how CAP runs (its default development profile, mocked authentication, no
#: request limit):
#:
#: * development mode: requests without a token run as the development administrator, as CAP's mocked auth lets every
#:   request in (the token check is then skipped: production figures would include verifying a bearer token);
#: * service protection would answer 429 after 60,000 requests per 5 minutes (Isthmus' default), which one 10 s wrk
#:   run can reach; the limiter still runs on every request, so its cost stays in the figures.
ISTHMUS_ENV = {"ISTHMUS_DEVELOPMENT_MODE": "true", "ISTHMUS_DATAVERSE_REQUEST_LIMIT": str(10**12)}


def log(message: str) -> None:
    print(f"[dataverse-api] {message}", flush=True)


# --- the payload ----------------------------------------------------------------------------------------------------


def account(number: str, i: int) -> dict[str, Any]:
    """The one payload shape every create sends: ``number`` is the unique account number, ``i`` varies the rest.

    ``creditlimit`` spreads over 0…99,990 by a multiplicative hash, so about half the rows are above 50,000
    independently of the name prefix.
    """
    return {
        "name": f"{NAME_PREFIXES[i % len(NAME_PREFIXES)]} {i:07d}",
        "accountnumber": number,
        "creditlimit": (i * 7919) % 10_000 * 10,
        "address1_city": CITIES[i % len(CITIES)],
        "emailaddress1": f"contact{i}@example.com",
        "telephone1": f"+1 555 {i % 10_000_000:07d}",
    }


# --- running Isthmus ------------------------------------------------------------------------------------------------


def start_isthmus(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """``isthmus up`` single-process on ``port`` over ``data_dir`` (no ERP demo data), output to a log file."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"isthmus-{port}.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [str(ISTHMUS), "up", "--data-dir", str(data_dir), "--port", str(port), "--demo-customers", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **ISTHMUS_ENV},
        )
    log(f"started Isthmus (pid {proc.pid}) on port {port} over {data_dir}; log {log_path}")
    return proc


@dataclass(frozen=True)
class Server:
    """A running ``isthmus up``: its base URL and the pid of its one process."""

    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (Linux ``/proc``).

        Wall-clock rates swing with whatever else runs on the shared machine; the server's CPU time per record barely
        does, so it is reported beside them.
        """
        # Fields after the ")" closing the command name start at field 3 (state); utime and stime are fields 14 and 15.
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running_isthmus(data_dir: Path) -> Iterator[Server]:
    """An Isthmus server over ``data_dir`` for the duration of the block."""
    port = free_port()
    proc = start_isthmus(data_dir, port)
    server = Server(f"http://127.0.0.1:{port}", proc.pid)
    try:
        # The Dataverse database is bootstrapped (standard tables, base records) before the server listens.
        cap_peer.wait_until_ready(server.base + API + "/WhoAmI", 120, proc=proc)
        yield server
    finally:
        cap_peer.stop(proc)


# --- part 1: create throughput --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateMode:
    """One way of creating records: ``size`` records per request, sent by ``send``."""

    label: str
    code: str  # account-number prefix, so each mode's records can be counted afterwards
    size: int
    send: Callable[[httpx.AsyncClient, list[dict[str, Any]]], Awaitable[None]]


async def post_one(client: httpx.AsyncClient, records: list[dict[str, Any]]) -> None:
    (record,) = records
    response = await client.post(API + "/accounts", json=record)
    if response.status_code != 204 or "OData-EntityId" not in response.headers:
        raise RuntimeError(f"POST accounts answered {response.status_code}: {response.text[:500]}")


async def post_create_multiple(client: httpx.AsyncClient, records: list[dict[str, Any]]) -> None:
    targets = [{"@odata.type": "Microsoft.Dynamics.CRM.account", **record} for record in records]
    response = await client.post(
        API + "/accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": targets}
    )
    if response.status_code != 200:
        raise RuntimeError(f"CreateMultiple answered {response.status_code}: {response.text[:500]}")
    ids = response.json().get("Ids", [])
    if len(ids) != len(records) or len(set(ids)) != len(records):
        raise RuntimeError(f"CreateMultiple of {len(records)} returned {len(ids)} ids")


def batch_body(records: Sequence[dict[str, Any]]) -> tuple[bytes, str]:
    """A ``$batch`` body with one change set that POSTs each record; returns (body, Content-Type)."""
    batch, changeset = f"batch_{uuid.uuid4().hex}", f"changeset_{uuid.uuid4().hex}"
    parts = [f"--{batch}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n"]
    for number, record in enumerate(records, start=1):
        parts.append(
            f"--{changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: {number}\r\n\r\n"
            # An absolute path, as Microsoft's SDK (ServiceClient) writes it.
            f"POST {API}/accounts HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n"
            f"{json.dumps(record)}\r\n"
        )
    parts.append(f"--{changeset}--\r\n--{batch}--\r\n")
    return "".join(parts).encode(), f"multipart/mixed; boundary={batch}"


_PART_STATUS = re.compile(rb"^HTTP/1\.1 (\d{3})", re.MULTILINE)


async def post_batch(client: httpx.AsyncClient, records: list[dict[str, Any]]) -> None:
    body, content_type = batch_body(records)
    response = await client.post(API + "/$batch", content=body, headers={"Content-Type": content_type})
    statuses = _PART_STATUS.findall(response.content)
    if response.status_code != 200 or statuses != [b"204"] * len(records):
        raise RuntimeError(
            f"$batch of {len(records)} answered {response.status_code} with part statuses "
            f"{sorted(set(statuses))} ×{len(statuses)}: {response.text[:500]}"
        )


def create_modes(chunk_sizes: Sequence[int], batch_size: int) -> list[CreateMode]:
    modes = [CreateMode("one by one (POST)", "ONE", 1, post_one)]
    modes += [CreateMode(f"CreateMultiple ×{n}", f"CM{n}", n, post_create_multiple) for n in chunk_sizes]
    modes.append(CreateMode(f"$batch ×{batch_size} (change set)", f"BAT{batch_size}", batch_size, post_batch))
    return modes


async def run_create(
    client: httpx.AsyncClient, mode: CreateMode, records: list[dict[str, Any]], concurrency: int
) -> float:
    """Send ``records`` in requests of ``mode.size`` with ``concurrency`` in flight; return the wall time in seconds."""
    chunks = [records[i : i + mode.size] for i in range(0, len(records), mode.size)]
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for chunk in chunks:
        queue.put_nowait(chunk)

    async def worker() -> None:
        while not queue.empty():
            await mode.send(client, queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(chunks)))))
    return time.perf_counter() - started


async def count_accounts(client: httpx.AsyncClient, number_prefix: str | None = None) -> int:
    params = {"$filter": f"startswith(accountnumber,'{number_prefix}')"} if number_prefix else None
    response = await client.get(API + "/accounts/$count", params=params)
    response.raise_for_status()
    return int(response.text)


@dataclass
class CreateFigures:
    """Per round: records/s (wall clock) and server CPU milliseconds per record."""

    rates: list[float]
    cpu_ms: list[float]


async def measure_creates(
    server: Server, modes: list[CreateMode], records: int, rounds: int, concurrency: int
) -> dict[str, CreateFigures]:
    """Figures of each mode in each round; modes alternate within a round so noise hits all of them alike."""
    figures = {mode.label: CreateFigures([], []) for mode in modes}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=httpx.Timeout(600)) as client:
        # One throwaway create, so connection set-up and first-request costs fall outside the timed runs.
        await post_one(client, [account("WARMUP-0000001", 0)])
        for round_number in range(1, rounds + 1):
            for mode in modes:
                batch = [account(f"{mode.code}-R{round_number}-{i:07d}", i) for i in range(records)]
                cpu_before = server.cpu_seconds()
                seconds = await run_create(client, mode, batch, concurrency)
                cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / records
                figures[mode.label].rates.append(records / seconds)
                figures[mode.label].cpu_ms.append(cpu_ms)
                log(
                    f"round {round_number} {mode.label:28} {records:,} records in {seconds:6.2f} s = "
                    f"{records / seconds:8,.0f} records/s, server CPU {cpu_ms:.2f} ms/record"
                )
        await verify_counts(client, modes, records * rounds)
    return figures


async def verify_counts(client: httpx.AsyncClient, modes: list[CreateMode], per_mode: int) -> None:
    """The server holds exactly what was created: per mode, and in total (plus the warm-up record)."""
    for mode in modes:
        have = await count_accounts(client, f"{mode.code}-")
        if have != per_mode:
            raise RuntimeError(f"{mode.label}: {per_mode:,} accounts created but {have:,} stored")
    total = await count_accounts(client)
    expected = per_mode * len(modes) + 1
    if total != expected:
        raise RuntimeError(f"{expected:,} accounts created but accounts/$count says {total:,}")
    log(
        f"verified: accounts/$count = {total:,} = {len(modes)} modes × {per_mode:,} + 1 warm-up, per-mode counts exact"
    )


def create_phase(args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    """Run the create modes against a fresh Isthmus; return {mode: (median records/s, median server CPU ms/record)}."""
    data_dir = args.work_dir / "dataverse-create"
    shutil.rmtree(data_dir, ignore_errors=True)  # always a fresh, empty Dataverse database
    modes = create_modes(args.chunk_sizes, args.batch_size)
    with running_isthmus(data_dir) as server:
        figures = asyncio.run(
            measure_creates(server, modes, args.records, args.create_rounds, args.concurrency)
        )
    medians = {
        label: (statistics.median(f.rates), statistics.median(f.cpu_ms)) for label, f in figures.items()
    }
    baseline_rate, baseline_cpu = medians[modes[0].label]
    print()
    print(
        f"| create mode | records/s | vs one by one | server CPU ms/record | vs one by one |  ({args.records:,} "
        f"accounts per mode and round, median of {args.create_rounds} alternating rounds, {args.concurrency} "
        f"requests in flight, httpx {httpx.__version__})"
    )
    print("|---|---|---|---|---|")
    for label, (rate, cpu_ms) in medians.items():
        print(
            f"| {label} | {rate:,.0f} | {rate / baseline_rate:.2f}× | {cpu_ms:.2f} | {baseline_cpu / cpu_ms:.2f}× |"
        )
    print()
    return medians


# --- part 2: read serving -------------------------------------------------------------------------------------------


def account_count(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("select count(*) from account").fetchone()[0])
        except sqlite3.OperationalError:  # bootstrapped never, or interrupted before the table existed
            return 0


async def seed_accounts(server: Server, accounts: int, chunk: int) -> float:
    """Create ``accounts`` accounts with CreateMultiple; returns records/s. Two requests in flight keep the server
    busy while the client encodes the next chunk."""
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=httpx.Timeout(600)) as client:
        mode = CreateMode(f"CreateMultiple ×{chunk}", "ACC", chunk, post_create_multiple)
        records = [account(f"ACC-{i:07d}", i) for i in range(accounts)]
        seconds = await run_create(client, mode, records, 2)
        stored = await count_accounts(client)
    if stored != accounts:
        raise RuntimeError(f"seeded {accounts:,} accounts but accounts/$count says {stored:,}")
    return accounts / seconds


def ensure_read_seeded(work_dir: Path, accounts: int) -> Path:
    """A data directory whose Dataverse database holds exactly ``accounts`` seeded accounts (made once, then reused).

    The rows go in through the Web API itself (CreateMultiple ×1000, the fastest way in), not straight into SQLite, so
    they carry what real creates leave: owner, audit stamps, version numbers, state and status.
    """
    data_dir = work_dir / f"dataverse-read-{accounts}"
    db = data_dir / "dataverse.db"
    if account_count(db) == accounts:
        log(f"reusing {db} ({accounts:,} accounts)")
        return data_dir
    shutil.rmtree(data_dir, ignore_errors=True)
    log(f"seeding {accounts:,} accounts into {data_dir} with CreateMultiple ×1000 over HTTP")
    with running_isthmus(data_dir) as server:
        rate = asyncio.run(seed_accounts(server, accounts, 1000))
    log(f"seeded at {rate:,.0f} records/s")
    return data_dir


def ensure_cap_project(work_dir: Path) -> Path:
    """``bench/cap_dataverse`` copied to ``work_dir/cap_dataverse``, using ``bench/cap``'s installed node_modules.

    Both projects pin the same packages, so one npm install (which compiles better-sqlite3) serves both.
    """
    installed = cap_peer.ensure_cap_installed(work_dir)
    pins = json.loads((CAP_SOURCE_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"]
    if pins != json.loads((installed / "package.json").read_text(encoding="utf-8"))["dependencies"]:
        raise RuntimeError(
            f"{CAP_SOURCE_DIR}/package.json must pin the same packages as bench/cap/package.json"
        )
    project = work_dir / "cap_dataverse"
    for relative in _CAP_PROJECT_FILES:
        target = project / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CAP_SOURCE_DIR / relative, target)
    modules = project / "node_modules"
    if not modules.is_symlink():
        modules.symlink_to(installed / "node_modules", target_is_directory=True)
    return project


def cap_deploy_ddl(project: Path) -> list[str]:
    """The DDL ``cds deploy`` would run for the project (tables and the service's views), from CAP's own compiler."""
    script = (
        "const cds = require('@sap/cds');"
        "cds.load('*').then(m => process.stdout.write(JSON.stringify(cds.compile(m).to.sql())))"
    )
    result = subprocess.run(["node", "-e", script], cwd=project, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"compiling the CAP model failed:\n{result.stderr}")
    return list(json.loads(result.stdout))


def _source_column(cap_column: str) -> str:
    """Isthmus' column behind a CAP property: lookups are stored as ``x`` and shown as ``_x_value``."""
    if cap_column.startswith("_") and cap_column.endswith("_value"):
        return cap_column[1 : -len("_value")]
    return cap_column


def _copy_expression(cap_column: str, cap_type: str) -> str:
    source = _source_column(cap_column)
    if cap_type.upper() == "DATETIME_TEXT":
        # CAP keeps DateTime as ISO 8601 text with a Z; Isthmus as SQLAlchemy's 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC).
        return f"strftime('%Y-%m-%dT%H:%M:%SZ', a.{source})"
    return f"a.{source}"


def _copy_indexes(conn: sqlite3.Connection, cap_columns: set[str]) -> list[str]:
    """Recreate on CAP's table every index Isthmus' ``account`` table has (same columns, same uniqueness)."""
    by_source = {_source_column(c): c for c in cap_columns}
    created = []
    for _, name, unique, origin, _ in conn.execute("PRAGMA src.index_list(account)").fetchall():
        if origin != "c":  # the primary key's own index: CAP's table has the same primary key
            continue
        columns = [row[2] for row in conn.execute(f'PRAGMA src.index_info("{name}")').fetchall()]
        if not all(c in by_source for c in columns):
            continue
        mapped = ", ".join(by_source[c] for c in columns)
        conn.execute(f"CREATE {'UNIQUE ' if unique else ''}INDEX cap_{name} ON {CAP_TABLE} ({mapped})")
        created.append(f"{'unique ' if unique else ''}({mapped})")
    return created


def build_cap_database(source: Path, target: Path, project: Path) -> int:
    """CAP's SQLite file with the rows of Isthmus' ``account`` table: CAP's own DDL, one ``INSERT … SELECT`` across
    attached databases, then Isthmus' indexes. Returns the row count."""
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")  # a throwaway file built in one go
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("ATTACH DATABASE ? AS src", (str(source),))
        conn.execute("BEGIN")
        for statement in cap_deploy_ddl(project):
            conn.execute(statement)
        cap_columns = {row[1]: row[2] for row in conn.execute(f"PRAGMA main.table_info({CAP_TABLE})")}
        source_columns = {row[1] for row in conn.execute("PRAGMA src.table_info(account)")}
        missing = {_source_column(c) for c in cap_columns} - source_columns
        if missing:
            raise RuntimeError(
                f"Isthmus' account table has no column(s) {sorted(missing)} that CAP's model declares"
            )
        unserved = source_columns - {_source_column(c) for c in cap_columns} - {"ownerid__type"}
        if unserved:
            # Isthmus would then send properties CAP does not: the ratio would understate Isthmus, not flatter it.
            log(
                f"warning: CAP's model lacks Isthmus account column(s) {sorted(unserved)}; update bench/cap_dataverse"
            )
        names = ", ".join(cap_columns)
        values = ", ".join(_copy_expression(c, t) for c, t in cap_columns.items())
        # In Isthmus' physical (rowid, i.e. creation) order, so both tables have the same layout: GUID keys are
        # random, and copying in key order would put CAP's rows in key order on disk, making every key-ordered scan
        # (the filtered page) read pages sequentially where Isthmus' jumps across the file: 4-8× cheaper in SQLite.
        conn.execute(
            f"INSERT INTO {CAP_TABLE} ({names}) SELECT {values} FROM src.account AS a ORDER BY a.rowid"
        )
        indexes = _copy_indexes(conn, set(cap_columns))
        conn.execute("COMMIT")
        rows = int(conn.execute(f"SELECT count(*) FROM {CAP_TABLE}").fetchone()[0])
    finally:
        conn.close()
    log(
        f"built {target} in {time.perf_counter() - started:.1f} s: {rows:,} rows, primary key (accountid), "
        f"indexes {', '.join(indexes)}"
    )
    return rows


@dataclass(frozen=True)
class ReadRequest:
    """One timed request: the path each server is sent (they differ only where CAP lacks the syntax)."""

    label: str
    isthmus_path: str
    cap_path: str
    page: bool = False  # a page of rows rather than one record


def _quote(path: str) -> str:
    # Percent-encode what wrk would send raw (spaces, quotes), keeping OData's punctuation readable.
    return urllib.parse.quote(path, safe="/?$=&(),:-_.")


def alternate_key_paths(number: str) -> tuple[str, str]:
    """GET by alternate key: Isthmus' URL, and the one CAP answers for the same record.

    CAP's OData adapter has no alternate keys (``accounts(accountnumber='…')`` is a 400 there), so its side is the
    query a CAP client writes instead, through the same unique index; it answers a collection of one record.
    """
    return f"{API}/accounts(accountnumber='{number}')", f"{API}/accounts?$filter=accountnumber eq '{number}'"


def read_requests(db: Path) -> list[ReadRequest]:
    """The three requests, for an account in the middle of the key order."""
    with sqlite3.connect(db) as conn:
        record_id, number = conn.execute(
            "select accountid, accountnumber from account order by accountid limit 1 "
            "offset (select count(*) / 2 from account)"
        ).fetchone()
    by_key_ours, by_key_cap = alternate_key_paths(number)
    page = (
        f"{API}/accounts?$select=name,creditlimit&$filter=creditlimit gt {PAGE_MIN_CREDIT} "
        f"and startswith(name,'{PAGE_NAME_PREFIX}')&$top=50"
    )
    return [
        ReadRequest(
            "GET by id", _quote(f"{API}/accounts({record_id})"), _quote(f"{API}/accounts({record_id})")
        ),
        ReadRequest("GET by alternate key", _quote(by_key_ours), _quote(by_key_cap)),
        ReadRequest("filtered page of 50", _quote(page), _quote(page), page=True),
    ]


def fetch_json(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{url} answered {error.code}: {error.read()[:500]!r}") from error


def _comparable(value: Any) -> Any:
    # CAP may send decimals as strings or with trailing zeros; Isthmus sends numbers: compare the numbers.
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    return value


def _record_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The properties of an entity answer, or of the single row of a collection answer, without annotations."""
    if "value" in payload:
        rows = payload["value"]
        if len(rows) != 1:
            raise RuntimeError(f"expected one record, got {len(rows)}")
        payload = rows[0]
    return {key: _comparable(value) for key, value in payload.items() if "@" not in key}


def same_answers(isthmus: str, cap: str, requests: list[ReadRequest]) -> None:
    """Both servers return the same record (every property) and the same page of 50, or the run stops."""
    for request in requests:
        if request.page:
            same_page(isthmus, cap, request)
            continue
        ours = _record_of(fetch_json(isthmus + request.isthmus_path))
        theirs = _record_of(fetch_json(cap + request.cap_path))
        if ours != theirs:
            differing = sorted(
                k for k in ours.keys() | theirs.keys() if ours.get(k, "∅") != theirs.get(k, "∅")
            )
            raise RuntimeError(
                f"{request.label}: the servers differ in {differing}: "
                f"{[(k, ours.get(k, '∅'), theirs.get(k, '∅')) for k in differing[:5]]}"
            )
        log(f"{request.label}: both return {ours['accountnumber']} with the same {len(ours)} properties")


def same_page(isthmus: str, cap: str, request: ReadRequest) -> None:
    """The same 50 rows in the same order (both order by the key when no $orderby is given)."""
    ours = [_record_of({"value": [row]}) for row in fetch_json(isthmus + request.isthmus_path)["value"]]
    theirs = [_record_of({"value": [row]}) for row in fetch_json(cap + request.cap_path)["value"]]
    if ours != theirs or len(ours) != 50:
        raise RuntimeError(
            f"{request.label}: pages differ or are short: {len(ours)} vs {len(theirs)} rows "
            f"(first {ours[:1]} vs {theirs[:1]})"
        )
    log(f"{request.label}: both return the same 50 rows ({ours[0]['name']} … {ours[-1]['name']})")


def measure_reads(
    args: argparse.Namespace, isthmus: str, cap: str, requests: list[ReadRequest]
) -> dict[str, dict[str, list[float]]]:
    """req/s of each server for each request in each round, alternating Isthmus / CAP run by run."""
    generator = cap_peer.load_generator()
    results: dict[str, dict[str, list[float]]] = {r.label: {"isthmus": [], "cap": []} for r in requests}
    servers = (("isthmus", isthmus), ("cap", cap))
    for request in requests:  # warm both servers' caches before anything is timed
        generator.run(isthmus + request.isthmus_path, duration_s=2, connections=args.connections)
        generator.run(cap + request.cap_path, duration_s=2, connections=args.connections)
    for round_number in range(1, args.rounds + 1):
        for request in requests:
            for server, base in servers:
                path = request.isthmus_path if server == "isthmus" else request.cap_path
                figures = generator.run(base + path, duration_s=args.duration, connections=args.connections)
                results[request.label][server].append(figures["requests_per_s"])
                log(
                    f"round {round_number} {request.label:22} {server:8} {figures['requests_per_s']:8,.0f} req/s "
                    f"p50 {figures.get('latency_p50_ms', 0):6.2f} ms p99 {figures.get('latency_p99_ms', 0):7.2f} ms"
                )
    return results


def read_phase(args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    """Seed, build CAP's copy, check, time; return {request: (median Isthmus req/s, median CAP req/s)}."""
    work: Path = args.work_dir
    data_dir = ensure_read_seeded(work, args.read_accounts)
    db = data_dir / "dataverse.db"
    project = ensure_cap_project(work)
    cap_db = work / f"cap-dataverse-{args.read_accounts}.sqlite"
    if not cap_db.exists() or cap_db.stat().st_mtime < db.stat().st_mtime:
        build_cap_database(db, cap_db, project)
    requests = read_requests(db)
    cap_port = free_port()
    cap = cap_peer.start_cap(project, cap_db, cap_port)
    try:
        with running_isthmus(data_dir) as isthmus:
            cap_base = f"http://127.0.0.1:{cap_port}"
            cap_peer.wait_until_ready(cap_base + API + "/$metadata", 60, proc=cap)
            same_answers(isthmus.base, cap_base, requests)
            results = measure_reads(args, isthmus.base, cap_base, requests)
    finally:
        cap_peer.stop(cap)

    medians = {
        label: (statistics.median(r["isthmus"]), statistics.median(r["cap"])) for label, r in results.items()
    }
    print()
    print(
        f"| request | Isthmus req/s | CAP req/s | ratio |  ({args.read_accounts:,} accounts, wrk -t1 "
        f"-c{args.connections} -d{args.duration}s, median of {args.rounds} alternating rounds)"
    )
    print("|---|---|---|---|")
    for label, (ours, theirs) in medians.items():
        print(f"| {label} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f}× |")
    for request in requests:
        print(f"    {request.label}: Isthmus {request.isthmus_path}")
        if request.cap_path != request.isthmus_path:
            print(f"    {' ' * len(request.label)}  CAP     {request.cap_path}")
    print()
    return medians


# --- command line ---------------------------------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("give positive chunk sizes, e.g. 100,1000")
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=("all", "create", "read"), default="all")
    parser.add_argument("--records", type=int, default=5_000, help="accounts per create mode and round")
    parser.add_argument("--concurrency", type=int, default=16, help="create requests in flight")
    parser.add_argument(
        "--chunk-sizes", type=_sizes, default=[100, 1000], help="CreateMultiple Targets per request"
    )
    parser.add_argument("--batch-size", type=int, default=100, help="requests per $batch change set")
    parser.add_argument("--create-rounds", type=int, default=3, help="alternating rounds of the create modes")
    parser.add_argument(
        "--read-accounts", type=int, default=200_000, help="accounts seeded for the read part"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk rounds per server and request")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--work-dir", type=Path, default=cap_peer.DEFAULT_WORK_DIR)
    args = parser.parse_args(argv)
    args.work_dir = args.work_dir.resolve()
    if args.records < max([*args.chunk_sizes, args.batch_size]):
        parser.error("--records must be at least the largest chunk size")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log(
        f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if args.phase in ("all", "create"):
        create_phase(args)
    if args.phase in ("all", "read"):
        read_phase(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
