"""Dual-write for every link: the maps of each link with their states and actions (run, pause, resume, stop), the
error list, the legal entities taking part, alert rules — what the CLI and the admin API call.

States and actions follow Microsoft's (``../shared/reference/dual-write.md`` §1.2): a map starts *Not running*;
*Run* (optionally with initial sync) goes through *Initializing* to *Running*; *Pause* holds changes in the queue;
*Resume* catches up (*Resuming*) and goes live; *Stop* ends it. Mappings can be edited only while a map is not
running, stopped or in error. Beyond Microsoft's: an *Error* state you can see, a per-map policy for the other side
being away (block or queue), automatic resume after an automatic pause, and no cap on a pause.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from isthmus.dataverse.metadata.model import metadata_id
from isthmus.dualwrite import catchup
from isthmus.dualwrite.company import register_company_plugin
from isthmus.dualwrite.maps import BoundMap, TableMap, bind, builtin_maps, parse_map
from isthmus.dualwrite.runtime import Events, LinkRuntime, MapRun, State
from isthmus.dualwrite.sides.local import LocalDataverse, LocalErp
from isthmus.dualwrite.store import Activity, AlertRule, DualWriteStore, StoredMap
from isthmus.errors import ConflictError, IsthmusError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from isthmus.system import System

log = logging.getLogger(__name__)

FEATURE = "dual_write"
APPLICATION_NAME = "isthmus-dualwrite"
APPLICATION_ID = metadata_id("application", APPLICATION_NAME)
"""The application user dual-write acts as in each Dataverse environment (System Administrator, as Microsoft asks)."""
EDITABLE: frozenset[str] = frozenset({"not_running", "stopped", "error"})
POLICIES = ("block", "queue")
ALERT_ACTIONS = ("pause", "stop", "notify")
ERROR_CLASSES = ("any", "application", "system")


@dataclass(frozen=True)
class MapStatus:
    """A map as listed: definition summary, state, counts, last error."""

    name: str
    title: str
    version: str
    erp_entity: str
    dataverse_table: str
    state: str
    policy: str
    auto_paused: bool
    synced: int
    failed: int
    queued: int
    errors: int
    last_error: str | None
    last_error_at: Any
    depends_on: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["depends_on"] = list(self.depends_on)
        data["last_error_at"] = self.last_error_at.isoformat() if self.last_error_at else None
        return data


class DualWriteService:
    def __init__(self, system: System) -> None:
        self.system = system
        self.store = DualWriteStore(system.control_database)
        self._runtimes: dict[str, LinkRuntime] = {}
        self._lock = threading.RLock()

    # --- runtimes -----------------------------------------------------------------------------------------------

    def runtime(self, link: str) -> LinkRuntime:
        """The live-sync runtime of a link, built and installed on first use. ``NotLinkedError`` without a link."""
        with self._lock:
            runtime = self._runtimes.get(link)
            if runtime is not None:
                return runtime
            pair = self.system.environments.require_link(link, FEATURE)
            environment = self.system.dataverse_for(pair.power_platform)
            environment.ensure_application_user(APPLICATION_ID, APPLICATION_NAME, roles=("System Administrator",))
            caller = environment.caller_for(APPLICATION_ID, application=True)
            register_company_plugin(environment)
            runtime = LinkRuntime(link, LocalErp(self.system.erp(link)), LocalDataverse(environment, caller))
            runtime.events = Events(
                state_changed=lambda name, state, auto, reason: self._state_changed(link, name, state, auto, reason),
                error=lambda name, error_class, message: self._error(link, name, error_class, message),
            )
            self.ensure_builtin(link)
            for stored in self.store.maps(link):
                runtime.runs[stored.name] = self._run_of(runtime, stored)
            runtime.companies = self._companies(link)
            runtime.install()
            self._runtimes[link] = runtime
            return runtime

    def _run_of(self, runtime: LinkRuntime, stored: StoredMap) -> MapRun:
        try:
            bound = self._bind(runtime, parse_map(stored.definition, source=f"{runtime.link}/{stored.name}"))
        except IsthmusError as exc:
            # A map that no longer binds (a column was removed) cannot run; it shows why.
            self.store.set_state(runtime.link, stored.name, "error")
            self.store.record_error(runtime.link, stored.name, exc.message)
            return MapRun(_Unbound(stored.name), state="error")  # type: ignore[arg-type]
        return MapRun(bound, state=stored.state, policy=stored.policy, auto_paused=stored.auto_paused)  # type: ignore[arg-type]

    def _bind(self, runtime: LinkRuntime, table_map: TableMap) -> BoundMap:
        return bind(table_map, self.system.catalog, runtime.dataverse.environment.registry)

    def _companies(self, link: str) -> frozenset[str] | None:
        chosen = self.store.companies(link)
        return frozenset(chosen) if chosen is not None else None

    def ensure_builtin(self, link: str) -> None:
        """Add the out-of-box maps a link does not have yet (Not running)."""
        existing = {m.name for m in self.store.maps(link)}
        for table_map in builtin_maps():
            if table_map.name not in existing:
                self.store.insert(link, table_map.name, _document(table_map), table_map.version)

    def start(self) -> None:
        """At start-up: bring up the runtime of every link with maps, and repair what a crash left half-sent."""
        for link in self.store.links():
            if not any(m.state not in EDITABLE for m in self.store.maps(link)):
                continue
            try:
                runtime = self.runtime(link)
            except IsthmusError as exc:
                log.warning("dual-write for %s cannot start: %s", link, exc.full_message)
                continue
            repaired = runtime.recover()
            if repaired:
                self.store.log(link, None, "recovery", f"Re-sent {repaired} transaction(s) a crash left on one side only.")
            self.tick(link)

    def tick(self, link: str | None = None) -> None:
        """Periodic work: resume maps that paused themselves once the other side answers, finish interrupted
        catch-ups, forget journal entries both sides committed, save counters."""
        for name in [link] if link else list(self._runtimes):
            runtime = self._runtimes.get(name)
            if runtime is None:
                continue
            try:
                self._tick(runtime)
            except Exception:
                log.exception("dual-write housekeeping of %s failed", name)

    def _tick(self, runtime: LinkRuntime) -> None:
        resuming = [r.name for r in runtime.runs.values() if r.state == "resuming"]
        auto = [r.name for r in runtime.runs.values() if r.state == "paused" and r.auto_paused]
        if auto and runtime.erp.available() and runtime.dataverse.available():
            for name in auto:
                runtime.set_state(name, "resuming", reason="The other side answers again; catching up.")
            resuming += auto
        if resuming:
            self._catch_up(runtime, resuming)
        runtime.trim()
        self._flush_counters(runtime)

    def _flush_counters(self, runtime: LinkRuntime) -> None:
        counts = {}
        with runtime._lock:
            for run in runtime.runs.values():
                if run.synced:
                    counts[run.name] = run.synced
                    run.synced = 0
        self.store.add_synced(runtime.link, counts)

    # --- events from the runtime --------------------------------------------------------------------------------

    def _state_changed(self, link: str, name: str, state: State, auto: bool, reason: str) -> None:
        self.store.set_state(link, name, state, auto_paused=auto)
        label = state.replace("_", " ")
        self.store.log(link, name, "state", f"{label.capitalize()}{' (automatic)' if auto else ''}. {reason}".strip())

    def _error(self, link: str, name: str, error_class: str, message: str) -> None:
        self.store.record_error(link, name, message)
        self.store.log(link, name, "error", message, error_class=error_class)
        from isthmus.dualwrite.alerts import evaluate

        evaluate(self, link, name, error_class)

    # --- maps ---------------------------------------------------------------------------------------------------

    def maps(self, link: str) -> list[MapStatus]:
        runtime = self.runtime(link)
        self._flush_counters(runtime)
        queued = catchup.queued_count(runtime)
        errors: dict[str, int] = {}
        for error in catchup.list_errors(runtime):
            errors[error.map] = errors.get(error.map, 0) + 1
        return [self._status(s, queued.get(s.name, 0), errors.get(s.name, 0)) for s in self.store.maps(link)]

    def status(self, link: str, name: str) -> MapStatus:
        return next((m for m in self.maps(link) if m.name == name), None) or self._missing(link, name)

    def _status(self, stored: StoredMap, queued: int, errors: int) -> MapStatus:
        d = stored.definition
        return MapStatus(name=stored.name, title=d.get("title", stored.name), version=stored.version,
                         erp_entity=d.get("erp", ""), dataverse_table=d.get("dataverse", ""), state=stored.state,
                         policy=stored.policy, auto_paused=stored.auto_paused, synced=stored.synced, failed=stored.failed,
                         queued=queued, errors=errors, last_error=stored.last_error, last_error_at=stored.last_error_at,
                         depends_on=tuple(d.get("depends_on") or ()))

    def definition(self, link: str, name: str) -> dict[str, Any]:
        stored = self.store.get(link, name) or self._missing(link, name)
        return {**stored.definition, "version": stored.version}

    def save_map(self, link: str, document: dict[str, Any]) -> MapStatus:
        """Create a map or replace its mappings (a new version); only while it is not running."""
        table_map = parse_map(document)
        runtime = self.runtime(link)
        bound = self._bind(runtime, table_map)
        stored = self.store.get(link, table_map.name)
        if stored is not None and stored.state not in EDITABLE:
            raise ConflictError(f"Map {table_map.name} is {stored.state.replace('_', ' ')}; mappings can only be edited "
                                "while a map is stopped.", next_step=f"Stop it first: isthmus dualwrite stop {table_map.name}.")
        unknown = [d for d in table_map.depends_on if d not in runtime.runs and d != table_map.name]
        if unknown:
            raise ValidationError(f"Map {table_map.name} depends on {', '.join(unknown)}, which this link does not have.",
                                  target="depends_on")
        if stored is None:
            self.store.insert(link, table_map.name, _document(table_map), table_map.version)
            self.store.log(link, table_map.name, "mapping", f"Map created (version {table_map.version}).")
        else:
            self.store.save_definition(link, table_map.name, _document(table_map), table_map.version)
            self.store.log(link, table_map.name, "mapping", f"Mappings saved (version {table_map.version}).")
        with runtime._lock:
            previous = runtime.runs.get(table_map.name)
            runtime.runs[table_map.name] = MapRun(bound, state=previous.state if previous else "not_running",
                                                  policy=previous.policy if previous else "block")
        return self.status(link, table_map.name)

    def delete_map(self, link: str, name: str) -> None:
        stored = self.store.get(link, name) or self._missing(link, name)
        if stored.state not in EDITABLE:
            raise ConflictError(f"Map {name} is {stored.state}; stop it before deleting it.")
        self.store.remove(link, name)
        self.runtime(link).runs.pop(name, None)
        self.store.log(link, name, "mapping", "Map deleted.")

    def set_policy(self, link: str, name: str, policy: str) -> MapStatus:
        if policy not in POLICIES:
            raise ValidationError(f"Policy {policy!r} is not one of {', '.join(POLICIES)}.", target="policy")
        runtime = self.runtime(link)
        run = self._run(runtime, name)
        self.store.set_policy(link, name, policy)
        run.policy = policy  # type: ignore[assignment]
        self.store.log(link, name, "state", f"Policy when the other side is away: {policy}.")
        return self.status(link, name)

    # --- actions ------------------------------------------------------------------------------------------------

    def run(self, link: str, names: Sequence[str], *, initial_sync: bool = False, master: str = "erp",
            prerequisites: bool = True, progress: Any = None) -> list[MapStatus]:
        """Run maps (and, with ``prerequisites``, the maps they depend on that are not running), in dependency
        order; with ``initial_sync`` each copies the rows the other side lacks first."""
        runtime = self.runtime(link)
        if master not in ("erp", "dataverse"):
            raise ValidationError("The master for initial sync is 'erp' or 'dataverse'.", target="master")
        order = self._order(runtime, names, prerequisites)
        for name in order:
            run = runtime.runs[name]
            if run.state in ("running", "initializing", "resuming"):
                continue
            if run.state == "paused":
                raise ConflictError(f"Map {name} is paused; resume it instead of running it again.")
            self.system.environments.activate(link, FEATURE)
            if initial_sync:
                runtime.set_state(name, "initializing", reason=f"Initial sync from {master}.")
                from isthmus.dualwrite.initial_sync import run_initial_sync

                try:
                    run_initial_sync(self, runtime, name, master=master, progress=progress)
                except IsthmusError as exc:
                    runtime.set_state(name, "error", reason=f"Initial sync failed: {exc.message}")
                    raise
                runtime.set_state(name, "resuming", reason="Initial sync done; catching up with changes made meanwhile.")
                self._catch_up(runtime, [name])
            else:
                runtime.set_state(name, "running", reason="Live sync on (no initial sync).")
        return [self.status(link, n) for n in order]

    def _order(self, runtime: LinkRuntime, names: Sequence[str], prerequisites: bool) -> list[str]:
        for name in names:
            self._run(runtime, name)
        ordered: list[str] = []
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name in ordered:
                return
            if name in visiting:
                raise ValidationError(f"Maps {', '.join(sorted(visiting))} depend on each other in a cycle.")
            visiting.add(name)
            if prerequisites:
                for dependency in runtime.runs[name].bound.map.depends_on:
                    if dependency in runtime.runs and runtime.runs[dependency].state not in ("running",):
                        visit(dependency)
            visiting.discard(name)
            ordered.append(name)

        for name in names:
            visit(name)
        return ordered

    def pause(self, link: str, names: Sequence[str]) -> list[MapStatus]:
        """Pause running maps: from now on their changes wait in the queue. As in Microsoft's, if any of them is
        not running, none pauses."""
        runtime = self.runtime(link)
        runs = [self._run(runtime, n) for n in names]
        not_running = [r.name for r in runs if r.state != "running"]
        if not_running:
            raise ConflictError(f"Only running maps can be paused; {', '.join(not_running)} "
                                f"{'is' if len(not_running) == 1 else 'are'} not running, so none was paused.")
        for run in runs:
            runtime.set_state(run.name, "paused", reason="Paused by a user.")
        return [self.status(link, n) for n in names]

    def resume(self, link: str, names: Sequence[str]) -> list[MapStatus]:
        """Resume paused maps: play their queue back in order (catch-up), then go live."""
        runtime = self.runtime(link)
        runs = [self._run(runtime, n) for n in names]
        wrong = [r.name for r in runs if r.state not in ("paused", "resuming")]
        if wrong:
            raise ConflictError(f"Only paused maps can be resumed; {', '.join(wrong)} "
                                f"{'is' if len(wrong) == 1 else 'are'} not paused.")
        for run in runs:
            runtime.set_state(run.name, "resuming", reason="Resumed by a user; catching up.")
        self._catch_up(runtime, [r.name for r in runs])
        return [self.status(link, n) for n in names]

    def _catch_up(self, runtime: LinkRuntime, names: list[str]) -> catchup.CatchUpResult:
        result = catchup.catch_up(runtime, names)
        if result.applied or result.failed or result.blocked:
            self.store.log(runtime.link, None, "catch_up",
                           f"Catch-up of {', '.join(names)}: {result.applied} applied, {result.failed} failed, "
                           f"{result.blocked} waiting behind a failure.")
        if result.stopped:
            for name in names:
                runtime.set_state(name, "paused", auto=True, reason=f"Catch-up stopped: {result.stopped}")
        return result

    def stop(self, link: str, names: Sequence[str], *, discard_queue: bool = False) -> list[MapStatus]:
        """Stop maps. A paused map's queue is kept unless ``discard_queue``: stopping must not lose changes silently."""
        runtime = self.runtime(link)
        runs = [self._run(runtime, n) for n in names]
        queued = catchup.queued_count(runtime, names)
        held = [n for n in names if queued.get(n)]
        if held and not discard_queue:
            raise ConflictError(f"Map {', '.join(held)} still {'has' if len(held) == 1 else 'have'} queued changes "
                                f"({sum(queued[n] for n in held)}); stopping would drop them.",
                                next_step="Resume to play them back first, or stop with discard_queue to drop them.")
        if held:
            catchup.discard_queue(runtime, held)
            self.store.log(link, None, "state", f"Dropped {sum(queued[n] for n in held)} queued change(s) of "
                                                f"{', '.join(held)} on stop.")
        for run in runs:
            runtime.set_state(run.name, "stopped", reason="Stopped by a user.")
        if all(r.state in EDITABLE for r in runtime.runs.values()):
            self.system.environments.deactivate(link, FEATURE)
        return [self.status(link, n) for n in names]

    # --- errors -------------------------------------------------------------------------------------------------

    def errors(self, link: str, name: str | None = None) -> list[catchup.QueuedError]:
        runtime = self.runtime(link)
        if name is not None:
            self._run(runtime, name)
        return catchup.list_errors(runtime, name)

    def retry(self, link: str, ids: Iterable[str] | None = None, name: str | None = None) -> catchup.CatchUpResult:
        runtime = self.runtime(link)
        result = catchup.retry_errors(runtime, list(ids) if ids is not None else None, name)
        self.store.log(link, name, "retry", f"Retry: {result.applied} applied, {result.failed} failed again.")
        return result

    def skip(self, link: str, ids: Iterable[str]) -> int:
        dropped = catchup.skip_errors(self.runtime(link), list(ids))
        self.store.log(link, None, "skip", f"Skipped {dropped} failed change(s).")
        return dropped

    # --- legal entities -----------------------------------------------------------------------------------------

    def companies(self, link: str) -> list[str]:
        chosen = self.store.companies(link)
        if chosen is not None:
            return chosen
        from isthmus.erp.setup import company_ids

        with self.system.erp(link).database.read() as conn:
            return company_ids(conn)

    def set_companies(self, link: str, companies: Iterable[str]) -> list[str]:
        runtime = self.runtime(link)
        wanted = sorted({c.strip().lower() for c in companies if c.strip()})
        from isthmus.erp.setup import company_ids

        with runtime.erp_database.read() as conn:
            known = set(company_ids(conn))
        unknown = [c for c in wanted if c not in known]
        if unknown:
            raise ValidationError(f"The ERP has no legal entity {', '.join(unknown)}; it has {', '.join(sorted(known))}.",
                                  target="companies")
        busy = [r.name for r in runtime.runs.values() if r.state == "initializing"]
        if busy:
            raise ConflictError(f"Legal entities cannot change while {', '.join(busy)} {'is' if len(busy) == 1 else 'are'} "
                                "in initial sync.")
        self.store.set_companies(link, wanted)
        runtime.companies = frozenset(wanted) if wanted else None
        self.store.log(link, None, "companies", f"Legal entities taking part: {', '.join(wanted) or 'all'}.")
        return self.companies(link)

    # --- alert rules and activity -------------------------------------------------------------------------------

    def alert_rules(self, link: str) -> list[AlertRule]:
        return self.store.alert_rules(link)

    def add_alert_rule(self, link: str, *, map_name: str | None, error_class: str = "any", threshold: int,
                       window_minutes: int, action: str, notify: str | None = None) -> AlertRule:
        if map_name is not None:
            self._run(self.runtime(link), map_name)
        if error_class not in ERROR_CLASSES:
            raise ValidationError(f"Error class {error_class!r} is not one of {', '.join(ERROR_CLASSES)}.", target="error_class")
        if action not in ALERT_ACTIONS:
            raise ValidationError(f"Action {action!r} is not one of {', '.join(ALERT_ACTIONS)}.", target="action")
        if threshold < 1 or window_minutes < 1:
            raise ValidationError("threshold and window_minutes are whole numbers of at least 1.", target="threshold")
        rule_id = self.store.add_alert_rule(link, map_name=map_name, error_class=error_class, threshold=threshold,
                                            window_minutes=window_minutes, action=action, notify=notify)
        return next(r for r in self.store.alert_rules(link) if r.id == rule_id)

    def remove_alert_rule(self, link: str, rule_id: int) -> None:
        if not self.store.remove_alert_rule(link, rule_id):
            raise NotFoundError(f"Link {link} has no alert rule {rule_id}.")

    def activity(self, link: str, name: str | None = None, limit: int = 100) -> list[Activity]:
        return self.store.activity(link, name, limit)

    # --- helpers ------------------------------------------------------------------------------------------------

    def _run(self, runtime: LinkRuntime, name: str) -> MapRun:
        run = runtime.runs.get(name)
        if run is None:
            self._missing(runtime.link, name)
        assert run is not None
        return run

    def _missing(self, link: str, name: str) -> Any:
        raise NotFoundError(f"Link {link} has no dual-write map {name!r}.",
                            next_step="isthmus dualwrite maps lists the maps.", target=name)

    def close(self) -> None:
        for runtime in self._runtimes.values():
            self._flush_counters(runtime)
            runtime.uninstall()
        self._runtimes.clear()


