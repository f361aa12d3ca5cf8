"""The metadata Web API's JSON: ``EntityMetadata``, ``AttributeMetadata`` (one ``@odata.type`` per attribute
type), ``EntityKeyMetadata`` and the relationship metadata types. Parsing the bodies that create metadata is
``create_bodies`` (re-exported here, so callers need only this module).

Shapes are plain dicts with every property this model can answer; the Web API layer applies ``$select``
(keeping ``MetadataId``, which Dataverse always returns) and the ``@odata.context``. Labels are in one
language (1033). Ids are deterministic (``model.metadata_id``), so the same table, column, key or
relationship has the same ``MetadataId`` in every environment and after every restart.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from isthmus.dataverse.metadata.model import (
    AlternateKey,
    Column,
    Option,
    Relationship,
    Table,
    metadata_id,
)
from isthmus.dataverse.metadata.registry import Registry
from isthmus.errors import ValidationError

LANGUAGE_CODE = 1033
NAMESPACE = "Microsoft.Dynamics.CRM"
CUSTOM_OBJECT_TYPE_CODE_START = 10000
DEFAULT_OPTION_VALUE_PREFIX = 10000
"""The option value prefix of the default publisher (``new_``): its choice values start at 100,000,000."""
ENTITY_EXPANSIONS = frozenset(
    {"Attributes", "Keys", "OneToManyRelationships", "ManyToOneRelationships", "ManyToManyRelationships"}
)

_ODATA_TYPE = {
    "String": "StringAttributeMetadata",
    "Memo": "MemoAttributeMetadata",
    "Integer": "IntegerAttributeMetadata",
    "BigInt": "BigIntAttributeMetadata",
    "Decimal": "DecimalAttributeMetadata",
    "Double": "DoubleAttributeMetadata",
    "Money": "MoneyAttributeMetadata",
    "Boolean": "BooleanAttributeMetadata",
    "DateTime": "DateTimeAttributeMetadata",
    "Picklist": "PicklistAttributeMetadata",
    "State": "StateAttributeMetadata",
    "Status": "StatusAttributeMetadata",
    "Lookup": "LookupAttributeMetadata",
    "Customer": "LookupAttributeMetadata",
    "Owner": "LookupAttributeMetadata",
    "Uniqueidentifier": "UniqueIdentifierAttributeMetadata",
}
CREATABLE = {
    "StringAttributeMetadata": "String",
    "MemoAttributeMetadata": "Memo",
    "IntegerAttributeMetadata": "Integer",
    "BigIntAttributeMetadata": "BigInt",
    "DecimalAttributeMetadata": "Decimal",
    "DoubleAttributeMetadata": "Double",
    "MoneyAttributeMetadata": "Money",
    "BooleanAttributeMetadata": "Boolean",
    "DateTimeAttributeMetadata": "DateTime",
    "PicklistAttributeMetadata": "Picklist",
    "UniqueIdentifierAttributeMetadata": "Uniqueidentifier",
}
BY_ATTRIBUTE_TYPE = {kind: kind for kind in CREATABLE.values()}
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
# Dataverse's defaults and limits per type: (default min, default max, lowest min, highest max)
RANGES: dict[str, tuple[float, float, float, float]] = {
    "Integer": (*INT32, *INT32),
    "BigInt": (*INT64, *INT64),
    "Decimal": (-100000000000.0, 100000000000.0, -100000000000.0, 100000000000.0),
    "Double": (-100000000000.0, 100000000000.0, -100000000000.0, 100000000000.0),
    "Money": (-922337203685477.0, 922337203685477.0, -922337203685477.0, 922337203685477.0),
}
PRECISION = {"Decimal": (2, 0, 10), "Double": (2, 0, 5), "Money": (2, 0, 4)}
"""(default, lowest, highest) precision per type."""
STRING_FORMATS = (
    "Text",
    "Email",
    "Url",
    "Phone",
    "TextArea",
    "TickerSymbol",
    "PhoneticGuide",
    "VersionNumber",
    "Json",
    "RichText",
)
DATE_BEHAVIOURS = ("UserLocal", "DateOnly", "TimeZoneIndependent")
SCHEMA_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,7}$")
MAX_SCHEMA_NAME = 50


# --- labels and small shapes --------------------------------------------------------------------------------


def label(text: str | None, owner: str, part: str, *, managed: bool = False) -> dict[str, Any]:
    """A ``Label``: one 1033 localized label (also the ``UserLocalizedLabel``), or an empty label."""
    if not text:
        return {"LocalizedLabels": [], "UserLocalizedLabel": None}
    localized = {
        "Label": text,
        "LanguageCode": LANGUAGE_CODE,
        "IsManaged": managed,
        "MetadataId": metadata_id("label", owner, part),
        "HasChanged": None,
    }
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": dict(localized)}


def _managed_property(value: bool, name: str, *, can_be_changed: bool = True) -> dict[str, Any]:
    return {"Value": value, "CanBeChanged": can_be_changed, "ManagedPropertyLogicalName": name}


def odata_type(name: str) -> str:
    """The ``@odata.type`` annotation of a metadata type: ``#Microsoft.Dynamics.CRM.<name>``."""
    return f"#{NAMESPACE}.{name}"


