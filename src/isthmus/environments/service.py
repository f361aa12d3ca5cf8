"""Environments and the Power Platform integration link.

Rules (../shared/reference/archival-addins-linking.md §3):

* a finance and operations environment (sandbox, production or developer) links 1:1 to a Power Platform
  environment — a new one, or an existing one that has Dataverse, is not linked elsewhere, is in the same
  geography and tenant, and has at least 1 GB of free capacity; a developer environment may only link to a new one;
* linking moves ``setting_up`` → ``linked`` (Dataverse provisioned, platform packages installed), or ``failed`` with
  the reason and the action that resumes it;
* features that need the link refuse with ``NotLinkedError`` while it is missing;
* unlike Microsoft's, a link can be removed — explicitly, and only while no feature that depends on it is active;
* a linked environment cannot be deleted, on either side.

Automatic enablement (Microsoft's May 2025 rule) links every unlinked finance and operations environment to the
Power Platform environment it already uses for dual-write or virtual entities, otherwise to a new one, and records
what it did and why.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import make_url

from isthmus.environments import schema
from isthmus.environments.errors import NotLinkedError
from isthmus.environments.model import (
    FEATURES,
    FEATURES_NEEDING_LINK,
    KINDS,
    LEGACY_CONNECTIONS,
    REQUIRED_CAPACITY_GB,
    TYPES,
    EnablementAction,
    Environment,
    FeatureUsage,
    Link,
)
from isthmus.environments.provisioning import Provisioner, remove_managed_database
from isthmus.errors import ConfigurationError, ConflictError, IsthmusError, NotFoundError, ValidationError
from isthmus.secrets import ENV_VAR as SECRET_KEY_VARIABLE
from isthmus.secrets import SecretBox
from isthmus.storage import Database
from isthmus.storage.types import utcnow

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
SEALED = "sealed:"
"""Prefix of a database URL stored encrypted."""
DEFAULT_TENANT = "00000000-0000-0000-0000-00000000c0de"
DEFAULT_GEOGRAPHY = "unitedstates"
DEFAULT_CAPACITY_GB = 10.0
DATAVERSE_FOOTPRINT_GB = 1.0
"""Capacity a new Dataverse database takes, as Microsoft counts the initial environment."""


class EnvironmentService:
    def __init__(
        self,
        database: Database,
        data_dir: Path,
        provisioner: Provisioner | None = None,
        secret_box: SecretBox | None = None,
    ) -> None:
        self.database = database
        self.data_dir = Path(data_dir)
        self.provisioner = provisioner or Provisioner()
        self.secret_box = secret_box if secret_box is not None else _box_from_environment()
        schema.metadata.create_all(database.engine)

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.database.engine.begin() as conn:
            yield conn

    # --- environments -----------------------------------------------------------------------------------------

    def create(
        self,
        name: str,
        kind: str,
        *,
        type: str = "sandbox",
        database_url: str | None = None,
        geography: str = DEFAULT_GEOGRAPHY,
        tenant_id: str = DEFAULT_TENANT,
        with_dataverse: bool = True,
        capacity_gb: float = DEFAULT_CAPACITY_GB,
        provision: bool = True,
    ) -> Environment:
        """Create an environment and its database (unless ``provision`` is off, for a database that exists)."""
        if not _NAME.match(name):
            raise ValidationError(
                f"Environment name {name!r} must start with a letter and hold only lower-case letters, digits and "
                "hyphens (at most 63).", target="name")
        if kind not in KINDS:
            raise ValidationError(f"Environment kind {kind!r} is not one of {', '.join(KINDS)}.", target="kind")
        if type not in TYPES:
            raise ValidationError(f"Environment type {type!r} is not one of {', '.join(TYPES)}.", target="type")
        if capacity_gb < 0:
            raise ValidationError("Capacity cannot be negative.", target="capacity_gb")
        has_dataverse = kind == "power_platform" and with_dataverse
        managed = database_url is None
        url = database_url or self._default_url(name, kind)
        with self._tx() as conn:
            if self._row(conn, name, kind) is not None:
                raise ConflictError(f"A {_kind_label(kind)} environment named {name} already exists.", target="name")
            conn.execute(insert(schema.environment).values(
                id=str(uuid.uuid4()), name=name, kind=kind, type=type, geography=geography, tenant_id=tenant_id,
                database_url=self._seal(url), managed_database=managed, has_dataverse=has_dataverse, capacity_gb=capacity_gb,
                used_capacity_gb=DATAVERSE_FOOTPRINT_GB if has_dataverse else 0.0, created=utcnow(),
            ))
        if provision:
            try:
                if kind == "finance_operations":
                    self.provisioner.provision_erp(url)
                elif has_dataverse:
                    self.provisioner.provision_dataverse(url, name)
            except Exception as exc:
                with self._tx() as conn:
                    conn.execute(delete(schema.environment).where(
                        schema.environment.c.name == name, schema.environment.c.kind == kind))
                if isinstance(exc, IsthmusError):
                    raise
                raise ValidationError(f"The database of {name} could not be created: {exc}.", target="database_url") from exc
        return self.get(name, kind)

    def ensure(self, name: str, kind: str, *, database_url: str, **kw: Any) -> Environment:
        """The environment, created over ``database_url`` when missing (the defaults ``isthmus up`` serves)."""
        found = self.find(name, kind)
        if found is not None:
            return found
        try:
            return self.create(name, kind, database_url=database_url, **kw)
        except ConflictError:  # another process created it meanwhile
            return self.get(name, kind)

    def get(self, name: str, kind: str) -> Environment:
        found = self.find(name, kind)
        if found is None:
            raise NotFoundError(f"No {_kind_label(kind)} environment named {name}.", target="name",
                                next_step="isthmus env list (or GET /admin/environments) shows them.")
        return found

    def find(self, name: str, kind: str) -> Environment | None:
        with self.database.engine.connect() as conn:
            row = self._row(conn, name, kind)
        return self._environment(row) if row else None

    def list(self, kind: str | None = None) -> list[Environment]:
        stmt = select(schema.environment).order_by(schema.environment.c.kind, schema.environment.c.name)
        if kind is not None:
            stmt = stmt.where(schema.environment.c.kind == kind)
        with self.database.engine.connect() as conn:
            return [self._environment(dict(r)) for r in conn.execute(stmt).mappings()]

    def delete(self, name: str, kind: str) -> None:
        environment = self.get(name, kind)
        link = self.link_of(name) if kind == "finance_operations" else self.link_to(name)
        if link is not None:
            other = link.power_platform if kind == "finance_operations" else link.finance_operations
            raise ConflictError(
                f"{environment.label} is linked to {other} and cannot be deleted.",
                next_step=f"Unlink it first: isthmus env unlink {link.finance_operations}.",
            )
        with self._tx() as conn:
            conn.execute(delete(schema.environment).where(schema.environment.c.id == environment.id))
            conn.execute(delete(schema.feature_usage).where(
                (schema.feature_usage.c.environment == name) if kind == "finance_operations"
                else (schema.feature_usage.c.power_platform == name)))
        if environment.managed_database:
            remove_managed_database(environment.database_url)

    def _seal(self, url: str) -> str:
        """The database URL as stored: encrypted when it holds a password (connection secrets never rest in clear)."""
        if make_url(url).password is None:
            return url
        if self.secret_box is None:
            raise ValidationError(
                "The database URL holds a password, and connection secrets are only stored encrypted.",
                next_step="Set ISTHMUS_SECRET_KEY (python -c 'from isthmus.secrets import SecretBox; "
                          "print(SecretBox.generate_key())') and try again.",
                target="database_url",
            )
        return SEALED + self.secret_box.encrypt(url)

    def _environment(self, row: dict) -> Environment:
        stored = row["database_url"]
        if stored.startswith(SEALED):
            if self.secret_box is None:
                raise ConfigurationError(
                    f"The database URL of {row['name']} is encrypted and ISTHMUS_SECRET_KEY is not set.",
                    next_step="Set ISTHMUS_SECRET_KEY to the key it was stored with.")
            row = {**row, "database_url": self.secret_box.decrypt(stored[len(SEALED):]).reveal()}
        return Environment(**row)

    def _default_url(self, name: str, kind: str) -> str:
        folder = self.data_dir / "environments" / f"{'fo' if kind == 'finance_operations' else 'pp'}-{name}"
        file = "erp.db" if kind == "finance_operations" else "dataverse.db"
        return f"sqlite:///{(folder / file).resolve()}"

    @staticmethod
    def _row(conn: Connection, name: str, kind: str) -> dict | None:
        row = conn.execute(select(schema.environment).where(
            schema.environment.c.name == name, schema.environment.c.kind == kind)).mappings().first()
        return dict(row) if row else None

    # --- links ------------------------------------------------------------------------------------------------

    def link_of(self, finance_operations: str) -> Link | None:
        with self.database.engine.connect() as conn:
            row = conn.execute(select(schema.integration_link).where(
                schema.integration_link.c.finance_operations == finance_operations)).mappings().first()
        return Link(**row) if row else None

    def link_to(self, power_platform: str) -> Link | None:
        with self.database.engine.connect() as conn:
            row = conn.execute(select(schema.integration_link).where(
                schema.integration_link.c.power_platform == power_platform)).mappings().first()
        return Link(**row) if row else None

    def links(self) -> list[Link]:
        with self.database.engine.connect() as conn:
            return [Link(**r) for r in conn.execute(select(schema.integration_link)).mappings()]

    def link(self, finance_operations: str, power_platform: str | None = None, *, reason: str | None = None) -> Link:
        """Link to the existing ``power_platform`` environment, or to a new one when it is ``None``."""
        fo = self.get(finance_operations, "finance_operations")
        existing = self.link_of(fo.name)
        if existing is not None:
            if existing.state == "failed":
                raise ConflictError(
                    f"Linking {fo.name} failed earlier ({existing.reason}).",
                    next_step=f"Resume it: isthmus env link {fo.name} --resume.")
            raise ConflictError(f"{fo.label} is already linked to Power Platform environment {existing.power_platform}; "
                                "links are 1:1.", target="finance_operations")
        if power_platform is None:
            pp, mode = self._new_power_platform(fo), "new"
        else:
            if fo.type == "developer":
                raise ValidationError("A developer environment can only be linked to a new Power Platform environment.")
            pp, mode = self.get(power_platform, "power_platform"), "existing"
        self._check_linkable(fo, pp)
        now = utcnow()
        with self._tx() as conn:
            conn.execute(insert(schema.integration_link).values(
                finance_operations=fo.name, power_platform=pp.name, mode=mode, state="setting_up",
                reason=reason, resume_action=None, created=now, modified=now))
        return self._set_up(fo, pp)

    def resume(self, finance_operations: str) -> Link:
        link = self.link_of(finance_operations)
        if link is None:
            raise NotFoundError(f"Finance and operations environment {finance_operations} has no link to resume.")
        if link.state != "failed":
            raise ConflictError(f"The link of {finance_operations} is {link.state}; only a failed link can be resumed.")
        with self._tx() as conn:
            conn.execute(update(schema.integration_link).where(
                schema.integration_link.c.finance_operations == finance_operations
            ).values(state="setting_up", modified=utcnow()))
        return self._set_up(self.get(finance_operations, "finance_operations"), self.get(link.power_platform, "power_platform"))

    def unlink(self, finance_operations: str) -> None:
        """Remove the link — explicitly and only while nothing that depends on it is active."""
        link = self.link_of(finance_operations)
        if link is None:
            raise NotFoundError(f"Finance and operations environment {finance_operations} is not linked.")
        active = [u.feature for u in self.features(finance_operations) if u.active and u.feature in FEATURES_NEEDING_LINK]
        if active:
            raise ConflictError(
                f"{finance_operations} cannot be unlinked while {', '.join(f.replace('_', ' ') for f in active)} "
                f"{'is' if len(active) == 1 else 'are'} active.",
                next_step="Deactivate those features first.")
        with self._tx() as conn:
            conn.execute(delete(schema.integration_link).where(
                schema.integration_link.c.finance_operations == finance_operations))

    def _new_power_platform(self, fo: Environment) -> Environment:
        """The Power Platform environment a "new" link provisions: the one created with the same name when it is
        still free (Microsoft's initial environment, Dataverse added now), otherwise a new one."""
        same = self.find(fo.name, "power_platform")
        if same is not None and self.link_to(same.name) is None:
            if not same.has_dataverse:
                with self._tx() as conn:
                    conn.execute(update(schema.environment).where(schema.environment.c.id == same.id).values(
                        has_dataverse=True, used_capacity_gb=same.used_capacity_gb + DATAVERSE_FOOTPRINT_GB))
                return self.get(same.name, "power_platform")
            return same
        name = fo.name if same is None else f"{fo.name}-pp"
        return self.find(name, "power_platform") or self.create(
            name, "power_platform", type=fo.type, geography=fo.geography, tenant_id=fo.tenant_id, provision=False)

    def _check_linkable(self, fo: Environment, pp: Environment) -> None:
        problems = []
        other = self.link_to(pp.name)
        if other is not None:
            problems.append(f"it is already linked to finance and operations environment {other.finance_operations}")
        if not pp.has_dataverse:
            problems.append("it has no Dataverse database")
        if pp.geography != fo.geography:
            problems.append(f"it is in geography {pp.geography}, not {fo.geography}")
        if pp.tenant_id != fo.tenant_id:
            problems.append("it belongs to another tenant")
        if pp.free_capacity_gb < REQUIRED_CAPACITY_GB:
            problems.append(f"it has {pp.free_capacity_gb:.1f} GB of free capacity; linking needs {REQUIRED_CAPACITY_GB:.0f} GB")
        if problems:
            raise ValidationError(f"{fo.name} cannot be linked to Power Platform environment {pp.name}: " + "; ".join(problems) + ".",
                                  target="power_platform")

    def _set_up(self, fo: Environment, pp: Environment) -> Link:
        """Provision Dataverse and its platform packages; record linked, or failed with the reason and the resume."""
        try:
            self.provisioner.provision_dataverse(pp.database_url, pp.name)
        except Exception as exc:  # the link must show the failure and how to resume, whatever it was
            reason = f"Setting up Dataverse in {pp.name} failed: {exc}"
            with self._tx() as conn:
                conn.execute(update(schema.integration_link).where(
                    schema.integration_link.c.finance_operations == fo.name
                ).values(state="failed", reason=reason, modified=utcnow(),
                         resume_action=f"isthmus env link {fo.name} --resume  (POST /admin/fo-environments/{fo.name}/link/resume)"))
            return self.link_of(fo.name)  # type: ignore[return-value]
        with self._tx() as conn:
            conn.execute(update(schema.integration_link).where(
                schema.integration_link.c.finance_operations == fo.name
            ).values(state="linked", resume_action=None, modified=utcnow()))
        return self.link_of(fo.name)  # type: ignore[return-value]

    # --- features ---------------------------------------------------------------------------------------------

    def features(self, environment: str) -> list[FeatureUsage]:
        with self.database.engine.connect() as conn:
            rows = conn.execute(select(schema.feature_usage).where(schema.feature_usage.c.environment == environment)
                                .order_by(schema.feature_usage.c.feature)).mappings().all()
        return [FeatureUsage(**r) for r in rows]

    def require_link(self, environment: str, feature: str) -> Link:
        """The link a feature of ``environment`` runs over; ``NotLinkedError`` while there is none."""
        link = self.link_of(environment)
        if link is None or link.state != "linked":
            raise NotLinkedError(environment, feature)
        return link

    def activate(self, environment: str, feature: str) -> FeatureUsage:
        self.get(environment, "finance_operations")
        if feature not in FEATURES:
            raise ValidationError(f"Unknown feature {feature!r}; features are {', '.join(FEATURES)}.", target="feature")
        pp = None
        if feature in FEATURES_NEEDING_LINK:
            pp = self.require_link(environment, feature).power_platform
        self._upsert_usage(environment, feature, pp, active=True, legacy=False)
        return next(u for u in self.features(environment) if u.feature == feature)

    def deactivate(self, environment: str, feature: str) -> None:
        with self._tx() as conn:
            conn.execute(update(schema.feature_usage).where(
                schema.feature_usage.c.environment == environment, schema.feature_usage.c.feature == feature
            ).values(active=False, modified=utcnow()))

    def record_legacy_connection(self, environment: str, feature: str, power_platform: str) -> FeatureUsage:
        """Record that ``environment`` already used ``power_platform`` for dual-write or virtual entities before
        linking was mandatory (what automatic enablement looks for)."""
        if feature not in LEGACY_CONNECTIONS:
            raise ValidationError(f"Only {' and '.join(LEGACY_CONNECTIONS)} connections predate the link.", target="feature")
        self.get(environment, "finance_operations")
        self.get(power_platform, "power_platform")
        self._upsert_usage(environment, feature, power_platform, active=True, legacy=True)
        return next(u for u in self.features(environment) if u.feature == feature)

    def _upsert_usage(self, environment: str, feature: str, pp: str | None, *, active: bool, legacy: bool) -> None:
        values = {"power_platform": pp, "active": active, "legacy": legacy, "modified": utcnow()}
        with self._tx() as conn:
            changed = conn.execute(update(schema.feature_usage).where(
                schema.feature_usage.c.environment == environment, schema.feature_usage.c.feature == feature
            ).values(values)).rowcount
            if not changed:
                conn.execute(insert(schema.feature_usage).values(environment=environment, feature=feature, **values))

    # --- automatic enablement -------------------------------------------------------------------------------------

    def auto_enable(self) -> list[EnablementAction]:
        """Link every unlinked finance and operations environment, recording what was done and why."""
        run_id = str(uuid.uuid4())
        actions = []
        for fo in self.list("finance_operations"):
            existing = self.link_of(fo.name)
            if existing is not None and existing.state == "linked":
                continue
            if existing is not None:
                actions.append(self._record(run_id, fo.name, "skipped", existing.power_platform,
                                            f"Linking is {existing.state}; {existing.reason or 'waiting'}."))
                continue
            legacy = [u for u in self.features(fo.name) if u.legacy and u.power_platform]
            try:
                if legacy:
                    target = legacy[0].power_platform
                    uses = " and ".join(sorted({u.feature.replace("_", " ") for u in legacy}))
                    link = self.link(fo.name, target, reason=f"Automatic enablement: it already used {target} for {uses}.")
                    action = "linked_existing"
                    why = f"{fo.name} already used Power Platform environment {target} for {uses}."
                else:
                    link = self.link(fo.name, reason="Automatic enablement: no Power Platform environment in use; provisioned one.")
                    action = "linked_new"
                    why = f"{fo.name} used no Power Platform environment; linked to newly provisioned {link.power_platform}."
                if link.state == "failed":
                    actions.append(self._record(run_id, fo.name, "failed", link.power_platform, link.reason or "failed"))
                else:
                    actions.append(self._record(run_id, fo.name, action, link.power_platform, why))
            except IsthmusError as exc:
                actions.append(self._record(run_id, fo.name, "failed", None, exc.full_message))
        return actions

    def enablement_history(self, limit: int = 200) -> list[EnablementAction]:
        with self.database.engine.connect() as conn:
            rows = conn.execute(select(schema.enablement_action).order_by(schema.enablement_action.c.seq.desc()).limit(limit)).mappings()
            return [EnablementAction(r["run_id"], r["environment"], r["action"], r["power_platform"], r["reason"], r["at"]) for r in rows]

    def _record(self, run_id: str, environment: str, action: str, pp: str | None, reason: str) -> EnablementAction:
        at = utcnow()
        with self._tx() as conn:
            conn.execute(insert(schema.enablement_action).values(
                run_id=run_id, environment=environment, action=action, power_platform=pp, reason=reason, at=at))
        return EnablementAction(run_id, environment, action, pp, reason, at)  # type: ignore[arg-type]


def _kind_label(kind: str) -> str:
    return "finance and operations" if kind == "finance_operations" else "Power Platform"


def _box_from_environment() -> SecretBox | None:
    return SecretBox.from_environment() if os.environ.get(SECRET_KEY_VARIABLE) else None
