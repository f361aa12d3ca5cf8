"""``isthmus identity …``: the directory of people and applications — list them, create them, reset a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from isthmus.config import Settings
from isthmus.errors import IsthmusError
from isthmus.identity import ensure_demo_identities, reset_secret

app = typer.Typer(help="People and applications that may sign in, and their secrets.", no_args_is_help=True)
console = Console()

DataDir = Annotated[Path, typer.Option("--data-dir", help="Folder of the embedded SQLite databases.")]
ControlUrl = Annotated[str | None, typer.Option("--control-database-url", help="SQLAlchemy URL of the control-plane database.")]


def _system(data_dir: Path, control_url: str | None):  # type: ignore[no-untyped-def]
    from isthmus.system import System

    return System(Settings.load(data_dir=data_dir, control_database_url=control_url))


@app.command("list")
def list_principals(data_dir: DataDir = Path("./var"), control_database_url: ControlUrl = None) -> None:
    """List people and applications (never their secrets)."""
    system = _system(data_dir, control_database_url)
    table = Table("kind", "name", "display name", "roles", "object id", "disabled")
    for p in system.directory.list_principals():
        table.add_row(p.kind, p.name, p.display_name, ", ".join(p.directory_roles), p.object_id, "yes" if p.disabled else "")
    console.print(table)
    system.close()


@app.command("demo")
def demo(data_dir: DataDir = Path("./var"), control_database_url: ControlUrl = None) -> None:
    """Create the demo people and applications that are missing, and print the secrets of those created now."""
    system = _system(data_dir, control_database_url)
    for identity in ensure_demo_identities(system.directory):
        secret = f"  secret: {identity.secret}" if identity.secret else ""
        console.print(f"{identity.kind:12} {identity.name:28} {identity.role}{secret}")
    system.close()


@app.command("reset-secret")
def reset(name: Annotated[str, typer.Argument(help="User name or application client id.")],
          data_dir: DataDir = Path("./var"), control_database_url: ControlUrl = None) -> None:
    """Give a person or application a new generated password or client secret, and print it once."""
    system = _system(data_dir, control_database_url)
    try:
        secret = reset_secret(system.directory, name)
    except IsthmusError as exc:
        console.print(f"[red]{exc.full_message}[/red]")
        raise typer.Exit(1) from exc
    finally:
        system.close()
    console.print(f"New secret for {name}: {secret}")
    console.print("It is shown only now; it is stored hashed.")
