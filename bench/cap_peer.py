"""The peer half of the OData read-serving benchmark: SAP CAP serving the same customer rows from SQLite.

The project's benchmark rules (BENCHMARKS.md) say: Isthmus' ``/data`` read speed is a ratio against SAP
CAP serving the same rows on the same machine in the same run, both driven by the same load generator with
the same settings. This module holds everything about the peer, so the main bench script only has to seed
Isthmus, call these functions and divide:

* :func:`ensure_cap_installed` copies the CAP project in ``bench/cap`` to a work directory and installs
  it with npm (``@sap/cds`` 9.9 and ``@cap-js/sqlite`` 2.4: cds 10 refuses the Node.js 20 we have);
* :func:`build_cap_database` copies ``custtable`` from an Isthmus SQLite database into the table CAP
  reads, with one ``INSERT … SELECT`` across attached databases (no Python per row) and the same indexes;
* :func:`make_sample_custtable` makes a deterministic ``custtable`` for trying this without an Isthmus seed;
* :func:`start_cap`, :func:`wait_until_ready` and :func:`stop` run CAP's default single-process server;
* :func:`customer_key_path` and :func:`customer_page_path` give the two request paths both servers answer;
* :func:`load_generator` and :func:`run_wrk` drive ``wrk`` (installed from Debian's packages when missing) and
  refuse to report the speed of error pages.

Run it alone to measure the peer only::

    python bench/cap_peer.py --sample-rows 1000000           # sample rows made here
    python bench/cap_peer.py --source var/erp.db              # rows from `isthmus seed`

Standard library only, so the bench runs before (or without) the project's own dependencies.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
#: The CAP project as kept in the repository (sources only; node_modules lives in the work directory).
CAP_SOURCE_DIR = BENCH_DIR / "cap"
#: Git-ignored scratch space for installs and databases.
DEFAULT_WORK_DIR = BENCH_DIR / ".work"

#: What CAP queries for ``DataService.CustomersV3`` (seen with ``DEBUG=sql``): the service entity's view,
#: ``<Service>_<Entity>``. ``cds deploy`` would create it over the table below; we create both ourselves.
CAP_VIEW_NAME = "DataService_CustomersV3"
#: The table ``cds deploy`` would create for the model entity ``isthmus.bench.Customers`` (db/schema.cds).
CAP_TABLE_NAME = "isthmus_bench_Customers"
#: CAP (cds env) maps ``CDS_A_B_C`` environment variables onto ``cds.a.b.c``; verified with @sap/cds 9.9.3.
CAP_DB_URL_ENV = "CDS_REQUIRES_DB_CREDENTIALS_URL"

#: @sap/cds 9.9 declares ``engines.node >= 20`` (and cds 10 needs 22, which these machines lack).
MIN_NODE_MAJOR = 20

#: Only sources are copied to the work directory: a stray node_modules or database must not travel along.
_CAP_PROJECT_FILES = ("package.json", "db/schema.cds", "srv/service.cds")

#: Isthmus ``custtable`` column -> SQL expression giving CAP's column, in the order of ``db/schema.cds``.
_COLUMN_MAP: tuple[tuple[str, str], ...] = (
    ("dataAreaId", "dataareaid"),
    ("CustomerAccount", "accountnum"),
    ("PartyNumber", "partynumber"),
    ("PartyType", "partytype"),
    ("OrganizationName", "name"),
    ("PersonFirstName", "firstname"),
    ("PersonMiddleName", "middlename"),
    ("PersonLastName", "lastname"),
    ("CustomerGroupId", "custgroup"),
    ("SalesCurrencyCode", "currency"),
    ("CreditLimit", "creditmax"),
    # Isthmus stores this NoYes enum as a boolean (0/1) and shows it as 'Yes'/'No'; so must the peer.
    ("CreditLimitIsMandatory", "CASE WHEN mandatorycreditlimit THEN 'Yes' ELSE 'No' END"),
    ("OnHoldStatus", "blocked"),
    ("PaymentTerms", "paymtermid"),
    ("InvoiceAccount", "invoiceaccount"),
    ("LanguageId", "languageid"),
    ("PrimaryContactEmail", "email"),
    ("PrimaryContactPhone", "phone"),
    ("PrimaryContactURL", "url"),
    ("SalesMemo", "salesmemo"),
    ("DeliveryAddressStreet", "delivery_street"),
    ("DeliveryAddressCity", "delivery_city"),
    ("DeliveryAddressState", "delivery_state"),
    ("DeliveryAddressZipCode", "delivery_zipcode"),
    ("DeliveryAddressCounty", "delivery_county"),
    ("DeliveryAddressCountryRegionISOCode", "delivery_countryregion"),
    ("InvoiceAddressStreet", "invoice_street"),
    ("InvoiceAddressCity", "invoice_city"),
    ("InvoiceAddressState", "invoice_state"),
    ("InvoiceAddressZipCode", "invoice_zipcode"),
    ("InvoiceAddressCounty", "invoice_county"),
    ("InvoiceAddressCountryRegionISOCode", "invoice_countryregion"),
)
#: Plain column renames, used to carry Isthmus' indexes over to the peer's table.
_RENAMES: dict[str, str] = {src: cap for cap, src in _COLUMN_MAP if src.isidentifier()}

#: The DDL ``cds.compile(model).to.sql()`` emits for db/schema.cds (checked with @sap/cds 9.9.3), so the
#: peer reads exactly the table shape its own deployment would give it.
_CAP_TABLE_DDL = f"""
CREATE TABLE {CAP_TABLE_NAME} (
  dataAreaId NVARCHAR(8) NOT NULL,
  CustomerAccount NVARCHAR(20) NOT NULL,
  PartyNumber NVARCHAR(20),
  PartyType NVARCHAR(20),
  OrganizationName NVARCHAR(100),
  PersonFirstName NVARCHAR(25),
  PersonMiddleName NVARCHAR(25),
  PersonLastName NVARCHAR(25),
  CustomerGroupId NVARCHAR(10),
  SalesCurrencyCode NVARCHAR(3),
  CreditLimit DECIMAL(32, 6),
  CreditLimitIsMandatory NVARCHAR(3),
  OnHoldStatus NVARCHAR(12),
  PaymentTerms NVARCHAR(20),
  InvoiceAccount NVARCHAR(20),
  LanguageId NVARCHAR(7),
  PrimaryContactEmail NVARCHAR(80),
  PrimaryContactPhone NVARCHAR(20),
  PrimaryContactURL NVARCHAR(255),
  SalesMemo NVARCHAR(1000),
  DeliveryAddressStreet NVARCHAR(250),
  DeliveryAddressCity NVARCHAR(60),
  DeliveryAddressState NVARCHAR(10),
  DeliveryAddressZipCode NVARCHAR(10),
  DeliveryAddressCounty NVARCHAR(10),
  DeliveryAddressCountryRegionISOCode NVARCHAR(3),
  InvoiceAddressStreet NVARCHAR(250),
  InvoiceAddressCity NVARCHAR(60),
  InvoiceAddressState NVARCHAR(10),
  InvoiceAddressZipCode NVARCHAR(10),
  InvoiceAddressCounty NVARCHAR(10),
  InvoiceAddressCountryRegionISOCode NVARCHAR(3),
  PRIMARY KEY(dataAreaId, CustomerAccount)
)
"""
_CAP_VIEW_DDL = (
    f"CREATE VIEW {CAP_VIEW_NAME} AS SELECT "
    + ", ".join(f"c.{cap}" for cap, _ in _COLUMN_MAP)
    + f" FROM {CAP_TABLE_NAME} AS c"
)


# --- installing CAP -----------------------------------------------------------------------------------------


def _log(message: str) -> None:
    print(f"[cap-peer] {message}", flush=True)


def _installed_version(project_dir: Path, package: str) -> str | None:
    manifest = project_dir / "node_modules" / package / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def _install_is_current(project_dir: Path) -> bool:
    """True when every pinned dependency is installed at its pinned version and better-sqlite3 is built."""
    wanted: Mapping[str, str] = json.loads((project_dir / "package.json").read_text(encoding="utf-8"))[
        "dependencies"
    ]
    if any(_installed_version(project_dir, name) != version for name, version in wanted.items()):
        return False
    # better-sqlite3's install script builds a native addon; an install with scripts blocked leaves it out.
    addon = project_dir / "node_modules" / "better-sqlite3" / "build" / "Release" / "better_sqlite3.node"
    return addon.is_file()


def _npm_env() -> dict[str, str]:
    """The environment for ``npm install``.

    better-sqlite3 first tries to download a prebuilt binary (which cannot be fetched here), then compiles
    with node-gyp, which would also try to download Node's headers unless told where the installed ones are.
    """
    env = dict(os.environ)
    node = shutil.which("node")
    if node and not any(key.lower() == "npm_config_nodedir" for key in env):
        prefix = Path(node).resolve().parent.parent
        if (prefix / "include" / "node" / "node_version.h").is_file():
            env["npm_config_nodedir"] = str(prefix)
    return env


def ensure_cap_installed(work_dir: Path = DEFAULT_WORK_DIR) -> Path:
    """Copy ``bench/cap`` to ``work_dir/cap``, ``npm install`` it unless already installed; return that dir.

    The install compiles better-sqlite3 from source (about a minute on two cores), so it is done once and
    reused while the installed versions match the pins in package.json.
    """
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not on PATH: the CAP peer needs Node.js 20 and npm")
    node_version = subprocess.run(
        ["node", "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if int(node_version.lstrip("v").split(".")[0]) < MIN_NODE_MAJOR:
        raise RuntimeError(f"@sap/cds 9.9 needs Node.js {MIN_NODE_MAJOR} or newer, found {node_version}")

    project_dir = Path(work_dir).resolve() / "cap"
    for relative in _CAP_PROJECT_FILES:
        target = project_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CAP_SOURCE_DIR / relative, target)

    if _install_is_current(project_dir):
        _log(f"CAP already installed in {project_dir}")
        return project_dir

    _log(
        f"installing CAP in {project_dir} with npm (Node.js {node_version}; compiles better-sqlite3, ~1 min)"
    )
    started = time.perf_counter()
    result = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund"],
        check=False,
        cwd=project_dir,
        env=_npm_env(),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"npm install failed in {project_dir}:\n{result.stdout}\n{result.stderr}")
    if not _install_is_current(project_dir):
        raise RuntimeError(
            f"npm install in {project_dir} did not leave the pinned versions:\n{result.stderr}"
        )
    versions = ", ".join(
        f"{name} {_installed_version(project_dir, name)}"
        for name in ("@sap/cds", "@cap-js/sqlite", "@cap-js/db-service", "better-sqlite3", "express")
    )
    _log(f"installed in {time.perf_counter() - started:.0f} s: {versions}")
    return project_dir


# --- the peer's database ------------------------------------------------------------------------------------


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _source_indexes(conn: sqlite3.Connection) -> list[tuple[bool, list[str]]]:
    """(unique, columns) for each index on the attached ``src.custtable``."""
    indexes: list[tuple[bool, list[str]]] = []
    for _, name, unique, *_ in conn.execute("PRAGMA src.index_list(custtable)").fetchall():
        columns = [row[2] for row in conn.execute(f'PRAGMA src.index_info("{name}")').fetchall()]
        indexes.append((bool(unique), columns))
    return indexes


def build_cap_database(source_sqlite: Path, target: Path, *, company: str | None = None) -> int:
    """Create the SQLite file CAP serves from the rows of ``custtable`` in ``source_sqlite``; return count.

    The rows go into the table ``cds deploy`` would create, under the view CAP queries
    (:data:`CAP_VIEW_NAME`), in one ``INSERT … SELECT`` across attached databases. To be fair the peer
    gets the same indexes as Isthmus' table: the key (dataAreaId, CustomerAccount) is the primary key, and
    every other index on ``custtable`` whose columns CAP has is recreated, with (dataAreaId,
    OrganizationName) always among them. ``company`` copies that company's rows only.
    """
    source = Path(source_sqlite).resolve()
    if not source.is_file():
        raise FileNotFoundError(f"no Isthmus database at {source}")
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_database(target)

    started = time.perf_counter()
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        # A throwaway file built in one go: no journal and no fsync while loading.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("ATTACH DATABASE ? AS src", (str(source),))
        conn.execute("BEGIN")
        conn.execute(_CAP_TABLE_DDL)
        conn.execute(_CAP_VIEW_DDL)
        select = ", ".join(expression for _, expression in _COLUMN_MAP)
        where, params = ("WHERE dataareaid = ?", (company,)) if company is not None else ("", ())
        # In key order, so the primary-key index is filled by appending rather than by random inserts.
        conn.execute(
            f"INSERT INTO {CAP_TABLE_NAME} ({', '.join(cap for cap, _ in _COLUMN_MAP)}) "
            f"SELECT {select} FROM src.custtable {where} ORDER BY dataareaid, accountnum",
            params,
        )
        rows = conn.execute(f"SELECT count(*) FROM {CAP_TABLE_NAME}").fetchone()[0]

        wanted: list[tuple[bool, tuple[str, ...]]] = []
        for unique, source_columns in _source_indexes(conn):
            if all(column in _RENAMES for column in source_columns):
                wanted.append((unique, tuple(_RENAMES[column] for column in source_columns)))
        wanted.append((False, ("dataAreaId", "OrganizationName")))
        created: list[str] = []
        for unique, columns in dict.fromkeys(wanted):
            if columns == ("dataAreaId", "CustomerAccount"):
                continue  # the primary key already is this index
            if not unique and (True, columns) in wanted:
                continue  # a unique index on the same columns serves the same lookups
            name = "ix_cap_" + "_".join(column.lower() for column in columns)
            kind = "UNIQUE INDEX" if unique else "INDEX"
            column_list = ", ".join(columns)
            conn.execute(f"CREATE {kind} IF NOT EXISTS {name} ON {CAP_TABLE_NAME} ({column_list})")
            created.append(f"{name}({column_list})")
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE src")
    finally:
        conn.close()
    _log(
        f"built {target} in {time.perf_counter() - started:.1f} s: {rows:,} rows in {CAP_TABLE_NAME} "
        f"(view {CAP_VIEW_NAME}); primary key (dataAreaId, CustomerAccount)"
        + (f"; indexes {', '.join(created)}" if created else "")
    )
    return int(rows)


def make_sample_custtable(path: Path, rows: int) -> None:
    """Create ``path`` with a ``custtable`` shaped like Isthmus' (the columns the peer needs), ``rows`` rows.

    Rows are a pure function of their number, made by SQLite itself (a recursive CTE), so a million take a few
    seconds and every run gets the same data. 90% are in company ``usmf`` (accounts ``US-0000001``…), the
    rest in ``demf`` (``DE-…``); names cycle through eight prefixes ('Contoso', 'Fabrikam', …) and customer
    groups through '10'…'40' independently, so in ``usmf``, group '10' with a name starting 'Contoso' is
    one row in 36.
    """
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_database(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        # Same columns, types and indexes as isthmus.erp.schema.custtable on SQLite (subset of columns).
        conn.execute(
            """
            CREATE TABLE custtable (
                recid INTEGER PRIMARY KEY,
                dataareaid VARCHAR(8) NOT NULL,
                accountnum VARCHAR(20) NOT NULL,
                name VARCHAR(100) NOT NULL,
                custgroup VARCHAR(10) NOT NULL,
                currency VARCHAR(3) NOT NULL,
                creditmax FLOAT NOT NULL,
                mandatorycreditlimit BOOLEAN NOT NULL,
                blocked VARCHAR(12) NOT NULL,
                email VARCHAR(80),
                phone VARCHAR(20),
                delivery_street VARCHAR(250),
                delivery_city VARCHAR(60),
                delivery_state VARCHAR(10),
                delivery_zipcode VARCHAR(10),
                delivery_countryregion VARCHAR(3),
                invoice_street VARCHAR(250),
                invoice_city VARCHAR(60),
                invoice_zipcode VARCHAR(10),
                invoice_countryregion VARCHAR(3),
                partynumber VARCHAR(20), partytype VARCHAR(20), firstname VARCHAR(25), middlename VARCHAR(25),
                lastname VARCHAR(25), paymtermid VARCHAR(20), invoiceaccount VARCHAR(20), languageid VARCHAR(7),
                url VARCHAR(255), salesmemo VARCHAR(1000), delivery_county VARCHAR(10), invoice_state VARCHAR(10),
                invoice_county VARCHAR(10),
                UNIQUE (dataareaid, accountnum)
            )
            """
        )
        conn.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?),
            r AS (
                SELECT i,
                       i % 10 = 0 AS de,
                       (i % 8) AS name_k,
                       ((i / 8) % 4) AS group_k,
                       ((i / 32) % 6) AS city_k
                FROM n
            )
            INSERT INTO custtable (recid, dataareaid, accountnum, name, custgroup, currency, creditmax,
                mandatorycreditlimit, blocked, email, phone, delivery_street, delivery_city, delivery_state,
                delivery_zipcode, delivery_countryregion, invoice_street, invoice_city, invoice_zipcode,
                invoice_countryregion)
            SELECT i,
                   CASE WHEN de THEN 'demf' ELSE 'usmf' END,
                   printf('%s-%07d', CASE WHEN de THEN 'DE' ELSE 'US' END, i),
                   CASE name_k WHEN 0 THEN 'Contoso' WHEN 1 THEN 'Fabrikam'
                               WHEN 2 THEN 'Adventure Works' WHEN 3 THEN 'Litware'
                               WHEN 4 THEN 'Northwind Traders' WHEN 5 THEN 'Tailspin Toys'
                               WHEN 6 THEN 'Wingtip Toys' ELSE 'Proseware' END
                       || CASE (i / 3) % 3 WHEN 0 THEN ' Retail ' WHEN 1 THEN ' Wholesale '
                                           ELSE ' Supplies ' END
                       || i,
                   printf('%d', (group_k + 1) * 10),
                   CASE WHEN de THEN 'EUR' ELSE 'USD' END,
                   (i % 50) * 1000.0,
                   i % 3 = 0,
                   CASE i % 20 WHEN 0 THEN 'Invoice' WHEN 1 THEN 'All' ELSE 'No' END,
                   printf('contact%d@example.com', i),
                   printf('+1 555 %07d', i % 10000000),
                   printf('%d Main Street', i % 9999 + 1),
                   CASE city_k WHEN 0 THEN 'Seattle' WHEN 1 THEN 'Redmond' WHEN 2 THEN 'Portland'
                               WHEN 3 THEN 'Chicago' WHEN 4 THEN 'Boston' ELSE 'Denver' END,
                   CASE WHEN de THEN NULL ELSE 'WA' END,
                   printf('%05d', i % 100000),
                   CASE WHEN de THEN 'DEU' ELSE 'USA' END,
                   printf('%d Invoice Road', i % 9999 + 1),
                   CASE city_k WHEN 0 THEN 'Seattle' WHEN 1 THEN 'Redmond' WHEN 2 THEN 'Portland'
                               WHEN 3 THEN 'Chicago' WHEN 4 THEN 'Boston' ELSE 'Denver' END,
                   printf('%05d', (i * 7) % 100000),
                   CASE WHEN de THEN 'DEU' ELSE 'USA' END
            FROM r
            """,
            (rows,),
        )
        conn.execute("CREATE INDEX ix_custtable_name ON custtable (dataareaid, name)")
        conn.execute("COMMIT")
    finally:
        conn.close()
    _log(f"made sample custtable with {rows:,} rows in {path}")


