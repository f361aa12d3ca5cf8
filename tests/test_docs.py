"""Names in the docs stay true to the code."""

from __future__ import annotations

from pathlib import Path

from isthmus.erp.entities.docgen import render

ROOT = Path(__file__).resolve().parents[1]


def test_entity_reference_is_generated_from_the_catalog() -> None:
    committed = (ROOT / "docs" / "erp-entities.md").read_text()
    assert committed == render(), "docs/erp-entities.md is stale: run python -m isthmus.erp.entities.docgen > docs/erp-entities.md"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
