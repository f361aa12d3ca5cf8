"""The ``isthmus`` command line: ``up`` runs the system, ``seed`` generates demo data."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from isthmus.cli import dataverse as dataverse_cli
from isthmus.cli import env as env_cli
from isthmus.cli import identity as identity_cli
from isthmus.config import Settings
from isthmus.errors import IsthmusError
from isthmus.secrets import RedactingFilter

app = typer.Typer(
    help="Isthmus: an ERP, a Dataverse-compatible platform and the integration between them.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
app.add_typer(dataverse_cli.app, name="dataverse")
app.add_typer(env_cli.app, name="env")
app.add_typer(identity_cli.app, name="identity")

DataDir = Annotated[Path, typer.Option("--data-dir", help="Folder for the embedded SQLite databases.")]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL of the ERP database (e.g. postgresql+psycopg://…); default SQLite in --data-dir."),
]

DEMO_CUSTOMERS = 2_000


def _settings(data_dir: Path, database_url: str | None, **extra: object) -> Settings:
    return Settings.load(data_dir=data_dir, erp_database_url=database_url, **extra)


def _seed(system: object, customers: int, seed: int) -> None:
    from isthmus.erp.seed import generate

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=max(total, 1))
            progress.update(tasks[stage], completed=done, total=max(total, 1))

        started = time.perf_counter()
        summary = generate(system.erp_database, customers=customers, seed=seed, progress=report)  # type: ignore[attr-defined]
    table = Table(title=f"Seeded in {time.perf_counter() - started:.1f} s"
                        + (f" (resumed {summary.resumed_tasks} finished tasks)" if summary.resumed_tasks else ""))
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in summary.counts().items():
        table.add_row(name, f"{count:,}")
    console.print(table)


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: DataDir = Path("./var"),
    database_url: DatabaseUrl = None,
    demo_customers: Annotated[
        int, typer.Option(help="Customers to generate when the ERP database is empty (0 = none).")
    ] = DEMO_CUSTOMERS,
    log_level: Annotated[str, typer.Option(help="Server log level.")] = "warning",
    development_mode: Annotated[bool, typer.Option(
        "--development-mode", help="Serve every API WITHOUT tokens, as an administrator. Never on a shared machine.")] = False,
) -> None:
    """Start Isthmus: create the databases if needed, load the demo data on first start, and serve every API."""
    import uvicorn

    from isthmus.api.app import create_app
    from isthmus.system import System

    settings = _settings(data_dir, database_url, host=host, port=port, development_mode=development_mode or None)
    system = System(settings)
    try:
        system.create_schema()
        if demo_customers and system.erp_is_empty():
            console.print(f"First start: generating demo data ({demo_customers:,} customers)…")
            _seed(system, demo_customers, 42)
        for action in system.prepare():
            console.print(f"Automatic enablement: {action.environment} {action.action.replace('_', ' ')} — {action.reason}")
        identities = system.prepare_demo_identities()
    except IsthmusError as exc:
        console.print(f"[red]Could not prepare the databases:[/red] {exc.full_message}")
        raise typer.Exit(1) from exc
    base = f"http://{host}:{port}"
    console.print(f"[bold green]Isthmus is up[/bold green] on {base}")
    console.print(f"  ERP OData API      {base}/data/   (metadata: {base}/data/$metadata)")
    console.print(f"  Dataverse Web API  {base}/api/data/v9.2/")
    console.print(f"  Admin API          {base}/admin/docs   (environments and links; `isthmus env list`)")
    console.print(f"  ERP database       {settings.erp_url}")
    console.print(f"  Tokens             POST {base}/oauth2/token  (scope api://isthmus/erp/.default, …/dataverse/.default, …/admin/.default)")
    console.print("  Demo people and applications:")
    for identity in identities:
        secret = f"  [bold]secret: {identity.secret}[/bold] (shown once)" if identity.secret else ""
        console.print(f"    {identity.kind:12} {identity.name:28} {identity.role}{secret}")
    if not any(i.secret for i in identities):
        console.print("    (secrets were shown at first start; `isthmus identity reset-secret NAME` gives a new one)")
    if settings.development_mode:
        console.print("[bold red]DEVELOPMENT MODE: every API answers WITHOUT a token, as an administrator. "
                      "Do not use this on a shared machine.[/bold red]")
    console.print("  Press Ctrl+C to stop.")
    uvicorn.run(
        create_app(system),
        host=host,
        port=port,
        log_level=log_level,
        log_config=_redacting_log_config(),
        loop="uvloop",
        http="httptools",
        access_log=False,
    )


def _redacting_log_config() -> dict:
    """Uvicorn's logging configuration with a filter on every handler that masks secrets (passwords in URLs, bearer
    tokens, secret=… values) — a last line of defence behind never logging them in the first place."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": "isthmus.secrets.RedactingFilter"}
    for handler in config.get("handlers", {}).values():
        handler.setdefault("filters", []).append("redact")
    return config


@app.command()
def seed(
    customers: Annotated[int, typer.Option(help="How many customers to generate (orders, invoices, payments and "
                                                 "ledger follow in proportion).")] = DEMO_CUSTOMERS,
    data_dir: DataDir = Path("./var"),
    database_url: DatabaseUrl = None,
    random_seed: Annotated[int, typer.Option("--seed", help="Seed of the deterministic generator.")] = 42,
) -> None:
    """Generate deterministic demo data (companies, customers, products, orders, invoices, payments, ledger and
    inventory history); a killed run resumes where it stopped."""
    from isthmus.system import System

    if customers < 1:
        console.print("[red]--customers must be at least 1.[/red]")
        raise typer.Exit(2)
    system = System(_settings(data_dir, database_url))
    try:
        system.create_schema()
        _seed(system, customers, random_seed)
    except IsthmusError as exc:
        console.print(f"[red]Seeding failed:[/red] {exc.full_message}")
        raise typer.Exit(1) from exc
    finally:
        system.close()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    app()
