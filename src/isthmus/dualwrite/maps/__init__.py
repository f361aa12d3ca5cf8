"""Dual-write table maps: the model (``model``), reading files and API bodies (``parse``), checking them against
both apps (``bind``) and the out-of-box maps the project ships (``builtin/``)."""

from isthmus.dualwrite.maps.bind import BoundColumn, BoundLookup, BoundMap, bind
from isthmus.dualwrite.maps.model import ColumnMapping, CompanyStriping, LookupPath, LookupTarget, TableMap
from isthmus.dualwrite.maps.parse import builtin_maps, load_document, load_file, parse_map

__all__ = [
    "BoundColumn", "BoundLookup", "BoundMap", "ColumnMapping", "CompanyStriping", "LookupPath", "LookupTarget",
    "TableMap", "bind", "builtin_maps", "load_document", "load_file", "parse_map",
]
