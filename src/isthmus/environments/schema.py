"""The control-plane database: environments, links, feature usage and the record of automatic enablement runs."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table, Text, UniqueConstraint

from isthmus.storage.types import UtcDateTime

metadata = MetaData()

environment = Table(
    "environment",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("type", String(16), nullable=False),
    Column("geography", String(40), nullable=False),
    Column("tenant_id", String(36), nullable=False),
    Column("database_url", Text, nullable=False),
    Column("managed_database", Boolean, nullable=False),
    Column("has_dataverse", Boolean, nullable=False),
    Column("capacity_gb", Float, nullable=False),
    Column("used_capacity_gb", Float, nullable=False, default=0.0),
    Column("created", UtcDateTime, nullable=False),
    UniqueConstraint("kind", "name"),
)

integration_link = Table(
    "integration_link",
    metadata,
    Column("finance_operations", String(64), primary_key=True),
    Column("power_platform", String(64), nullable=False, unique=True),
    Column("mode", String(10), nullable=False),
    Column("state", String(12), nullable=False),
    Column("reason", Text),
    Column("resume_action", Text),
    Column("created", UtcDateTime, nullable=False),
    Column("modified", UtcDateTime, nullable=False),
)

feature_usage = Table(
    "feature_usage",
    metadata,
    Column("environment", String(64), primary_key=True),
    Column("feature", String(24), primary_key=True),
    Column("power_platform", String(64)),
    Column("active", Boolean, nullable=False),
    Column("legacy", Boolean, nullable=False, default=False),
    Column("modified", UtcDateTime, nullable=False),
)

enablement_action = Table(
    "enablement_action",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), nullable=False),
    Column("environment", String(64), nullable=False),
    Column("action", String(20), nullable=False),
    Column("power_platform", String(64)),
    Column("reason", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)
