"""CSDL XML for ``$metadata``, rendered from an ``edm.Schema``."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from isthmus.odata.edm import (
    Action,
    ComplexType,
    EntitySet,
    EntityType,
    EnumType,
    Function,
    FunctionImport,
    Property,
    Schema,
)

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
    key = f"<Key>{keys}</Key>" if t.key or not (t.abstract or t.base_type) else ""
    props = "".join(_property(p) for p in t.properties)
    navs = []
    for n in t.navigation:
        target = f"Collection({n.target})" if n.collection else n.target
        constraints = "".join(
            f"<ReferentialConstraint{_attrs(Property=a, ReferencedProperty=b)}/>" for a, b in n.constraints
        )
        navs.append(f"<NavigationProperty{_attrs(Name=n.name, Type=target, Partner=n.partner)}>{constraints}</NavigationProperty>")
    head = _attrs(Name=t.name, BaseType=t.base_type, Abstract="true" if t.abstract else None)
    return f"<EntityType{head}>{key}{props}{''.join(navs)}</EntityType>"


def _complex_type(c: ComplexType) -> str:
    abstract = "true" if c.abstract else None
    props = "".join(_property(p) for p in c.properties)
    return f"<ComplexType{_attrs(Name=c.name, BaseType=c.base_type, Abstract=abstract)}>{props}</ComplexType>"


def _enum_type(e: EnumType) -> str:
    members = "".join(f"<Member{_attrs(Name=n, Value=v)}/>" for n, v in e.members)
    return f"<EnumType{_attrs(Name=e.name)}>{members}</EnumType>"


def _parameters(op: Action | Function) -> str:
    params = []
    if op.bound_to:
        binding = f"Collection({op.bound_to})" if op.collection_bound else op.bound_to
        params.append(f"<Parameter{_attrs(Name=op.binding_parameter, Type=binding, Nullable='false')}/>")
    for p in op.parameters:
        params.append(f"<Parameter{_attrs(Name=p.name, Type=p.type, Nullable=None if p.nullable else 'false')}/>")
    return "".join(params)


def _action(a: Action) -> str:
    ret = f"<ReturnType{_attrs(Type=a.return_type)}/>" if a.return_type else ""
    bound = "true" if a.bound_to else None
    return f"<Action{_attrs(Name=a.name, IsBound=bound)}>{_parameters(a)}{ret}</Action>"


def _function(f: Function) -> str:
    nullable = None if f.return_nullable else "false"
    ret = f"<ReturnType{_attrs(Type=f.return_type, Nullable=nullable)}/>" if f.return_type else ""
    bound = "true" if f.bound_to else None
    head = _attrs(Name=f.name, IsBound=bound, IsComposable="true" if f.composable else None)
    return f"<Function{head}>{_parameters(f)}{ret}</Function>"


def _entity_set(s: EntitySet) -> str:
    if not s.navigation_bindings:
        return f"<EntitySet{_attrs(Name=s.name, EntityType=s.entity_type)}/>"
    bindings = "".join(
        f"<NavigationPropertyBinding{_attrs(Path=path, Target=to)}/>" for path, to in s.navigation_bindings
    )
    return f"<EntitySet{_attrs(Name=s.name, EntityType=s.entity_type)}>{bindings}</EntitySet>"


def _function_import(i: FunctionImport) -> str:
    in_document = "true" if i.include_in_service_document else None
    attrs = _attrs(
        Name=i.name, Function=i.function, EntitySet=i.entity_set, IncludeInServiceDocument=in_document
    )
    return f"<FunctionImport{attrs}/>"


def render(schema: Schema) -> str:
    body = [
        "".join(_enum_type(e) for e in schema.enum_types),
        "".join(_entity_type(t, schema.namespace) for t in schema.entity_types),
        "".join(_complex_type(c) for c in schema.complex_types),
        "".join(_function(f) for f in schema.functions),
        "".join(_action(a) for a in schema.actions),
        f"<EntityContainer{_attrs(Name=schema.container)}>",
        "".join(_entity_set(s) for s in schema.entity_sets),
        "".join(_function_import(i) for i in schema.function_imports),
        "</EntityContainer>",
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<edmx:Edmx Version="4.0" xmlns:edmx="{EDMX_NS}"><edmx:DataServices>'
        f'<Schema{_attrs(Namespace=schema.namespace, Alias=schema.alias)} xmlns="{EDM_NS}">'
        + "".join(body)
        + "</Schema></edmx:DataServices></edmx:Edmx>"
    )
