"""Render the entity catalog as Markdown (``docs/erp-entities.md``), so the reference never drifts from the code.

    python -m isthmus.erp.entities.docgen > docs/erp-entities.md

A test compares the committed page with this output.
"""

from __future__ import annotations

from isthmus.erp.entities.catalog import Catalog


def render(catalog: Catalog | None = None) -> str:
    catalog = catalog or Catalog()
    out = [
        "# ERP data entities",
        "",
        "Every public data entity the `/data` API serves, generated from the code "
        "(`python -m isthmus.erp.entities.docgen > docs/erp-entities.md`). Key fields are marked **key**; "
        "*mandatory* fields must be given on create; *read-only* fields are computed or set by actions.",
        "",
        "| Entity set | Entity | Physical name | Company-specific | Writable | Actions |",
        "|---|---|---|---|---|---|",
    ]
    for e in catalog.entities:
        actions = ", ".join(a.name for a in e.actions) or "—"
        out.append(
            f"| [{e.set_name}](#{e.set_name.lower()}) | {e.name} | {e.physical_name} | "
            f"{'yes' if e.company_column is not None else 'no'} | {'no' if e.read_only else 'yes'} | {actions} |"
        )
    for e in catalog.entities:
        out += ["", f"## {e.set_name}", "", f"{e.label}. Category: {e.category}. Table: `{e.table.name}`.", ""]
        out += ["| Field | Type | Notes |", "|---|---|---|"]
        for f in e.fields:
            notes = []
            if f.key:
                notes.append("**key**")
            if f.mandatory:
                notes.append("mandatory")
            if f.read_only:
                notes.append("read-only")
            if f.enum:
                notes.append("values: " + ", ".join(f.enum.names))
            if f.max_length:
                notes.append(f"max {f.max_length} characters")
            out.append(f"| {f.name} | {f.edm_type} | {'; '.join(notes)} |")
        if e.navigation:
            out += ["", "Navigation: " + ", ".join(
                f"`{n.name}` → {n.target} ({'many' if n.collection else 'one'})" for n in e.navigation
            ) + "."]
        for a in e.actions:
            params = ", ".join(f"{p.name}: {p.type}{'' if p.nullable else ' (required)'}" for p in a.parameters) or "none"
            returns = "the updated record" if a.returns == "entity" else a.returns
            out += ["", f"Action `{a.name}` — {a.description or 'bound action'} Parameters: {params}. Returns {returns}."]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
