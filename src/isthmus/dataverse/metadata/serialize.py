"""Metadata values ⇄ JSON, for the change log that keeps runtime customisations."""

from __future__ import annotations

from typing import Any

from isthmus.dataverse.metadata.model import AlternateKey, Column, Option, OptionSet, Relationship, Table


def option_set_to_json(o: OptionSet | None) -> dict[str, Any] | None:
    if o is None:
        return None
    return {"name": o.name, "is_global": o.is_global, "options": [[x.value, x.label, x.state] for x in o.options]}


def option_set_from_json(d: dict[str, Any] | None) -> OptionSet | None:
    if d is None:
        return None
    return OptionSet(d["name"], tuple(Option(v, label, state) for v, label, state in d["options"]), d.get("is_global", False))


def column_to_json(c: Column) -> dict[str, Any]:
    data = {k: v for k, v in c.__dict__.items() if k != "option_set"}
    data["targets"] = list(c.targets)
    data["option_set"] = option_set_to_json(c.option_set)
    return data


def column_from_json(d: dict[str, Any]) -> Column:
    data = dict(d)
    data["targets"] = tuple(data.get("targets") or ())
    data["option_set"] = option_set_from_json(data.get("option_set"))
    return Column(**data)


def key_to_json(k: AlternateKey) -> dict[str, Any]:
    return {"logical_name": k.logical_name, "columns": list(k.columns), "schema_name": k.schema_name}


def key_from_json(d: dict[str, Any]) -> AlternateKey:
    return AlternateKey(d["logical_name"], tuple(d["columns"]), d.get("schema_name", ""))


def table_to_json(t: Table) -> dict[str, Any]:
    data = {k: v for k, v in t.__dict__.items() if k not in ("columns", "keys", "_by_name")}
    data["columns"] = [column_to_json(c) for c in t.columns]
    data["keys"] = [key_to_json(k) for k in t.keys]
    return data


def table_from_json(d: dict[str, Any]) -> Table:
    data = dict(d)
    data["columns"] = tuple(column_from_json(c) for c in data["columns"])
    data["keys"] = tuple(key_from_json(k) for k in data.get("keys", ()))
    return Table(**data)


def relationship_to_json(r: Relationship) -> dict[str, Any]:
    return dict(r.__dict__)


def relationship_from_json(d: dict[str, Any]) -> Relationship:
    return Relationship(**d)
