"""Applying changes to the receiving side inside one session: upsert by integration key or delete, lookups
resolved, company and owner set on new Dataverse rows, and a refusal turned into an error that says which map,
which record and what the other side said.

Lookups to rows created later in the same batch (a customer whose invoice account is created after it, a self
reference) are written in a second pass: the row is created without them, then patched once the batch is in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from isthmus.dualwrite.changes import Change
from isthmus.dualwrite.convert import (
    COMPANY_FIELD,
    DataverseLookups,
    dataverse_criteria,
    same_value,
    to_dataverse,
    to_erp,
)
from isthmus.dualwrite.maps.bind import BoundMap
from isthmus.dualwrite.sides.base import DataverseSession, ErpSession
from isthmus.errors import ClientError, IsthmusError, ValidationError

LOOKUP_NOT_FOUND = "Couldn't resolve the guid"


def refused(exc: IsthmusError, bound: BoundMap, change: Change, side: str) -> IsthmusError:
    """The other side's error, same family (so the same HTTP status), saying where it came from."""
    message = f"Dual-write map {bound.name}: {side} refused the change to {change.describe()}: {exc.message}"
    try:
        wrapped = type(exc)(message, target=exc.target, next_step=exc.next_step,
                            details={**exc.details, "map": bound.name, "side": side, "key": change.key}, code=exc.code)
    except TypeError:  # a family with its own constructor: keep it as it is
        return exc
    wrapped.__cause__ = exc
    return wrapped


Pending = tuple[BoundMap, Change, str, "str | None"]
"""A row created without some lookups: (map, change, Dataverse id, company id)."""


def apply_to_dataverse(session: DataverseSession, maps: Mapping[str, BoundMap], changes: Sequence[Change], *,
                       keep_pending: bool = False) -> list[Pending]:
    """Make Dataverse match each ERP change, in order, in ``session``. Rows whose lookups point to rows not written
    yet are bound at the end; with ``keep_pending`` those still unresolved are returned (initial sync binds them
    after its last batch) instead of failing the batch."""
    deferred: list[Pending] = []
    for change in changes:
        bound = maps[change.map]
        try:
            _to_dataverse(session, bound, change, deferred)
        except ClientError as exc:
            raise refused(exc, bound, change, "Dataverse") from exc
    return bind_pending(session, deferred, keep_pending=keep_pending)


def bind_pending(session: DataverseSession, pending: Sequence[Pending], *, keep_pending: bool = False) -> list[Pending]:
    """Bind the lookups of rows created without them; returns those still unresolved when ``keep_pending``."""
    left: list[Pending] = []
    for bound, change, record_id, company_id in pending:
        assert change.row is not None
        try:
            body = to_dataverse(bound, change.row, session, company_id, creating=False)
        except ValidationError as exc:
            if keep_pending and LOOKUP_NOT_FOUND in exc.message:
                left.append((bound, change, record_id, company_id))
                continue
            raise refused(exc, bound, change, "Dataverse") from exc
        try:
            session.update(bound.table.logical_name, record_id,
                           {k: v for k, v in body.items() if k.endswith("@odata.bind")})
        except ClientError as exc:
            raise refused(exc, bound, change, "Dataverse") from exc
    return left


def _to_dataverse(session: DataverseSession, bound: BoundMap, change: Change, deferred: list[Pending]) -> None:
    table = bound.table.logical_name
    company_id = None
    if bound.company_specific:
        company_id = session.company_id(change.key[COMPANY_FIELD])
        if company_id is None:
            raise ValidationError(
                f"Company {change.key[COMPANY_FIELD]} has no cdm_company row in Dataverse.",
                next_step="Run the legal-entities map (or its initial sync) for this company first.")
    existing = session.find_id(table, dataverse_criteria(bound, change.key, company_id))
    if change.operation == "delete":
        if existing is not None:
            session.delete(table, existing)
        return
    assert change.row is not None
    creating = existing is None
    try:
        body = to_dataverse(bound, change.row, session, company_id, creating=creating)
        later = False
    except ValidationError as exc:
        if not creating or LOOKUP_NOT_FOUND not in exc.message:
            raise
        # A lookup to a row this batch has not written yet: create without lookups, bind them in the second pass.
        body = strip_placeholder_binds(to_dataverse(bound, change.row, _NoLookups(session), company_id, creating=True))
        later = True
    if existing is not None:
        session.update(table, existing, body)
        return
    if company_id is not None:
        assert bound.map.company is not None
        body[f"{bound.map.company.dataverse_column}@odata.bind"] = f"/{session.entity_set('cdm_company')}({company_id})"
        team = session.owner_team(company_id)
        if team is not None and bound.table.ownership == "UserOwned":
            body["ownerid@odata.bind"] = f"/teams({team})"
    record_id = session.create(table, body)
    if later:
        deferred.append((bound, change, record_id, company_id))


_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


class _NoLookups:
    """Lookups that bind a placeholder, stripped before the write: the first pass of a row whose lookups wait for
    the rest of the batch."""

    def __init__(self, inner: DataverseLookups) -> None:
        self.inner = inner

    def find_id(self, table: str, criteria: Mapping[str, Any]) -> str | None:
        return _PLACEHOLDER

    def column_value(self, table: str, record_id: str, column: str) -> Any:
        return None

    def entity_set(self, table: str) -> str:
        return self.inner.entity_set(table)

    def is_per_company(self, table: str) -> bool:
        return False


def strip_placeholder_binds(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items()
            if not (k.endswith("@odata.bind") and isinstance(v, str) and v.endswith(f"({_PLACEHOLDER})"))}


def apply_to_erp(session: ErpSession, lookups: DataverseLookups, maps: Mapping[str, BoundMap],
                 changes: Sequence[Change]) -> None:
    """Make the ERP match each Dataverse change, in order, in ``session``. ``lookups`` reads the sending Dataverse."""
    for change in changes:
        bound = maps[change.map]
        try:
            _to_erp(session, lookups, bound, change)
        except ClientError as exc:
            raise refused(exc, bound, change, "the ERP") from exc


def _to_erp(session: ErpSession, lookups: DataverseLookups, bound: BoundMap, change: Change) -> None:
    entity = bound.entity.set_name
    existing = session.read(entity, change.key)
    if change.operation == "delete":
        if existing is not None:
            session.delete(entity, change.key)
        return
    assert change.row is not None
    company = change.key.get(COMPANY_FIELD)
    body = to_erp(bound, change.row, lookups, company, creating=existing is None)
    if existing is None:
        session.create(entity, body)
        return
    changed = {k: v for k, v in body.items() if k not in change.key and not same_value(existing.get(k), v)}
    if changed:
        session.update(entity, change.key, changed)

