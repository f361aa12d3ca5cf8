"""``$filter`` text ⇄ AST.

Parsing uses odata-query's grammar (its AST classes are the AST here) with three repairs:

* its lexer reads ``true``/``false``/``null``/``any``/``all`` at the start of any identifier (``AllowDiscount``,
  ``nullable``), so the lexer below only takes them as whole words;
* a qualified enum literal (``Microsoft.Dynamics.DataEntities.NoYes'Yes'``) becomes the string ``'Yes'``; the
  compiler checks it against the field's enum type;
* a JSON array argument (``Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=["0","1"])``), which the lexer
  cannot read, is rewritten to an OData list before lexing.

``print_filter`` is the inverse: ``parse_filter(print_filter(ast)) == ast`` for every AST ``parse_filter`` returns.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache

from odata_query import ast
from odata_query import exceptions as oq
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.roundtrip import PRECEDENCE as _BASE_PRECEDENCE
from odata_query.roundtrip import AstToODataVisitor
from odata_query.visitor import NodeTransformer
from sly.lex import Token

from isthmus.errors import QueryOptionError

MAX_FILTER_LENGTH = 32_768
# The grammar binds "in" tighter than anything else.
PRECEDENCE = {**_BASE_PRECEDENCE, ast.In: 11}


class _Lexer(ODataLexer):
    tokens = ODataLexer.tokens

    # A qualified enum literal is lexed as the string it names; the plain string form follows.
    @_(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+'(?:[^']|'')*'", r"'(?:[^']|'')*'")  # type: ignore[name-defined]  # noqa: F821
    def STRING(self, t):  # type: ignore[no-untyped-def]
        val = t.value[t.value.index("'") + 1 : -1]
        t.value = ast.String(val.replace("''", "'"))
        return t

    @_(r"(?:true|false)(?![\w.])")  # type: ignore[name-defined]  # noqa: F821
    def BOOLEAN(self, t):  # type: ignore[no-untyped-def]
        t.value = ast.Boolean(t.value)
        return t

    @_(r"null(?![\w.])")  # type: ignore[name-defined]  # noqa: F821
    def NULL(self, t):  # type: ignore[no-untyped-def]
        t.value = ast.Null()
        return t

    @_(r"any(?=\s*\()")  # type: ignore[name-defined]  # noqa: F821
    def ANY(self, t):  # type: ignore[no-untyped-def]
        t.value = ast.Any()
        return t

    @_(r"all(?=\s*\()")  # type: ignore[name-defined]  # noqa: F821
    def ALL(self, t):  # type: ignore[no-untyped-def]
        t.value = ast.All()
        return t


_lexer = _Lexer()
_parser = ODataParser()


class _Normalize(NodeTransformer):
    """Give ``x in ('a')`` (a one-item list that the grammar reads as a parenthesised value) its list form."""

    def visit_Compare(self, node: ast.Compare) -> ast.Compare:
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.comparator, ast.In) and not isinstance(right, ast.List):
            right = ast.List([right])
        return ast.Compare(node.comparator, left, right)


def _single_item_in_lists(tokens: Iterator[Token]) -> Iterator[Token]:
    """Turn ``in (x)`` into ``in (x,)``: the grammar reads a one-item list only with a trailing comma."""
    pending: list[Token] = []
    for token in tokens:
        if pending:
            pending.append(token)
            if token.type == ")" and _closes(pending):
                if not any(t.type == "," and d == 1 for t, d in _depths(pending[1:])):
                    comma = Token()
                    comma.type, comma.value, comma.lineno, comma.index = ",", ",", token.lineno, token.index
                    pending.insert(len(pending) - 1, comma)
                yield from pending
                pending = []
            continue
        if token.type == "IN":
            pending = [token]
            continue
        yield token
    yield from pending


def _depths(tokens: list[Token]) -> Iterator[tuple[Token, int]]:
    depth = 0
    for t in tokens:
        if t.type == "(":
            depth += 1
            yield t, depth
        elif t.type == ")":
            yield t, depth
            depth -= 1
        else:
            yield t, depth


def _closes(pending: list[Token]) -> bool:
    """Whether the last token of ``pending`` (IN, then the list) closes the list's opening parenthesis."""
    depth = 0
    for t in pending[1:]:
        if t.type == "(":
            depth += 1
        elif t.type == ")":
            depth -= 1
            if depth == 0:
                return True
    return False


def _json_arrays_to_lists(text: str) -> str:
    """Rewrite JSON array literals outside quoted strings into OData list literals."""
    out: list[str] = []
    i, n = 0, len(text)
    decoder = json.JSONDecoder()
    while i < n:
        ch = text[i]
        if ch == "'":
            j = i + 1
            while j < n:
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            out.append(text[i : j + 1])
            i = j + 1
            continue
        if ch == "[":
            try:
                values, end = decoder.raw_decode(text, i)
            except json.JSONDecodeError as exc:
                raise QueryOptionError(f"$filter has a malformed array at position {i}: {exc.msg}.", target="$filter") from exc
            if not isinstance(values, list) or any(isinstance(v, (list, dict)) for v in values):
                raise QueryOptionError(f"$filter array at position {i} must be a flat list of values.", target="$filter")
            out.append(_odata_list(values))
            i = end
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _odata_literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _odata_list(values: list) -> str:
    items = [_odata_literal(v) for v in values]
    # One item needs the trailing comma, or the grammar reads a parenthesised value instead of a list.
    return "(" + ",".join(items) + ("," if len(items) == 1 else "") + ")"