def attribute_odata_type(column: Column) -> str:
    """The attribute's metadata type name without namespace (``PicklistAttributeMetadata``), the name a
    type-cast segment such as ``Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`` selects by."""
    return _ODATA_TYPE[column.type]


def pluralize(name: str) -> str:
    """Dataverse's plural of a logical or schema name: ``new_project`` → ``new_projects``, ``new_category`` →
    ``new_categories``, ``new_box`` / ``new_status`` / ``new_batch`` → ``new_boxes`` / ``new_statuses`` /
    ``new_batches``."""
    lowered = name.lower()
    if lowered.endswith("y") and len(name) > 1 and lowered[-2] not in "aeiou":
        return name[:-1] + ("IES" if name[-1] == "Y" else "ies")
    if lowered.endswith(("s", "x", "z", "ch", "sh")):
        return name + ("ES" if name[-1].isupper() else "es")
    return name + ("S" if name[-1].isupper() else "s")


def object_type_code(table: Table) -> int:
    """The table's object type code; tables without one get a stable code in the custom range."""
    if table.object_type_code:
        return table.object_type_code
    return CUSTOM_OBJECT_TYPE_CODE_START + uuid.UUID(table.metadata_id).int % 90000


def next_object_type_code(registry: Registry) -> int:
    """The code Dataverse would give the next custom table: one above the highest custom code given so far,
    skipping the stable codes of tables that have none of their own."""
    given = [t.object_type_code for t in registry.tables.values()]
    taken = {object_type_code(t) for t in registry.tables.values()}
    code = (
        max(
            [c for c in given if c >= CUSTOM_OBJECT_TYPE_CODE_START],
            default=CUSTOM_OBJECT_TYPE_CODE_START - 1,
        )
        + 1
    )
    while code in taken:
        code += 1
    return code


# --- relationships as the API sees them ---------------------------------------------------------------------

def effective_relationships(registry: Registry) -> tuple[Relationship, ...]:
    """The registry's relationships between tables it still has (the registry already drops a lookup's derived
    relationship when an explicit one covers it)."""
    return tuple(
        r for r in registry.relationships
        if r.referenced_table in registry.tables and r.referencing_table in registry.tables
    )


def relationships_of(table: Table, registry: Registry, kind: str) -> list[Relationship]:
    """``OneToMany`` (the table is referenced), ``ManyToOne`` (it references) or ``ManyToMany`` ones."""
    name = table.logical_name
    rels = effective_relationships(registry)
    if kind == "OneToMany":
        return [r for r in rels if r.kind == "OneToMany" and r.referenced_table == name]
    if kind == "ManyToOne":
        return [r for r in rels if r.kind == "OneToMany" and r.referencing_table == name]
    if kind == "ManyToMany":
        return [
            r for r in rels if r.kind == "ManyToMany" and name in (r.referenced_table, r.referencing_table)
        ]
    raise ValueError(f"Unknown relationship kind {kind!r}.")


