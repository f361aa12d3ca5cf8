"""Dataverse's audit history over the Web API: ``GET audits`` (Dataverse's ``audit`` entity, read-only) and
``GET audits(<auditid>)``, served from the environment's audit trail (``isthmus.audit``).

Who changed which columns of which record when, with old and new values (``changedata``). Reading the audit needs
the System Administrator role (Dataverse's *View Audit History* privilege belongs to it). ``$filter`` understands the
equality tests clients use — ``objecttypecode``, ``_objectid_value``, ``_userid_value``, ``operation``/``action`` —
joined with ``and``, and ``createdon ge/gt/le/lt``; ``$top`` (at most 5,000).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from odata_query import ast

from isthmus.audit import reader
from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.records.service import Caller
from isthmus.dataverse.security.model import Depth
from isthmus.errors import ForbiddenError, NotFoundError, NotSupportedError, QueryOptionError
from isthmus.odata.query.options import QueryOptions

MAX_TOP = 5000
OPERATIONS = {1: "create", 2: "update", 3: "delete"}


def _require_auditor(caller: Caller) -> None:
    if caller.security is not None and caller.security.everywhere != Depth.ORGANIZATION:
        raise ForbiddenError(
            f"Principal user (Id={caller.user_id}) is missing prvReadAuditSummary privilege: reading the audit history "
            "needs the System Administrator role.", code="0x80040220")


def list_audits(environment: DataverseEnvironment, caller: Caller, options: QueryOptions, root: str) -> dict[str, Any]:
    _require_auditor(caller)
    criteria: dict[str, Any] = {}
    if options.filter is not None:
        _criteria(options.filter, criteria)
    top = min(options.top or MAX_TOP, MAX_TOP)
    found = reader.entries(environment.database, limit=top, **criteria)
    return {"@odata.context": f"{root}/$metadata#audits", "value": [reader.as_dataverse(e) for e in found]}


def get_audit(environment: DataverseEnvironment, caller: Caller, audit_id: str, root: str) -> dict[str, Any]:
    _require_auditor(caller)
    entry = reader.get(environment.database, audit_id)
    if entry is None:
        raise NotFoundError(f"audit With Id = {audit_id} Does Not Exist", code="0x80040217")
    return {"@odata.context": f"{root}/$metadata#audits/$entity", **reader.as_dataverse(entry)}


def _criteria(node: ast._Node, out: dict[str, Any]) -> None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        _criteria(node.left, out)
        _criteria(node.right, out)
        return
    if not (isinstance(node, ast.Compare) and isinstance(node.left, ast.Identifier)):
        raise NotSupportedError("audits $filter supports 'and' of comparisons on objecttypecode, _objectid_value, "
                                "_userid_value, operation and createdon.", target="$filter")
    name, value = node.left.name, getattr(node.right, "val", None)
    if value is None:
        raise QueryOptionError(f"Compare {name} with a value.", target="$filter")
    equals = isinstance(node.comparator, ast.Eq)
    if name == "objecttypecode" and equals:
        out["table"] = value
    elif name == "_objectid_value" and equals:
        out["record_key"] = value
    elif name == "_userid_value" and equals:
        out["user"] = value
    elif name in ("operation", "action") and equals:
        if int(value) not in OPERATIONS:
            raise QueryOptionError(f"{name} is 1 (create), 2 (update) or 3 (delete).", target="$filter")
        out["operation"] = OPERATIONS[int(value)]
    elif name == "createdon" and isinstance(node.comparator, (ast.Gt, ast.GtE, ast.Lt, ast.LtE)):
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        out["since" if isinstance(node.comparator, (ast.Gt, ast.GtE)) else "until"] = moment
    else:
        raise NotSupportedError(f"audits cannot be filtered on {name} with that operator.", target="$filter")
