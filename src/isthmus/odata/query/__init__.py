"""Query options: parsing ($filter and the rest) into an AST, compiling it to SQL, printing it back."""

from isthmus.odata.query.filter import parse_filter, print_filter
from isthmus.odata.query.options import ExpandItem, OrderItem, QueryOptions, parse_query_options

__all__ = ["ExpandItem", "OrderItem", "QueryOptions", "parse_filter", "parse_query_options", "print_filter"]
