"""Query options and resource paths: parsing, printing back, and the errors that name the problem."""

from __future__ import annotations

import pytest

from isthmus.errors import InvalidRequestError, NotSupportedError, QueryOptionError
from isthmus.odata.query import parse_query_options
from isthmus.odata.resource import split_path

ALL = {"$filter", "$select", "$orderby", "$top", "$skip", "$count", "$expand"}


def test_options_round_trip_through_the_query_string() -> None:
    params = [
        ("$filter", "Name eq @p and Qty gt 2"), ("@p", "'O''Neil'"), ("$select", "Name,Qty"),
        ("$orderby", "Name desc,Qty"), ("$top", "5"), ("$skip", "10"), ("$count", "true"),
        ("$expand", "Lines($select=A;$filter=A gt 1;$top=3)"), ("cross-company", "true"),
    ]
    options = parse_query_options(params, supported=ALL)
    assert options.select == (("Name",), ("Qty",))
    assert [(o.path, o.descending) for o in options.orderby] == [(("Name",), True), (("Qty",), False)]
    assert options.top == 5 and options.skip == 10 and options.count
    assert options.expand[0].path == ("Lines",) and options.expand[0].options.top == 3
    assert options.custom == {"cross-company": "true"}
    from urllib.parse import parse_qsl

    again = parse_query_options(parse_qsl(options.to_query_string()), supported=ALL)
    assert again == options


@pytest.mark.parametrize(
    ("params", "error", "fragment"),
    [
        ([("$filter", "a eq @missing")], QueryOptionError, "@missing has no value"),
        ([("$select", "a,,b")], QueryOptionError, "empty item"),
        ([("$select", "a b")], QueryOptionError, "not a property path"),
        ([("$expand", "Lines($top=1")], QueryOptionError, "Unbalanced"),
        ([("$expand", "Lines($frob=1)")], QueryOptionError, "Unknown option"),
        ([("$top", str(2**40))], QueryOptionError, "at most"),
        ([("$search", "x")], NotSupportedError, "$search"),
        ([("$Top", "1")], QueryOptionError, "case-sensitive"),
    ],
)
def test_option_errors(params: list, error: type, fragment: str) -> None:
    with pytest.raises(error) as info:
        parse_query_options(params, supported=ALL)
    assert fragment in str(info.value)


def test_star_select_means_everything() -> None:
    assert parse_query_options([("$select", "*")], supported=ALL).select is None


def test_paths_and_keys() -> None:
    segments = split_path("/CustomersV3(dataAreaId='usmf',CustomerAccount='A%2FB''s')/Microsoft.Dynamics.DataEntities.X")
    assert segments[0].name == "CustomersV3"
    assert segments[0].key == (("dataAreaId", "usmf"), ("CustomerAccount", "A/B's"))
    assert segments[1].name == "Microsoft.Dynamics.DataEntities.X"
    assert split_path("/Items(5)")[0].key == ((None, 5),)
    guid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert split_path(f"/accounts({guid})")[0].key == ((None, guid),)


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("/X()", "empty"), ("/X(a='1',a='2')", "twice"), ("/X(a=b)", "not a valid literal"), ("/X('a)", "unterminated"),
     ("/X(1 2=3)", "not a valid key property name")],
)
def test_bad_paths(path: str, fragment: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        split_path(path)
    assert fragment in str(info.value)
