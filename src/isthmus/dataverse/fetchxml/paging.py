"""Paging cookies, in Dataverse's shape: ``<cookie page="2"><accountid last="{GUID}" first="{GUID}" /></cookie>``
describes the page just returned (its number, the first and last primary ids on it). A request for the next page
(``page`` = cookie page + 1) seeks past ``last``; for the previous one, before ``first``.

The cookie is opaque to clients; they hand it back in the fetch's ``paging-cookie`` attribute (XML-escaped), and the
Web API hands it out %-encoded twice inside ``@Microsoft.Dynamics.CRM.fetchxmlpagingcookie``. A cookie still
%-encoded is decoded here too, to be forgiving.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import unquote
from xml.sax.saxutils import quoteattr

from isthmus.dataverse.fetchxml.parse import parse_xml
from isthmus.errors import QueryOptionError


@dataclass(frozen=True)
class Cookie:
    page: int
    first: str | None = None
    last: str | None = None


def read_cookie(text: str, primary_id: str) -> Cookie:
    raw = text.strip()
    for _ in range(3):
        if raw.startswith("<"):
            break
        raw = unquote(raw).strip()
    root = parse_xml(raw, what="paging cookie")
    if root.tag != "cookie":
        raise QueryOptionError(
            "The paging-cookie is not valid: its root element must be 'cookie'.", target="paging-cookie"
        )
    page_text = (root.attrib.get("page") or root.attrib.get("pagenumber") or "").strip()
    if not page_text.isascii() or not page_text.isdigit() or len(page_text) > 9:
        raise QueryOptionError("The paging-cookie is not valid: it has no page number.", target="paging-cookie")
    for child in root.children:
        if child.tag == primary_id:
            first, last = _guid(child.attrib.get("first")), _guid(child.attrib.get("last"))
            if first and last:
                return Cookie(int(page_text), first, last)
    return Cookie(int(page_text))


def _guid(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise QueryOptionError(
            f"The paging-cookie is not valid: '{value}' is not a GUID.", target="paging-cookie"
        ) from None


def write_cookie(page: int, primary_id: str | None, first: object | None, last: object | None) -> str:
    if primary_id is None or first is None or last is None:
        return f'<cookie page="{page}" />'
    return (
        f'<cookie page="{page}"><{primary_id} last={quoteattr(_braced(last))} first={quoteattr(_braced(first))} />'
        "</cookie>"
    )


def _braced(value: object) -> str:
    text = str(value)
    try:
        return "{" + str(uuid.UUID(text)).upper() + "}"
    except ValueError:
        return text
