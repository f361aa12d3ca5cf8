"""What a caller may do with data entities: ``Permission`` (one entity set, one legal entity) and ``EntityGrants``
(everything a user's role assignments add up to), the value ``CallContext.grants`` carries for ERP calls.

Roles only ever add access (a union, as in finance and operations: there is no deny). Two sets of grants can be
narrowed one by the other (``EntityGrants.within``): an integration acting for a mapped user may do only what both
its own role and the user's roles allow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Operation = Literal["read", "create", "update", "delete"]
OPERATIONS: tuple[Operation, ...] = ("read", "create", "update", "delete")
ALL = "*"
"""Every entity set (as an entity name) or every action (as an action name)."""


@dataclass(frozen=True)
class Permission:
    """What may be done on one entity set in one legal entity."""

    read: bool = False
    create: bool = False
    update: bool = False
    delete: bool = False
    actions: frozenset[str] = frozenset()
    """Bound actions that may run; ``{"*"}`` means all of them."""
    update_fields: frozenset[str] | None = None
    """Public field names ``update`` is limited to; ``None`` means every field. Meaningless without ``update``."""

    def __post_init__(self) -> None:
        if ALL in self.actions and len(self.actions) > 1:
            object.__setattr__(self, "actions", frozenset({ALL}))
        if not self.update and self.update_fields is not None:
            object.__setattr__(self, "update_fields", None)

    def allows(self, operation: str, action: str | None = None) -> bool:
        if operation == "actions":
            return bool(self.actions) and (ALL in self.actions or action is None or action in self.actions)
        return bool(getattr(self, operation))

    @property
    def empty(self) -> bool:
        return not (self.read or self.create or self.update or self.delete or self.actions)

    def union(self, other: Permission) -> Permission:
        if other.empty:
            return self
        if self.empty:
            return other
        if (self.update and self.update_fields is None) or (other.update and other.update_fields is None):
            fields = None
        else:
            fields = (self.update_fields or frozenset()) | (other.update_fields or frozenset())
        return Permission(
            self.read or other.read,
            self.create or other.create,
            self.update or other.update,
            self.delete or other.delete,
            _union_actions(self.actions, other.actions),
            fields if (self.update or other.update) else None,
        )

    def intersect(self, other: Permission) -> Permission:
        update = self.update and other.update
        fields: frozenset[str] | None = None
        if update:
            if self.update_fields is None:
                fields = other.update_fields
            elif other.update_fields is None:
                fields = self.update_fields
            else:
                fields = self.update_fields & other.update_fields
            if fields is not None and not fields:
                update, fields = False, None
        return Permission(
            self.read and other.read,
            self.create and other.create,
            update,
            self.delete and other.delete,
            _intersect_actions(self.actions, other.actions),
            fields,
        )

    def describe(self) -> str:
        parts = [op for op in OPERATIONS if getattr(self, op)]
        if self.update and self.update_fields is not None:
            parts[parts.index("update")] = f"update({', '.join(sorted(self.update_fields))})"
        if self.actions:
            parts.append("actions(" + ", ".join(sorted(self.actions)) + ")")
        return ", ".join(parts) or "none"


NO_PERMISSION = Permission()
FULL_PERMISSION = Permission(True, True, True, True, frozenset({ALL}))


def _union_actions(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    if ALL in a or ALL in b:
        return frozenset({ALL})
    return a | b


def _intersect_actions(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    if ALL in a:
        return b
    if ALL in b:
        return a
    return a & b


@dataclass(frozen=True, eq=False)
class EntityGrants:
    """Per entity set (or ``*``) and per legal entity (or ``None`` for all of them), the permission a user holds.

    ``permission(set, company)`` unions every entry for that set or ``*``, in that company or in all companies. For
    an entity that is not per company (legal entities, currencies), pass ``company=None``: then every entry counts,
    whatever company it was granted in.
    """

    entries: Mapping[tuple[str, str | None], Permission]
    user: str | None = None
    """The ERP user the grants belong to (for messages)."""
    limit: EntityGrants | None = None
    """Grants these are narrowed by (an integration's own role when it acts for a mapped user)."""
    _memo: dict[tuple[str, str | None], Permission] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls, assignments: Iterable[tuple[str, str | None, Permission]], *, user: str | None = None
    ) -> EntityGrants:
        """From (entity set or ``*``, company or ``None``, permission) triples, as role assignments produce them."""
        entries: dict[tuple[str, str | None], Permission] = {}
        for entity_set, company, permission in assignments:
            key = (entity_set, company.lower() if company else None)
            entries[key] = entries.get(key, NO_PERMISSION).union(permission)
        return cls(entries, user=user)

    @classmethod
    def unrestricted(cls, user: str | None = None) -> EntityGrants:
        return cls({(ALL, None): FULL_PERMISSION}, user=user)

    def within(self, other: EntityGrants) -> EntityGrants:
        """These grants, narrowed to what ``other`` also allows."""
        limit = other if self.limit is None else self.limit.within(other)
        return EntityGrants(self.entries, user=self.user, limit=limit)

    # --- questions the entity service asks ------------------------------------------------------------------------

    def permission(self, entity_set: str, company: str | None) -> Permission:
        key = (entity_set, company)
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        result = NO_PERMISSION
        for (name, granted_in), permission in self.entries.items():
            if name not in (entity_set, ALL):
                continue
            if company is not None and granted_in is not None and granted_in != company:
                continue
            result = result.union(permission)
        if self.limit is not None:
            result = result.intersect(self.limit.permission(entity_set, company))
        self._memo[key] = result
        return result

    def allows(self, entity_set: str, operation: str, company: str | None, *, action: str | None = None) -> bool:
        return self.permission(entity_set, company).allows(operation, action)

    def companies(self, entity_set: str, operation: str = "read") -> frozenset[str] | None:
        """The legal entities where ``operation`` is allowed on the set; ``None`` means all of them."""
        found: set[str] = set()
        everywhere = False
        for (name, granted_in), permission in self.entries.items():
            if name in (entity_set, ALL) and permission.allows(operation):
                if granted_in is None:
                    everywhere = True
                    break
                found.add(granted_in)
        own: frozenset[str] | None = None if everywhere else frozenset(found)
        if self.limit is None:
            return own
        other = self.limit.companies(entity_set, operation)
        if own is None:
            return other
        return own if other is None else own & other

    def updatable_fields(self, entity_set: str, company: str | None) -> frozenset[str] | None:
        """The public fields an update may change (``None``: any); meaningful only when update is allowed."""
        return self.permission(entity_set, company).update_fields

    @property
    def empty(self) -> bool:
        return all(p.empty for p in self.entries.values())

    def describe(self) -> dict[str, dict[str, str]]:
        """{entity set: {company or '*': allowed operations}} — for diagnostics and the admin tools."""
        out: dict[str, dict[str, str]] = {}
        for (name, company), permission in sorted(self.entries.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            out.setdefault(name, {})[company or ALL] = permission.describe()
        return out
