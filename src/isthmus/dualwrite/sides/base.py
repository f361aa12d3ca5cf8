"""The two apps as dual-write sees them, whatever carries the calls (in-process or over HTTP).

A *session* is one transaction on the receiving side: every write of one sending transaction goes into it, and it
is committed only once the sender has committed (in-process), or together as one ``$batch`` change set (HTTP).
Reads inside a session see the session's own uncommitted writes, so an order line finds the header created just
before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from isthmus.dualwrite.convert import DataverseLookups


class DataverseSession(DataverseLookups, Protocol):
    """Writes to Dataverse inside one transaction, and the reads that resolve keys and lookups."""

    def company_id(self, code: str) -> str | None: ...

    def company_code(self, company_id: str) -> str | None: ...

    def owner_team(self, company_id: str) -> str | None:
        """The owner team of a company (dual-written rows of that company belong to it)."""
        ...

    def read(self, table: str, record_id: str) -> dict[str, Any] | None:
        """A stored row (lookups as ids, options as values), or ``None``."""
        ...

    def create(self, table: str, body: dict[str, Any]) -> str: ...

    def update(self, table: str, record_id: str, body: dict[str, Any]) -> None: ...

    def delete(self, table: str, record_id: str) -> None: ...

    def prepare(self) -> None:
        """Everything short of the commit: after this, only a crash keeps the session from committing."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class ErpSession(Protocol):
    """Writes to the ERP's data entities inside one transaction."""

    def read(self, entity: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """An entity row in API form, or ``None``."""
        ...

    def create(self, entity: str, body: dict[str, Any]) -> None: ...

    def update(self, entity: str, key: Mapping[str, Any], body: dict[str, Any]) -> None: ...

    def delete(self, entity: str, key: Mapping[str, Any]) -> None: ...

    def prepare(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Side(Protocol):
    """Opens sessions on one app for one link."""

    def open(self, transaction_id: str) -> Any:
        """A session whose writes are marked as applied from the other side's transaction ``transaction_id``."""
        ...

    def available(self) -> bool:
        """Whether the app answers at all (health checks and automatic resume)."""
        ...
