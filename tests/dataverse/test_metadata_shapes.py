"""Metadata Web API shapes and create bodies: EntityMetadata / AttributeMetadata / keys / relationships as the
clients read them, the bodies Microsoft's Python SDK (powerplatform-dataverse-client 1.1.0) sends to create
tables, columns, lookups and many-to-many relationships, and the ``$metadata`` CSDL."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from isthmus.dataverse.metadata import create_bodies, csdl, shapes
from isthmus.dataverse.metadata.model import metadata_id
from isthmus.dataverse.metadata.registry import Registry
from isthmus.dataverse.metadata.standard import standard_tables
from isthmus.dataverse.metadata.store import MetadataStore
from isthmus.errors import NotSupportedError, ValidationError

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
ALL = shapes.ENTITY_EXPANSIONS


def _registry() -> Registry:
    return Registry(list(standard_tables()), [], 0)


def sdk_label(text: str) -> dict[str, Any]:
    """``_ODataBase._label`` of the SDK (language 1033)."""
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.Label",
        "LocalizedLabels": [
            {"@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel", "Label": text, "LanguageCode": 1033}
        ],
    }


def _options(prefix: str) -> dict[str, Any]:
    return {
        "@odata.type": f"Microsoft.Dynamics.CRM.{prefix}OptionSetMetadata",
        "IsGlobal": False,
        "Options": [
            {"@odata.type": "Microsoft.Dynamics.CRM.OptionMetadata", "Value": value, "Label": sdk_label(name)}
            for value, name in ((1, "Planned"), (2, "Active"), (3, "Done"))
        ],
    }


def _attr(kind: str, schema: str, label: str, **extra: Any) -> dict[str, Any]:
    return {
        "@odata.type": f"Microsoft.Dynamics.CRM.Complex{kind}AttributeMetadata",
        "SchemaName": schema,
        "DisplayName": sdk_label(label),
        "RequiredLevel": {"Value": "None"},
        **extra,
    }


# What `client.tables.create("new_Project", {"new_Name": "string", "new_Budget": "decimal", "new_Due": "date",
# "new_Active": "bool", "new_Notes": "memo", "new_Count": "int", "new_Score": "float", "new_Stage": Stage})` POSTs
# to CreateEntities (Stage is an IntEnum Planned=1, Active=2, Done=3). Compared key for key with the SDK's own
# `_build_create_entity` output. The SDK adds its primary name column "new_Name" first, so the caller's
# "new_Name" arrives a second time.
SDK_CREATE_ENTITIES: dict[str, Any] = {
    "Entities": [
        {
            "@odata.type": "Microsoft.Dynamics.CRM.ComplexEntityMetadata",
            "SchemaName": "new_Project",
            "DisplayName": sdk_label("new_Project"),
            "DisplayCollectionName": sdk_label("new_Projects"),
            "Description": sdk_label("Custom entity for new_Project"),
            "OwnershipType": "UserOwned",
            "HasActivities": False,
            "HasNotes": True,
            "IsActivity": False,
            "Attributes": [
                _attr("String", "new_Name", "Name", MaxLength=200, FormatName={"Value": "Text"}, IsPrimaryName=True),
                _attr("String", "new_Name", "Name", MaxLength=200, FormatName={"Value": "Text"}, IsPrimaryName=False),
                _attr("Decimal", "new_Budget", "Budget", MinValue=-100000000000.0, MaxValue=100000000000.0, Precision=2),
                _attr("DateTime", "new_Due", "Due", Format="DateOnly", ImeMode="Inactive"),
                _attr(
                    "Boolean",
                    "new_Active",
                    "Active",
                    OptionSet={
                        "@odata.type": "Microsoft.Dynamics.CRM.ComplexBooleanOptionSetMetadata",
                        "TrueOption": {"Value": 1, "Label": sdk_label("True")},
                        "FalseOption": {"Value": 0, "Label": sdk_label("False")},
                        "IsGlobal": False,
                    },
                ),
                _attr("Memo", "new_Notes", "Notes", MaxLength=4000, FormatName={"Value": "Text"}, ImeMode="Auto"),
                _attr("Integer", "new_Count", "Count", Format="None", MinValue=-2147483648, MaxValue=2147483647),
                _attr("Double", "new_Score", "Score", MinValue=-100000000000.0, MaxValue=100000000000.0, Precision=5),
                _attr("Picklist", "new_Stage", "Stage", IsPrimaryName=False, OptionSet=_options("Complex")),
            ],
        }
    ]
}

# `client.tables.add_columns("new_Project", {"new_Priority": Stage})` → POST EntityDefinitions(<id>)/Attributes
SDK_PICKLIST_COLUMN: dict[str, Any] = {
    "@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
    "SchemaName": "new_Priority",
    "DisplayName": sdk_label("Priority"),
    "RequiredLevel": {"Value": "None"},
    "IsPrimaryName": False,
    "OptionSet": _options(""),
}

# `client.tables.create_lookup_field("new_project", "new_AccountId", "account")` → POST RelationshipDefinitions
SDK_LOOKUP_RELATIONSHIP: dict[str, Any] = {
    "@odata.type": "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
    "SchemaName": "account_new_project_new_AccountId",
    "ReferencedEntity": "account",
    "ReferencingEntity": "new_project",
    "ReferencedAttribute": "accountid",
    "CascadeConfiguration": {
        "Assign": "NoCascade", "Delete": "RemoveLink", "Merge": "NoCascade",
        "Reparent": "NoCascade", "Share": "NoCascade", "Unshare": "NoCascade",
    },
    "Lookup": {
        "@odata.type": "Microsoft.Dynamics.CRM.LookupAttributeMetadata",
        "SchemaName": "new_AccountId",
        "AttributeType": "Lookup",
        "AttributeTypeName": {"Value": "LookupType"},
        "DisplayName": {
            **sdk_label("account"),
            "UserLocalizedLabel": {
                "@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel", "Label": "account", "LanguageCode": 1033,
            },
        },
        "RequiredLevel": {
            "Value": "None", "CanBeChanged": True, "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
    },
}

# `client.tables.create_many_to_many_relationship(ManyToManyRelationshipMetadata("new_project_contact",
# "new_project", "contact"))` → POST RelationshipDefinitions
SDK_MANY_TO_MANY: dict[str, Any] = {
    "@odata.type": "Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata",
    "SchemaName": "new_project_contact",
    "Entity1LogicalName": "new_project",
    "Entity2LogicalName": "contact",
    "IntersectEntityName": "new_project_contact",
}


def _by_name(items: list[dict[str, Any]], key: str = "LogicalName") -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def _label(shape: dict[str, Any]) -> str | None:
    user = shape["UserLocalizedLabel"]
    return user["Label"] if user else None


# --- shapes of standard tables ---------------------------------------------------------------------------------


def test_account_entity_metadata() -> None:
    registry = _registry()
    account = registry.tables["account"]
    shape = shapes.entity_metadata(account, registry)
    assert shape["MetadataId"] == account.metadata_id == metadata_id("table", "account")
    assert (shape["LogicalName"], shape["SchemaName"], shape["EntitySetName"]) == ("account", "Account", "accounts")
    assert shape["LogicalCollectionName"] == "accounts" and shape["CollectionSchemaName"] == "Accounts"
    assert (shape["PrimaryIdAttribute"], shape["PrimaryNameAttribute"]) == ("accountid", "name")
    assert shape["ObjectTypeCode"] == 1 and shape["OwnershipType"] == "UserOwned"
    assert shape["TableType"] == "Standard" and shape["DataProviderId"] is None
    assert shape["IsCustomEntity"] is False and shape["IsPrivate"] is False and shape["IsActivity"] is False
    assert shape["IsValidForAdvancedFind"] is True and shape["HasNotes"] is False
    assert shape["DisplayName"]["LocalizedLabels"][0]["LanguageCode"] == 1033
    assert _label(shape["DisplayName"]) == "Account"
    assert shape["Description"] == {"LocalizedLabels": [], "UserLocalizedLabel": None}
    assert not ALL & shape.keys()  # nothing expanded unless asked
    assert shapes.entity_metadata(registry.tables["email"], registry)["IsActivity"] is True
    assert _label(shapes.entity_metadata(registry.tables["incident"], registry)["DisplayName"]) == "Case"
    json.dumps(shapes.entity_metadata(account, registry, expand=ALL))  # every shape is plain JSON


def test_account_attributes_by_type() -> None:
    registry = _registry()
    account = shapes.entity_metadata(registry.tables["account"], registry, expand={"Attributes"})
    attributes = _by_name(account["Attributes"])
    crm = "#Microsoft.Dynamics.CRM."

    accountid = attributes["accountid"]
    assert accountid["@odata.type"] == crm + "UniqueIdentifierAttributeMetadata" and accountid["IsPrimaryId"] is True
    assert accountid["AttributeType"] == "Uniqueidentifier" and accountid["IsValidForUpdate"] is False
    assert accountid["MetadataId"] == metadata_id("attribute", "account", "accountid")

    name = attributes["name"]
    assert name["@odata.type"] == crm + "StringAttributeMetadata" and name["AttributeTypeName"] == {"Value": "StringType"}
    assert name["IsPrimaryName"] is True and name["MaxLength"] == 100 and name["Format"] == "Text"
    assert name["RequiredLevel"]["Value"] == "ApplicationRequired" and name["EntityLogicalName"] == "account"
    assert attributes["emailaddress1"]["FormatName"] == {"Value": "Email"}

    assert attributes["description"]["@odata.type"] == crm + "MemoAttributeMetadata"
    assert attributes["description"]["MaxLength"] == 2000
    employees = attributes["numberofemployees"]
    assert employees["@odata.type"] == crm + "IntegerAttributeMetadata"
    assert (employees["MinValue"], employees["MaxValue"]) == (0, 1000000000)
    assert attributes["versionnumber"]["@odata.type"] == crm + "BigIntAttributeMetadata"
    assert attributes["address1_latitude"]["@odata.type"] == crm + "DoubleAttributeMetadata"
    credit = attributes["creditlimit"]
    assert credit["@odata.type"] == crm + "MoneyAttributeMetadata" and credit["Precision"] == 2
    assert credit["AttributeType"] == "Money" and credit["AttributeTypeName"] == {"Value": "MoneyType"}
    assert attributes["createdon"]["@odata.type"] == crm + "DateTimeAttributeMetadata"
    assert attributes["createdon"]["IsValidForCreate"] is False and attributes["createdon"]["Format"] == "DateAndTime"

    mandatory = attributes["msdyn_creditlimitismandatory"]
    assert mandatory["@odata.type"] == crm + "BooleanAttributeMetadata"
    yes, no = mandatory["OptionSet"]["TrueOption"], mandatory["OptionSet"]["FalseOption"]
    assert (yes["Value"], _label(yes["Label"]), no["Value"], _label(no["Label"])) == (1, "Yes", 0, "No")

    kind = attributes["customertypecode"]
    assert kind["@odata.type"] == crm + "PicklistAttributeMetadata" and kind["AttributeType"] == "Picklist"
    assert kind["OptionSet"]["IsGlobal"] is False and kind["OptionSet"]["OptionSetType"] == "Picklist"
    assert kind["OptionSet"]["Name"] == "customertypecode"
    assert [(o["Value"], o["Label"]["LocalizedLabels"][0]["Label"]) for o in kind["OptionSet"]["Options"]] == [
        (1, "Competitor"), (2, "Consultant"), (3, "Customer"), (4, "Investor"), (5, "Partner"), (12, "Other"),
    ]
    assert attributes["msdyn_onholdstatus"]["OptionSet"]["Options"][0]["Value"] == 192350000

    state = attributes["statecode"]
    assert state["@odata.type"] == crm + "StateAttributeMetadata"
    assert [(o["@odata.type"], o["Value"], _label(o["Label"]), o["DefaultStatus"], o["InvariantName"])
            for o in state["OptionSet"]["Options"]] == [
        (crm + "StateOptionMetadata", 0, "Active", 1, "Active"),
        (crm + "StateOptionMetadata", 1, "Inactive", 2, "Inactive"),
    ]
    status = attributes["statuscode"]
    assert status["@odata.type"] == crm + "StatusAttributeMetadata"
    assert [(o["@odata.type"], o["Value"], o["State"]) for o in status["OptionSet"]["Options"]] == [
        (crm + "StatusOptionMetadata", 1, 0), (crm + "StatusOptionMetadata", 2, 1),
    ]

    contact = attributes["primarycontactid"]
    assert contact["@odata.type"] == crm + "LookupAttributeMetadata" and contact["Targets"] == ["contact"]
    assert contact["AttributeTypeName"] == {"Value": "LookupType"}
    owner = attributes["ownerid"]
    assert owner["@odata.type"] == crm + "LookupAttributeMetadata" and owner["AttributeType"] == "Owner"
    assert owner["Targets"] == ["systemuser", "team"]
    registry_contact = registry.tables["contact"]
    customer = shapes.attribute_metadata(registry_contact, registry_contact.column("parentcustomerid"))
    assert customer["AttributeType"] == "Customer" and customer["Targets"] == ["account", "contact"]
    birthdate = shapes.attribute_metadata(registry_contact, registry_contact.column("birthdate"))
    assert birthdate["Format"] == "DateOnly" and birthdate["DateTimeBehavior"] == {"Value": "DateOnly"}


def test_incident_state_default_status_follows_its_reasons() -> None:
    registry = _registry()
    incident = registry.tables["incident"]
    state = shapes.attribute_metadata(incident, incident.column("statecode"))
    assert [(o["Value"], o["DefaultStatus"]) for o in state["OptionSet"]["Options"]] == [(0, 1), (1, 5), (2, 6)]


def test_keys_and_relationships_of_account_and_contact() -> None:
    registry = _registry()
    account = shapes.entity_metadata(registry.tables["account"], registry, expand=ALL)
    assert [(k["SchemaName"], k["KeyAttributes"], k["EntityKeyIndexStatus"]) for k in account["Keys"]] == [
        ("accountnumber_key", ["accountnumber"], "Active")
    ]
    key = account["Keys"][0]
    assert key["MetadataId"] == metadata_id("key", "account", "accountnumber_key") and key["EntityLogicalName"] == "account"

    one_to_many = _by_name(account["OneToManyRelationships"], "SchemaName")
    parent = one_to_many["account_contact_parentcustomerid"]
    assert parent["@odata.type"] == "#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata"
    assert parent["RelationshipType"] == "OneToManyRelationship"
    assert (parent["ReferencedEntity"], parent["ReferencedAttribute"]) == ("account", "accountid")
    assert (parent["ReferencingEntity"], parent["ReferencingAttribute"]) == ("contact", "parentcustomerid")
    assert parent["ReferencingEntityNavigationPropertyName"] == "parentcustomerid_account"
    assert parent["ReferencedEntityNavigationPropertyName"] == "account_contact_parentcustomerid"
    assert parent["CascadeConfiguration"]["Delete"] == "RemoveLink"
    assert all(r["ReferencedEntity"] == "account" for r in account["OneToManyRelationships"])

    many_to_one = _by_name(account["ManyToOneRelationships"], "SchemaName")
    assert many_to_one["contact_account_primarycontactid"]["ReferencingEntityNavigationPropertyName"] == "primarycontactid"
    assert all(r["ReferencingEntity"] == "account" for r in account["ManyToOneRelationships"])
    assert account["ManyToManyRelationships"] == []

    contact = shapes.entity_metadata(registry.tables["contact"], registry, expand={"ManyToOneRelationships"})
    navigations = {r["ReferencingEntityNavigationPropertyName"] for r in contact["ManyToOneRelationships"]}
    assert {"parentcustomerid_account", "parentcustomerid_contact", "msdyn_billingaccount"} <= navigations


def test_unknown_expansion_is_refused() -> None:
    registry = _registry()
    with pytest.raises(ValidationError) as error:
        shapes.entity_metadata(registry.tables["account"], registry, expand={"Columns"})
    assert error.value.target == "$expand"


# --- create bodies round trip through the store ----------------------------------------------------------------


def test_sdk_create_entities_body_round_trips(metadata_store: MetadataStore) -> None:
    registry = metadata_store.registry
    body = SDK_CREATE_ENTITIES["Entities"][0]
    table = create_bodies.table_from_create_body(body, object_type_code=shapes.next_object_type_code(registry))
    assert (table.logical_name, table.entity_set_name, table.primary_id, table.primary_name) == (
        "new_project", "new_projects", "new_projectid", "new_name",
    )
    assert table.is_custom and table.object_type_code == 10000 and table.ownership == "UserOwned"
    with metadata_store.database.engine.begin() as conn:
        registry = metadata_store.create_table(conn, table)

    project = registry.tables["new_project"]
    shape = shapes.entity_metadata(project, registry, expand={"Attributes"})
    # what the SDK reads back with $select=MetadataId,LogicalName,SchemaName,EntitySetName,PrimaryNameAttribute,...
    assert shape["MetadataId"] == project.metadata_id and shape["SchemaName"] == "new_Project"
    assert (shape["EntitySetName"], shape["PrimaryIdAttribute"], shape["PrimaryNameAttribute"]) == (
        "new_projects", "new_projectid", "new_name",
    )
    assert shape["IsCustomEntity"] is True and shape["ObjectTypeCode"] == 10000
    assert _label(shape["DisplayName"]) == "new_Project" and _label(shape["DisplayCollectionName"]) == "new_Projects"
    assert _label(shape["Description"]) == "Custom entity for new_Project"

    attributes = _by_name(shape["Attributes"])
    assert [a for a in attributes if a.startswith("new_")] == [
        "new_projectid", "new_name", "new_budget", "new_due", "new_active", "new_notes", "new_count", "new_score",
        "new_stage",
    ]
    assert {"createdon", "ownerid", "statecode", "statuscode", "versionnumber"} <= attributes.keys()
    assert attributes["new_projectid"]["SchemaName"] == "new_ProjectId" and attributes["new_projectid"]["IsPrimaryId"]
    name = attributes["new_name"]
    assert name["IsPrimaryName"] is True and name["MaxLength"] == 200 and name["SchemaName"] == "new_Name"
    assert name["IsCustomAttribute"] is True and _label(name["DisplayName"]) == "Name"
    budget = attributes["new_budget"]
    assert budget["@odata.type"].endswith(".DecimalAttributeMetadata") and budget["Precision"] == 2
    assert (budget["MinValue"], budget["MaxValue"]) == (-100000000000.0, 100000000000.0)
    assert attributes["new_due"]["Format"] == "DateOnly"
    active = attributes["new_active"]["OptionSet"]
    assert (_label(active["TrueOption"]["Label"]), _label(active["FalseOption"]["Label"])) == ("True", "False")
    assert attributes["new_notes"]["MaxLength"] == 4000 and attributes["new_notes"]["AttributeType"] == "Memo"
    assert (attributes["new_count"]["MinValue"], attributes["new_count"]["MaxValue"]) == (-2147483648, 2147483647)
    assert attributes["new_score"]["Precision"] == 5
    stage = attributes["new_stage"]["OptionSet"]
    assert stage["Name"] == "new_project_new_stage"
    assert [(o["Value"], _label(o["Label"])) for o in stage["Options"]] == [(1, "Planned"), (2, "Active"), (3, "Done")]

    # the physical table follows, and the registry survives a reload
    assert shapes.find_table(MetadataStore(metadata_store.database).bootstrap(), project.metadata_id) is not None


def test_columns_keys_and_relationships_round_trip(metadata_store: MetadataStore) -> None:
    table = create_bodies.table_from_create_body(SDK_CREATE_ENTITIES["Entities"][0])
    picklist = create_bodies.column_from_create_body(SDK_PICKLIST_COLUMN, table="new_project")
    no_values = create_bodies.column_from_create_body(
        {
            "@odata.type": "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
            "SchemaName": "new_Size",
            "OptionSet": {"Options": [{"Label": sdk_label("Small")}, {"Value": 100000001, "Label": sdk_label("Medium")},
                                      {"Label": sdk_label("Large")}]},
        },
        table="new_project",
    )
    assert [(o.value, o.label) for o in no_values.option_set.options] == [
        (100000000, "Small"), (100000001, "Medium"), (100000002, "Large"),
    ]
    code = create_bodies.column_from_create_body(
        {"@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata", "SchemaName": "new_Code", "MaxLength": 20,
         "RequiredLevel": {"Value": "ApplicationRequired"}, "FormatName": {"Value": "Text"}}
    )
    relationship, lookup = create_bodies.relationship_from_create_body(SDK_LOOKUP_RELATIONSHIP)
    assert lookup is not None
    assert (lookup.logical_name, lookup.type, lookup.targets) == ("new_accountid", "Lookup", ("account",))
    many, none = create_bodies.relationship_from_create_body(SDK_MANY_TO_MANY)
    assert none is None and many.intersect_table == "new_project_contact"

    engine = metadata_store.database.engine
    with engine.begin() as conn:
        metadata_store.create_table(conn, table)
        metadata_store.add_column(conn, "new_project", picklist)
        metadata_store.add_column(conn, "new_project", no_values)
        registry = metadata_store.add_column(conn, "new_project", code)
        key_body = {"SchemaName": "new_CodeKey", "KeyAttributes": ["new_Code"]}
        key = create_bodies.key_from_create_body(key_body, registry.tables["new_project"])
        metadata_store.add_key(conn, "new_project", key)
        # the relationship first, then its lookup column (so a derived relationship never claims the name first)
        metadata_store.add_relationship(conn, relationship)
        registry = metadata_store.add_column(conn, "new_project", lookup)
        metadata_store.create_table(conn, shapes.intersect_table(many, registry))
        registry = metadata_store.add_relationship(conn, many)

    project = registry.tables["new_project"]
    shape = shapes.entity_metadata(project, registry, expand=ALL)
    attributes = _by_name(shape["Attributes"])
    assert [(o["Value"], _label(o["Label"])) for o in attributes["new_priority"]["OptionSet"]["Options"]] == [
        (1, "Planned"), (2, "Active"), (3, "Done"),
    ]
    assert attributes["new_size"]["OptionSet"]["Options"][2]["Value"] == 100000002
    assert attributes["new_code"]["RequiredLevel"]["Value"] == "ApplicationRequired"
    assert attributes["new_code"]["MaxLength"] == 20
    assert attributes["new_accountid"]["Targets"] == ["account"]
    assert attributes["new_accountid"]["SchemaName"] == "new_AccountId"
    assert [(k["SchemaName"], k["LogicalName"], k["KeyAttributes"]) for k in shape["Keys"]] == [
        ("new_CodeKey", "new_codekey", ["new_code"])
    ]

    # the explicit relationship replaces the one the lookup column would imply, on both sides
    (many_to_one,) = [r for r in shape["ManyToOneRelationships"] if r["ReferencingAttribute"] == "new_accountid"]
    assert many_to_one["SchemaName"] == "account_new_project_new_AccountId" and many_to_one["IsCustomRelationship"]
    assert many_to_one["ReferencingEntityNavigationPropertyName"] == "new_AccountId"
    assert many_to_one["ReferencedEntityNavigationPropertyName"] == "account_new_project_new_AccountId"
    account = shapes.entity_metadata(registry.tables["account"], registry, expand={"OneToManyRelationships"})
    assert [r["SchemaName"] for r in account["OneToManyRelationships"] if r["ReferencingEntity"] == "new_project"] == [
        "account_new_project_new_AccountId"
    ]
    assert shapes.find_relationship(registry, "ACCOUNT_new_project_new_accountid") is not None
    assert shapes.relationship_metadata(relationship, registry)["MetadataId"] == relationship.metadata_id

    (m2m,) = shape["ManyToManyRelationships"]
    assert m2m["@odata.type"] == "#Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata"
    assert (m2m["Entity1LogicalName"], m2m["Entity2LogicalName"], m2m["IntersectEntityName"]) == (
        "new_project", "contact", "new_project_contact",
    )
    assert (m2m["Entity1IntersectAttribute"], m2m["Entity2IntersectAttribute"]) == ("new_projectid", "contactid")
    assert m2m["Entity1NavigationPropertyName"] == m2m["Entity2NavigationPropertyName"] == "new_project_contact"
    contact = shapes.entity_metadata(registry.tables["contact"], registry, expand={"ManyToManyRelationships"})
    assert [r["SchemaName"] for r in contact["ManyToManyRelationships"]] == ["new_project_contact"]
    intersect = shapes.entity_metadata(registry.tables["new_project_contact"], registry)
    assert intersect["IsIntersect"] is True

    # and the CSDL shows one navigation per relationship
    document = ET.fromstring(csdl.render(registry))
    types = {t.get("Name"): t for t in document.iter(f"{EDM}EntityType")}
    project_navs = {n.get("Name"): n for n in types["new_project"].iter(f"{EDM}NavigationProperty")}
    assert "new_AccountId" in project_navs and "new_accountid" not in project_navs
    constraint = project_navs["new_AccountId"].find(f"{EDM}ReferentialConstraint")
    assert constraint is not None and constraint.get("Property") == "_new_accountid_value"
    assert project_navs["new_project_contact"].get("Type") == "Collection(mscrm.contact)"
    account_navs = {n.get("Name") for n in types["account"].iter(f"{EDM}NavigationProperty")}
    assert "account_new_project_new_AccountId" in account_navs and "account_new_project_new_accountid" not in account_navs
    project_props = {p.get("Name"): p.get("Type") for p in types["new_project"].iter(f"{EDM}Property")}
    assert project_props["new_stage"] == "Edm.Int32" and project_props["new_budget"] == "Edm.Decimal"
    assert project_props["new_due"] == "Edm.Date" and project_props["_new_accountid_value"] == "Edm.Guid"


def test_attribute_shapes_read_back_as_the_same_columns() -> None:
    """The SDK's update_column PUTs back the full attribute it read: a custom column's shape is a valid body."""
    table = create_bodies.table_from_create_body(SDK_CREATE_ENTITIES["Entities"][0])
    table = table.with_columns(create_bodies.column_from_create_body(SDK_PICKLIST_COLUMN, table="new_project"))
    custom = [c for c in table.columns if c.is_custom and not (c.is_primary_id or c.is_primary_name)]
    assert len(custom) == 8
    for column in custom:
        body = shapes.attribute_metadata(table, column)
        assert create_bodies.column_from_create_body(body, table="new_project") == column


def test_dataverse_api_entity_body() -> None:
    """dataverse-api's define_entity: POST EntityDefinitions with EntityMetadata, OwnershipType None by default."""
    table = create_bodies.table_from_create_body(
        {
            "@odata.type": "Microsoft.Dynamics.CRM.EntityMetadata",
            "SchemaName": "cr123_Category",
            "Description": {"LocalizedLabels": [{"Label": "", "LanguageCode": 1033}]},
            "DisplayName": {"LocalizedLabels": [{"Label": "Category", "LanguageCode": 1033}]},
            "DisplayCollectionName": {"LocalizedLabels": [{"Label": "Categories", "LanguageCode": 1033}]},
            "OwnershipType": "OrganizationOwned", "IsActivity": False, "HasActivities": False, "HasNotes": False,
            "Attributes": [{"@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata", "SchemaName": "cr123_Name",
                            "IsPrimaryName": True, "MaxLength": 100, "FormatName": {"Value": "Text"}}],
        }
    )
    assert (table.logical_name, table.entity_set_name, table.display_name, table.display_collection_name) == (
        "cr123_category", "cr123_categories", "Category", "Categories",
    )
    assert table.ownership == "OrganizationOwned" and table.description == ""


