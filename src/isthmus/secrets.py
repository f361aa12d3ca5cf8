"""Secrets at rest and in memory: ``SecretBox`` encrypts connection and endpoint secrets (database passwords, the
client secrets Isthmus presents to other systems, webhook keys) before they are stored, and ``Redacted`` keeps a
secret from ever being printed — in a log line, a ``repr``, an exception message or a traceback.

Keys come from configuration: ``ISTHMUS_SECRET_KEY`` holds one or more Fernet keys (32 random bytes in URL-safe
base64, 44 characters), separated by commas or spaces. The first key encrypts; every key decrypts. To rotate, put a
new key first and keep the old one after it, re-encrypt what is stored (``SecretBox.rotate``), then drop the old key::

    python -c "from isthmus.secrets import SecretBox; print(SecretBox.generate_key())"
    ISTHMUS_SECRET_KEY="<new key>,<old key>"

Fernet is AES-128-CBC with HMAC-SHA256 (authenticated: a wrong key or a changed token is detected, never decrypted to
garbage). Client secrets that Isthmus *checks* (its own applications') are hashed instead, by ``isthmus.identity``.

(This module is ``isthmus.secrets``; the standard library's ``secrets`` is unaffected: absolute imports find it.)
"""

from __future__ import annotations

import hmac
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from isthmus.errors import ConfigurationError

ENV_VAR = "ISTHMUS_SECRET_KEY"
MASK = "***"
_GENERATE = 'python -c "from isthmus.secrets import SecretBox; print(SecretBox.generate_key())"'