class _Unbound:
    """Stands in for the bound map of a map that does not bind, so it can be listed and stopped."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.map = replace(TableMap(name=name, title=name, version="", erp_entity="", dataverse_table="", keys=(),
                                    columns=()), depends_on=())
        self.syncs_to_erp = False


def _document(table_map: TableMap) -> dict[str, Any]:
    """A map back to its document form (what the files and the admin API hold)."""
    columns: list[Any] = []
    for m in table_map.columns:
        options: dict[str, Any] = {}
        if m.value_map:
            options["value_map"] = {k: v for k, v in m.value_map}
        from isthmus.dualwrite.maps.model import MISSING

        if m.default is not MISSING:
            options["default"] = m.default
        columns.append({m.text: options} if options else m.text)
    document: dict[str, Any] = {
        "name": table_map.name, "title": table_map.title, "version": table_map.version, "erp": table_map.erp_entity,
        "dataverse": table_map.dataverse_table, "keys": dict(table_map.keys), "columns": columns,
        "company": "auto" if table_map.company is not None else False,
        "depends_on": list(table_map.depends_on), "description": table_map.description,
        "publisher": table_map.publisher,
    }
    filters = {k: v for k, v in (("erp", table_map.erp_filter), ("dataverse", table_map.dataverse_filter)) if v}
    if filters:
        document["filters"] = filters
    return document