@pytest.mark.parametrize(
    ("name", "plural"),
    [("new_project", "new_projects"), ("new_category", "new_categories"), ("new_survey", "new_surveys"),
     ("new_box", "new_boxes"), ("new_status", "new_statuses"), ("new_batch", "new_batches"),
     ("new_wish", "new_wishes"), ("new_Project", "new_Projects")],
)
def test_pluralize(name: str, plural: str) -> None:
    assert shapes.pluralize(name) == plural


# --- bodies that cannot become metadata ------------------------------------------------------------------------


def _entity(**changes: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(SDK_CREATE_ENTITIES["Entities"][0]))
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def _string(schema: str = "new_Name", **extra: Any) -> dict[str, Any]:
    return {"@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata", "SchemaName": schema, **extra}


def _on_account(body: dict[str, Any]) -> Any:
    return create_bodies.key_from_create_body(body, _registry().tables["account"])


PARSERS: dict[str, Any] = {
    "table": create_bodies.table_from_create_body,
    "column": create_bodies.column_from_create_body,
    "key": create_bodies.key_from_create_body,
    "account key": _on_account,
    "relationship": create_bodies.relationship_from_create_body,
}
INTEGER = "Microsoft.Dynamics.CRM.IntegerAttributeMetadata"
PICKLIST = "Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
PRIMARY = _string(IsPrimaryName=True)
LOOKUP = SDK_LOOKUP_RELATIONSHIP["Lookup"]

INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("table", _entity(SchemaName="Project"), "SchemaName",
     "SchemaName 'Project' needs a customization prefix such as new_"),
    ("table", _entity(SchemaName=None), "SchemaName", "SchemaName is required"),
    ("table", _entity(SchemaName="new_Pro ject"), "SchemaName", "letters, digits"),
    ("table", _entity(SchemaName="new_" + "x" * 60), "SchemaName", "longer than 50"),
    ("table", _entity(Attributes=[]), "Attributes", "Attributes must list"),
    ("table", _entity(Attributes=[_string()]), "Attributes",
     "exactly one StringAttributeMetadata with IsPrimaryName true; found 0"),
    ("table", _entity(Attributes=[PRIMARY, _string("new_Other", IsPrimaryName=True)]), "Attributes", "found 2"),
    ("table", _entity(Attributes=[PRIMARY, _string("new_Code"), _string("new_CODE")]), "Attributes[2].SchemaName",
     "names a column already in Attributes"),
    ("table", _entity(Attributes=[PRIMARY, _string("new_ProjectId")]), "Attributes[1].SchemaName", "every table has"),
    ("table", _entity(Attributes=[_string("Name", IsPrimaryName=True)]), "Attributes[0].SchemaName",
     "needs a customization prefix"),
    ("table", _entity(Attributes=[_string(IsPrimaryName=True, MaxLength=5000)]), "Attributes[0].MaxLength",
     "between 1 and 4000"),
    ("table", _entity(OwnershipType="TeamOwned"), "OwnershipType", "UserOwned"),
    ("table", _entity(DisplayName=["x"]), "DisplayName", "Label object"),
    ("column", {"SchemaName": "new_X"}, "@odata.type", "is required"),
    ("column", PRIMARY, "IsPrimaryName", "created with the table"),
    ("column", {"@odata.type": "Microsoft.Dynamics.CRM.LookupAttributeMetadata", "SchemaName": "new_AccountId"},
     "@odata.type", "RelationshipDefinitions"),
    ("column", {"@odata.type": INTEGER, "SchemaName": "new_N", "MinValue": 5, "MaxValue": 1}, "MinValue",
     "greater than MaxValue"),
    ("column", {"@odata.type": INTEGER, "SchemaName": "new_N", "MaxValue": 2**40}, "MaxValue", "outside"),
    ("column", {"@odata.type": "Microsoft.Dynamics.CRM.MoneyAttributeMetadata", "SchemaName": "new_M",
                "Precision": 6}, "Precision", "between 0 and 4"),
    ("column", {"@odata.type": "Microsoft.Dynamics.CRM.DecimalAttributeMetadata", "SchemaName": "new_D",
                "MinValue": "0"}, "MinValue", "must be a number"),
    ("column", _string("new_S", RequiredLevel={"Value": "SystemRequired"}), "RequiredLevel",
     "None, Recommended or ApplicationRequired"),
    ("column", _string("new_S", FormatName={"Value": "Fancy"}), "FormatName", "is not one of"),
    ("column", {"@odata.type": "Microsoft.Dynamics.CRM.DateTimeAttributeMetadata", "SchemaName": "new_D",
                "DateTimeBehavior": {"Value": "Whenever"}}, "DateTimeBehavior", "is not one of"),
    ("column", {"@odata.type": PICKLIST, "SchemaName": "new_P"}, "OptionSet", "lists its Options"),
    ("column", {"@odata.type": PICKLIST, "SchemaName": "new_P", "OptionSet": {"Options": [
        {"Value": 1, "Label": sdk_label("A")}, {"Value": 1, "Label": sdk_label("B")}]}},
     "OptionSet.Options", "repeats the value 1"),
    ("column", {"@odata.type": PICKLIST, "SchemaName": "new_P", "OptionSet": {"Options": [{"Value": 1}]}},
     "OptionSet.Options[0].Label", "needs a text"),
    ("key", {"SchemaName": "new_Key", "KeyAttributes": []}, "KeyAttributes", "must list"),
    ("account key", {"SchemaName": "new_Key", "KeyAttributes": ["nope"]}, "KeyAttributes", "does not have"),
    ("account key", {"SchemaName": "new_Key", "KeyAttributes": ["description"]}, "KeyAttributes", "a Memo column"),
    ("relationship", {"SchemaName": "new_rel"}, "@odata.type", "is required"),
    ("relationship", {**SDK_LOOKUP_RELATIONSHIP, "Lookup": None}, "Lookup", "Lookup is required"),
    ("relationship", {**SDK_LOOKUP_RELATIONSHIP, "ReferencedEntity": None}, "ReferencedEntity",
     "ReferencedEntity is required"),
    ("relationship", {**SDK_LOOKUP_RELATIONSHIP, "Lookup": {**LOOKUP, "SchemaName": "AccountId"}},
     "Lookup.SchemaName", "needs a customization prefix"),
    ("relationship", {**SDK_MANY_TO_MANY, "Entity2LogicalName": None}, "Entity2LogicalName", "is required"),
]


