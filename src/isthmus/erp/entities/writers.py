"""A writer for simple reference data (customer groups, terms of payment): uniqueness of the key within the
company, referenced records must exist, and a record still in use cannot be deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func, select

from isthmus.errors import ConflictError, ValidationError
from isthmus.erp import validation
from isthmus.storage import UnitOfWork


class TableWriter:
    def __init__(
        self,
        table: Table,
        *,
        key_columns: tuple[str, ...],
        references: dict[str, tuple[Table, str, str]] | None = None,
        in_use: tuple[tuple[Table, str, str], ...] = (),
    ) -> None:
        self.table = table
        self.key_columns = key_columns
        self.references = references or {}
        self.in_use = in_use

    def _where(self, company: str | None, values: dict[str, Any]) -> list:
        conditions = [self.table.c[k] == values[k] for k in self.key_columns]
        if company is not None and "dataareaid" in self.table.c:
            conditions.append(self.table.c.dataareaid == company)
        return conditions

    def _check_references(self, uow: UnitOfWork, company: str | None, values: dict[str, Any]) -> None:
        for column, (table, key, what) in self.references.items():
            if values.get(column):
                validation.require_reference(uow.connection, table, key, values[column], what, company=company, target=column)

    def create(self, uow: UnitOfWork, company: str | None, values: dict[str, Any]) -> dict[str, Any]:
        row = dict(values)
        for key in self.key_columns:
            validation.require_text(row, key, f"The key {key}", target=key)
        if company is not None and "dataareaid" in self.table.c:
            row["dataareaid"] = company
        if uow.connection.execute(select(self.table.c.recid).where(*self._where(company, row))).first():
            raise ConflictError(
                f"A record with key {', '.join(str(row[k]) for k in self.key_columns)} already exists"
                + (f" in company {company}." if company else "."),
            )
        self._check_references(uow, company, row)
        return uow.insert(self.table, row)

    def update(self, uow: UnitOfWork, company: str | None, row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        for key in self.key_columns:
            if key in changes and changes[key] != row[key]:
                raise ValidationError(f"The key {key} cannot be changed.", target=key)
        changed = {k: v for k, v in changes.items() if row.get(k) != v}
        if not changed:
            return row
        self._check_references(uow, company, changed)
        return uow.update(self.table, row["recid"], changed, before=row)

    def delete(self, uow: UnitOfWork, company: str | None, row: dict[str, Any]) -> None:
        for table, column, what in self.in_use:
            conditions = [table.c[column] == row[self.key_columns[0]]]
            if company is not None and "dataareaid" in table.c:
                conditions.append(table.c.dataareaid == company)
            used = uow.connection.execute(select(func.count()).select_from(table).where(*conditions)).scalar_one()
            if used:
                raise ConflictError(
                    f"{row[self.key_columns[0]]} cannot be deleted: {used} {what} use it.",
                )
        uow.delete(self.table, row["recid"])
