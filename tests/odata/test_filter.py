"""$filter parsing and printing: the repairs over odata-query's grammar, useful errors, and the round trip
parse(print(ast)) == ast over random expressions."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from odata_query import ast

from isthmus.errors import QueryOptionError
from isthmus.odata.query.filter import parse_filter, print_filter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AllowDiscount eq true", ast.Compare(ast.Eq(), ast.Identifier("AllowDiscount"), ast.Boolean("true"))),
        ("nullable eq null", ast.Compare(ast.Eq(), ast.Identifier("nullable"), ast.Null())),
        ("Anything ne 1", ast.Compare(ast.NotEq(), ast.Identifier("Anything"), ast.Integer("1"))),
        (
            "CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'Yes'",
            ast.Compare(ast.Eq(), ast.Identifier("CreditLimitIsMandatory"), ast.String("Yes")),
        ),
        ("Name eq 'O''Neil'", ast.Compare(ast.Eq(), ast.Identifier("Name"), ast.String("O'Neil"))),
        ("x in ('a')", ast.Compare(ast.In(), ast.Identifier("x"), ast.List([ast.String("a")]))),
    ],
)
def test_parses_what_the_library_alone_gets_wrong(text: str, expected: ast._Node) -> None:
    assert parse_filter(text) == expected


def test_dataverse_json_array_arguments() -> None:
    node = parse_filter("Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=[\"O'Brian\",\"x\"])")
    assert isinstance(node, ast.Call) and node.func.namespace == ("Microsoft", "Dynamics", "CRM")
    values = node.args[1]
    assert isinstance(values, ast.NamedParam) and values.param == ast.List([ast.String("O'Brian"), ast.String("x")])
    assert parse_filter(print_filter(node)) == node
    assert 'PropertyValues=["O\'Brian", "x"]' in print_filter(node)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Name eq", "not a valid expression"),
        ("Name eq 'unterminated", "cannot be read"),
        ("Name eq @x", "cannot be read at position 8"),
        ("(Name eq 'a'", "ends before the expression is complete"),
        ("Name eq [1,", "malformed array"),
        ("", "empty"),
        ("x" * 40_000, "longer than"),
        ("frobnicate(Name)", "Unknown function"),
        ("contains(Name)", "contains"),
    ],
)
def test_malformed_filters_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(QueryOptionError) as info:
        parse_filter(text)
    assert fragment in str(info.value)
    assert info.value.target == "$filter"


# --- round trip over random ASTs -------------------------------------------------------------------------------

NAMES = ["Name", "CreditLimit", "AllowDiscount", "nullable", "anyThing", "allowed", "notes", "trueValue", "x_1"]
identifiers = st.sampled_from(NAMES).map(ast.Identifier)
paths = st.one_of(identifiers, st.tuples(identifiers, st.sampled_from(NAMES)).map(lambda p: ast.Attribute(p[0], p[1])))
strings = st.text(alphabet=string.ascii_letters + string.digits + " '%_*-/\\()é,&?=", max_size=12).map(ast.String)
integers = st.integers(min_value=-10**12, max_value=10**12).map(lambda n: ast.Integer(str(n)))
floats = st.tuples(st.integers(0, 9999), st.integers(0, 999)).map(lambda p: ast.Float(f"{p[0]}.{p[1]}"))
dates = st.dates().filter(lambda d: d.year >= 1000).map(lambda d: ast.Date(d.isoformat()))
datetimes = st.datetimes().filter(lambda d: d.year >= 1000).map(lambda d: ast.DateTime(d.strftime("%Y-%m-%dT%H:%M:%SZ")))
guids = st.uuids().map(lambda u: ast.GUID(str(u)))
literals = st.one_of(strings, integers, floats, st.sampled_from(["true", "false"]).map(ast.Boolean), st.just(ast.Null()), dates, datetimes, guids)
comparators = st.sampled_from([ast.Eq(), ast.NotEq(), ast.Lt(), ast.LtE(), ast.Gt(), ast.GtE()])
arithmetic = st.sampled_from([ast.Add(), ast.Sub(), ast.Mult(), ast.Div(), ast.Mod()])
operands = st.one_of(paths, st.builds(ast.BinOp, arithmetic, paths, integers))
comparisons = st.one_of(
    st.builds(ast.Compare, comparators, operands, literals),
    st.builds(ast.Compare, st.just(ast.In()), paths, st.lists(literals.filter(lambda n: not isinstance(n, ast.Null)), min_size=1, max_size=4).map(ast.List)),
    st.builds(lambda f, p, s: ast.Call(ast.Identifier(f), [p, s]), st.sampled_from(["contains", "startswith", "endswith"]), paths, strings),
    st.builds(
        lambda var, prop, op, lit: ast.CollectionLambda(
            ast.Identifier("Lines"), ast.Any(), ast.Lambda(ast.Identifier(var), ast.Compare(op, ast.Attribute(ast.Identifier(var), prop), lit))
        ),
        st.sampled_from(["l", "line"]), st.sampled_from(NAMES), comparators, literals,
    ),
)
expressions = st.recursive(
    comparisons,
    lambda inner: st.one_of(
        st.builds(ast.BoolOp, st.sampled_from([ast.And(), ast.Or()]), inner, inner),
        st.builds(ast.UnaryOp, st.just(ast.Not()), inner),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_print_then_parse_gives_the_same_ast(tree: ast._Node) -> None:
    text = print_filter(tree)
    assert parse_filter(text) == tree, text
