"""The audit trail of both applications: who changed which columns of which record when, with old and new values,
and where the write came from (``api``, ``dualwrite``, ``seed``...).

Generic over a ``Database``::

    audit.create_schema(database)                 # the sysdatabaselog table, idempotent
    audit.install(database, audit.ERP_POLICY)     # a pre-commit hook: audit rows commit with the change, or not at all
    audit.reader.entries(database, table="custtable", record_key=42)

The ERP serves the log as the read-only data entity ``DatabaseLogs``; ``reader.as_dataverse`` shapes entries as
Dataverse's ``audit`` entity.
"""

from isthmus.audit import reader
from isthmus.audit.recorder import (
    DATAVERSE_NOISE_TABLES,
    DATAVERSE_POLICY,
    ERP_NOISE_TABLES,
    ERP_POLICY,
    SYSTEM_COLUMNS,
    AuditPolicy,
    AuditRecorder,
    install,
    installed,
    uninstall,
)
from isthmus.audit.schema import auditlog, create_schema, metadata

__all__ = [
    "DATAVERSE_NOISE_TABLES",
    "DATAVERSE_POLICY",
    "ERP_NOISE_TABLES",
    "ERP_POLICY",
    "SYSTEM_COLUMNS",
    "AuditPolicy",
    "AuditRecorder",
    "auditlog",
    "create_schema",
    "install",
    "installed",
    "metadata",
    "reader",
    "uninstall",
]
