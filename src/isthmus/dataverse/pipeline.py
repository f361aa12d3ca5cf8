"""The plug-in pipeline: Python handlers registered per table and message (Create, Update, Delete, Retrieve,
RetrieveMultiple) at a stage, run around the core operation inside the request's transaction — or, when
asynchronous, after it commits.

Stages, in order (Dataverse's numbers): PreValidation (10) → PreOperation (20) → core operation → PostOperation (40).
A synchronous handler that raises aborts the whole request: the unit of work rolls back and the caller gets the
error (a ``PluginError`` message reaches the caller as a 400, like Dataverse's InvalidPluginExecutionException).
Asynchronous handlers run once the transaction has committed, in registration order; their failures are logged and
recorded on the registration, never raised to the caller.

Dual-write, events and flows plug in here; so does anything a customer writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from isthmus.errors import BusinessRuleError
from isthmus.storage import CallContext, UnitOfWork

log = logging.getLogger(__name__)

Message = Literal["Create", "Update", "Delete", "Retrieve", "RetrieveMultiple"]
Stage = Literal["PreValidation", "PreOperation", "PostOperation"]
STAGES: tuple[Stage, ...] = ("PreValidation", "PreOperation", "PostOperation")
MESSAGES: tuple[Message, ...] = ("Create", "Update", "Delete", "Retrieve", "RetrieveMultiple")
MAX_DEPTH = 8


class PluginError(BusinessRuleError):
    """Raised by a handler to refuse the operation; its message reaches the caller."""

    code = "0x80040265"


@dataclass
class PluginContext:
    """What a handler sees and may change.

    ``target`` holds the column values being written (Create/Update: a handler in a Pre stage may change them);
    ``pre_image``/``post_image`` the row before and after (Update, Delete; Create has only a post image);
    ``output`` the answer of Retrieve/RetrieveMultiple (a PostOperation handler may change it); ``shared`` passes
    values from one stage to the next.
    """

    message: Message
    table: str
    stage: Stage
    caller: CallContext
    record_id: str | None = None
    target: dict[str, Any] = field(default_factory=dict)
    pre_image: dict[str, Any] | None = None
    post_image: dict[str, Any] | None = None
    output: Any = None
    uow: UnitOfWork | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    depth: int = 1


Handler = Callable[[PluginContext], None]


@dataclass
class Registration:
    name: str
    table: str
    """Logical name, or ``*`` for every table."""
    message: Message
    stage: Stage
    handler: Handler
    asynchronous: bool = False
    order: int = 1
    failures: int = 0
    last_error: str | None = None


class Pipeline:
    def __init__(self) -> None:
        self.registrations: list[Registration] = []

    def register(
        self,
        table: str,
        message: Message,
        stage: Stage,
        handler: Handler,
        *,
        asynchronous: bool = False,
        name: str | None = None,
        order: int = 1,
    ) -> Registration:
        if message not in MESSAGES:
            raise ValueError(f"Unknown message {message!r}; use one of {', '.join(MESSAGES)}.")
        if stage not in STAGES:
            raise ValueError(f"Unknown stage {stage!r}; use one of {', '.join(STAGES)}.")
        if asynchronous and stage != "PostOperation":
            raise ValueError("Asynchronous handlers run after commit, so they register at PostOperation.")
        registration = Registration(name or getattr(handler, "__name__", "handler"), table, message, stage, handler,
                                    asynchronous, order)
        self.registrations.append(registration)
        return registration

    def unregister(self, registration: Registration) -> None:
        self.registrations.remove(registration)

    def handlers(self, table: str, message: Message, stage: Stage, *, asynchronous: bool) -> list[Registration]:
        found = [
            r for r in self.registrations
            if r.message == message and r.stage == stage and r.asynchronous == asynchronous and r.table in (table, "*")
        ]
        return sorted(found, key=lambda r: r.order)

    def has(self, table: str, message: Message) -> bool:
        return any(r.message == message and r.table in (table, "*") for r in self.registrations)

    def run(self, context: PluginContext, stage: Stage) -> None:
        """Run the synchronous handlers of ``stage``; queue the asynchronous ones after commit (PostOperation)."""
        if context.depth > MAX_DEPTH:
            raise PluginError(
                f"The plug-in pipeline went {MAX_DEPTH} levels deep on {context.message} of {context.table}; "
                "a handler is probably triggering itself."
            )
        context.stage = stage
        for registration in self.handlers(context.table, context.message, stage, asynchronous=False):
            registration.handler(context)
        if stage == "PostOperation" and context.uow is not None:
            for registration in self.handlers(context.table, context.message, stage, asynchronous=True):
                context.uow.add_post_commit(_deferred(registration, context))


def _deferred(registration: Registration, context: PluginContext) -> Callable[[UnitOfWork], None]:
    def run_after_commit(_: UnitOfWork) -> None:
        detached = PluginContext(**{**context.__dict__, "uow": None, "shared": dict(context.shared)})
        try:
            registration.handler(detached)
        except Exception as exc:  # after commit nothing can be undone; record it for whoever operates the system
            registration.failures += 1
            registration.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("asynchronous handler %s failed on %s of %s", registration.name, context.message, context.table)

    return run_after_commit
