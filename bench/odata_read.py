"""OData read serving: Isthmus' ``/data`` against SAP CAP serving the same rows from SQLite, same machine, same run.

What it measures (BENCHMARKS.md): requests per second, with ``wrk -t1 -c16``, for

* **GET by key** — ``/data/CustomersV3(dataAreaId='usmf',CustomerAccount='…')``;
* **filtered page** — ``$filter=dataAreaId eq 'usmf' and CustomerGroupId eq '10' and startswith(OrganizationName,'…')``
  with ``$top=50`` over 1,000,000 customers;

and prints the ratio Isthmus / CAP for each (goal: ≥ 1.5×). Both servers run single-process; the runs alternate
(Isthmus, CAP, Isthmus, CAP…) and the median of the rounds is reported, because the machine is shared and noisy.
Before measuring, it checks that both servers return the same customers for both requests.

    .venv/bin/python bench/odata_read.py [--customers 1000000] [--rounds 3] [--duration 10]

The seeded database, CAP's install and its database live in ``bench/.work`` (git-ignored) and are reused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cap_peer  # noqa: E402  (the peer lives next to this script)

ROOT = Path(__file__).resolve().parents[1]
ISTHMUS = ROOT / ".venv" / "bin" / "isthmus"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(f"[odata-read] {message}", flush=True)


def ensure_seeded(data_dir: Path, customers: int) -> Path:
    """An Isthmus SQLite database with ``customers`` customers (seeded once, then reused)."""
    db = data_dir / "erp.db"
    if db.exists():
        with sqlite3.connect(db) as conn:
            have = conn.execute("select count(*) from custtable").fetchone()[0]
        if have >= customers:
            log(f"reusing {db} ({have:,} customers)")
            return db
    log(f"seeding {customers:,} customers into {data_dir}")
    started = time.perf_counter()
    subprocess.run([str(ISTHMUS), "seed", "--customers", str(customers), "--data-dir", str(data_dir)], check=True)
    log(f"seeded in {time.perf_counter() - started:.1f} s")
    return db


def pick_request_values(db: Path, company: str) -> tuple[str, str]:
    """A key in the middle of the company and a name prefix common enough to fill a page of 50 in group 10."""
    with sqlite3.connect(db) as conn:
        (middle,) = conn.execute(
            "select accountnum from custtable where dataareaid = ? order by accountnum limit 1 "
            "offset (select count(*) / 2 from custtable where dataareaid = ?)",
            (company, company),
        ).fetchone()
        prefix = conn.execute(
            "select substr(name, 1, instr(name || ' ', ' ') - 1) as word, count(*) as n from custtable "
            "where dataareaid = ? and custgroup = '10' group by word order by n desc limit 1",
            (company,),
        ).fetchone()[0]
    return middle, prefix


def start_isthmus(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    log_path = data_dir / f"isthmus-{port}.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            # Development mode: CAP's default server checks no credentials either, so neither side pays for them.
            [str(ISTHMUS), "up", "--data-dir", str(data_dir), "--port", str(port), "--demo-customers", "0",
             "--development-mode"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    log(f"started Isthmus (pid {proc.pid}) on port {port}; log {log_path}")
    return proc


def fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def same_answers(isthmus: str, cap: str, key_path: str, page_path: str) -> None:
    a, b = fetch_json(isthmus + key_path), fetch_json(cap + key_path)
    if a["CustomerAccount"] != b["CustomerAccount"] or a["OrganizationName"] != b["OrganizationName"]:
        raise RuntimeError(f"GET by key differs: {a['CustomerAccount']} vs {b['CustomerAccount']}")
    ours = [r["CustomerAccount"] for r in fetch_json(isthmus + page_path)["value"]]
    theirs = [r["CustomerAccount"] for r in fetch_json(cap + page_path)["value"]]
    if ours != theirs or len(ours) != 50:
        raise RuntimeError(f"filtered page differs or is short: {len(ours)} vs {len(theirs)} rows")
    log(f"both servers return the same record and the same 50 customers ({ours[0]} … {ours[-1]})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server and request")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--work-dir", type=Path, default=cap_peer.DEFAULT_WORK_DIR)
    parser.add_argument("--company", default="usmf")
    args = parser.parse_args(argv)

    work = args.work_dir.resolve()
    data_dir = work / f"isthmus-{args.customers}"
    db = ensure_seeded(data_dir, args.customers)
    project = cap_peer.ensure_cap_installed(work)
    cap_db = work / f"cap-{args.customers}.sqlite"
    if not cap_db.exists() or cap_db.stat().st_mtime < db.stat().st_mtime:
        cap_peer.build_cap_database(db, cap_db)
    account, prefix = pick_request_values(db, args.company)
    key_path = cap_peer.customer_key_path(args.company, account)
    page_path = cap_peer.customer_page_path(args.company, "10", prefix)
    generator = cap_peer.load_generator()

    ours_port, cap_port = free_port(), free_port()
    isthmus = start_isthmus(data_dir, ours_port)
    cap = cap_peer.start_cap(project, cap_db, cap_port)
    results: dict[str, dict[str, list[float]]] = {"get_by_key": {"isthmus": [], "cap": []}, "filtered_page": {"isthmus": [], "cap": []}}
    try:
        ours_base, cap_base = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{cap_port}"
        cap_peer.wait_until_ready(ours_base + "/data/$metadata", 60, proc=isthmus)
        cap_peer.wait_until_ready(cap_base + "/data/$metadata", 60, proc=cap)
        same_answers(ours_base, cap_base, key_path, page_path)
        for path in (key_path, page_path):  # warm both caches before anything is timed
            for base in (ours_base, cap_base):
                generator.run(base + path, duration_s=2, connections=args.connections)
        for round_number in range(1, args.rounds + 1):
            for label, path in (("get_by_key", key_path), ("filtered_page", page_path)):
                for server, base in (("isthmus", ours_base), ("cap", cap_base)):
                    figures = generator.run(base + path, duration_s=args.duration, connections=args.connections)
                    results[label][server].append(figures["requests_per_s"])
                    log(f"round {round_number} {label:14} {server:8} {figures['requests_per_s']:8,.0f} req/s "
                        f"p50 {figures.get('latency_p50_ms', 0):6.2f} ms p99 {figures.get('latency_p99_ms', 0):6.2f} ms")
    finally:
        cap_peer.stop(cap)
        cap_peer.stop(isthmus)

    print()
    print(f"| request | Isthmus req/s | CAP req/s | ratio |  ({args.customers:,} customers, {generator.name} "
          f"{generator.version} -t1 -c{args.connections} -d{args.duration}s, median of {args.rounds} alternating rounds, "
          f"{platform.node()}, {os.cpu_count()} cores)")
    print("|---|---|---|---|")
    for label in ("get_by_key", "filtered_page"):
        ours = statistics.median(results[label]["isthmus"])
        theirs = statistics.median(results[label]["cap"])
        print(f"| {label} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
