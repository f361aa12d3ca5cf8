"""The access checker: what a ``Caller`` may do to a table or one of its records, and the SQL conditions that keep
a query to the records the caller may read.

``Access(caller)`` is cheap — the caller carries a ``SecurityProfile`` computed once per request
(``DataverseEnvironment.caller_for``). A caller without a profile is the system itself
(``DataverseEnvironment.admin()``): Organization depth on every table, like a System Administrator.

A record is within a depth when:

* User — its owner is the caller or one of the caller's teams;
* BusinessUnit — that, or its owning business unit is the caller's;
* ParentChildBusinessUnits — that, or its owning business unit is the caller's or one below it;
* Organization — always.

Tables without owners (organization-owned, intersect, virtual) only distinguish None from any other depth.
Refusals are ``ForbiddenError`` (403) with Dataverse's code ``0x80040220`` and a message that names what is
missing: the privilege (``prvReadAccount``) or the depth a record would need.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_

from isthmus.dataverse.metadata.model import Table
from isthmus.dataverse.security.model import (
    ASSIGN,
    SYSTEMUSER_TYPE,
    Depth,
    SecurityProfile,
    is_user_owned,
    privilege_id,
    privilege_name,
)
from isthmus.errors import ForbiddenError

if TYPE_CHECKING:
    from isthmus.dataverse.records.service import Caller

PRIVILEGE_DENIED = "0x80040220"

_REACH = {
    Depth.USER: "records the user or one of the user's teams owns",
    Depth.BUSINESS_UNIT: "records owned in the user's business unit",
    Depth.PARENT_CHILD: "records owned in the user's business unit and the business units below it",
}


class Access:
    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self.profile: SecurityProfile | None = getattr(caller, "security", None)
        self.owners: tuple[str, ...] = (caller.user_id, *getattr(caller, "team_ids", ()))

    @property
    def unrestricted(self) -> bool:
        """The system itself: every privilege at Organization depth."""
        return self.profile is None

    # --- depths -----------------------------------------------------------------------------------------------

    def depth(self, table: Table, right: str) -> Depth:
        """The deepest depth the caller holds ``right`` at on ``table`` (any depth counts as Organization on a table
        whose records have no owner)."""
        if self.profile is None:
            return Depth.ORGANIZATION
        depth = self.profile.depth(table.logical_name, right)
        if depth != Depth.NONE and not is_user_owned(table):
            return Depth.ORGANIZATION
        return depth

    def reaches(self, depth: Depth, record: Mapping[str, Any]) -> bool:
        """Whether ``depth`` covers a record with these ``ownerid`` and ``owningbusinessunit`` values."""
        if depth == Depth.ORGANIZATION:
            return True
        if depth == Depth.NONE:
            return False
        if record.get("ownerid") in self.owners:
            return True
        unit = record.get("owningbusinessunit")
        if depth == Depth.BUSINESS_UNIT:
            return unit is not None and unit == self.caller.business_unit_id
        if depth == Depth.PARENT_CHILD:
            assert self.profile is not None
            return unit is not None and (unit == self.caller.business_unit_id or unit in self.profile.business_units)
        return False

    def needs_record(self, table: Table, right: str) -> bool:
        """Whether deciding ``right`` on one record needs the record's owner (the depth is neither None nor
        Organization, and the table has owners)."""
        return is_user_owned(table) and self.depth(table, right) not in (Depth.NONE, Depth.ORGANIZATION)

    # --- decisions --------------------------------------------------------------------------------------------

    def can(self, table: Table, right: str, record: Mapping[str, Any] | None = None) -> bool:
        """Whether the caller holds ``right`` on ``table`` at all (``record`` None), or on that record."""
        depth = self.depth(table, right)
        if depth == Depth.NONE:
            return False
        if record is None or not is_user_owned(table):
            return True
        return self.reaches(depth, record)

    def require(self, table: Table, right: str, record: Mapping[str, Any] | None = None) -> None:
        """``can`` or a ``ForbiddenError`` that says what is missing."""
        depth = self.depth(table, right)
        if depth == Depth.NONE:
            raise self.missing_privilege(table, right)
        if record is not None and is_user_owned(table) and not self.reaches(depth, record):
            raise self.out_of_reach(table, right, depth, record)

    def read_conditions(self, table: Table, sql_table: Any) -> list[Any]:
        """SQL conditions on ``sql_table`` (the table or an alias of it) keeping the records the caller may read;
        ``[]`` at Organization depth. Raises ``ForbiddenError`` when the caller may not read the table at all."""
        return self.conditions(table, "Read", sql_table)

    def conditions(self, table: Table, right: str, sql_table: Any) -> list[Any]:
        depth = self.depth(table, right)
        if depth == Depth.NONE:
            raise self.missing_privilege(table, right)
        if depth == Depth.ORGANIZATION or not is_user_owned(table):
            return []
        owned = sql_table.c.ownerid.in_(self.owners)
        if depth == Depth.USER:
            return [owned]
        units = [self.caller.business_unit_id]
        if depth == Depth.PARENT_CHILD and self.profile is not None:
            units = sorted({*units, *self.profile.business_units})
        unit = sql_table.c.owningbusinessunit
        return [or_(owned, unit == units[0] if len(units) == 1 else unit.in_(units))]

    # --- messages ---------------------------------------------------------------------------------------------

    def _principal(self) -> str:
        profile = self.profile
        counts = f", roleCount={profile.role_count}, privilegeCount={profile.privilege_count}" if profile else ""
        return f"Principal user (Id={self.caller.user_id}, type={SYSTEMUSER_TYPE}{counts})"

    def missing_privilege(self, table: Table, right: str) -> ForbiddenError:
        name = privilege_name(table, right)
        return ForbiddenError(
            f"{self._principal()} is missing {name} privilege (Id={privilege_id(table.logical_name, right)}) on "
            f"OTC={table.object_type_code} for entity '{table.logical_name}'.",
            code=PRIVILEGE_DENIED, target=table.logical_name,
            next_step=f"Give the user (or one of the user's teams) a security role with the {right} privilege on "
                      f"{table.logical_name}.",
            details={"privilege": name, "right": right, "table": table.logical_name, "depth": Depth.NONE.label},
        )

    def out_of_reach(self, table: Table, right: str, depth: Depth, record: Mapping[str, Any]) -> ForbiddenError:
        name = privilege_name(table, right)
        record_id = record.get(table.primary_id)
        owner_type = record.get("ownerid__type") or "systemuser"
        verb = "assign" if right == ASSIGN else right.lower()
        return ForbiddenError(
            f"{self._principal()} does not have {right} access on the {table.logical_name} record (Id={record_id}): "
            f"the user holds {name} at {depth.label} depth, which reaches {_REACH.get(depth, 'no records')}, and the "
            f"record is owned by {owner_type} {record.get('ownerid')} in business unit {record.get('owningbusinessunit')}.",
            code=PRIVILEGE_DENIED, target=table.logical_name,
            next_step=f"A deeper {name} (or ownership of the record) is needed to {verb} it.",
            details={"privilege": name, "right": right, "table": table.logical_name, "depth": depth.label,
                     "record": record_id},
        )
