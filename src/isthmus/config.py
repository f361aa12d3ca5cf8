"""Typed, frozen settings for one Isthmus process.

Resolution order: the defaults below < environment variables ``ISTHMUS_<FIELD>`` (upper case) < explicit arguments
(the CLI's options). Settings are frozen once built, so nothing can change them behind a running server's back.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from isthmus.errors import ConfigurationError

ENV_PREFIX = "ISTHMUS_"


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know to serve or seed."""

    data_dir: Path = Path("./var")
    """Where the embedded SQLite databases live (one file per application database)."""

    erp_database_url: str | None = None
    """SQLAlchemy URL of the ERP database; ``None`` means ``sqlite:///<data_dir>/erp.db``."""

    dataverse_database_url: str | None = None
    """SQLAlchemy URL of the default Dataverse environment's database; ``None`` means ``<data_dir>/dataverse.db``."""

    control_database_url: str | None = None
    """SQLAlchemy URL of the control-plane database (environments, links, identities); ``None`` means
    ``<data_dir>/control.db``."""

    development_mode: bool = False
    """Serve every API without tokens, as the demo administrator. Never on anything but a developer's machine;
    ``isthmus up`` says so loudly when it is on."""

    token_signing_key: str | None = field(default=None, repr=False)
    """Key that signs access tokens (at least 32 bytes); ``None`` means one generated and kept by the instance."""

    token_issuer: str | None = None

    host: str = "127.0.0.1"
    port: int = 8080

    default_company: str = "usmf"
    """Company (dataAreaId) used when a request does not say otherwise."""

    max_page_size: int = 10_000
    """Server-driven page size of ``/data`` collections (Microsoft's maximum is 10,000)."""

    max_body_bytes: int = 16 * 1024 * 1024
    """Largest request body accepted; larger bodies get 413."""

    max_batch_operations: int = 5_000
    """Largest number of requests in one ``$batch`` (finance and operations allows 5,000)."""

    dataverse_request_limit: int = 60_000
    """Service protection: requests one user may make per window before getting 429 (Dataverse allows 6,000)."""

    dataverse_request_window_s: int = 300
    """Service protection: the sliding window, in seconds."""

    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def erp_url(self) -> str:
        if self.erp_database_url:
            return self.erp_database_url
        return f"sqlite:///{(self.data_dir / 'erp.db').resolve()}"

    @property
    def dataverse_url(self) -> str:
        if self.dataverse_database_url:
            return self.dataverse_database_url
        return f"sqlite:///{(self.data_dir / 'dataverse.db').resolve()}"

    @property
    def control_url(self) -> str:
        if self.control_database_url:
            return self.control_database_url
        return f"sqlite:///{(self.data_dir / 'control.db').resolve()}"

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, then ``ISTHMUS_*`` variables, then ``overrides`` that are not ``None``."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name == "extra":
                continue
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _coerce(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"])
        return cls(**values)


def _coerce(name: str, annotation: Any, raw: str) -> Any:
    kind = str(annotation)
    try:
        if kind == "int":
            return int(raw)
        if kind == "bool":
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes", "on")
        if kind == "Path":
            return Path(raw)
    except ValueError as exc:
        raise ConfigurationError(
            f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {kind}.",
            next_step=f"Set {ENV_PREFIX}{name.upper()} to a valid {kind} or unset it.",
        ) from exc
    return raw
