"""Shorthands for declaring entity fields, so each entity definition reads like finance and operations' field list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String

from isthmus.erp.entities.model import EntityField
from isthmus.erp.entities.types import COMPANY_CODEC, NOYES, NOYES_CODEC
from isthmus.odata.edm import EnumType


def text(name: str, column: Any, **kw: Any) -> EntityField:
    length = getattr(getattr(column, "type", None), "length", None)
    if isinstance(getattr(column, "type", None), String) and "max_length" not in kw:
        kw["max_length"] = length
    return EntityField(name, column, "Edm.String", **kw)


def money(name: str, column: Any, **kw: Any) -> EntityField:
    return EntityField(name, column, "Edm.Decimal", **kw)


def integer(name: str, column: Any, **kw: Any) -> EntityField:
    return EntityField(name, column, "Edm.Int32", **kw)


def date(name: str, column: Any, **kw: Any) -> EntityField:
    return EntityField(name, column, "Edm.Date", **kw)


def timestamp(name: str, column: Any, **kw: Any) -> EntityField:
    return EntityField(name, column, "Edm.DateTimeOffset", **kw)


def noyes(name: str, column: Any, **kw: Any) -> EntityField:
    return EntityField(name, column, "Edm.String", enum=NOYES, codec=NOYES_CODEC, **kw)


def choice(name: str, column: Any, enum: EnumType, **kw: Any) -> EntityField:
    return EntityField(name, column, "Edm.String", enum=enum, **kw)


def company(column: Any) -> EntityField:
    return EntityField("dataAreaId", column, "Edm.String", key=True, max_length=4, codec=COMPANY_CODEC)
