"""The database log as a read-only data entity: ``DatabaseLogs``, one record per row change, with the changed
columns and their old and new values (``isthmus.audit``).

Finance and operations keeps its database log in table ``sysdatabaselog`` and shows it on the *Database log* page
(System administration); it publishes no standard OData entity for it, so this one is Isthmus's, named after that
table. The log is per legal entity: a record's changes are logged under its company, changes to shared tables
(legal entities, currencies, users) under the company the caller was working in.
"""

from __future__ import annotations

from sqlalchemy import case

from isthmus.audit.schema import auditlog
from isthmus.erp.entities.fields import choice, company, text, timestamp
from isthmus.erp.entities.model import DataEntity, EntityField
from isthmus.odata.edm import EnumType

DATABASE_LOG_TYPE = EnumType("DatabaseLogType", (("Insert", 0), ("Delete", 1), ("Update", 2)))

a = auditlog.c

_LOG_TYPE = case((a.operation == "create", "Insert"), (a.operation == "delete", "Delete"), else_="Update")

DATABASE_LOGS = DataEntity(
    name="DatabaseLog",
    set_name="DatabaseLogs",
    physical_name="SysDatabaseLogEntity",
    label="Database log",
    category="Security",
    table=auditlog,
    company_column=a.dataareaid,
    fields=(
        company(a.dataareaid),
        EntityField("LogId", a.recid, "Edm.Int64", key=True, label="Log entry"),
        text("TableName", a.tablename),
        text("RecordId", a.recordkey),
        choice("LogType", _LOG_TYPE, DATABASE_LOG_TYPE, read_only=True),
        text("ChangedFields", a.changedcolumns),
        text("Changes", a.changedata),
        text("UserId", a.username),
        text("UserObjectId", a.principalid),
        text("Origin", a.origin),
        text("TransactionId", a.transactionid),
        timestamp("CreatedDateTime", a.createddatetime),
    ),
)
