"""Initial sync: before a map goes live, copy to the other side the rows it lacks — per legal entity, from the master
side the user chose, never overwriting what exists (differences are reported for the user to resolve), with a
checkpoint after every batch so a killed run resumes where it stopped, and a list of the rows that failed so each
can be re-synced alone.

Rows go in key order, in batches of ``BATCH`` per transaction on the other side. A batch the other side refuses is
retried row by row so that one bad row fails alone. Lookups to rows that a later batch creates (a customer whose
invoice account sorts after it) are bound after the last batch, so self-references need no manual steps.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select, tuple_, update

from isthmus.dualwrite import schema
from isthmus.dualwrite.apply import Pending, apply_to_erp, bind_pending, refused
from isthmus.dualwrite.apply import _to_dataverse as write_to_dataverse
from isthmus.dualwrite.changes import Change, dataverse_row_key
from isthmus.dualwrite.convert import (
    COMPANY_FIELD,
    dataverse_criteria,
    dataverse_in_scope,
    erp_in_scope,
    erp_key,
    erp_row_from_storage,
    json_value,
    same_value,
    to_dataverse,
    to_erp,
)
from isthmus.dualwrite.maps.bind import BoundMap
from isthmus.dualwrite.runtime import LinkRuntime
from isthmus.dualwrite.sides.local import DataverseReader
from isthmus.errors import ClientError, IsthmusError, UnavailableError, ValidationError
from isthmus.storage.types import utcnow

if TYPE_CHECKING:
    from isthmus.dualwrite.service import DualWriteService

BATCH = 1000
REPORT_LIMIT = 10_000
"""Differences and failures kept per run (the counts stay exact)."""

Progress = Callable[[str, str | None, int, int], None]
"""(map, company, rows done, rows in total)."""


@dataclass
class SyncReport:
    run_id: str
    map: str
    company: str | None
    master: str
    state: str = "running"
    created: int = 0
    different: int = 0
    failed: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: list[Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "map": self.map, "company": self.company, "master": self.master,
                "state": self.state, "created": self.created, "different": self.different, "failed": self.failed,
                "differences": self.differences, "failures": self.failures}


def run_initial_sync(service: DualWriteService, runtime: LinkRuntime, name: str, *, master: str = "erp",
                     progress: Progress | None = None) -> list[SyncReport]:
    """Initial sync of one map, company by company; resumes an unfinished run of the same map and master."""
    bound = runtime.runs[name].bound
    if master == "dataverse" and not bound.syncs_to_erp:
        raise ValidationError(f"Map {name} flows one way, ERP to Dataverse; its initial sync master is the ERP.",
                              target="master")
    companies: Sequence[str | None] = [None]
    if bound.company_specific:
        companies = sorted(runtime.companies) if runtime.companies is not None else service.companies(runtime.link)
    reports = []
    for company in companies:
        report = _resume_or_start(service, runtime.link, name, company, master)
        if report.state == "completed":
            reports.append(report)
            continue
        copier = _ErpToDataverse(runtime, bound, company) if master == "erp" else _DataverseToErp(runtime, bound, company)
        copier.run(report, lambda r: _save(service, runtime.link, r), progress)
        report.state = "completed"
        _save(service, runtime.link, report, finished=True)
        service.store.log(runtime.link, name, "initial_sync",
                          f"Initial sync{' of ' + company if company else ''} from {master}: {report.created} created, "
                          f"{report.different} different (left as they are), {report.failed} failed.")
        reports.append(report)
    return reports


def _resume_or_start(service: DualWriteService, link: str, name: str, company: str | None, master: str) -> SyncReport:
    runs = schema.sync_runs
    with service.store.database.read() as conn:
        row = conn.execute(select(runs).where(runs.c.link == link, runs.c.map == name, runs.c.master == master,
                                              runs.c.state == "running",
                                              runs.c.company.is_(None) if company is None else runs.c.company == company)
                           .order_by(runs.c.started.desc())).first()
    if row is not None:
        saved = row.report or {}
        return SyncReport(row.id, name, company, master, "running", row.created_count, row.different_count,
                          row.failed_count, list(saved.get("differences", [])), list(saved.get("failures", [])),
                          row.checkpoint)
    report = SyncReport(str(uuid.uuid4()), name, company, master)
    with service.store.database.engine.begin() as conn:
        conn.execute(insert(runs).values(id=report.run_id, link=link, map=name, company=company, master=master,
                                         state="running", checkpoint=None, created_count=0, different_count=0,
                                         failed_count=0, report=None, started=utcnow()))
    return report


def _save(service: DualWriteService, link: str, report: SyncReport, *, finished: bool = False) -> None:
    values: dict[str, Any] = {
        "checkpoint": report.checkpoint, "created_count": report.created, "different_count": report.different,
        "failed_count": report.failed, "state": report.state,
        "report": {"differences": report.differences[:REPORT_LIMIT], "failures": report.failures[:REPORT_LIMIT]},
    }
    if finished:
        values["finished"] = utcnow()
    with service.store.database.engine.begin() as conn:
        conn.execute(update(schema.sync_runs).where(schema.sync_runs.c.id == report.run_id).values(**values))


def sync_runs(service: DualWriteService, link: str, name: str | None = None) -> list[dict[str, Any]]:
    runs = schema.sync_runs
    stmt = select(runs).where(runs.c.link == link)
    if name is not None:
        stmt = stmt.where(runs.c.map == name)
    with service.store.database.read() as conn:
        return [{"run_id": r.id, "map": r.map, "company": r.company, "master": r.master, "state": r.state,
                 "created": r.created_count, "different": r.different_count, "failed": r.failed_count,
                 "started": r.started.isoformat(), "finished": r.finished.isoformat() if r.finished else None,
                 **(r.report or {})} for r in conn.execute(stmt.order_by(runs.c.started))]


class _Copier:
    def __init__(self, runtime: LinkRuntime, bound: BoundMap, company: str | None) -> None:
        self.runtime = runtime
        self.bound = bound
        self.company = company
        self.pending: list[Pending] = []

    def run(self, report: SyncReport, save: Callable[[SyncReport], None], progress: Progress | None) -> None:
        total = self.count()
        done = self.count(after=report.checkpoint)
        done = total - done
        for batch, last_key in self.batches(report.checkpoint):
            try:
                self.copy(batch, report)
            except UnavailableError:
                raise
            except ClientError:
                for one in batch:  # isolate the bad rows: the rest of the batch still goes in
                    try:
                        self.copy([one], report)
                    except ClientError as exc:
                        report.failed += 1
                        if len(report.failures) < REPORT_LIMIT:
                            report.failures.append({"key": one.key, "message": exc.message})
            report.checkpoint = last_key
            save(report)
            done += len(batch)
            if progress is not None:
                progress(self.bound.name, self.company, done, total)
        self.finish(report)

    def count(self, after: list[Any] | None = None) -> int:
        raise NotImplementedError

    def batches(self, after: list[Any] | None) -> Iterator[tuple[list[Change], list[Any]]]:
        raise NotImplementedError

    def copy(self, batch: list[Change], report: SyncReport) -> None:
        raise NotImplementedError

    def finish(self, report: SyncReport) -> None:
        return None

    def _difference(self, report: SyncReport, key: Mapping[str, Any], columns: dict[str, tuple[Any, Any]]) -> None:
        report.different += 1
        if len(report.differences) < REPORT_LIMIT:
            report.differences.append({"key": dict(key), "columns": {k: {"erp": a, "dataverse": b}
                                                                     for k, (a, b) in columns.items()}})


class _ErpToDataverse(_Copier):
    """The ERP is the master: Dataverse gets every in-scope ERP row it lacks."""

    def _where(self, after: list[Any] | None) -> list[Any]:
        entity = self.bound.entity
        where: list[Any] = []
        if self.company is not None:
            where.append(entity.company_column == self.company)
        if after is not None:
            where.append(tuple_(*self._key_columns()) > tuple_(*after))
        return where

    def _key_columns(self) -> list[Any]:
        return [f.column for f in self.bound.key_fields]

    def count(self, after: list[Any] | None = None) -> int:
        entity = self.bound.entity
        with self.runtime.erp_database.read() as conn:
            return conn.execute(select(func.count()).select_from(entity.table).where(*self._where(after))).scalar_one()

    def batches(self, after: list[Any] | None) -> Iterator[tuple[list[Change], list[Any]]]:
        entity = self.bound.entity
        keys = self._key_columns()
        while True:
            with self.runtime.erp_database.read() as conn:
                rows = list(conn.execute(select(entity.table).where(*self._where(after)).order_by(*keys).limit(BATCH))
                            .mappings())
            if not rows:
                return
            after = [r[c.key] for c in keys for r in rows[-1:]]
            changes = []
            for stored in rows:
                row = {k: json_value(v) for k, v in erp_row_from_storage(entity, stored).items()}
                if erp_in_scope(self.bound, row):
                    changes.append(Change(self.bound.name, "upsert", erp_key(self.bound, row), row))
            yield changes, after

    def copy(self, batch: list[Change], report: SyncReport) -> None:
        if not batch:
            return
        session = self.runtime.dataverse.open(str(uuid.uuid4()))
        try:
            created = 0
            for change in batch:
                try:
                    if not self._compare(session, change, report):
                        write_to_dataverse(session, self.bound, change, self.pending)
                        created += 1
                except ClientError as exc:
                    raise refused(exc, self.bound, change, "Dataverse") from exc
            session.prepare()
        except BaseException:
            session.rollback()
            self.pending = [p for p in self.pending if p[1] not in batch]
            raise
        session.commit()
        report.created += created

    def _compare(self, session: Any, change: Change, report: SyncReport) -> bool:
        """Whether the row exists in Dataverse; if it does, report the columns that differ."""
        company_id = None
        if self.bound.company_specific:
            company_id = session.company_id(change.key[COMPANY_FIELD])
            if company_id is None:
                raise ValidationError(f"Company {change.key[COMPANY_FIELD]} has no cdm_company row in Dataverse.",
                                      next_step="Run the legal-entities map with initial sync first.")
        existing_id = session.find_id(self.bound.table.logical_name, dataverse_criteria(self.bound, change.key, company_id))
        if existing_id is None:
            return False
        existing = session.read(self.bound.table.logical_name, existing_id) or {}
        assert change.row is not None
        try:
            body = to_dataverse(self.bound, change.row, session, company_id, creating=False)
        except ValidationError:
            body = {}
        different = {}
        for name, value in body.items():
            column = name.removesuffix("@odata.bind")
            if name.endswith("@odata.bind"):
                column = column.split("_", 1)[0] if column not in existing else column
                value = value.rsplit("(", 1)[-1].rstrip(")") if isinstance(value, str) else value
            if column in existing and not same_value(json_value(existing[column]), value):
                different[column] = (value, json_value(existing[column]))
        if different:
            self._difference(report, change.key, different)
        return True

    def finish(self, report: SyncReport) -> None:
        if not self.pending:
            return
        session = self.runtime.dataverse.open(str(uuid.uuid4()))
        try:
            left = bind_pending(session, self.pending, keep_pending=True)
            session.prepare()
        except BaseException:
            session.rollback()
            raise
        session.commit()
        for _, change, _, _ in left:
            report.failed += 1
            report.failures.append({"key": change.key, "message": "A lookup still points to a row that does not exist."})
        self.pending = []


class _DataverseToErp(_Copier):
    """Dataverse is the master: the ERP gets every in-scope Dataverse row it lacks."""

    def _company_id(self, conn: Connection) -> str | None:
        if self.company is None:
            return None
        return DataverseReader(self.runtime.dataverse.environment, conn).company_id(self.company)

    def _where(self, conn: Connection, after: list[Any] | None) -> list[Any] | None:
        sql = self.runtime.dataverse.environment.registry.sql[self.bound.table.logical_name]
        where: list[Any] = []
        if self.bound.company_specific:
            assert self.bound.map.company is not None
            company_id = self._company_id(conn)
            if company_id is None:
                return None
            where.append(sql.c[self.bound.map.company.dataverse_column] == company_id)
        if after is not None:
            where.append(tuple_(*[sql.c[c.logical_name] for c in self.bound.key_columns]) > tuple_(*after))
        return where

    def count(self, after: list[Any] | None = None) -> int:
        sql = self.runtime.dataverse.environment.registry.sql[self.bound.table.logical_name]
        with self.runtime.dataverse_database.read() as conn:
            where = self._where(conn, after)
            if where is None:
                return 0
            return conn.execute(select(func.count()).select_from(sql).where(*where)).scalar_one()

    def batches(self, after: list[Any] | None) -> Iterator[tuple[list[Change], list[Any]]]:
        environment = self.runtime.dataverse.environment
        sql = environment.registry.sql[self.bound.table.logical_name]
        keys = [sql.c[c.logical_name] for c in self.bound.key_columns]
        while True:
            with self.runtime.dataverse_database.read() as conn:
                where = self._where(conn, after)
                if where is None:
                    return
                rows = list(conn.execute(select(sql).where(*where, *[k.isnot(None) for k in keys])
                                         .order_by(*keys).limit(BATCH)).mappings())
                if not rows:
                    return
                reader = DataverseReader(environment, conn)
                after = [rows[-1][k.key] for k in keys]
                changes = []
                for stored in rows:
                    row = {k: json_value(v) for k, v in stored.items()}
                    if not dataverse_in_scope(self.bound, row):
                        continue
                    key = dataverse_row_key(self.bound, stored, reader.company_code)
                    if key is not None:
                        changes.append(Change(self.bound.name, "upsert", key, row))
            yield changes, after

    def copy(self, batch: list[Change], report: SyncReport) -> None:
        if not batch:
            return
        session = self.runtime.erp.open(str(uuid.uuid4()))
        entity = self.bound.entity.set_name
        try:
            with self.runtime.dataverse_database.read() as conn:
                reader = DataverseReader(self.runtime.dataverse.environment, conn)
                missing = []
                for change in batch:
                    existing = session.read(entity, change.key)
                    if existing is None:
                        missing.append(change)
                        continue
                    assert change.row is not None
                    body = to_erp(self.bound, change.row, reader, change.key.get(COMPANY_FIELD), creating=False)
                    different = {k: (existing.get(k), v) for k, v in body.items()
                                 if k not in change.key and not same_value(existing.get(k), v)}
                    if different:
                        self._difference(report, change.key, different)
                apply_to_erp(session, reader, {self.bound.name: self.bound}, missing)
            session.prepare()
        except BaseException:
            session.rollback()
            raise
        session.commit()
        report.created += len(missing)


def resync_record(runtime: LinkRuntime, name: str, key: Mapping[str, Any], *, master: str = "erp") -> None:
    """Re-sync one record from the master side, overwriting the other (a failed initial-sync row, a difference the
    user resolved in favour of the master)."""
    if name not in runtime.runs:
        raise ValidationError(f"No map {name!r}.", target="map")
    try:
        runtime.resync("to_dataverse" if master == "erp" else "to_erp", [(name, dict(key))])
    except IsthmusError:
        raise
