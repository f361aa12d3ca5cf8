"""Reading the audit trail: entries by table, record, legal entity, user and time, a record's change history, and
the Dataverse ``audit`` entity shape.

For Dataverse (``audits`` entity set, ``RetrieveRecordChangeHistory``), ``as_dataverse`` gives the record as the Web
API shows it: ``auditid`` (a GUID that encodes the log's row number, see ``audit_guid``), ``action`` and
``operation`` (1 Create, 2 Update, 3 Delete), ``objecttypecode`` (the table's logical name), ``_objectid_value``,
``_userid_value``, ``createdon``, ``transactionid``, ``attributemask`` (the changed columns' logical names,
comma-separated — Dataverse lists column numbers) and ``changedata`` (JSON ``{"changedAttributes": [{"logicalName",
"oldValue", "newValue"}]}``, Dataverse's own format).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select

from isthmus.audit.schema import auditlog
from isthmus.storage import Database

ACTION_CODES = {"create": 1, "update": 2, "delete": 3}
ACTION_NAMES = {1: "Create", 2: "Update", 3: "Delete"}
_GUID_PREFIX = "a0d17000-0000-4000-8000-"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    table: str
    record_key: str
    company: str | None
    operation: str
    changes: tuple[tuple[str, Any, Any], ...]
    """(column, old value, new value) — values as JSON gives them (decimals and dates as text)."""
    user: str
    principal_id: str | None
    origin: str
    transaction_id: str
    created: dt.datetime

    @property
    def changed_columns(self) -> tuple[str, ...]:
        return tuple(name for name, _, _ in self.changes)

    def old(self, column: str) -> Any:
        return next((o for n, o, _ in self.changes if n == column), None)

    def new(self, column: str) -> Any:
        return next((v for n, _, v in self.changes if n == column), None)


def _entry(row: Any) -> AuditEntry:
    data = orjson.loads(row["changedata"]) if row["changedata"] else {}
    changes = tuple(
        (c["logicalName"], c.get("oldValue"), c.get("newValue")) for c in data.get("changedAttributes", ())
    )
    return AuditEntry(
        id=row["recid"],
        table=row["tablename"],
        record_key=row["recordkey"],
        company=row["dataareaid"],
        operation=row["operation"],
        changes=changes,
        user=row["username"],
        principal_id=row["principalid"],
        origin=row["origin"],
        transaction_id=row["transactionid"],
        created=row["createddatetime"],
    )


def entries(
    database: Database,
    *,
    table: str | Iterable[str] | None = None,
    record_key: Any = None,
    companies: Iterable[str] | None = None,
    user: str | None = None,
    operation: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    after_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
    newest_first: bool = True,
) -> list[AuditEntry]:
    """Audit entries matching every given condition, newest first unless asked otherwise.

    ``companies`` limits to those legal entities (pass the caller's accessible ones); ``after_id`` pages through
    the log in the order it was written (keyset paging, with ``newest_first=False``)."""
    c = auditlog.c
    where: list[Any] = []
    if table is not None:
        where.append(c.tablename == table if isinstance(table, str) else c.tablename.in_(list(table)))
    if record_key is not None:
        where.append(c.recordkey == str(record_key))
    if companies is not None:
        where.append(c.dataareaid.in_(sorted(companies)))
    if user is not None:
        where.append(c.username == user)
    if operation is not None:
        where.append(c.operation == operation)
    if since is not None:
        where.append(c.createddatetime >= since)
    if until is not None:
        where.append(c.createddatetime < until)
    if after_id is not None:
        where.append(c.recid > after_id)
    order = c.recid.desc() if newest_first else c.recid.asc()
    stmt = select(auditlog).where(*where).order_by(order).limit(limit).offset(offset or None)
    with database.read() as conn:
        return [_entry(r) for r in conn.execute(stmt).mappings()]


def history(database: Database, table: str, record_key: Any, *, limit: int = 1000) -> list[AuditEntry]:
    """Every change of one record, oldest first (Dataverse's RetrieveRecordChangeHistory)."""
    return entries(database, table=table, record_key=record_key, limit=limit, newest_first=False)


def get(database: Database, audit_id: int | str) -> AuditEntry | None:
    """One entry by its row number or its Dataverse ``auditid``."""
    recid = audit_recid(audit_id) if isinstance(audit_id, str) else audit_id
    if recid is None:
        return None
    with database.read() as conn:
        row = conn.execute(select(auditlog).where(auditlog.c.recid == recid)).mappings().first()
    return _entry(row) if row is not None else None


# --- Dataverse shape -----------------------------------------------------------------------------------------------


def audit_guid(recid: int) -> str:
    """The ``auditid`` of a log row: a fixed GUID prefix and the row number in the last 12 hex digits."""
    return f"{_GUID_PREFIX}{recid:012x}"


def audit_recid(audit_id: str) -> int | None:
    """The row number in an ``auditid`` made by ``audit_guid``; ``None`` for any other GUID."""
    try:
        text = str(uuid.UUID(audit_id))
    except ValueError:
        return None
    if not text.startswith(_GUID_PREFIX):
        return None
    return int(text[len(_GUID_PREFIX) :], 16)


def as_dataverse(entry: AuditEntry) -> dict[str, Any]:
    """The entry as Dataverse's ``audit`` entity (Web API property names)."""
    code = ACTION_CODES[entry.operation]
    return {
        "auditid": audit_guid(entry.id),
        "createdon": entry.created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "action": code,
        "operation": code,
        "objecttypecode": entry.table,
        "_objectid_value": entry.record_key,
        "_userid_value": entry.user,
        "_callinguserid_value": None,
        "transactionid": entry.transaction_id,
        "attributemask": ",".join(entry.changed_columns),
        "changedata": orjson.dumps(
            {"changedAttributes": [{"logicalName": n, "oldValue": o, "newValue": v} for n, o, v in entry.changes]}
        ).decode(),
        "useradditionalinfo": entry.origin,
    }
