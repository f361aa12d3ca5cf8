"""Alert rules: N errors of a class in M minutes → pause, stop or notify (Microsoft's example: 10 application errors
in 15 minutes pause the map). Unlike Microsoft's, a rule on *system* errors (the other side unreachable) pauses the
map automatically and it resumes by itself when the other side answers; other pauses wait for a user.

``notify`` records the alert in the activity log with its recipients and logs a warning; delivering it to e-mail or a
webhook belongs to the events feature.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from isthmus.storage.types import utcnow

if TYPE_CHECKING:
    from isthmus.dualwrite.service import DualWriteService

log = logging.getLogger(__name__)


def evaluate(service: DualWriteService, link: str, map_name: str, error_class: str) -> None:
    """Check the link's rules after an error of ``error_class`` on ``map_name`` and act on those that fire."""
    runtime = service._runtimes.get(link)
    if runtime is None or map_name not in runtime.runs:
        return
    for rule in service.store.alert_rules(link):
        if rule.map not in (None, map_name) or rule.error_class not in ("any", error_class):
            continue
        since = utcnow() - dt.timedelta(minutes=rule.window_minutes)
        count = service.store.count_errors(link, map_name, since, rule.error_class)
        if count < rule.threshold:
            continue
        run = runtime.runs[map_name]
        what = (f"Alert rule {rule.id}: {count} {rule.error_class if rule.error_class != 'any' else ''} error(s) in "
                f"{rule.window_minutes} minute(s) on {map_name}").replace("  ", " ")
        if rule.action == "pause" and run.state == "running":
            runtime.set_state(map_name, "paused", auto=rule.error_class == "system", reason=what + ".")
            service.store.log(link, map_name, "alert", what + " → paused.")
        elif rule.action == "stop" and run.state in ("running", "paused"):
            runtime.set_state(map_name, "stopped", reason=what + ".")
            service.store.log(link, map_name, "alert", what + " → stopped.")
        elif rule.action == "notify":
            recipients = rule.notify or "(no recipients)"
            service.store.log(link, map_name, "alert", f"{what} → notify {recipients}.")
            log.warning("%s; notifying %s", what, recipients)
