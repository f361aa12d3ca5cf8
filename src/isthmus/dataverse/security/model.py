"""The vocabulary of Dataverse security: access rights (the seven table privileges), depths, privilege names and ids,
and ``SecurityProfile`` — what one caller may do, computed once per request from their roles and their teams' roles.

Depths are stored as Dataverse's ``privilegedepthmask`` values: 1 Basic (user), 2 Local (business unit), 4 Deep
(parent: child business units), 8 Global (organization). The deepest depth a caller holds wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from isthmus.dataverse.metadata.model import Table, metadata_id


class Depth(IntEnum):
    """How far a privilege reaches. Values are Dataverse's depth masks, so they order from none to organization."""

    NONE = 0
    USER = 1
    """Basic: records the user owns, or that a team the user belongs to owns."""
    BUSINESS_UNIT = 2
    """Local: records owned in the user's business unit (and the user's own)."""
    PARENT_CHILD = 4
    """Deep: records owned in the user's business unit or any business unit below it (and the user's own)."""
    ORGANIZATION = 8
    """Global: every record."""

    @classmethod
    def from_mask(cls, mask: int | None) -> Depth:
        """The deepest depth a ``privilegedepthmask`` grants (a mask may combine several bits)."""
        for depth in (cls.ORGANIZATION, cls.PARENT_CHILD, cls.BUSINESS_UNIT, cls.USER):
            if (mask or 0) & depth:
                return depth
        return cls.NONE

    @property
    def label(self) -> str:
        return DEPTH_LABELS[self]


DEPTH_LABELS = {
    Depth.NONE: "None",
    Depth.USER: "User",
    Depth.BUSINESS_UNIT: "BusinessUnit",
    Depth.PARENT_CHILD: "ParentChildBusinessUnits",
    Depth.ORGANIZATION: "Organization",
}

CREATE, READ, WRITE, DELETE, APPEND, APPEND_TO, ASSIGN = "Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign"
RIGHTS: tuple[str, ...] = (CREATE, READ, WRITE, DELETE, APPEND, APPEND_TO, ASSIGN)

ACCESS_RIGHTS: dict[str, int] = {
    READ: 1, WRITE: 2, APPEND: 4, APPEND_TO: 16, CREATE: 32, DELETE: 65536, ASSIGN: 524288,
}
"""Dataverse's ``AccessRights`` values, stored in ``privilege.accessright``."""
RIGHT_OF_ACCESS = {value: right for right, value in ACCESS_RIGHTS.items()}

SYSTEMUSER_TYPE = 8
TEAM_TYPE = 9


def is_user_owned(table: Table) -> bool:
    """Whether records of the table have an owner (user or team) and an owning business unit, so depths apply;
    otherwise (organization-owned, intersect, virtual tables) a privilege is simply held or not."""
    return (table.ownership == "UserOwned" and not table.is_virtual and table.column("ownerid") is not None
            and table.column("owningbusinessunit") is not None)


def rights_of(table: Table) -> tuple[str, ...]:
    """The privileges a table has: all seven for user-owned tables; no Assign for tables without owners."""
    return RIGHTS if is_user_owned(table) else tuple(r for r in RIGHTS if r != ASSIGN)


def privilege_name(table: Table, right: str) -> str:
    """``prvReadAccount``, ``prvAppendToContact``…: ``prv`` + the right + the table's schema name."""
    return f"prv{right}{table.schema_name}"


def privilege_id(table: str, right: str) -> str:
    """The privilege's id: the same in every environment for the same table and right."""
    return metadata_id("privilege", table, right)


@dataclass(frozen=True, eq=False)
class SecurityProfile:
    """What one caller may do: the deepest depth per (table, right) over their roles and their teams' roles, and
    the business units the Deep depth reaches (the caller's own and every unit below it)."""

    depths: Mapping[tuple[str, str], Depth] = field(default_factory=dict)
    business_units: frozenset[str] = frozenset()
    everywhere: Depth = Depth.NONE
    """A depth held on every table and right, present and future: Organization for a System Administrator."""
    role_count: int = 0
    privilege_count: int = 0

    def depth(self, table: str, right: str) -> Depth:
        return max(self.everywhere, self.depths.get((table, right), Depth.NONE))
