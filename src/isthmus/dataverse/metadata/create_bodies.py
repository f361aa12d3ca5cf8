"""Parsing the bodies that create metadata — ``POST EntityDefinitions``, ``POST CreateEntities``,
``POST …/Attributes``, ``POST …/Keys``, ``POST RelationshipDefinitions`` — into ``model`` values the
``MetadataStore`` records.

Bodies are read the way Dataverse reads them: ``@odata.type`` with or without ``#``, with or without the
namespace, and the ``Complex…`` variants ``CreateEntities`` uses; labels from ``LocalizedLabels`` (the 1033
one, else the first). A body that cannot become metadata raises ``ValidationError`` whose ``target`` names
the field at fault; an ``@odata.type`` this model does not implement raises ``NotSupportedError``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from isthmus.dataverse.metadata.model import AlternateKey, Column, Option, OptionSet, Relationship, Table
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.metadata.standard import standard_columns
from isthmus.dataverse.metadata.shapes import (
    DEFAULT_OPTION_VALUE_PREFIX,
    INT32,
    LANGUAGE_CODE,
    MAX_SCHEMA_NAME,
    NAMESPACE,
    BY_ATTRIBUTE_TYPE,
    CREATABLE,
    DATE_BEHAVIOURS,
    PRECISION,
    PREFIX,
    RANGES,
    SCHEMA_NAME,
    STRING_FORMATS,
    next_object_type_code,
    pluralize,
)
from isthmus.errors import NotSupportedError, ValidationError

def _where(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _require_dict(body: Any, path: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError(f"{path or 'The body'} must be a JSON object.", target=path or None)
    return body


def _type_name(body: dict[str, Any], path: str) -> str | None:
    """The body's ``@odata.type`` without ``#``, namespace or ``Complex`` prefix; ``None`` when absent."""
    raw = body.get("@odata.type")
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValidationError(
            f"{_where(path, '@odata.type')} must be a string.", target=_where(path, "@odata.type")
        )
    name = raw.lstrip("#")
    for prefix in (f"{NAMESPACE}.", "mscrm."):
        name = name.removeprefix(prefix)
    return name.removeprefix("Complex")


