"""Password and client-secret hashing with scrypt (memory-hard, in the standard library).

A stored hash is a PHC-style string that records everything needed to check it again::

    $scrypt$ln=15,r=8,p=1$<salt, base64>$<derived key, base64>

``ln`` is log2 of scrypt's cost N. Because the parameters travel with each hash, the defaults can be raised later:
hashes made with weaker parameters still verify, and ``needs_rehash`` tells the caller to store a fresh one after
the next successful sign-in. Secrets themselves are never stored, returned or logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

ALGORITHM = "scrypt"
SALT_BYTES = 16
KEY_BYTES = 32
MAX_SECRET_CHARS = 1024
"""Longer inputs are refused at creation and fail verification without being hashed (no hashing-cost abuse)."""

# Each derivation holds N * r * 128 bytes (32 MiB by default); bound how many run at once so that a burst of sign-ins
# cannot take the host's memory (the others queue for a few milliseconds instead).
_SLOTS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))

# Upper bounds for parameters read back from the database, so a tampered row cannot make verification eat the host.
_MAX_LN, _MAX_R, _MAX_P = 22, 32, 16


@dataclass(frozen=True)
class ScryptParams:
    """scrypt's cost parameters. The default (N=2^15, r=8, p=1) needs 32 MiB per hash; raise it as hardware grows."""

    ln: int = 15
    r: int = 8
    p: int = 1

    @property
    def n(self) -> int:
        return 1 << self.ln

    @property
    def maxmem(self) -> int:
        # scrypt needs 128 * N * r bytes (plus a little); OpenSSL refuses anything above maxmem.
        return 128 * self.n * self.r * (self.p + 1) + 1024 * 1024

    def encode(self) -> str:
        return f"ln={self.ln},r={self.r},p={self.p}"

    def weaker_than(self, other: ScryptParams) -> bool:
        return self.ln < other.ln or self.r < other.r or self.p < other.p


DEFAULT_PARAMS = ScryptParams()


def hash_secret(secret: str, params: ScryptParams = DEFAULT_PARAMS) -> str:
    """A new salted hash of ``secret`` (a fresh random salt every call)."""
    salt = os.urandom(SALT_BYTES)
    key = _derive(secret, salt, params)
    return f"${ALGORITHM}${params.encode()}${_b64(salt)}${_b64(key)}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches ``stored``, compared in constant time. A malformed stored hash never matches."""
    parsed = _parse(stored)
    if parsed is None or len(secret) > MAX_SECRET_CHARS:
        return False
    params, salt, expected = parsed
    return hmac.compare_digest(_derive(secret, salt, params, len(expected)), expected)


def burn_time(params: ScryptParams = DEFAULT_PARAMS) -> None:
    """Spend the time a verification takes, so an unknown name answers as slowly as a wrong secret."""
    _derive("x" * 16, b"\0" * SALT_BYTES, params)


def needs_rehash(stored: str, params: ScryptParams = DEFAULT_PARAMS) -> bool:
    """Whether ``stored`` was made with parameters weaker than ``params`` (or cannot be read at all)."""
    parsed = _parse(stored)
    return parsed is None or parsed[0].weaker_than(params)


def parameters_of(stored: str) -> ScryptParams | None:
    parsed = _parse(stored)
    return parsed[0] if parsed else None


def _derive(secret: str, salt: bytes, params: ScryptParams, length: int = KEY_BYTES) -> bytes:
    with _SLOTS:
        return hashlib.scrypt(
            secret.encode("utf-8"), salt=salt, n=params.n, r=params.r, p=params.p, maxmem=params.maxmem, dklen=length
        )


def _parse(stored: str) -> tuple[ScryptParams, bytes, bytes] | None:
    try:
        empty, algorithm, encoded, salt, key = stored.split("$")
        if empty or algorithm != ALGORITHM:
            return None
        values = dict(item.split("=", 1) for item in encoded.split(","))
        params = ScryptParams(ln=int(values["ln"]), r=int(values["r"]), p=int(values["p"]))
        if not (1 <= params.ln <= _MAX_LN and 1 <= params.r <= _MAX_R and 1 <= params.p <= _MAX_P):
            raise ValueError("scrypt parameters out of range")
        decoded_key = _unb64(key)
        if len(decoded_key) < 16:
            raise ValueError("derived key too short")
        return params, _unb64(salt), decoded_key
    except (ValueError, KeyError, binascii.Error, AttributeError):
        log.warning("a stored secret hash is not in the $scrypt$ format; it can never match")
        return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
