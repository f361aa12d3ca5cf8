"""Rules Dataverse applies to its standard tables, registered as ordinary pipeline handlers so they behave (and can
be inspected) like any other plug-in: composed full names, and case and order numbers."""

from __future__ import annotations

import random

from isthmus.dataverse.pipeline import Pipeline, PluginContext


def compose_full_name(context: PluginContext) -> None:
    """contact and systemuser: fullname = first name + last name (Dataverse computes it; it is never typed in)."""
    target = context.target
    if not ({"firstname", "lastname"} & target.keys()):
        return
    before = context.pre_image or {}
    first = target.get("firstname", before.get("firstname"))
    last = target.get("lastname", before.get("lastname"))
    composed = " ".join(part for part in (first, last) if part)
    if composed:
        target["fullname"] = composed


def _number(prefix: str) -> str:
    # Dataverse's auto-numbers look like CAS-01001-W3B9C5; uniqueness comes from the random tail.
    alphabet = "BCDFGHJKLMNPQRSTVWXZ0123456789"
    return f"{prefix}-{random.randint(1000, 99999):05d}-{''.join(random.choices(alphabet, k=6))}"


def case_number(context: PluginContext) -> None:
    context.target.setdefault("ticketnumber", _number("CAS"))


def order_number(context: PluginContext) -> None:
    context.target.setdefault("ordernumber", _number("ORD"))


def register(pipeline: Pipeline) -> None:
    for table in ("contact", "systemuser"):
        for message in ("Create", "Update"):
            pipeline.register(table, message, "PreOperation", compose_full_name, name=f"{table}: compose fullname")
    pipeline.register("incident", "Create", "PreOperation", case_number, name="incident: case number")
    pipeline.register("salesorder", "Create", "PreOperation", order_number, name="salesorder: order number")
