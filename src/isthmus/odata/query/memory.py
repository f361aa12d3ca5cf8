"""Evaluate a ``$filter`` AST over plain dictionaries — for small in-memory collections such as metadata
(``EntityDefinitions?$filter=LogicalName eq 'account'``), where SQL would be the wrong tool.

Paths walk nested objects (``OwnershipType eq 'UserOwned'``, ``IsCustomizable/Value eq true``); qualified enum
literals compare by member name; string comparisons are case-sensitive except in the pattern functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from odata_query import ast

from isthmus.errors import NotSupportedError, QueryOptionError

_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a is not None and b is not None and a < b,
    ast.LtE: lambda a, b: a is not None and b is not None and a <= b,
    ast.Gt: lambda a, b: a is not None and b is not None and a > b,
    ast.GtE: lambda a, b: a is not None and b is not None and a >= b,
}


def matches(node: ast._Node, item: Mapping[str, Any]) -> bool:
    return bool(_value(node, item))


def _value(node: ast._Node, item: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Identifier):
        if node.name not in item:
            raise QueryOptionError(f"Could not find a property named '{node.name}'.", target="$filter")
        return item[node.name]
    if isinstance(node, ast.Attribute):
        owner = _value(node.owner, item)
        return owner.get(node.attr) if isinstance(owner, Mapping) else None
    if isinstance(node, ast.Null):
        return None
    if isinstance(node, (ast.String, ast.Integer, ast.Float, ast.Boolean, ast.GUID, ast.Date, ast.DateTime)):
        value = node.py_val
        return str(value) if isinstance(node, ast.GUID) else value
    if isinstance(node, ast.List):
        return [_value(v, item) for v in node.val]
    if isinstance(node, ast.Compare):
        left, right = _value(node.left, item), _value(node.right, item)
        if isinstance(node.comparator, ast.In):
            return left in right
        if isinstance(left, str) and isinstance(right, str) and _is_guid_like(left, right):
            left, right = left.lower(), right.lower()
        return _COMPARE[type(node.comparator)](left, right)
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return matches(node.left, item) and matches(node.right, item)
        return matches(node.left, item) or matches(node.right, item)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not matches(node.operand, item)
    if isinstance(node, ast.Call) and not node.func.namespace:
        name = node.func.name.lower()
        args = [_value(a, item) for a in node.args]
        if name in ("contains", "startswith", "endswith"):
            text, part = (str(a or "").lower() for a in args)
            return {"contains": part in text, "startswith": text.startswith(part), "endswith": text.endswith(part)}[name]
        if name == "tolower":
            return str(args[0] or "").lower()
        if name == "toupper":
            return str(args[0] or "").upper()
    raise NotSupportedError(f"This $filter construct is not supported here: {type(node).__name__}.", target="$filter")


def _is_guid_like(a: str, b: str) -> bool:
    return len(a) == 36 and len(b) == 36 and a.count("-") == 4 and b.count("-") == 4