@pytest.mark.parametrize(("parser", "body", "target", "message"), INVALID)
def test_invalid_bodies_name_the_field(parser: str, body: dict[str, Any], target: str, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        PARSERS[parser](body)
    assert error.value.target == target
    assert message in error.value.message


UNSUPPORTED: list[tuple[str, dict[str, Any]]] = [
    ("table", _entity(**{"@odata.type": "Microsoft.Dynamics.CRM.AttributeMetadata"})),
    ("table", _entity(IsActivity=True)),
    ("column", {"@odata.type": "#Microsoft.Dynamics.CRM.FileAttributeMetadata", "SchemaName": "new_File"}),
    ("column", {"@odata.type": "Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata", "SchemaName": "new_T"}),
    ("column", {"@odata.type": PICKLIST, "SchemaName": "new_P",
                "OptionSet": {"IsGlobal": True, "Options": [{"Value": 1, "Label": sdk_label("A")}]}}),
    ("relationship", {**SDK_MANY_TO_MANY, "@odata.type": "Microsoft.Dynamics.CRM.OneToOneRelationshipMetadata"}),
]


@pytest.mark.parametrize(("parser", "body"), UNSUPPORTED)
def test_unsupported_types_are_not_supported(parser: str, body: dict[str, Any]) -> None:
    with pytest.raises(NotSupportedError):
        PARSERS[parser](body)


def test_prefix_can_be_waived() -> None:
    column = create_bodies.column_from_create_body(_string("Code"), publisher_prefix_required=False)
    assert (column.logical_name, column.schema_name, column.is_custom) == ("code", "Code", True)


def test_create_entities_names_the_entry_at_fault() -> None:
    second = {**_entity(), "SchemaName": "new_Task", "Attributes": [_string("new_Name", IsPrimaryName=True)]}
    tables = create_bodies.tables_from_create_entities({"Entities": [_entity(), second]}, _registry())
    assert [(t.logical_name, t.object_type_code) for t in tables] == [("new_project", 10000), ("new_task", 10001)]
    with pytest.raises(ValidationError) as error:
        create_bodies.tables_from_create_entities({"Entities": [_entity(), _entity(SchemaName="Task")]})
    assert error.value.target == "Entities[1].SchemaName"
    with pytest.raises(ValidationError) as error:
        create_bodies.tables_from_create_entities({"Entities": [_entity(), _entity()]})
    assert error.value.target == "Entities[1].SchemaName" and "defined twice" in error.value.message
    with pytest.raises(ValidationError) as error:
        create_bodies.tables_from_create_entities({"Entities": []})
    assert error.value.target == "Entities"


def test_a_primary_name_column_listed_twice_keeps_the_callers_definition() -> None:
    body = _entity(Attributes=[PRIMARY, _string("new_Name", MaxLength=500, DisplayName=sdk_label("Title"))])
    table = create_bodies.table_from_create_body(body)
    (name,) = [c for c in table.columns if c.logical_name == "new_name"]
    assert (name.is_primary_name, name.max_length, name.display_name) == (True, 500, "Title")


# --- $metadata ---------------------------------------------------------------------------------------------------


def test_csdl_for_standard_tables() -> None:
    registry = _registry()
    text = csdl.render(registry)
    assert csdl.render(registry) is text  # cached per registry
    document = ET.fromstring(text)
    (schema,) = document.iter(f"{EDM}Schema")
    assert schema.get("Namespace") == "Microsoft.Dynamics.CRM" and schema.get("Alias") == "mscrm"
    types = {t.get("Name"): t for t in schema.findall(f"{EDM}EntityType")}
    assert types["crmbaseentity"].get("Abstract") == "true" and types["crmbaseentity"].find(f"{EDM}Key") is None

    account = types["account"]
    assert account.get("BaseType") == "mscrm.crmbaseentity"
    assert [r.get("Name") for r in account.findall(f"{EDM}Key/{EDM}PropertyRef")] == ["accountid"]
    props = {p.get("Name"): p for p in account.findall(f"{EDM}Property")}
    assert props["accountid"].get("Type") == "Edm.Guid" and props["accountid"].get("Nullable") == "false"
    assert props["_primarycontactid_value"].get("Type") == "Edm.Guid" and "primarycontactid" not in props
    assert props["customertypecode"].get("Type") == "Edm.Int32" and props["statecode"].get("Type") == "Edm.Int32"
    assert props["creditlimit"].get("Type") == "Edm.Decimal" and props["versionnumber"].get("Type") == "Edm.Int64"
    assert props["name"].get("Type") == "Edm.String" and props["createdon"].get("Type") == "Edm.DateTimeOffset"
    navs = {n.get("Name"): n for n in account.findall(f"{EDM}NavigationProperty")}
    primary = navs["primarycontactid"]
    assert primary.get("Type") == "mscrm.contact" and primary.get("Partner") == "contact_account_primarycontactid"
    constraint = primary.find(f"{EDM}ReferentialConstraint")
    assert constraint is not None
    assert (constraint.get("Property"), constraint.get("ReferencedProperty")) == ("_primarycontactid_value", "contactid")
    assert navs["account_contact_parentcustomerid"].get("Type") == "Collection(mscrm.contact)"
    assert navs["account_contact_parentcustomerid"].get("Partner") == "parentcustomerid_account"

    contact_navs = {n.get("Name"): n for n in types["contact"].findall(f"{EDM}NavigationProperty")}
    for target in ("account", "contact"):
        nav = contact_navs[f"parentcustomerid_{target}"]
        assert nav.get("Type") == f"mscrm.{target}"
        assert nav.find(f"{EDM}ReferentialConstraint").get("Property") == "_parentcustomerid_value"
    assert contact_navs["contact_account_primarycontactid"].get("Type") == "Collection(mscrm.account)"
    assert {p.get("Name") for p in types["email"].findall(f"{EDM}Key/{EDM}PropertyRef")} == {"activityid"}

    (container,) = schema.findall(f"{EDM}EntityContainer")
    assert container.get("Name") == "System"
    sets = {s.get("Name"): s for s in container.findall(f"{EDM}EntitySet")}
    assert sets["accounts"].get("EntityType") == "Microsoft.Dynamics.CRM.account"
    assert sets["contacts"].get("EntityType") == "Microsoft.Dynamics.CRM.contact"
    assert len(sets) == len(registry.tables)
    bindings = {b.get("Path"): b.get("Target") for b in sets["accounts"].findall(f"{EDM}NavigationPropertyBinding")}
    assert bindings["primarycontactid"] == "contacts"

    whoami = {c.get("Name"): c for c in schema.findall(f"{EDM}ComplexType")}["WhoAmIResponse"]
    assert [(p.get("Name"), p.get("Type")) for p in whoami.findall(f"{EDM}Property")] == [
        ("BusinessUnitId", "Edm.Guid"), ("UserId", "Edm.Guid"), ("OrganizationId", "Edm.Guid"),
    ]
    (function,) = schema.findall(f"{EDM}Function")
    assert function.get("Name") == "WhoAmI" and function.get("IsBound") is None
    assert function.find(f"{EDM}ReturnType").get("Type") == "mscrm.WhoAmIResponse"
    (function_import,) = container.findall(f"{EDM}FunctionImport")
    assert (function_import.get("Name"), function_import.get("Function")) == ("WhoAmI", "mscrm.WhoAmI")
    actions = {a.get("Name"): a for a in schema.findall(f"{EDM}Action")}
    assert set(actions) == {"CreateMultiple", "UpdateMultiple", "UpsertMultiple"}
    for action in actions.values():
        assert action.get("IsBound") == "true"
        binding, targets = action.findall(f"{EDM}Parameter")
        assert binding.get("Type") == targets.get("Type") == "Collection(mscrm.crmbaseentity)"
        assert targets.get("Name") == "Targets"
    assert actions["CreateMultiple"].find(f"{EDM}ReturnType").get("Type") == "mscrm.CreateMultipleResponse"


def test_csdl_for_a_custom_table(metadata_store: MetadataStore) -> None:
    with metadata_store.database.engine.begin() as conn:
        table = create_bodies.table_from_create_body(SDK_CREATE_ENTITIES["Entities"][0])
        registry = metadata_store.create_table(conn, table)
    document = ET.fromstring(csdl.render(registry))
    project = next(t for t in document.iter(f"{EDM}EntityType") if t.get("Name") == "new_project")
    assert [r.get("Name") for r in project.findall(f"{EDM}Key/{EDM}PropertyRef")] == ["new_projectid"]
    props = {p.get("Name"): p.get("Type") for p in project.findall(f"{EDM}Property")}
    assert props["new_name"] == "Edm.String" and props["new_active"] == "Edm.Boolean"
    assert props["new_score"] == "Edm.Double" and props["_ownerid_value"] == "Edm.Guid"
    navs = {n.get("Name"): n.get("Type") for n in project.findall(f"{EDM}NavigationProperty")}
    assert navs["owningbusinessunit"] == "mscrm.businessunit" and navs["ownerid_team"] == "mscrm.team"
    sets = {s.get("Name"): s.get("EntityType") for s in document.iter(f"{EDM}EntitySet")}
    assert sets["new_projects"] == "Microsoft.Dynamics.CRM.new_project"