# --- running CAP --------------------------------------------------------------------------------------------


def start_cap(project_dir: Path, db_path: Path, port: int) -> subprocess.Popen[bytes]:
    """Start CAP's default single-process server (``cds-serve``) on ``port`` over the database ``db_path``.

    It runs in CAP's default (development) profile: the production profile switches authentication to JWT via
    XSUAA, which has no place on this machine. Output goes to ``cap-serve-PORT.log`` in the project
    directory, not to a pipe: nobody reads a pipe during a run, and a full one would stall the server (CAP
    logs every request).
    """
    project_dir = Path(project_dir).resolve()
    db_path = Path(db_path).resolve()
    if not db_path.is_file():
        # better-sqlite3 would silently create an empty file and CAP would answer every request with an error.
        raise FileNotFoundError(f"no CAP database at {db_path}: run build_cap_database first")
    # A server already on the port would answer wait_until_ready and be measured instead of this one.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"port {port} is already in use: stop whatever listens there first")
    env = {key: value for key, value in os.environ.items() if key not in ("NODE_ENV", "CDS_ENV")}
    env[CAP_DB_URL_ENV] = str(db_path)
    # Node itself, not a shell shim, so the Popen pid is the server's and stop() ends exactly that process.
    serve_js = project_dir / "node_modules" / "@sap" / "cds" / "bin" / "serve.js"
    log_path = project_dir / f"cap-serve-{port}.log"
    log = log_path.open("wb")
    try:
        proc = subprocess.Popen(
            ["node", str(serve_js), "--port", str(port)],
            cwd=project_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()  # the child has its own handle
    _log(f"started CAP (pid {proc.pid}) on port {port} over {db_path}; log {log_path}")
    return proc


def wait_until_ready(url: str, timeout_s: float, *, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers 200, failing after ``timeout_s`` seconds or as soon as ``proc`` exits."""
    deadline = time.monotonic() + timeout_s
    last_error = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            last_error = f"HTTP {error.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last_error = str(error)
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout_s:.0f} s ({last_error})")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started here: SIGTERM, then SIGKILL if it has not exited within 10 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# --- URLs both servers answer -------------------------------------------------------------------------------


def _quote(value: str) -> str:
    # Percent-encode what a load generator might mangle (spaces, quotes), keeping OData's syntax readable.
    return urllib.parse.quote(value, safe="$=&(),/:-_.")


def customer_key_path(company: str, account: str) -> str:
    """``/data/CustomersV3(dataAreaId='…',CustomerAccount='…')``, percent-encoded: GET by composite key."""
    return _quote(f"/data/CustomersV3(dataAreaId='{company}',CustomerAccount='{account}')")


def customer_page_path(company: str, customer_group: str, name_prefix: str, *, top: int = 50) -> str:
    """A filtered page: company, customer group and a name prefix, ``$top`` rows, percent-encoded.

    Uses only ``eq``, ``and`` and ``startswith``, which both CAP and any OData v4 server accept.
    """
    expression = (
        f"dataAreaId eq '{company}' and CustomerGroupId eq '{customer_group}' "
        f"and startswith(OrganizationName,'{name_prefix}')"
    )
    return "/data/CustomersV3?" + _quote(f"$filter={expression}&$top={top}")


# --- the load generator -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadGenerator:
    """The one load generator both servers are measured with."""

    name: str
    path: Path
    version: str

    def run(self, url: str, *, duration_s: int, connections: int = 16, threads: int = 1) -> dict[str, Any]:
        return run_wrk(url, duration_s=duration_s, connections=connections, threads=threads)


@functools.cache
def ensure_wrk() -> Path:
    """Path of ``wrk``, installing Debian's package when it is missing (as root, or through sudo)."""
    found = shutil.which("wrk")
    if found:
        return Path(found)
    if shutil.which("apt-get") is None:
        raise RuntimeError("wrk is not installed and there is no apt-get to install it")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _log("wrk is missing: running apt-get update && apt-get install -y wrk")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]):
        result = subprocess.run([*sudo, *command], check=False, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("apt-get installed wrk but it is not on PATH")
    _log(f"installed {found}")
    return Path(found)


def load_generator() -> LoadGenerator:
    """The load generator for both servers: ``wrk`` (an event-loop C client, far from the bottleneck)."""
    path = ensure_wrk()
    # `wrk -v` prints "wrk 4.1.0 [epoll] Copyright …" and exits non-zero, so the exit code is not checked.
    banner = subprocess.run([str(path), "-v"], check=False, capture_output=True, text=True).stdout
    match = re.search(r"wrk (?:debian/)?(\S+)", banner)
    return LoadGenerator(name="wrk", path=path, version=match.group(1) if match else "unknown")


class LoadGeneratorError(RuntimeError):
    """wrk saw error responses or socket errors: its figures are not the speed of the real answer."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


_DURATION_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _DURATION_UNITS_MS[match.group(2)]


def parse_wrk_output(output: str) -> dict[str, Any]:
    """The figures in ``wrk --latency`` output (see :func:`run_wrk` for the keys)."""
    result: dict[str, Any] = {}
    if match := re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE):
        result["requests_per_s"] = float(match.group(1))
    else:
        raise ValueError(f"no Requests/sec in wrk output:\n{output}")
    if match := re.search(r"^\s*(\d+) requests in ([\d.]+\w+)", output, re.MULTILINE):
        result["requests"] = int(match.group(1))
        result["duration_s"] = _to_ms(match.group(2)) / 1000.0
    if match := re.search(r"^\s*Latency\s+(\S+)", output, re.MULTILINE):
        result["latency_avg_ms"] = _to_ms(match.group(1))
    for percentile in ("50", "75", "90", "99"):
        if match := re.search(rf"^\s*{percentile}(?:\.0+)?%\s+(\S+)", output, re.MULTILINE):
            result[f"latency_p{percentile}_ms"] = _to_ms(match.group(1))
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = sum(int(group) for group in match.groups()) if match else 0
    return result


def run_wrk(
    url: str, *, duration_s: int, connections: int = 16, threads: int = 1, strict: bool = True
) -> dict[str, Any]:
    """Run ``wrk --latency -t{threads} -c{connections} -d{duration_s}s url`` and return its figures.

    Keys: ``requests_per_s``, ``requests``, ``duration_s``, ``latency_avg_ms``, ``latency_p50_ms``,
    ``latency_p75_ms``, ``latency_p90_ms``, ``latency_p99_ms``, ``non_2xx`` (wrk's "Non-2xx or 3xx
    responses"), ``socket_errors`` and the ``command``. With ``strict`` (the default) any non-2xx response
    or socket error raises :class:`LoadGeneratorError`, so a bench never reports how fast a server sends
    error pages.
    """
    command = [
        str(ensure_wrk()),
        "--latency",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--timeout",
        "10s",
        url,
    ]
    completed = subprocess.run(command, check=False, capture_output=True, text=True, timeout=duration_s + 60)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    result = parse_wrk_output(completed.stdout)
    result["command"] = " ".join(command)
    if strict and (result["non_2xx"] or result["socket_errors"]):
        raise LoadGeneratorError(
            f"{url}: {result['non_2xx']} non-2xx responses and {result['socket_errors']} socket errors "
            f"out of {result.get('requests', '?')} requests",
            result,
        )
    return result


# --- measuring the peer alone -------------------------------------------------------------------------------


def _first_account(db_path: Path, company: str) -> str:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute(
            f"SELECT CustomerAccount FROM {CAP_TABLE_NAME} WHERE dataAreaId = ? "
            "ORDER BY CustomerAccount LIMIT 1 OFFSET (SELECT count(*) / 2 FROM "
            f"{CAP_TABLE_NAME} WHERE dataAreaId = ?)",
            (company, company),
        ).fetchone()
    if row is None:
        raise RuntimeError(f"no customer in company {company} in {db_path}")
    return str(row[0])


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def main(argv: list[str] | None = None) -> int:
    """Install CAP, build its database, serve it and measure the two read paths with wrk."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--source", type=Path, help="an Isthmus SQLite database (erp.db from `isthmus seed`)")
    source.add_argument("--sample-rows", type=int, help="make a sample custtable with this many rows instead")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--port", type=int, default=4404)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per URL")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--company", default="usmf")
    args = parser.parse_args(argv)

    work_dir = Path(args.work_dir).resolve()
    project_dir = ensure_cap_installed(work_dir)
    generator = load_generator()
    if args.sample_rows is not None:
        source_db = work_dir / "sample-erp.db"
        started = time.perf_counter()
        make_sample_custtable(source_db, args.sample_rows)
        _log(f"sample made in {time.perf_counter() - started:.1f} s")
    else:
        source_db = args.source
    cap_db = work_dir / "cap.sqlite"
    build_cap_database(source_db, cap_db)

    base = f"http://127.0.0.1:{args.port}"
    account = _first_account(cap_db, args.company)
    urls = {
        "get_by_key": base + customer_key_path(args.company, account),
        "filtered_page": base + customer_page_path(args.company, "10", "Contoso"),
    }
    proc = start_cap(project_dir, cap_db, args.port)
    try:
        wait_until_ready(base + "/data/$metadata", 60, proc=proc)
        for label, url in urls.items():
            status, body = _fetch(url)
            if status != 200:
                raise RuntimeError(f"{label}: {url} answered {status}: {body[:500]!r}")
            payload = json.loads(body)
            shown = len(payload["value"]) if "value" in payload else 1
            _log(f"{label}: {url} -> 200, {shown} row(s), {len(body):,} bytes")
        for label, url in urls.items():
            figures = generator.run(url, duration_s=args.duration, connections=args.connections)
            _log(
                f"{label}: {figures['requests_per_s']:,.0f} req/s, "
                f"p50 {figures.get('latency_p50_ms', 0):.2f} ms, "
                f"p99 {figures.get('latency_p99_ms', 0):.2f} ms, "
                f"{figures['requests']:,} requests, non-2xx {figures['non_2xx']} "
                f"({generator.name} {generator.version}, -t1 -c{args.connections} -d{args.duration}s)"
            )
    finally:
        stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