def find_relationship(registry: Registry, key: str) -> Relationship | None:
    """A relationship by ``MetadataId`` or ``SchemaName`` (case-insensitive), as
    ``RelationshipDefinitions(...)`` addresses it."""
    lowered = key.lower()
    return next(
        (
            r
            for r in effective_relationships(registry)
            if r.metadata_id == lowered or r.schema_name.lower() == lowered
        ),
        None,
    )


def find_table(registry: Registry, key: str) -> Table | None:
    """A table by ``MetadataId`` or logical name, as ``EntityDefinitions(...)`` addresses it."""
    lowered = key.lower()
    found = registry.table(lowered)
    return found or next((t for t in registry.tables.values() if t.metadata_id == lowered), None)


def find_column(table: Table, key: str) -> Column | None:
    """A column by ``MetadataId`` or logical name, as ``…/Attributes(...)`` addresses it."""
    lowered = key.lower()
    found = table.column(lowered)
    return found or next(
        (c for c in table.columns if metadata_id("attribute", table.logical_name, c.logical_name) == lowered),
        None,
    )


def find_key(table: Table, key: str) -> AlternateKey | None:
    """An alternate key by ``MetadataId`` or logical name, as ``…/Keys(...)`` addresses it."""
    lowered = key.lower()
    return next(
        (
            k
            for k in table.keys
            if k.logical_name.lower() == lowered
            or metadata_id("key", table.logical_name, k.logical_name) == lowered
        ),
        None,
    )


def is_intersect(table: Table, registry: Registry) -> bool:
    """Whether the table holds the pairs of a many-to-many relationship."""
    return any(
        r.kind == "ManyToMany" and r.intersect_table == table.logical_name for r in registry.relationships
    )


# --- EntityMetadata -----------------------------------------------------------------------------------------


def entity_metadata(
    table: Table, registry: Registry, *, expand: Iterable[str] = frozenset()
) -> dict[str, Any]:
    """``EntityMetadata`` of ``table``; ``expand`` adds ``Attributes``, ``Keys`` and the three relationship
    collections (the names ``$expand`` uses)."""
    tid = table.metadata_id
    managed = not table.is_custom
    virtual = table.is_virtual
    has_state = table.column("statecode") is not None
    shape: dict[str, Any] = {
        "MetadataId": tid,
        "LogicalName": table.logical_name,
        "SchemaName": table.schema_name,
        "EntitySetName": table.entity_set_name,
        "LogicalCollectionName": table.entity_set_name,
        "CollectionSchemaName": pluralize(table.schema_name),
        "PrimaryIdAttribute": table.primary_id,
        "PrimaryNameAttribute": table.primary_name,
        "PrimaryImageAttribute": None,
        "DisplayName": label(table.display_name, tid, "DisplayName", managed=managed),
        "DisplayCollectionName": label(
            table.display_collection_name, tid, "DisplayCollectionName", managed=managed
        ),
        "Description": label(table.description, tid, "Description", managed=managed),
        "ObjectTypeCode": object_type_code(table),
        "OwnershipType": "OrganizationOwned" if virtual else table.ownership,
        "TableType": "Virtual" if virtual else "Standard",
        "DataProviderId": metadata_id("dataprovider", table.data_provider) if table.data_provider else None,
        "DataSourceId": None,
        "ExternalName": None,
        "ExternalCollectionName": None,
        "IsCustomEntity": table.is_custom,
        "IsManaged": managed,
        "IsActivity": table.primary_id == "activityid",
        "IsActivityParty": False,
        "IsIntersect": is_intersect(table, registry),
        "IsPrivate": False,
        "IsLogicalEntity": False,
        "IsValidForAdvancedFind": True,
        "IsStateModelAware": has_state and not virtual,
        "EnforceStateTransitions": False,
        "IsBusinessProcessEnabled": False,
        "IsAvailableOffline": False,
        "IsValidForQueue": _managed_property(False, "canmodifyqueuesettings"),
        "IsCustomizable": _managed_property(True, "iscustomizable"),
        "IsRenameable": _managed_property(True, "isrenameable"),
        "IsAuditEnabled": _managed_property(False, "canmodifyauditsettings"),
        "IsChangeTrackingEnabled": False,
        "CanCreateAttributes": _managed_property(not virtual, "cancreateattributes"),
        "CanCreateForms": _managed_property(True, "cancreateforms"),
        "CanCreateViews": _managed_property(True, "cancreateviews"),
        "HasNotes": False,
        "HasActivities": False,
        "HasFeedback": False,
        "HasEmailAddresses": any(c.format == "Email" for c in table.columns),
        "IntroducedVersion": "1.0" if table.is_custom else "5.0.0.0",
        "HasChanged": None,
    }
    wanted = set(expand)
    unknown = wanted - ENTITY_EXPANSIONS
    if unknown:
        raise ValidationError(
            f"EntityMetadata cannot expand {', '.join(sorted(unknown))}; it expands "
            f"{', '.join(sorted(ENTITY_EXPANSIONS))}.",
            target="$expand",
        )
    if "Attributes" in wanted:
        shape["Attributes"] = [attribute_metadata(table, c) for c in table.columns]
    if "Keys" in wanted:
        shape["Keys"] = [key_metadata(table, k) for k in table.keys]
    if "OneToManyRelationships" in wanted:
        shape["OneToManyRelationships"] = [
            one_to_many_metadata(r, registry) for r in relationships_of(table, registry, "OneToMany")
        ]
    if "ManyToOneRelationships" in wanted:
        shape["ManyToOneRelationships"] = [
            many_to_one_metadata(r, registry) for r in relationships_of(table, registry, "ManyToOne")
        ]
    if "ManyToManyRelationships" in wanted:
        shape["ManyToManyRelationships"] = [
            many_to_many_metadata(r, registry) for r in relationships_of(table, registry, "ManyToMany")
        ]
    return shape