@lru_cache(maxsize=4096)
def parse_filter(text: str) -> ast._Node:
    """Parse ``$filter`` text; a malformed expression raises ``QueryOptionError`` naming where it broke."""
    if len(text) > MAX_FILTER_LENGTH:
        raise QueryOptionError(f"$filter is longer than {MAX_FILTER_LENGTH} characters.", target="$filter")
    if not text.strip():
        raise QueryOptionError("$filter is empty.", target="$filter")
    source = _json_arrays_to_lists(text) if "[" in text else text
    try:
        tree = _parser.parse(_single_item_in_lists(_lexer.tokenize(source)))
    except oq.TokenizingException as exc:
        token = exc.token
        raise QueryOptionError(
            f"$filter cannot be read at position {token.index}: unexpected {str(token.value)[:20]!r}.", target="$filter"
        ) from exc
    except oq.ParsingException as exc:
        if exc.token is None:
            raise QueryOptionError("$filter ends before the expression is complete.", target="$filter") from exc
        raise QueryOptionError(
            f"$filter is not a valid expression at position {exc.token.index} (near {_describe(exc.token)}).",
            target="$filter",
        ) from exc
    except oq.ODataException as exc:
        raise QueryOptionError(f"$filter: {exc}.", target="$filter") from exc
    except RecursionError as exc:
        raise QueryOptionError("$filter is nested too deeply.", target="$filter") from exc
    if tree is None:
        raise QueryOptionError("$filter is empty.", target="$filter")
    return _Normalize().visit(tree)


def _describe(token: object) -> str:
    value = getattr(token, "value", token)
    if isinstance(value, str):
        return repr(value.strip() or value)
    if isinstance(value, ast.Identifier):
        return repr(value.full_name())
    if hasattr(value, "val"):
        return repr(value.val)  # type: ignore[attr-defined]
    return repr(type(value).__name__.lower())


class _Printer(AstToODataVisitor):
    def visit_String(self, node: ast.String) -> str:
        return "'" + node.val.replace("'", "''") + "'"

    def visit_List(self, node: ast.List) -> str:
        return "(" + ",".join(self.visit(v) for v in node.val) + ")"

    def visit_NamedParam(self, node: ast.NamedParam) -> str:
        if isinstance(node.param, ast.List):
            # Dataverse functions take JSON arrays of stringified values (PropertyValues=["0","1"]).
            return node.name.name + "=" + json.dumps([_json_value(v) for v in node.param.val])
        return node.name.name + "=" + self.visit(node.param)

    def visit_Call(self, node: ast.Call) -> str:
        return self.visit(node.func) + "(" + ",".join(self.visit(n) for n in node.args) + ")"

    def _binary(self, node: ast._Node, op: ast._Node, left: ast._Node, right: ast._Node) -> str:
        # The grammar is left-associative, so a right operand of the same precedence needs parentheses to keep its
        # grouping: "a or (b or c)" must not print as "a or b or c".
        precedence = PRECEDENCE.get(type(op), 100)
        left_text = self.visit(left)
        if _precedence(left) < precedence:
            left_text = "(" + left_text + ")"
        right_text = self.visit(right)
        if _precedence(right) <= precedence:
            right_text = "(" + right_text + ")"
        return left_text + " " + self.visit(op) + " " + right_text

    def visit_BoolOp(self, node: ast.BoolOp) -> str:
        return self._binary(node, node.op, node.left, node.right)

    def visit_BinOp(self, node: ast.BinOp) -> str:
        return self._binary(node, node.op, node.left, node.right)

    def visit_Compare(self, node: ast.Compare) -> str:
        return self._binary(node, node.comparator, node.left, node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> str:
        operand = self.visit(node.operand)
        # Always parenthesise: "not a eq 1" and "-a" bind differently from what a reader expects.
        if isinstance(node.op, ast.Not):
            return "not (" + operand + ")"
        return "-(" + operand + ")"


def _precedence(node: ast._Node) -> int:
    op = getattr(node, "op", None) or getattr(node, "comparator", None)
    return PRECEDENCE.get(type(op), 100) if op is not None else 100


def _json_value(node: ast._Node) -> object:
    if isinstance(node, ast.String):
        return node.val
    if isinstance(node, ast.Integer):
        return int(node.val)
    if isinstance(node, ast.Float):
        return float(node.val)
    if isinstance(node, ast.Boolean):
        return node.val.lower() == "true"
    if isinstance(node, ast.Null):
        return None
    return str(getattr(node, "val", node))


_printer = _Printer()


def print_filter(node: ast._Node) -> str:
    return _printer.visit(node)
