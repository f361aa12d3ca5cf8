"""Dual-write's records in the control database: maps with their definition, state and counters, the legal entities
taking part per link, the activity log and alert rules. Persistence only; ``service`` decides what changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from isthmus.dualwrite import schema
from isthmus.storage import Database
from isthmus.storage.types import utcnow


@dataclass(frozen=True)
class StoredMap:
    link: str
    name: str
    definition: dict[str, Any]
    version: str
    state: str
    policy: str
    auto_paused: bool
    synced: int
    failed: int
    last_error: str | None
    last_error_at: dt.datetime | None
    state_changed: dt.datetime


@dataclass(frozen=True)
class Activity:
    id: int
    link: str
    map: str | None
    kind: str
    error_class: str | None
    message: str
    created: dt.datetime


@dataclass(frozen=True)
class AlertRule:
    id: int
    link: str
    map: str | None
    error_class: str
    threshold: int
    window_minutes: int
    action: str
    notify: str | None


class DualWriteStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        database.create_schema(schema.control)

    # --- maps ---------------------------------------------------------------------------------------------------

    def maps(self, link: str) -> list[StoredMap]:
        with self.database.read() as conn:
            rows = conn.execute(select(schema.maps).where(schema.maps.c.link == link).order_by(schema.maps.c.name))
            return [StoredMap(**r._mapping) for r in rows]

    def get(self, link: str, name: str) -> StoredMap | None:
        with self.database.read() as conn:
            row = conn.execute(select(schema.maps).where(schema.maps.c.link == link, schema.maps.c.name == name)).first()
            return StoredMap(**row._mapping) if row else None

    def links(self) -> list[str]:
        with self.database.read() as conn:
            return [r[0] for r in conn.execute(select(schema.maps.c.link).distinct())]

    def insert(self, link: str, name: str, definition: dict[str, Any], version: str) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(insert(schema.maps).values(
                link=link, name=name, definition=definition, version=version, state="not_running", policy="block",
                auto_paused=False, synced=0, failed=0, state_changed=utcnow()))

    def save_definition(self, link: str, name: str, definition: dict[str, Any], version: str) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(update(schema.maps).where(schema.maps.c.link == link, schema.maps.c.name == name)
                         .values(definition=definition, version=version))

    def remove(self, link: str, name: str) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(delete(schema.maps).where(schema.maps.c.link == link, schema.maps.c.name == name))

    def set_state(self, link: str, name: str, state: str, *, auto_paused: bool = False) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(update(schema.maps).where(schema.maps.c.link == link, schema.maps.c.name == name)
                         .values(state=state, auto_paused=auto_paused, state_changed=utcnow()))

    def set_policy(self, link: str, name: str, policy: str) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(update(schema.maps).where(schema.maps.c.link == link, schema.maps.c.name == name)
                         .values(policy=policy))

    def record_error(self, link: str, name: str, message: str) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(update(schema.maps).where(schema.maps.c.link == link, schema.maps.c.name == name)
                         .values(failed=schema.maps.c.failed + 1, last_error=message[:4000], last_error_at=utcnow()))

    def add_synced(self, link: str, counts: dict[str, int]) -> None:
        if not counts:
            return
        with self.database.engine.begin() as conn:
            for name, count in counts.items():
                conn.execute(update(schema.maps).where(schema.maps.c.link == link, schema.maps.c.name == name)
                             .values(synced=schema.maps.c.synced + count))

    # --- legal entities -----------------------------------------------------------------------------------------

    def companies(self, link: str) -> list[str] | None:
        """The legal entities taking part, or ``None`` when none were chosen (every company takes part)."""
        with self.database.read() as conn:
            found = [r[0] for r in conn.execute(select(schema.companies.c.company).where(schema.companies.c.link == link)
                                                .order_by(schema.companies.c.company))]
        return found or None

    def set_companies(self, link: str, companies: Iterable[str]) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(delete(schema.companies).where(schema.companies.c.link == link))
            rows = [{"link": link, "company": c} for c in sorted(set(companies))]
            if rows:
                conn.execute(insert(schema.companies), rows)

    # --- activity -----------------------------------------------------------------------------------------------

    def log(self, link: str, map_name: str | None, kind: str, message: str, error_class: str | None = None) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(insert(schema.activity).values(link=link, map=map_name, kind=kind, error_class=error_class,
                                                        message=message[:4000], created=utcnow()))

    def activity(self, link: str, map_name: str | None = None, limit: int = 100) -> list[Activity]:
        stmt = select(schema.activity).where(schema.activity.c.link == link)
        if map_name is not None:
            stmt = stmt.where(schema.activity.c.map == map_name)
        with self.database.read() as conn:
            rows = conn.execute(stmt.order_by(schema.activity.c.id.desc()).limit(limit))
            return [Activity(**r._mapping) for r in rows]

    def count_errors(self, link: str, map_name: str, since: dt.datetime, error_class: str) -> int:
        stmt = select(func.count()).select_from(schema.activity).where(
            schema.activity.c.link == link, schema.activity.c.map == map_name, schema.activity.c.kind == "error",
            schema.activity.c.created >= since)
        if error_class != "any":
            stmt = stmt.where(schema.activity.c.error_class == error_class)
        with self.database.read() as conn:
            return conn.execute(stmt).scalar_one()

    # --- alert rules --------------------------------------------------------------------------------------------

    def alert_rules(self, link: str) -> list[AlertRule]:
        with self.database.read() as conn:
            rows = conn.execute(select(schema.alert_rules).where(schema.alert_rules.c.link == link)
                                .order_by(schema.alert_rules.c.id))
            return [AlertRule(**r._mapping) for r in rows]

    def add_alert_rule(self, link: str, *, map_name: str | None, error_class: str, threshold: int,
                       window_minutes: int, action: str, notify: str | None) -> int:
        with self.database.engine.begin() as conn:
            result = conn.execute(insert(schema.alert_rules).values(
                link=link, map=map_name, error_class=error_class, threshold=threshold, window_minutes=window_minutes,
                action=action, notify=notify))
            return int(result.inserted_primary_key[0])

    def remove_alert_rule(self, link: str, rule_id: int) -> bool:
        with self.database.engine.begin() as conn:
            result = conn.execute(delete(schema.alert_rules).where(schema.alert_rules.c.link == link,
                                                                  schema.alert_rules.c.id == rule_id))
            return result.rowcount > 0