# --- AttributeMetadata --------------------------------------------------------------------------------------


def attribute_metadata(table: Table, column: Column) -> dict[str, Any]:
    """``AttributeMetadata`` of one column, typed by ``@odata.type``; choices carry their ``OptionSet`` (which
    Dataverse returns when ``$expand=OptionSet`` asks for it)."""
    aid = metadata_id("attribute", table.logical_name, column.logical_name)
    managed = not column.is_custom
    kind = column.type
    position = next((i for i, c in enumerate(table.columns) if c.logical_name == column.logical_name), 0) + 1
    shape: dict[str, Any] = {
        "@odata.type": odata_type(_ODATA_TYPE[kind]),
        "MetadataId": aid,
        "LogicalName": column.logical_name,
        "SchemaName": column.schema_name,
        "EntityLogicalName": table.logical_name,
        "AttributeType": kind,
        "AttributeTypeName": {"Value": f"{kind}Type"},
        "AttributeOf": None,
        "ColumnNumber": position,
        "DisplayName": label(column.display_name, aid, "DisplayName", managed=managed),
        "Description": label(column.description, aid, "Description", managed=managed),
        "RequiredLevel": {
            "Value": column.required,
            "CanBeChanged": column.required != "SystemRequired",
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
        "IsPrimaryId": column.is_primary_id,
        "IsPrimaryName": column.is_primary_name,
        "IsCustomAttribute": column.is_custom,
        "IsManaged": managed,
        "IsValidForCreate": column.valid_for_create,
        "IsValidForUpdate": column.valid_for_update,
        "IsValidForRead": True,
        "IsValidForForm": not column.is_primary_id,
        "IsValidForGrid": True,
        "IsValidForAdvancedFind": _managed_property(True, "canmodifysearchsettings"),
        "IsFilterable": True,
        "IsSearchable": True,
        "IsRetrievable": True,
        "IsSortableEnabled": _managed_property(True, "canmodifyissortablesettings"),
        "IsAuditEnabled": _managed_property(False, "canmodifyauditsettings"),
        "IsSecured": False,
        "IsLogical": False,
        "IsDataSourceSecret": False,
        "ExternalName": None,
        "SourceType": 0,
        "IntroducedVersion": "1.0" if column.is_custom else "5.0.0.0",
        "HasChanged": None,
    }
    shape.update(_typed_properties(table, column, aid, managed))
    return shape


def _typed_properties(table: Table, column: Column, aid: str, managed: bool) -> dict[str, Any]:
    kind = column.type
    if kind == "String":
        fmt = column.format or "Text"
        length = column.max_length or 100
        return {
            "MaxLength": length,
            "DatabaseLength": length * 2,
            "Format": fmt,
            "FormatName": {"Value": fmt},
            "ImeMode": "Auto",
            "IsLocalizable": False,
            "YomiOf": None,
            "AutoNumberFormat": None,
        }
    if kind == "Memo":
        length = column.max_length or 2000
        return {
            "MaxLength": length,
            "DatabaseLength": length * 2,
            "Format": "TextArea",
            "FormatName": {"Value": "TextArea"},
            "ImeMode": "Auto",
            "IsLocalizable": False,
        }
    if kind in RANGES:
        low, high = _range(column)
        typed: dict[str, Any] = {"MinValue": low, "MaxValue": high}
        if kind == "Integer":
            typed["Format"] = "None"
        if kind in PRECISION:
            typed["Precision"] = column.precision if column.precision is not None else PRECISION[kind][0]
        if kind == "Money":
            typed.update(
                {"PrecisionSource": 2, "IsBaseCurrency": False, "CalculationOf": None, "ImeMode": "Auto"}
            )
        if kind in ("Decimal", "Double"):
            typed["ImeMode"] = "Auto"
        return typed
    if kind == "Boolean":
        options = {o.value: o.label for o in column.option_set.options} if column.option_set else {}
        option_set = _option_set_frame(table, column, "Boolean", managed)
        option_set["TrueOption"] = _option(Option(1, options.get(1, "Yes")), aid, managed)
        option_set["FalseOption"] = _option(Option(0, options.get(0, "No")), aid, managed)
        return {"DefaultValue": False, "OptionSet": option_set, "GlobalOptionSet": None}
    if kind == "DateTime":
        behaviour = column.format if column.format in ("DateOnly", "TimeZoneIndependent") else "UserLocal"
        return {
            "Format": "DateOnly" if column.format == "DateOnly" else "DateAndTime",
            "DateTimeBehavior": {"Value": behaviour},
            "CanChangeDateTimeBehavior": _managed_property(column.is_custom, "canchangedatetimebehavior"),
            "MinSupportedValue": "1753-01-01T00:00:00Z",
            "MaxSupportedValue": "9999-12-30T23:59:59Z",
            "ImeMode": "Inactive",
        }
    if kind in ("Picklist", "State", "Status"):
        option_set = _option_set_frame(table, column, kind, managed)
        option_set["Options"] = [_choice_option(table, column, o, aid, managed) for o in _options(column)]
        typed = {"OptionSet": option_set, "GlobalOptionSet": None, "DefaultFormValue": -1}
        if kind == "State":
            typed = {**typed, "DefaultFormValue": None}
        return typed
    if column.is_lookup:
        return {"Targets": list(column.targets), "Format": "None"}
    return {}


def _range(column: Column) -> tuple[Any, Any]:
    low, high = RANGES[column.type][:2]
    low = column.min_value if column.min_value is not None else low
    high = column.max_value if column.max_value is not None else high
    if column.type in ("Integer", "BigInt"):
        return int(low), int(high)
    return float(low), float(high)


def _options(column: Column) -> tuple[Option, ...]:
    return column.option_set.options if column.option_set else ()


def _option_set_frame(table: Table, column: Column, kind: str, managed: bool) -> dict[str, Any]:
    option_set = column.option_set
    oid = metadata_id("optionset", table.logical_name, column.logical_name)
    name = option_set.name if option_set else f"{table.logical_name}_{column.logical_name}"
    metadata_type = "BooleanOptionSetMetadata" if kind == "Boolean" else "OptionSetMetadata"
    return {
        "@odata.type": odata_type(metadata_type),
        "MetadataId": oid,
        "Name": name,
        "IsGlobal": bool(option_set and option_set.is_global),
        "IsCustomOptionSet": column.is_custom,
        "IsManaged": managed,
        "OptionSetType": kind,
        "DisplayName": label(column.display_name, oid, "DisplayName", managed=managed),
        "Description": label(column.description, oid, "Description", managed=managed),
        "IntroducedVersion": "1.0" if column.is_custom else "5.0.0.0",
        "HasChanged": None,
    }


def _option(option: Option, owner: str, managed: bool) -> dict[str, Any]:
    return {
        "Value": option.value,
        "Label": label(option.label, owner, f"Option/{option.value}", managed=managed),
        "Description": label(None, owner, f"Option/{option.value}/Description"),
        "Color": None,
        "IsManaged": managed,
        "ExternalValue": None,
        "MetadataId": None,
        "HasChanged": None,
    }


def _choice_option(table: Table, column: Column, option: Option, owner: str, managed: bool) -> dict[str, Any]:
    shape = _option(option, owner, managed)
    if column.type == "State":
        status = table.column("statuscode")
        reasons = status.option_set.options if status is not None and status.option_set is not None else ()
        default_status = next((o.value for o in reasons if o.state == option.value), None)
        shape = {
            "@odata.type": odata_type("StateOptionMetadata"),
            **shape,
            "DefaultStatus": default_status,
            "InvariantName": re.sub(r"\W", "", option.label),
        }
    elif column.type == "Status":
        shape = {
            "@odata.type": odata_type("StatusOptionMetadata"),
            **shape,
            "State": option.state,
            "TransitionData": None,
        }
    return shape


# --- keys and relationships ---------------------------------------------------------------------------------


def key_metadata(table: Table, key: AlternateKey) -> dict[str, Any]:
    """``EntityKeyMetadata``."""
    kid = metadata_id("key", table.logical_name, key.logical_name)
    managed = not table.is_custom
    return {
        "MetadataId": kid,
        "LogicalName": key.logical_name,
        "SchemaName": key.schema_name,
        "EntityLogicalName": table.logical_name,
        "KeyAttributes": list(key.columns),
        "DisplayName": label(key.schema_name, kid, "DisplayName", managed=managed),
        "EntityKeyIndexStatus": "Active",
        "AsyncJob": None,
        "IsCustomizable": _managed_property(True, "iscustomizable"),
        "IsManaged": managed,
        "IsSecondaryKey": False,
        "IsExportKey": False,
        "IsSynchronous": True,
        "IntroducedVersion": "1.0",
        "HasChanged": None,
    }


def _cascade() -> dict[str, str]:
    return {
        "Assign": "NoCascade",
        "Delete": "RemoveLink",
        "Merge": "NoCascade",
        "Reparent": "NoCascade",
        "Share": "NoCascade",
        "Unshare": "NoCascade",
        "RollupView": "NoCascade",
        "Archive": "NoCascade",
    }


def _menu(owner: str, part: str) -> dict[str, Any]:
    return {
        "Behavior": "UseCollectionName",
        "Group": "Details",
        "Label": label(None, owner, part),
        "Order": 10000,
        "IsCustomizable": True,
        "Icon": None,
        "ViewId": "00000000-0000-0000-0000-000000000000",
        "AvailableOffline": True,
        "MenuId": None,
        "QueryApi": None,
    }


def one_to_many_metadata(relationship: Relationship, registry: Registry) -> dict[str, Any]:
    """``OneToManyRelationshipMetadata`` (the shape of a table's one-to-many and many-to-one sides alike)."""
    r = relationship
    referenced = registry.table(r.referenced_table)
    rid = r.metadata_id
    return {
        "@odata.type": odata_type("OneToManyRelationshipMetadata"),
        "MetadataId": rid,
        "SchemaName": r.schema_name,
        "RelationshipType": "OneToManyRelationship",
        "ReferencedEntity": r.referenced_table,
        "ReferencedAttribute": referenced.primary_id if referenced else f"{r.referenced_table}id",
        "ReferencingEntity": r.referencing_table,
        "ReferencingAttribute": r.referencing_column,
        "ReferencedEntityNavigationPropertyName": r.referenced_navigation,
        "ReferencingEntityNavigationPropertyName": r.referencing_navigation,
        "IsCustomRelationship": r.is_custom,
        "IsManaged": not r.is_custom,
        "IsValidForAdvancedFind": True,
        "IsHierarchical": False,
        "IsCustomizable": _managed_property(True, "iscustomizable"),
        "SecurityTypes": "Append",
        "CascadeConfiguration": _cascade(),
        "AssociatedMenuConfiguration": _menu(rid, "AssociatedMenuConfiguration"),
        "RelationshipBehavior": 0,
        "IsDenormalizedLookup": None,
        "DenormalizedAttributeName": None,
        "EntityKey": None,
        "IntroducedVersion": "1.0" if r.is_custom else "5.0.0.0",
        "HasChanged": None,
    }


def many_to_one_metadata(relationship: Relationship, registry: Registry) -> dict[str, Any]:
    """A one-to-many relationship seen from its referencing (many) side: Dataverse gives it the same shape."""
    return one_to_many_metadata(relationship, registry)


def intersect_attributes(relationship: Relationship, registry: Registry) -> tuple[str, str]:
    """The intersect table's columns for entity 1 and entity 2 (see ``Registry.intersect_columns``)."""
    return registry.intersect_columns(relationship)


def many_to_many_metadata(relationship: Relationship, registry: Registry) -> dict[str, Any]:
    """``ManyToManyRelationshipMetadata``; entity 1 is the relationship's referenced table."""
    r = relationship
    rid = r.metadata_id
    first, second = intersect_attributes(r, registry)
    return {
        "@odata.type": odata_type("ManyToManyRelationshipMetadata"),
        "MetadataId": rid,
        "SchemaName": r.schema_name,
        "RelationshipType": "ManyToManyRelationship",
        "Entity1LogicalName": r.referenced_table,
        "Entity2LogicalName": r.referencing_table,
        "IntersectEntityName": r.intersect_table,
        "Entity1IntersectAttribute": first,
        "Entity2IntersectAttribute": second,
        "Entity1NavigationPropertyName": r.schema_name,
        "Entity2NavigationPropertyName": r.schema_name,
        "Entity1AssociatedMenuConfiguration": _menu(rid, "Entity1AssociatedMenuConfiguration"),
        "Entity2AssociatedMenuConfiguration": _menu(rid, "Entity2AssociatedMenuConfiguration"),
        "IsCustomRelationship": r.is_custom,
        "IsManaged": not r.is_custom,
        "IsValidForAdvancedFind": True,
        "IsCustomizable": _managed_property(True, "iscustomizable"),
        "SecurityTypes": "None",
        "IntroducedVersion": "1.0" if r.is_custom else "5.0.0.0",
        "HasChanged": None,
    }


def relationship_metadata(relationship: Relationship, registry: Registry) -> dict[str, Any]:
    """The ``RelationshipDefinitions`` entry of a relationship, one-to-many or many-to-many."""
    if relationship.kind == "ManyToMany":
        return many_to_many_metadata(relationship, registry)
    return one_to_many_metadata(relationship, registry)


def intersect_table(relationship: Relationship, registry: Registry) -> Table:
    """The table that holds a many-to-many relationship's pairs: its own primary id plus one GUID column per
    side.
    The Web API creates it (``MetadataStore.create_table``) with the relationship."""
    if relationship.kind != "ManyToMany":
        raise ValueError(f"{relationship.schema_name} is not a many-to-many relationship.")
    name = relationship.intersect_table
    first, second = intersect_attributes(relationship, registry)
    columns = (
        Column(f"{name}id", "Uniqueidentifier", is_primary_id=True, valid_for_update=False, is_custom=True),
        Column(first, "Uniqueidentifier", required="SystemRequired", valid_for_update=False, is_custom=True),
        Column(second, "Uniqueidentifier", required="SystemRequired", valid_for_update=False, is_custom=True),
        Column(
            "versionnumber",
            "BigInt",
            schema_name="VersionNumber",
            valid_for_create=False,
            valid_for_update=False,
            is_custom=True,
        ),
    )
    return Table(
        logical_name=name,
        entity_set_name=pluralize(name),
        primary_id=f"{name}id",
        primary_name=None,
        columns=columns,
        schema_name=relationship.schema_name,
        ownership="None",
        is_custom=relationship.is_custom,
    )
