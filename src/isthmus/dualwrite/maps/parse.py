"""Reading table maps: the YAML (or JSON) files the project ships and the same shape sent to the admin API.

A map file::

    name: customers-accounts
    title: Customers V3 (accounts)
    version: 1.0.0
    erp: CustomersV3                 # ERP entity set
    dataverse: account               # Dataverse table (logical name)
    keys: {CustomerAccount: accountnumber}
    filters: {erp: "PartyType eq 'Organization'", dataverse: "customertypecode eq 3"}
    depends_on: [legal-entities, customer-groups]
    columns:
      - OrganizationName = name
      - CustomerGroupId = msdyn_customergroupid.msdyn_groupid
      - CreditLimitIsMandatory >< msdyn_creditlimitismandatory:
          value_map: {"Yes": true, "No": false}
      - none >> customertypecode: {default: 3}

Each error names the map, the line of ``columns`` at fault and what a correct one looks like.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import yaml

from isthmus.dualwrite.maps.model import (
    MISSING,
    NONE,
    SYMBOLS,
    ColumnMapping,
    CompanyStriping,
    LookupPath,
    LookupTarget,
    TableMap,
)
from isthmus.errors import ValidationError

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
_LINE = re.compile(r"^\s*(?P<erp>[A-Za-z_][\w]*)\s*(?P<symbol>><|>>|<<|=|>|<)\s*(?P<dv>\S+)\s*$")
_POLY = re.compile(r"^(?P<table>\w+)\((?P<key>\w+)\)$")
_KNOWN = {"name", "title", "version", "erp", "dataverse", "keys", "filters", "depends_on", "columns", "company",
          "description", "publisher"}
_OPTIONS = {"value_map", "default"}
EXAMPLE = "CustomerAccount = accountnumber"


def parse_map(document: Mapping[str, Any], *, source: str | None = None) -> TableMap:
    """A ``TableMap`` from its document (a parsed YAML/JSON object). Raises ``ValidationError`` naming what is wrong."""
    where = f" in {source}" if source else ""
    if not isinstance(document, Mapping):
        raise ValidationError(f"A table map must be an object{where}.")
    unknown = sorted(set(document) - _KNOWN)
    if unknown:
        raise ValidationError(f"Unknown table map setting {', '.join(unknown)}{where}; known: {', '.join(sorted(_KNOWN))}.",
                              target=unknown[0])
    name = _required(document, "name", where)
    if not _NAME.match(name):
        raise ValidationError(f"Map name {name!r}{where} must be lower case letters, digits and dashes (customers-accounts).",
                              target="name")
    where = f" in map {name}" + (f" ({source})" if source else "")
    keys = document.get("keys")
    if not isinstance(keys, Mapping) or not keys:
        raise ValidationError(f"keys{where} must map each ERP key field to its Dataverse column, e.g. "
                              "{CustomerAccount: accountnumber}.", target="keys")
    columns_doc = document.get("columns")
    if not isinstance(columns_doc, list) or not columns_doc:
        raise ValidationError(f"columns{where} must be a list of mappings such as '{EXAMPLE}'.", target="columns")
    columns = tuple(_column(item, where) for item in columns_doc)
    seen: set[str] = set()
    for m in columns:
        # Reading a field for two columns is fine; two mappings writing the same field or column are not.
        written = (f"ERP field {m.erp}" if m.flows_to_erp() else None,
                   f"Dataverse column {m.dataverse_column}" if m.flows_to_dataverse() else None)
        for label in written:
            if label is None:
                continue
            if label in seen:
                raise ValidationError(f"{label} is written by two mappings{where}.", target=m.text)
            seen.add(label)
    filters = document.get("filters") or {}
    if not isinstance(filters, Mapping) or set(filters) - {"erp", "dataverse"}:
        raise ValidationError(f"filters{where} takes 'erp' and 'dataverse', each an OData $filter.", target="filters")
    company = document.get("company", "auto")
    if company not in (True, False, "auto"):
        raise ValidationError(f"company{where} is true, false or auto.", target="company")
    depends = document.get("depends_on") or []
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise ValidationError(f"depends_on{where} is a list of map names.", target="depends_on")
    return TableMap(
        name=name,
        title=str(document.get("title") or name),
        version=str(document.get("version") or "1.0.0"),
        erp_entity=_required(document, "erp", where),
        dataverse_table=_required(document, "dataverse", where),
        keys=tuple((str(k), str(v)) for k, v in keys.items()),
        columns=columns,
        # "auto" is settled by bind(), which knows whether the ERP entity is per company.
        company=CompanyStriping() if company is True or company == "auto" else None,
        erp_filter=filters.get("erp") or None,
        dataverse_filter=filters.get("dataverse") or None,
        depends_on=tuple(depends),
        description=str(document.get("description") or ""),
        publisher=str(document.get("publisher") or "Isthmus"),
        source=source,
    )


def _required(document: Mapping[str, Any], key: str, where: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"A table map needs '{key}'{where}.", target=key)
    return value.strip()


def _column(item: Any, where: str) -> ColumnMapping:
    options: Mapping[str, Any] = {}
    if isinstance(item, Mapping) and len(item) == 1:
        text, options = next(iter(item.items()))
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            raise ValidationError(f"The options of '{text}'{where} must be an object (value_map, default).", target=str(text))
    elif isinstance(item, str):
        text = item
    else:
        raise ValidationError(f"Each column mapping{where} is a line such as '{EXAMPLE}', optionally with options.",
                              target="columns")
    match = _LINE.match(str(text))
    if match is None:
        raise ValidationError(
            f"'{text}'{where} is not a column mapping: write ERP field, a direction (=, ><, >, >>, <, <<) and the "
            f"Dataverse column, e.g. '{EXAMPLE}'.", target=str(text))
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ValidationError(f"Unknown option {', '.join(sorted(unknown))} on '{text}'{where}; known: value_map, default.",
                              target=str(text))
    erp = None if match["erp"] == NONE else match["erp"]
    dataverse = None if match["dv"] == NONE else match["dv"]
    symbol = match["symbol"]
    direction = SYMBOLS[symbol]
    if erp is None and dataverse is None:
        raise ValidationError(f"'{text}'{where} maps nothing to nothing.", target=str(text))
    default = options.get("default", MISSING)
    if erp is None and (direction != "to_dataverse" or default is MISSING):
        raise ValidationError(f"'{text}'{where}: a mapping from none must flow to Dataverse (>>) and give a default.",
                              target=str(text))
    if dataverse is None and (direction != "to_erp" or default is MISSING):
        raise ValidationError(f"'{text}'{where}: a mapping to none must flow to the ERP (<<) and give a default.",
                              target=str(text))
    value_map = options.get("value_map") or {}
    if not isinstance(value_map, Mapping):
        raise ValidationError(f"value_map of '{text}'{where} maps ERP values to Dataverse values.", target=str(text))
    pairs = tuple((k, v) for k, v in value_map.items())
    if symbol == "><" and not pairs:
        raise ValidationError(f"'{text}'{where} uses >< (with a value map) but gives no value_map.", target=str(text))
    lookup = _lookup(dataverse, text, where) if dataverse and "." in dataverse else None
    return ColumnMapping(erp=erp, dataverse=dataverse, direction=direction, symbol=symbol, value_map=pairs,
                         default=default, lookup=lookup)


def _lookup(path: str, text: str, where: str) -> LookupPath:
    column, _, rest = path.partition(".")
    if "(" not in rest:
        if not rest or "." in rest:
            raise ValidationError(f"'{text}'{where}: a lookup path is lookupcolumn.keycolumn "
                                  "(msdyn_customergroupid.msdyn_groupid).", target=str(text))
        return LookupPath(column=column, targets=(), key=rest)
    targets = []
    for part in rest.split(")."):
        part = part if part.endswith(")") else part + ")"
        match = _POLY.match(part)
        if match is None:
            raise ValidationError(f"'{text}'{where}: a polymorphic lookup path is "
                                  "column.table(key).table(key), e.g. customerid.account(accountnumber).contact(msdyn_contactpersonid).",
                                  target=str(text))
        targets.append(LookupTarget(match["table"].lower(), match["key"]))
    return LookupPath(column=column, targets=tuple(targets))


def load_document(text: str | bytes, *, source: str | None = None) -> TableMap:
    """Parse a map from YAML or JSON text."""
    try:
        document = orjson.loads(text) if _looks_like_json(text) else yaml.safe_load(text)
    except (yaml.YAMLError, orjson.JSONDecodeError) as exc:
        raise ValidationError(f"The table map{' ' + source if source else ''} is not valid YAML or JSON: {exc}") from exc
    return parse_map(document, source=source)


def _looks_like_json(text: str | bytes) -> bool:
    stripped = text.lstrip()
    return stripped[:1] in ("{", b"{")


def load_file(path: Path) -> TableMap:
    return load_document(path.read_text(encoding="utf-8"), source=str(path))


def builtin_maps() -> list[TableMap]:
    """The out-of-box maps the project ships (``isthmus/dualwrite/maps/builtin/*.yaml``), in file-name order."""
    folder = resources.files("isthmus.dualwrite.maps") / "builtin"
    maps = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml", ".json")):
            maps.append(load_document(entry.read_text(encoding="utf-8"), source=f"builtin/{entry.name}"))
    return maps
