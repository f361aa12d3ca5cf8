"""CSDL XML for ``$metadata``, rendered from an ``edm.Schema``."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from isthmus.odata.edm import Action, EntityType, EnumType, Property, Schema

EDMX_NS = "http://docs.oasis-open.org/odata/ns/edmx"
EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"


def _attrs(**values: object) -> str:
    return "".join(f" {k}={quoteattr(str(v))}" for k, v in values.items() if v is not None)


def _property(p: Property) -> str:
    nullable = None if p.nullable else "false"
    return (
        f"<Property{_attrs(Name=p.name, Type=p.type, Nullable=nullable, MaxLength=p.max_length, Precision=p.precision, Scale=p.scale)}/>"
    )


def _entity_type(t: EntityType, namespace: str) -> str:
    keys = "".join(f"<PropertyRef{_attrs(Name=k)}/>" for k in t.key)
    props = "".join(_property(p) for p in t.properties)
    navs = []
    for n in t.navigation:
        target = f"Collection({n.target})" if n.collection else n.target
        constraints = "".join(
            f"<ReferentialConstraint{_attrs(Property=a, ReferencedProperty=b)}/>" for a, b in n.constraints
        )
        navs.append(f"<NavigationProperty{_attrs(Name=n.name, Type=target, Partner=n.partner)}>{constraints}</NavigationProperty>")
    return f"<EntityType{_attrs(Name=t.name)}><Key>{keys}</Key>{props}{''.join(navs)}</EntityType>"


def _enum_type(e: EnumType) -> str:
    members = "".join(f"<Member{_attrs(Name=n, Value=v)}/>" for n, v in e.members)
    return f"<EnumType{_attrs(Name=e.name)}>{members}</EnumType>"


def _action(a: Action) -> str:
    params = []
    if a.bound_to:
        binding = f"Collection({a.bound_to})" if a.collection_bound else a.bound_to
        params.append(f"<Parameter{_attrs(Name='_this', Type=binding, Nullable='false')}/>")
    for p in a.parameters:
        params.append(f"<Parameter{_attrs(Name=p.name, Type=p.type, Nullable=None if p.nullable else 'false')}/>")
    ret = f"<ReturnType{_attrs(Type=a.return_type)}/>" if a.return_type else ""
    bound = "true" if a.bound_to else None
    return f"<Action{_attrs(Name=a.name, IsBound=bound)}>{''.join(params)}{ret}</Action>"


def render(schema: Schema) -> str:
    body = [
        "".join(_enum_type(e) for e in schema.enum_types),
        "".join(_entity_type(t, schema.namespace) for t in schema.entity_types),
        "".join(_action(a) for a in schema.actions),
        f"<EntityContainer{_attrs(Name=schema.container)}>",
        "".join(
            f"<EntitySet{_attrs(Name=s.name, EntityType=s.entity_type)}/>" for s in schema.entity_sets
        ),
        "</EntityContainer>",
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<edmx:Edmx Version="4.0" xmlns:edmx="{EDMX_NS}"><edmx:DataServices>'
        f'<Schema{_attrs(Namespace=schema.namespace, Alias=schema.alias)} xmlns="{EDM_NS}">'
        + "".join(body)
        + "</Schema></edmx:DataServices></edmx:Edmx>"
    )
