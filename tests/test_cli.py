"""The command line: every command explains itself, seed fills a database, and the dataverse commands customise
the environment the Web API serves."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from isthmus.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["up"], ["seed"], ["dataverse"], ["dataverse", "create-table"], ["dataverse", "add-column"]])
def test_help_says_what_each_command_does(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output.splitlines()) > 5


def test_seed_then_reseed_resumes_nothing_new(tmp_path: Path) -> None:
    first = runner.invoke(app, ["seed", "--customers", "300", "--data-dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "custtable" in first.output and "300" in first.output
    again = runner.invoke(app, ["seed", "--customers", "300", "--data-dir", str(tmp_path)])
    assert again.exit_code == 0 and "resumed" in again.output
    different = runner.invoke(app, ["seed", "--customers", "400", "--data-dir", str(tmp_path)])
    assert different.exit_code == 1 and "Seeding failed" in different.output


def test_dataverse_custom_table_and_column(tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path)]
    created = runner.invoke(app, ["dataverse", "create-table", "new_Project", "--display-name", "Project", *args])
    assert created.exit_code == 0 and "new_projects" in created.output
    added = runner.invoke(app, ["dataverse", "add-column", "new_project", "new_Budget", "--type", "Money", *args])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["dataverse", "columns", "new_project", *args])
    assert "new_budget" in listed.output and "Money" in listed.output
    assert "new_project" in runner.invoke(app, ["dataverse", "tables", *args]).output
    duplicate = runner.invoke(app, ["dataverse", "add-column", "new_project", "new_Budget", *args])
    assert duplicate.exit_code == 1 and "already has a column" in duplicate.output
    wrong_type = runner.invoke(app, ["dataverse", "add-column", "new_project", "new_X", "--type", "Blob", *args])
    assert wrong_type.exit_code == 2
