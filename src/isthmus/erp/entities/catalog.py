"""The catalog of public data entities: every entity the ``/data`` API serves, by collection name, and the EDM
schema that ``$metadata`` renders from them."""

from __future__ import annotations

from functools import cached_property

from isthmus.erp.entities import audit, customers, ledger, organization, products, sales, security
from isthmus.erp.entities.model import NAMESPACE, DataEntity
from isthmus.odata import edm

ENTITIES: tuple[DataEntity, ...] = (
    organization.LEGAL_ENTITIES,
    organization.CURRENCIES,
    organization.MAIN_ACCOUNTS,
    products.UNITS,
    customers.PAYMENT_TERMS,
    customers.CUSTOMER_GROUPS,
    customers.CUSTOMERS,
    customers.CUSTOMER_TRANSACTIONS,
    products.RELEASED_PRODUCTS,
    products.INVENTORY_TRANSACTIONS,
    sales.ORDER_HEADERS,
    sales.ORDER_LINES,
    sales.INVOICE_HEADERS,
    sales.INVOICE_LINES,
    ledger.ACCOUNT_ENTRIES,
    ledger.FISCAL_PERIODS,
    ledger.FISCAL_YEARS,
    security.SYSTEM_USERS,
    security.SECURITY_ROLES,
    security.SECURITY_ROLE_PRIVILEGES,
    security.SECURITY_USER_ROLES,
    audit.DATABASE_LOGS,
)


class Catalog:
    """Entities by collection name plus the derived EDM schema."""

    def __init__(self, entities: tuple[DataEntity, ...] = ENTITIES) -> None:
        self.entities = entities
        self.by_set = {e.set_name: e for e in entities}
        self.by_name = {e.name: e for e in entities}

    def entity(self, set_name: str) -> DataEntity | None:
        return self.by_set.get(set_name)

    @cached_property
    def schema(self) -> edm.Schema:
        types = []
        actions = []
        enums = []
        for entity in self.entities:
            properties = []
            for f in entity.fields:
                if f.enum:
                    enums.append(f.enum)
                properties.append(
                    edm.Property(
                        f.name,
                        f.edm_type,
                        nullable=not (f.key or f.mandatory),
                        max_length=f.max_length,
                        precision=32 if f.type == "Edm.Decimal" else None,
                        scale=6 if f.type == "Edm.Decimal" else None,
                    )
                )
            navigation = tuple(
                edm.NavigationProperty(
                    n.name,
                    f"{NAMESPACE}.{self.by_set[n.target].name}",
                    n.collection,
                    constraints=tuple(n.pairs) if not n.collection else (),
                )
                for n in entity.navigation
            )
            types.append(edm.EntityType(entity.name, tuple(k.name for k in entity.keys), tuple(properties), navigation))
            for action in entity.actions:
                returns = f"{NAMESPACE}.{entity.name}" if action.returns == "entity" else action.returns
                actions.append(edm.Action(action.name, f"{NAMESPACE}.{entity.name}", action.parameters, returns))
        return edm.Schema(
            namespace=NAMESPACE,
            container="Resources",
            entity_types=tuple(types),
            entity_sets=tuple(edm.EntitySet(e.set_name, f"{NAMESPACE}.{e.name}") for e in self.entities),
            enum_types=edm.unique(enums),
            actions=tuple(actions),
        )

    def public_entity(self, entity: DataEntity) -> dict:
        """The ``/Metadata/PublicEntities`` description of one entity."""
        return {
            "Name": entity.name,
            "EntitySetName": entity.set_name,
            "LabelId": entity.label,
            "IsReadOnly": entity.read_only,
            "ConfigurationEnabled": True,
            "Properties": [
                {
                    "Name": f.name,
                    "TypeName": f.edm_type,
                    "DataType": f.enum.name if f.enum else f.type.removeprefix("Edm."),
                    "LabelId": f.label or f.name,
                    "IsKey": f.key,
                    "IsMandatory": f.key or f.mandatory,
                    "ConfigurationEnabled": True,
                    "AllowEdit": not f.read_only and not f.key,
                    "AllowEditOnCreate": not f.read_only,
                    "IsDimension": False,
                }
                for f in entity.fields
            ],
            "NavigationProperties": [
                {
                    "Name": n.name,
                    "RelatedEntity": self.by_set[n.target].name,
                    "RelatedRelationName": n.name,
                    "Cardinality": "ZeroMore" if n.collection else "ZeroOne",
                    "Constraints": [{"Property": a, "RelatedProperty": b} for a, b in n.pairs],
                }
                for n in entity.navigation
            ],
            "PropertyGroups": [],
        }
