"""``isthmus dataverse …``: look at and customise the default Dataverse environment from the command line — list
tables and columns, create a custom table, add a column — the same changes the Web API's metadata endpoints make."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from isthmus.config import Settings
from isthmus.dataverse.metadata.create_bodies import column_from_create_body, table_from_create_body
from isthmus.dataverse.metadata.model import ATTRIBUTE_TYPES
from isthmus.errors import IsthmusError

app = typer.Typer(help="Inspect and customise the Dataverse environment (tables and columns).", no_args_is_help=True)
console = Console()

DataDir = Annotated[Path, typer.Option("--data-dir", help="Folder of the embedded SQLite databases.")]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL of the Dataverse database.")]
CREATABLE = ("String", "Memo", "Integer", "Decimal", "Double", "Money", "Boolean", "DateTime", "Uniqueidentifier")


def _environment(data_dir: Path, database_url: str | None):  # type: ignore[no-untyped-def]
    from isthmus.system import System

    return System(Settings.load(data_dir=data_dir, dataverse_database_url=database_url))


def _label(text: str) -> dict:
    return {"LocalizedLabels": [{"Label": text, "LanguageCode": 1033}]}


@app.command("tables")
def list_tables(data_dir: DataDir = Path("./var"), database_url: DatabaseUrl = None) -> None:
    """List every table: logical name, entity set, primary columns and whether it is custom."""
    system = _environment(data_dir, database_url)
    view = RichTable("logical name", "entity set", "primary id", "primary name", "columns", "custom")
    for t in sorted(system.dataverse.registry.tables.values(), key=lambda t: t.logical_name):
        view.add_row(t.logical_name, t.entity_set_name, t.primary_id, t.primary_name or "", str(len(t.columns)),
                     "yes" if t.is_custom else "")
    console.print(view)
    system.close()


@app.command("columns")
def list_columns(table: str, data_dir: DataDir = Path("./var"), database_url: DatabaseUrl = None) -> None:
    """List the columns of TABLE with their types."""
    system = _environment(data_dir, database_url)
    definition = system.dataverse.registry.table(table)
    if definition is None:
        console.print(f"[red]No table named {table!r}.[/red] `isthmus dataverse tables` lists them.")
        raise typer.Exit(1)
    view = RichTable("column", "type", "details")
    for c in definition.columns:
        details = ", ".join(filter(None, [
            f"max {c.max_length}" if c.max_length else "",
            "→ " + "/".join(c.targets) if c.targets else "",
            f"{len(c.option_set.options)} choices" if c.option_set else "",
            "custom" if c.is_custom else "",
        ]))
        view.add_row(c.logical_name, c.type, details)
    console.print(view)
    system.close()


@app.command("create-table")
def create_table(
    schema_name: Annotated[str, typer.Argument(help="Schema name with a customisation prefix, e.g. new_Project.")],
    display_name: Annotated[str, typer.Option(help="Singular display name.")] = "",
    plural_name: Annotated[str, typer.Option(help="Plural display name.")] = "",
    name_column: Annotated[str, typer.Option(help="Schema name of the primary name column (default <prefix>_Name).")] = "",
    data_dir: DataDir = Path("./var"),
    database_url: DatabaseUrl = None,
) -> None:
    """Create a custom table with its primary id, primary name and the standard columns."""
    prefix = schema_name.split("_", 1)[0]
    body = {
        "SchemaName": schema_name,
        "DisplayName": _label(display_name or schema_name),
        "DisplayCollectionName": _label(plural_name or f"{display_name or schema_name}s"),
        "OwnershipType": "UserOwned",
        "Attributes": [{
            "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata", "SchemaName": name_column or f"{prefix}_Name",
            "IsPrimaryName": True, "MaxLength": 100, "DisplayName": _label("Name"), "RequiredLevel": {"Value": "None"},
        }],
    }
    system = _environment(data_dir, database_url)
    try:
        environment = system.dataverse
        table = table_from_create_body(body)
        with environment.database.engine.begin() as conn:
            environment.store.create_table(conn, table)
        environment.sync_message_filters()
    except IsthmusError as exc:
        console.print(f"[red]Could not create the table:[/red] {exc.full_message}")
        raise typer.Exit(1) from exc
    finally:
        system.close()
    console.print(f"Created table [bold]{table.logical_name}[/bold] (entity set {table.entity_set_name}).")


@app.command("add-column")
def add_column(
    table: Annotated[str, typer.Argument(help="Logical name of the table.")],
    schema_name: Annotated[str, typer.Argument(help="Schema name with a customisation prefix, e.g. new_Budget.")],
    type_: Annotated[str, typer.Option("--type", help=f"One of {', '.join(CREATABLE)}.")] = "String",
    max_length: Annotated[int, typer.Option(help="For String and Memo columns.")] = 100,
    data_dir: DataDir = Path("./var"),
    database_url: DatabaseUrl = None,
) -> None:
    """Add a custom column to TABLE (lookups and choices: use the Web API's metadata endpoints)."""
    if type_ not in CREATABLE:
        console.print(f"[red]--type must be one of {', '.join(CREATABLE)}[/red] (the model knows {', '.join(ATTRIBUTE_TYPES)}).")
        raise typer.Exit(2)
    body: dict = {"@odata.type": f"Microsoft.Dynamics.CRM.{type_}AttributeMetadata", "SchemaName": schema_name,
                  "DisplayName": _label(schema_name), "RequiredLevel": {"Value": "None"}}
    if type_ in ("String", "Memo"):
        body["MaxLength"] = max_length
    system = _environment(data_dir, database_url)
    try:
        environment = system.dataverse
        column = column_from_create_body(body, table=table)
        with environment.database.engine.begin() as conn:
            environment.store.add_column(conn, table, column)
    except IsthmusError as exc:
        console.print(f"[red]Could not add the column:[/red] {exc.full_message}")
        raise typer.Exit(1) from exc
    finally:
        system.close()
    console.print(f"Added column [bold]{column.logical_name}[/bold] ({column.type}) to {table}.")