class Redacted:
    """A secret value that prints as ``***`` everywhere (``str``, ``repr``, f-strings, ``%`` formatting, logging) and
    cannot be pickled. ``reveal()`` gives the value to the one place that needs it (a driver, an HTTP header)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Redacted):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("Redacted wraps text")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        return self._value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Redacted is immutable")

    def __repr__(self) -> str:
        return f"Redacted({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Redacted):
            other = other._value
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other.encode())

    def __hash__(self) -> int:
        return hash(("Redacted", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("A Redacted secret cannot be pickled; encrypt it with SecretBox to store it.")

    def __deepcopy__(self, memo: dict) -> Redacted:
        return self

    def __copy__(self) -> Redacted:
        return self


def reveal(value: str | Redacted | None) -> str | None:
    """The plain text of a secret given either way."""
    return value.reveal() if isinstance(value, Redacted) else value


class SecretDecryptionError(ConfigurationError):
    """A stored secret does not decrypt with the configured keys."""

    code = "SecretKeyMismatch"


def _fernet() -> Any:
    try:
        from cryptography import fernet
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise ConfigurationError(
            "Encrypting secrets needs the cryptography package.", next_step="pip install 'cryptography>=42'"
        ) from exc
    return fernet


def parse_keys(raw: str | Sequence[str | bytes] | None, *, source: str = ENV_VAR) -> list[bytes]:
    """Keys from configuration text (comma- or space-separated) or a list; each checked to be a Fernet key."""
    if raw is None:
        items: list[str | bytes] = []
    elif isinstance(raw, (str, bytes)):
        text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
        items = [k for k in re.split(r"[\s,]+", text) if k]
    else:
        items = [k for k in raw if k]
    if not items:
        raise ConfigurationError(
            "No secret key is configured, so connection and endpoint secrets cannot be encrypted or read.",
            next_step=f"Set {source} to a key; generate one with {_GENERATE}.",
        )
    fernet = _fernet()
    keys = []
    for position, key in enumerate(items, start=1):
        data = key.encode("ascii", "replace") if isinstance(key, str) else key
        try:
            fernet.Fernet(data)
        except (ValueError, TypeError):
            # Never echo the value: a mistyped key is still mostly a key.
            raise ConfigurationError(
                f"Key {position} of {source} is not a valid secret key: it must be 32 bytes in URL-safe base64 "
                f"(44 characters ending in '='); it has {len(data)} characters.",
                next_step=f"Set {source} to a key made with {_GENERATE}.",
            ) from None
        keys.append(data)
    return keys


class SecretBox:
    """Encrypts and decrypts secrets with the configured keys (first key encrypts, all keys decrypt)."""

    def __init__(self, keys: str | Sequence[str | bytes], *, source: str = ENV_VAR) -> None:
        fernet = _fernet()
        self._source = source
        parsed = parse_keys(keys, source=source)
        self._count = len(parsed)
        self._primary = fernet.Fernet(parsed[0])
        self._multi = fernet.MultiFernet([fernet.Fernet(k) for k in parsed])
        self._invalid = fernet.InvalidToken

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SecretBox:
        """The box for ``ISTHMUS_SECRET_KEY``; ConfigurationError when it is missing or not a key."""
        environ = os.environ if environ is None else environ
        return cls(environ.get(ENV_VAR, ""), source=ENV_VAR)

    @staticmethod
    def generate_key() -> str:
        return _fernet().Fernet.generate_key().decode("ascii")

    def __repr__(self) -> str:
        return f"SecretBox(keys={self._count})"

    def encrypt(self, secret: str | Redacted) -> str:
        """The token to store for ``secret`` (ASCII text, different at every call)."""
        plain = secret.reveal() if isinstance(secret, Redacted) else secret
        if not isinstance(plain, str):
            raise TypeError("encrypt takes text or Redacted")
        return self._primary.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str | bytes) -> Redacted:
        """The secret in a stored token, wrapped so that it never prints."""
        try:
            data = token.encode("ascii") if isinstance(token, str) else token
            return Redacted(self._multi.decrypt(data).decode("utf-8"))
        except (self._invalid, UnicodeError, ValueError, TypeError):
            raise SecretDecryptionError(
                "A stored secret cannot be decrypted with the configured keys: it was encrypted with another key, "
                "or it was altered.",
                next_step=f"If {self._source} was changed, put the previous key after the new one in {self._source} "
                "(comma-separated) until the stored secrets are re-encrypted; otherwise enter the secret again.",
            ) from None

    def rotate(self, token: str | bytes) -> str:
        """The token re-encrypted with the first key (after a key rotation)."""
        try:
            data = token.encode("ascii") if isinstance(token, str) else token
            return self._multi.rotate(data).decode("ascii")
        except (self._invalid, UnicodeError, ValueError, TypeError):
            raise SecretDecryptionError(
                "A stored secret cannot be re-encrypted: none of the configured keys decrypts it.",
                next_step=f"Keep the key it was encrypted with in {self._source} until it is rotated.",
            ) from None

    def is_current(self, token: str | bytes) -> bool:
        """Whether the token is encrypted with the first key (no rotation needed)."""
        try:
            self._primary.decrypt(token.encode("ascii") if isinstance(token, str) else token)
            return True
        except (self._invalid, UnicodeError, ValueError, TypeError):
            return False

    def rotate_all(self, tokens: Iterable[str]) -> list[str]:
        return [self.rotate(t) for t in tokens]


# --- logs ----------------------------------------------------------------------------------------------------------

_SENSITIVE = re.compile(
    r"(?i)((?:password|passwd|pwd|secret|client_secret|api[_-]?key|access_token|refresh_token|token|sig)"
    r"[\"']?\s*[=:]\s*[\"']?)([^\s\"'&;,]+)"
)
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^:/@\s]+:)([^@\s]+)(@)")


def scrub(text: str) -> str:
    """``text`` with the values of password=…, secret=…, token=… pairs, bearer tokens and passwords in URLs masked."""
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    return _SENSITIVE.sub(lambda m: m.group(1) + MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs secrets from every record (message, arguments and exception text) before any
    handler formats it: a last line of defence for secrets that were not wrapped in ``Redacted``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not drop the record
            return True
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True
