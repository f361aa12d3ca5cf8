"""The control plane's vocabulary as values: environments, links, link states and the features a link unlocks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Kind = Literal["finance_operations", "power_platform"]
EnvironmentType = Literal["sandbox", "production", "developer"]
LinkState = Literal["setting_up", "linked", "failed"]
"""A link row exists only once linking starts; no row means *not linked*."""

KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
TYPES: tuple[str, ...] = EnvironmentType.__args__  # type: ignore[attr-defined]

FEATURES_NEEDING_LINK = ("dual_write", "virtual_entities", "data_events", "archival", "addins", "ai")
"""What the Power Platform integration unlocks (../shared/reference/archival-addins-linking.md §3.4)."""
FEATURES = (*FEATURES_NEEDING_LINK, "business_events")
"""Business events also reach endpoints without the link, as in finance and operations."""
LEGACY_CONNECTIONS = ("dual_write", "virtual_entities")
"""Connections made before linking became mandatory; automatic enablement links to the environment they use."""

REQUIRED_CAPACITY_GB = 1.0
"""Free Dataverse capacity a Power Platform environment needs for the link to be set up."""


@dataclass(frozen=True)
class Environment:
    id: str
    name: str
    kind: Kind
    type: EnvironmentType
    geography: str
    tenant_id: str
    database_url: str
    managed_database: bool
    """True when Isthmus chose the database location (under its data directory) and may remove it with the
    environment; False for a database given by URL, which is never dropped."""
    has_dataverse: bool
    capacity_gb: float
    used_capacity_gb: float
    created: dt.datetime

    @property
    def free_capacity_gb(self) -> float:
        return self.capacity_gb - self.used_capacity_gb

    @property
    def label(self) -> str:
        return f"{'finance and operations' if self.kind == 'finance_operations' else 'Power Platform'} environment {self.name}"


@dataclass(frozen=True)
class Link:
    finance_operations: str
    """Name of the finance and operations environment."""
    power_platform: str
    """Name of the Power Platform environment."""
    mode: Literal["new", "existing"]
    state: LinkState
    reason: str | None
    """Why the link failed, or what set it up (automatic enablement records its reasoning here)."""
    resume_action: str | None
    created: dt.datetime
    modified: dt.datetime

    @property
    def unlocked(self) -> tuple[str, ...]:
        return FEATURES_NEEDING_LINK if self.state == "linked" else ()


@dataclass(frozen=True)
class FeatureUsage:
    environment: str
    feature: str
    power_platform: str | None
    active: bool
    legacy: bool
    """Recorded as in use before the link existed (a connection made before linking became mandatory)."""
    modified: dt.datetime


@dataclass(frozen=True)
class EnablementAction:
    run_id: str
    environment: str
    action: Literal["linked_existing", "linked_new", "skipped", "failed"]
    power_platform: str | None
    reason: str
    at: dt.datetime