def _text(body: dict[str, Any], name: str, path: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    field = _where(path, name)
    if value is None:
        if required:
            raise ValidationError(f"{field} is required.", target=field)
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be a non-empty string; got {value!r}.", target=field)
    return value.strip()


def label_text(value: Any, field: str) -> str | None:
    """The text of a ``Label`` in a body: the 1033 localized label, else the first, else the user label."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise ValidationError(f"{field} must be a Label object with LocalizedLabels.", target=field)
    localized = value.get("LocalizedLabels") or []
    if not isinstance(localized, list) or not all(isinstance(x, dict) for x in localized):
        raise ValidationError(
            f"{field}.LocalizedLabels must be a list of LocalizedLabel objects.", target=field
        )
    chosen = next(
        (x for x in localized if x.get("LanguageCode") == LANGUAGE_CODE), localized[0] if localized else None
    )
    if chosen is None:
        chosen = (
            value.get("UserLocalizedLabel") if isinstance(value.get("UserLocalizedLabel"), dict) else None
        )
    if chosen is None:
        return None
    text = chosen.get("Label")
    if text is not None and not isinstance(text, str):
        raise ValidationError(
            f"{field}.LocalizedLabels[].Label must be a string; got {text!r}.", target=field
        )
    return text or None


def _schema_name(body: dict[str, Any], path: str, *, prefix_required: bool, what: str) -> str:
    field = _where(path, "SchemaName")
    name = _text(body, "SchemaName", path, required=True)
    assert name is not None
    if not SCHEMA_NAME.match(name):
        raise ValidationError(
            f"{field} {name!r} may hold only letters, digits and underscores and must start with a letter.",
            target=field,
        )
    if len(name) > MAX_SCHEMA_NAME:
        raise ValidationError(f"{field} {name!r} is longer than {MAX_SCHEMA_NAME} characters.", target=field)
    if prefix_required:
        prefix, sep, rest = name.partition("_")
        if not sep or not rest or not PREFIX.match(prefix) or prefix.lower() == "mscrm":
            raise ValidationError(
                f"{field} {name!r} needs a customization prefix such as new_ (for example "
                f"new_{name.strip('_')}); custom {what} names start with the publisher's prefix "
                "(2 to 8 letters "
                "or digits) and an underscore.",
                target=field,
            )
    logical = body.get("LogicalName")
    if logical is not None and (not isinstance(logical, str) or logical.lower() != name.lower()):
        raise ValidationError(
            f"{_where(path, 'LogicalName')} {logical!r} must be the lower-case SchemaName "
            f"({name.lower()!r}).",
            target=_where(path, "LogicalName"),
        )
    return name


def _required_level(body: dict[str, Any], path: str) -> str:
    raw = body.get("RequiredLevel")
    field = _where(path, "RequiredLevel")
    value = raw.get("Value") if isinstance(raw, dict) else raw
    if value is None:
        return "None"
    if value not in ("None", "Recommended", "ApplicationRequired"):
        raise ValidationError(
            f"{field} must be None, Recommended or ApplicationRequired; got {value!r}.", target=field
        )
    return str(value)


def _number(body: dict[str, Any], name: str, path: str, *, whole: bool) -> Any:
    value = body.get(name)
    field = _where(path, name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{field} must be a number; got {value!r}.", target=field)
    if whole:
        if isinstance(value, float) and not value.is_integer():
            raise ValidationError(f"{field} must be a whole number; got {value!r}.", target=field)
        return int(value)
    return value


def column_from_create_body(
    body: dict[str, Any], *, publisher_prefix_required: bool = True, table: str = ""
) -> Column:
    """The column a ``POST EntityDefinitions(...)/Attributes`` body defines (``table`` names the table, for
    the local option set's name). The primary name column comes with its table, so ``IsPrimaryName`` is
    refused."""
    column = _column(_require_dict(body, ""), "", prefix_required=publisher_prefix_required, table=table)
    if column.is_primary_name:
        raise ValidationError(
            "IsPrimaryName is true, but a table's primary name column is created with the table.",
            target="IsPrimaryName",
        )
    return column


def _column(body: dict[str, Any], path: str, *, prefix_required: bool, table: str) -> Column:
    type_field = _where(path, "@odata.type")
    type_name = _type_name(body, path)
    if type_name is None:
        attribute_type = body.get("AttributeType")
        kind = BY_ATTRIBUTE_TYPE.get(attribute_type) if isinstance(attribute_type, str) else None
        if kind is None:
            raise ValidationError(
                f"{type_field} is required: name the attribute type, for example "
                f"Microsoft.Dynamics.CRM.StringAttributeMetadata.",
                target=type_field,
            )
    elif type_name == "LookupAttributeMetadata":
        raise ValidationError(
            f"{type_field} is LookupAttributeMetadata: create a lookup column with "
            "POST RelationshipDefinitions "
            "(a OneToManyRelationshipMetadata whose Lookup describes the column).",
            target=type_field,
        )
    elif type_name not in CREATABLE:
        raise NotSupportedError(
            f"{type_field} {body.get('@odata.type')!r} is not a column type this server creates; it creates "
            f"{', '.join(sorted(CREATABLE))}.",
            target=type_field,
        )
    else:
        kind = CREATABLE[type_name]
    schema = _schema_name(body, path, prefix_required=prefix_required, what="column")
    logical = schema.lower()
    is_primary_name = body.get("IsPrimaryName") is True
    values: dict[str, Any] = {
        "schema_name": schema,
        "display_name": label_text(body.get("DisplayName"), _where(path, "DisplayName")) or schema,
        "description": label_text(body.get("Description"), _where(path, "Description")) or "",
        "required": _required_level(body, path),
        "is_custom": True,
        "is_primary_name": is_primary_name,
    }
    if is_primary_name and kind != "String":
        field = _where(path, "IsPrimaryName")
        raise ValidationError(
            f"{field} is true on a {kind} column; the primary name column is text.", target=field
        )
    if kind in ("String", "Memo"):
        values.update(_text_properties(body, path, kind))
    elif kind in RANGES:
        values.update(_numeric_properties(body, path, kind))
    elif kind == "Boolean":
        values["option_set"] = _boolean_options(body, path, f"{table}_{logical}" if table else logical)
    elif kind == "DateTime":
        values["format"] = _date_format(body, path)
    elif kind == "Picklist":
        values["option_set"] = _picklist_options(body, path, f"{table}_{logical}" if table else logical)
    return Column(logical, kind, **values)  # type: ignore[arg-type]


def _text_properties(body: dict[str, Any], path: str, kind: str) -> dict[str, Any]:
    field = _where(path, "MaxLength")
    limit = 4000 if kind == "String" else 1048576
    length = _number(body, "MaxLength", path, whole=True)
    length = (100 if kind == "String" else 2000) if length is None else length
    if not 1 <= length <= limit:
        raise ValidationError(f"{field} must be between 1 and {limit}; got {length}.", target=field)
    values: dict[str, Any] = {"max_length": length}
    if kind == "String":
        raw = body.get("FormatName")
        fmt = raw.get("Value") if isinstance(raw, dict) else raw
        fmt = fmt if fmt is not None else body.get("Format")
        if fmt is not None and fmt not in STRING_FORMATS:
            target = _where(path, "FormatName")
            raise ValidationError(
                f"{target} {fmt!r} is not one of {', '.join(STRING_FORMATS)}.", target=target
            )
        values["format"] = None if fmt in (None, "Text") else fmt
    return values


def _numeric_properties(body: dict[str, Any], path: str, kind: str) -> dict[str, Any]:
    whole = kind in ("Integer", "BigInt")
    default_low, default_high, lowest, highest = RANGES[kind]
    low = _number(body, "MinValue", path, whole=whole)
    high = _number(body, "MaxValue", path, whole=whole)
    low = default_low if low is None else low
    high = default_high if high is None else high
    for name, value in (("MinValue", low), ("MaxValue", high)):
        if not lowest <= value <= highest:
            field = _where(path, name)
            raise ValidationError(
                f"{field} {value} is outside {lowest:g} to {highest:g} for {kind}.", target=field
            )
    if low > high:
        field = _where(path, "MinValue")
        raise ValidationError(f"{field} {low} is greater than MaxValue {high}.", target=field)
    values: dict[str, Any] = {"min_value": low, "max_value": high}
    if kind in PRECISION:
        default, least, most = PRECISION[kind]
        precision = _number(body, "Precision", path, whole=True)
        precision = default if precision is None else precision
        if not least <= precision <= most:
            field = _where(path, "Precision")
            raise ValidationError(
                f"{field} must be between {least} and {most} for {kind}; got {precision}.", target=field
            )
        values["precision"] = precision
    return values


def _date_format(body: dict[str, Any], path: str) -> str | None:
    raw = body.get("DateTimeBehavior")
    behaviour = raw.get("Value") if isinstance(raw, dict) else raw
    if behaviour is not None and behaviour not in DATE_BEHAVIOURS:
        field = _where(path, "DateTimeBehavior")
        raise ValidationError(
            f"{field} {behaviour!r} is not one of {', '.join(DATE_BEHAVIOURS)}.", target=field
        )
    fmt = body.get("Format")
    if fmt is not None and fmt not in ("DateOnly", "DateAndTime"):
        field = _where(path, "Format")
        raise ValidationError(f"{field} {fmt!r} is not DateOnly or DateAndTime.", target=field)
    if behaviour == "DateOnly" or fmt == "DateOnly":
        return "DateOnly"
    return "TimeZoneIndependent" if behaviour == "TimeZoneIndependent" else None


def _boolean_options(body: dict[str, Any], path: str, name: str) -> OptionSet:
    raw = body.get("OptionSet")
    labels = {1: "Yes", 0: "No"}
    if raw is not None:
        option_set = _require_dict(raw, _where(path, "OptionSet"))
        for key, value in (("TrueOption", 1), ("FalseOption", 0)):
            option = option_set.get(key)
            if option is None:
                continue
            field = _where(path, f"OptionSet.{key}")
            option = _require_dict(option, field)
            labels[value] = label_text(option.get("Label"), _where(field, "Label")) or labels[value]
    return OptionSet(name, (Option(1, labels[1]), Option(0, labels[0])))


def _picklist_options(body: dict[str, Any], path: str, name: str) -> OptionSet:
    field = _where(path, "OptionSet")
    option_set = _require_dict(body.get("OptionSet"), field) if body.get("OptionSet") is not None else None
    if option_set is None:
        if body.get("GlobalOptionSet@odata.bind") or body.get("GlobalOptionSet"):
            raise NotSupportedError(
                "Global choices (GlobalOptionSet) are not supported; define a local OptionSet.",
                target=_where(path, "GlobalOptionSet"),
            )
        raise ValidationError(f"{field} is required: a choice column lists its Options.", target=field)
    if option_set.get("IsGlobal") is True:
        raise NotSupportedError(
            "Global choices (IsGlobal true) are not supported; define a local OptionSet.",
            target=_where(field, "IsGlobal"),
        )
    raw_options = option_set.get("Options")
    options_field = _where(field, "Options")
    if not isinstance(raw_options, list) or not raw_options:
        raise ValidationError(f"{options_field} must list at least one option.", target=options_field)
    given: list[tuple[int | None, str]] = []
    for i, raw in enumerate(raw_options):
        where = f"{options_field}[{i}]"
        option = _require_dict(raw, where)
        value = option.get("Value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValidationError(
                f"{where}.Value must be a whole number; got {value!r}.", target=f"{where}.Value"
            )
        if value is not None and not INT32[0] <= value <= INT32[1]:
            raise ValidationError(
                f"{where}.Value {value} is outside the 32-bit range.", target=f"{where}.Value"
            )
        text = label_text(option.get("Label"), f"{where}.Label")
        if not text:
            raise ValidationError(f"{where}.Label needs a text.", target=f"{where}.Label")
        given.append((value, text))
    values = [v for v, _ in given if v is not None]
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValidationError(f"{options_field} repeats the value {duplicates[0]}.", target=options_field)
    labels = [t.lower() for _, t in given]
    repeated = next((t for _, t in given if labels.count(t.lower()) > 1), None)
    if repeated:
        raise ValidationError(f"{options_field} repeats the label {repeated!r}.", target=options_field)
    used = set(values)
    next_value = DEFAULT_OPTION_VALUE_PREFIX * 10000
    options = []
    for value, text in given:
        if value is None:
            while next_value in used:
                next_value += 1
            value = next_value
            used.add(value)
        options.append(Option(value, text))
    given_name = option_set.get("Name")
    return OptionSet(given_name if isinstance(given_name, str) and given_name else name, tuple(options))


_OWNERSHIP_CODES = {0: "None", 1: "UserOwned", 8: "OrganizationOwned"}


def table_from_create_body(
    body: dict[str, Any], *, publisher_prefix_required: bool = True, object_type_code: int = 0
) -> Table:
    """The table a ``POST EntityDefinitions`` body, or one entry of
    ``POST CreateEntities {"Entities": [...]}``, defines: its ``Attributes`` hold exactly one text column with
    ``IsPrimaryName`` true, and the standard columns
    (primary id ``<logical>id``, audit, owner, state and status, version) are added. Pass ``object_type_code``
    (``next_object_type_code(registry)``) to number the table as Dataverse does."""
    body = _require_dict(body, "")
    type_name = _type_name(body, "")
    if type_name not in (None, "EntityMetadata"):
        raise NotSupportedError(
            f"@odata.type {body.get('@odata.type')!r} is not an entity definition; send "
            "Microsoft.Dynamics.CRM.EntityMetadata (or ComplexEntityMetadata in CreateEntities).",
            target="@odata.type",
        )
    schema = _schema_name(body, "", prefix_required=publisher_prefix_required, what="table")
    logical = schema.lower()
    if body.get("IsActivity") is True:
        raise NotSupportedError(
            "IsActivity is true: custom activity tables are not supported.", target="IsActivity"
        )
    if body.get("DataProviderId") not in (None, "", "00000000-0000-0000-0000-000000000000"):
        raise NotSupportedError(
            "DataProviderId is set: virtual tables are not created through this API.", target="DataProviderId"
        )
    ownership = body.get("OwnershipType", "UserOwned")
    ownership = _OWNERSHIP_CODES.get(ownership, ownership) if isinstance(ownership, int) else ownership
    if ownership not in ("UserOwned", "OrganizationOwned", "None"):
        raise ValidationError(
            f"OwnershipType must be UserOwned or OrganizationOwned; got {body.get('OwnershipType')!r}.",
            target="OwnershipType",
        )
    entity_set = _text(body, "EntitySetName", "") or pluralize(logical)
    if not SCHEMA_NAME.match(entity_set):
        raise ValidationError(
            f"EntitySetName {entity_set!r} may hold only letters, digits and underscores.",
            target="EntitySetName",
        )
    attributes = body.get("Attributes")
    if not isinstance(attributes, list) or not attributes:
        raise ValidationError(
            "Attributes must list the table's columns, one of them a StringAttributeMetadata with "
            "IsPrimaryName true.",
            target="Attributes",
        )
    columns = _table_columns(attributes, logical, publisher_prefix_required)
    display = label_text(body.get("DisplayName"), "DisplayName") or schema
    primary_id = f"{logical}id"
    standard = list(standard_columns(logical, primary_id))
    standard[0] = replace(standard[0], schema_name=f"{schema}Id", display_name=display)
    reserved = {c.logical_name for c in standard}
    for i, column in enumerate(columns):
        if column.logical_name in reserved:
            field = f"Attributes[{i}].SchemaName"
            raise ValidationError(
                f"{field} {column.schema_name!r} is the name of a column every table has "
                f"({column.logical_name}).",
                target=field,
            )
    primary_name = next(c for c in columns if c.is_primary_name)
    return Table(
        logical_name=logical,
        entity_set_name=entity_set,
        primary_id=primary_id,
        primary_name=primary_name.logical_name,
        columns=(*standard, *columns),
        schema_name=schema,
        display_name=display,
        display_collection_name=label_text(body.get("DisplayCollectionName"), "DisplayCollectionName")
        or pluralize(display),
        description=label_text(body.get("Description"), "Description") or "",
        ownership=ownership,  # type: ignore[arg-type]
        is_custom=True,
        object_type_code=object_type_code,
    )


def tables_from_create_entities(
    body: dict[str, Any], registry: Registry | None = None, *, publisher_prefix_required: bool = True
) -> list[Table]:
    """The tables of a ``POST CreateEntities {"Entities": [...]}`` body, in order; errors name the entry
    (``Entities[1].SchemaName``). With ``registry``, the tables are numbered from ``next_object_type_code``."""
    entities = _require_dict(body, "").get("Entities")
    if not isinstance(entities, list) or not entities:
        raise ValidationError("Entities must list at least one entity definition.", target="Entities")
    code = next_object_type_code(registry) if registry is not None else 0
    tables: list[Table] = []
    for i, entity in enumerate(entities):
        try:
            table = table_from_create_body(
                _require_dict(entity, f"Entities[{i}]"),
                publisher_prefix_required=publisher_prefix_required,
                object_type_code=code + i if code else 0,
            )
        except (ValidationError, NotSupportedError) as error:
            if error.target and not error.target.startswith("Entities["):
                error.target = f"Entities[{i}].{error.target}"
            raise
        if any(t.logical_name == table.logical_name for t in tables):
            field = f"Entities[{i}].SchemaName"
            raise ValidationError(f"{field} {table.schema_name!r} is defined twice.", target=field)
        tables.append(table)
    return tables


def _table_columns(attributes: list[Any], table: str, prefix_required: bool) -> list[Column]:
    columns: list[Column] = []
    positions: dict[str, int] = {}
    for i, raw in enumerate(attributes):
        path = f"Attributes[{i}]"
        column = _column(_require_dict(raw, path), path, prefix_required=prefix_required, table=table)
        seen = positions.get(column.logical_name)
        if seen is not None:
            first = columns[seen]
            # The SDK's tables.create adds its own primary name column ("<prefix>_Name") ahead of the
            # caller's columns, so a caller who also lists "<prefix>_Name" as text sends it twice: keep one
            # column, the primary name, as the caller defined it.
            if first.type == column.type == "String" and first.is_primary_name != column.is_primary_name:
                columns[seen] = replace(column if first.is_primary_name else first, is_primary_name=True)
                continue
            field = f"{path}.SchemaName"
            raise ValidationError(
                f"{field} {column.schema_name!r} names a column already in Attributes.", target=field
            )
        positions[column.logical_name] = len(columns)
        columns.append(column)
    primaries = [c for c in columns if c.is_primary_name]
    if len(primaries) != 1:
        raise ValidationError(
            "Attributes must hold exactly one StringAttributeMetadata with IsPrimaryName true; "
            f"found {len(primaries)}.",
            target="Attributes",
        )
    return columns


def key_from_create_body(
    body: dict[str, Any], table: Table | None = None, *, publisher_prefix_required: bool = True
) -> AlternateKey:
    """The alternate key a ``POST EntityDefinitions(...)/Keys`` body (``EntityKeyMetadata``) defines; with
    ``table``, its columns are checked to exist and to be of a type a key may use."""
    body = _require_dict(body, "")
    type_name = _type_name(body, "")
    if type_name not in (None, "EntityKeyMetadata"):
        raise NotSupportedError(
            f"@odata.type {body.get('@odata.type')!r} is not EntityKeyMetadata.", target="@odata.type"
        )
    schema = _schema_name(body, "", prefix_required=publisher_prefix_required, what="key")
    raw = body.get("KeyAttributes")
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) and x for x in raw):
        raise ValidationError(
            "KeyAttributes must list the logical names of the key's columns.", target="KeyAttributes"
        )
    columns = tuple(x.lower() for x in raw)
    if len(set(columns)) != len(columns):
        raise ValidationError("KeyAttributes names a column twice.", target="KeyAttributes")
    if len(columns) > 16:
        raise ValidationError("KeyAttributes may name at most 16 columns.", target="KeyAttributes")
    if table is not None:
        for name in columns:
            column = table.column(name)
            if column is None:
                raise ValidationError(
                    f"KeyAttributes names {name!r}, which {table.logical_name} does not have.",
                    target="KeyAttributes",
                )
            if column.type not in ("String", "Integer", "Decimal", "DateTime", "Lookup", "Picklist"):
                raise ValidationError(
                    f"KeyAttributes names {name!r}, a {column.type} column; keys use text, whole number, "
                    "decimal, "
                    "date and time, lookup or choice columns.",
                    target="KeyAttributes",
                )
    return AlternateKey(schema.lower(), columns, schema)


def relationship_from_create_body(
    body: dict[str, Any], *, publisher_prefix_required: bool = True
) -> tuple[Relationship, Column | None]:
    """The relationship a ``POST RelationshipDefinitions`` body defines and, for a one-to-many one, the lookup
    column its ``Lookup`` adds to the referencing table (its single-valued navigation property is the lookup's
    SchemaName and the collection-valued one the relationship's SchemaName, as Dataverse names them).

    A many-to-many relationship needs its intersect table too: ``intersect_table(relationship, registry)``."""
    body = _require_dict(body, "")
    type_name = _type_name(body, "")
    if type_name is None:
        type_name = (
            "OneToManyRelationshipMetadata"
            if "Lookup" in body
            else ("ManyToManyRelationshipMetadata" if "Entity1LogicalName" in body else None)
        )
        if type_name is None:
            raise ValidationError(
                "@odata.type is required: Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata or "
                "ManyToManyRelationshipMetadata.",
                target="@odata.type",
            )
    if type_name not in ("OneToManyRelationshipMetadata", "ManyToManyRelationshipMetadata"):
        raise NotSupportedError(
            f"@odata.type {body.get('@odata.type')!r} is not a relationship type; send "
            "OneToManyRelationshipMetadata "
            "or ManyToManyRelationshipMetadata.",
            target="@odata.type",
        )
    schema = _schema_name(body, "", prefix_required=publisher_prefix_required, what="relationship")
    if type_name == "ManyToManyRelationshipMetadata":
        first = _logical(body, "Entity1LogicalName")
        second = _logical(body, "Entity2LogicalName")
        intersect = (_text(body, "IntersectEntityName", "") or schema).lower()
        if not SCHEMA_NAME.match(intersect):
            raise ValidationError(
                f"IntersectEntityName {intersect!r} may hold only letters, digits and underscores.",
                target="IntersectEntityName",
            )
        relationship = Relationship(
            schema_name=schema,
            kind="ManyToMany",
            referenced_table=first,
            referencing_table=second,
            referencing_navigation=schema,
            referenced_navigation=schema,
            intersect_table=intersect,
            is_custom=True,
        )
        return relationship, None
    referenced = _logical(body, "ReferencedEntity")
    referencing = _logical(body, "ReferencingEntity")
    referenced_attribute = body.get("ReferencedAttribute")
    if referenced_attribute is not None and not isinstance(referenced_attribute, str):
        raise ValidationError(
            f"ReferencedAttribute must be the primary id of {referenced}; got {referenced_attribute!r}.",
            target="ReferencedAttribute",
        )
    lookup_body = body.get("Lookup")
    if lookup_body is None:
        raise ValidationError(
            f"Lookup is required: the LookupAttributeMetadata of the column to add to {referencing}.",
            target="Lookup",
        )
    lookup_body = _require_dict(lookup_body, "Lookup")
    lookup_type = _type_name(lookup_body, "Lookup")
    if lookup_type not in (None, "LookupAttributeMetadata"):
        raise ValidationError(
            f"Lookup.@odata.type must be LookupAttributeMetadata; got {lookup_body.get('@odata.type')!r}.",
            target="Lookup.@odata.type",
        )
    lookup_schema = _schema_name(
        lookup_body, "Lookup", prefix_required=publisher_prefix_required, what="column"
    )
    lookup = Column(
        lookup_schema.lower(),
        "Lookup",
        schema_name=lookup_schema,
        display_name=label_text(lookup_body.get("DisplayName"), "Lookup.DisplayName") or lookup_schema,
        description=label_text(lookup_body.get("Description"), "Lookup.Description") or "",
        required=_required_level(lookup_body, "Lookup"),  # type: ignore[arg-type]
        targets=(referenced,),
        is_custom=True,
    )
    relationship = Relationship(
        schema_name=schema,
        kind="OneToMany",
        referenced_table=referenced,
        referencing_table=referencing,
        referencing_column=lookup.logical_name,
        referencing_navigation=_text(body, "ReferencingEntityNavigationPropertyName", "") or lookup_schema,
        referenced_navigation=_text(body, "ReferencedEntityNavigationPropertyName", "") or schema,
        is_custom=True,
    )
    return relationship, lookup


def _logical(body: dict[str, Any], name: str) -> str:
    value = _text(body, name, "", required=True)
    assert value is not None
    if not SCHEMA_NAME.match(value):
        raise ValidationError(f"{name} {value!r} is not a table's logical name.", target=name)
    return value.lower()
