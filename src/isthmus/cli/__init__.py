"""The ``isthmus`` command line."""

from __future__ import annotations


def main() -> None:
    from isthmus.cli.app import main as run

    run()
