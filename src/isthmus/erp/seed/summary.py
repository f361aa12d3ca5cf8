"""What a seed run reports: row counts of the tables it fills, read back from the database at the end (so a
resumed run reports the whole data set, not just its own part).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from sqlalchemy import Connection, func, select

from isthmus.erp import schema

COUNTED_TABLES = (
    "dataarea",
    "custtable",
    "inventtable",
    "salestable",
    "salesline",
    "custinvoicejour",
    "custinvoicetrans",
    "custtrans",
    "generaljournalentry",
    "generaljournalaccountentry",
    "inventtrans",
)


@dataclass(frozen=True)
class SeedSummary:
    """Row counts per table after the run, plus how the run went."""

    dataarea: int
    custtable: int
    inventtable: int
    salestable: int
    salesline: int
    custinvoicejour: int
    custinvoicetrans: int
    custtrans: int
    generaljournalentry: int
    generaljournalaccountentry: int
    inventtrans: int
    closed_years: int
    """``ledgeryearclose`` rows with status Closed."""
    resumed_tasks: int = field(default=0, compare=False)
    """Tasks an earlier, interrupted run had already committed and this run skipped."""
    seconds: float = field(default=0.0, compare=False)

    def counts(self) -> dict[str, int]:
        """Table name → rows, in load order (for the CLI's summary table)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in COUNTED_TABLES}

    @classmethod
    def read(cls, conn: Connection, *, resumed_tasks: int = 0, seconds: float = 0.0) -> SeedSummary:
        counts = {
            name: conn.execute(select(func.count()).select_from(schema.metadata.tables[name])).scalar_one()
            for name in COUNTED_TABLES
        }
        closed = conn.execute(
            select(func.count()).where(schema.ledgeryearclose.c.status == "Closed")
        ).scalar_one()
        return cls(**counts, closed_years=closed, resumed_tasks=resumed_tasks, seconds=seconds)
