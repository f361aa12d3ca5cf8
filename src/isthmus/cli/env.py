"""``isthmus env …``: environments and the Power Platform integration link from the command line — the same
operations as the admin API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from isthmus.config import Settings
from isthmus.environments.model import Link
from isthmus.errors import IsthmusError

app = typer.Typer(help="Manage environments and their Power Platform integration link.", no_args_is_help=True)
console = Console()

DataDir = Annotated[Path, typer.Option("--data-dir", help="Folder of the embedded SQLite databases.")]
ControlUrl = Annotated[str | None, typer.Option("--control-database-url", help="SQLAlchemy URL of the control-plane database.")]
KINDS = {"fo": "finance_operations", "finance-operations": "finance_operations", "pp": "power_platform",
         "power-platform": "power_platform"}


def _service(data_dir: Path, control_url: str | None):  # type: ignore[no-untyped-def]
    from isthmus.system import System

    system = System(Settings.load(data_dir=data_dir, control_database_url=control_url))
    return system, system.environments


def _kind(value: str) -> str:
    if value not in KINDS:
        console.print(f"[red]--kind must be one of {', '.join(KINDS)}.[/red]")
        raise typer.Exit(2)
    return KINDS[value]


def _run(action):  # type: ignore[no-untyped-def]
    try:
        return action()
    except IsthmusError as exc:
        console.print(f"[red]{exc.full_message}[/red]")
        raise typer.Exit(1) from exc


def _show_link(link: Link | None, name: str) -> None:
    if link is None:
        console.print(f"{name}: [yellow]not linked[/yellow]")
        return
    colour = {"linked": "green", "setting_up": "yellow", "failed": "red"}[link.state]
    console.print(f"{name} ↔ {link.power_platform}: [{colour}]{link.state}[/{colour}] ({link.mode})")
    if link.reason:
        console.print(f"  {link.reason}")
    if link.resume_action:
        console.print(f"  resume: {link.resume_action}")
    if link.unlocked:
        console.print(f"  unlocks: {', '.join(link.unlocked)}")


@app.command("list")
def list_environments(data_dir: DataDir = Path("./var"), control_database_url: ControlUrl = None) -> None:
    """List environments with their link state."""
    system, service = _service(data_dir, control_database_url)
    table = Table("kind", "name", "type", "geography", "Dataverse", "free GB", "link")
    for env in service.list():
        link = service.link_of(env.name) if env.kind == "finance_operations" else service.link_to(env.name)
        other = (link.power_platform if env.kind == "finance_operations" else link.finance_operations) if link else ""
        table.add_row(env.kind, env.name, env.type, env.geography, "yes" if env.has_dataverse else "",
                      f"{env.free_capacity_gb:.1f}" if env.kind == "power_platform" else "",
                      f"{link.state} → {other}" if link else "not linked")
    console.print(table)
    system.close()


@app.command("create")
def create(
    name: str,
    kind: Annotated[str, typer.Option(help="fo (finance and operations) or pp (Power Platform).")] = "fo",
    type_: Annotated[str, typer.Option("--type", help="sandbox, production or developer.")] = "sandbox",
    database_url: Annotated[str | None, typer.Option(help="Database URL; default a SQLite file under --data-dir.")] = None,
    geography: Annotated[str, typer.Option(help="Geography, e.g. unitedstates or europe.")] = "unitedstates",
    without_dataverse: Annotated[bool, typer.Option("--without-dataverse", help="Power Platform only: no Dataverse yet.")] = False,
    data_dir: DataDir = Path("./var"),
    control_database_url: ControlUrl = None,
) -> None:
    """Create an environment and its database."""
    system, service = _service(data_dir, control_database_url)
    env = _run(lambda: service.create(name, _kind(kind), type=type_, database_url=database_url, geography=geography,
                                      with_dataverse=not without_dataverse))
    console.print(f"Created {env.label} ({env.type}).")
    system.close()


@app.command("show")
def show(name: str, kind: Annotated[str, typer.Option(help="fo or pp.")] = "fo",
         data_dir: DataDir = Path("./var"), control_database_url: ControlUrl = None) -> None:
    """Show an environment, its link and its features."""
    system, service = _service(data_dir, control_database_url)
    env = _run(lambda: service.get(name, _kind(kind)))
    console.print(f"{env.label}: {env.type}, {env.geography}, tenant {env.tenant_id}, created {env.created:%Y-%m-%d %H:%M}")
    if env.kind == "finance_operations":
        _show_link(service.link_of(name), name)
        for usage in service.features(name):
            console.print(f"  feature {usage.feature}: {'active' if usage.active else 'inactive'}"
                          + (f" over {usage.power_platform}" if usage.power_platform else "") + (" (legacy)" if usage.legacy else ""))
    else:
        console.print(f"  Dataverse: {'yes' if env.has_dataverse else 'no'}; free capacity {env.free_capacity_gb:.1f} GB")
    system.close()


@app.command("delete")
def delete(name: str, kind: Annotated[str, typer.Option(help="fo or pp.")] = "fo",
           data_dir: DataDir = Path("./var"), control_database_url: ControlUrl = None) -> None:
    """Delete an environment (refused while it is linked)."""
    system, service = _service(data_dir, control_database_url)
    _run(lambda: service.delete(name, _kind(kind)))
    console.print(f"Deleted {name}.")
    system.close()


@app.command("link")
def link(
    name: Annotated[str, typer.Argument(help="The finance and operations environment.")],
    to: Annotated[str | None, typer.Option("--to", help="An existing Power Platform environment; omit for a new one.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Resume a link that failed.")] = False,
    data_dir: DataDir = Path("./var"),
    control_database_url: ControlUrl = None,
) -> None:
    """Link a finance and operations environment to a Power Platform environment (new or existing)."""
    system, service = _service(data_dir, control_database_url)
    result = _run(lambda: service.resume(name) if resume else service.link(name, to))
    _show_link(result, name)
    system.close()
    if result.state == "failed":
        raise typer.Exit(1)


@app.command("unlink")
def unlink(name: str, data_dir: DataDir = Path("./var"), control_database_url: ControlUrl = None) -> None:
    """Remove a link (refused while dual-write, virtual entities or another feature that needs it is active)."""
    system, service = _service(data_dir, control_database_url)
    _run(lambda: service.unlink(name))
    console.print(f"{name} is no longer linked.")
    system.close()


@app.command("auto-enable")
def auto_enable(data_dir: DataDir = Path("./var"), control_database_url: ControlUrl = None) -> None:
    """Run automatic enablement now: link every unlinked finance and operations environment, and say why."""
    system, service = _service(data_dir, control_database_url)
    actions = service.auto_enable()
    if not actions:
        console.print("Every finance and operations environment is already linked.")
    for action in actions:
        console.print(f"{action.environment}: {action.action} — {action.reason}")
    system.close()
