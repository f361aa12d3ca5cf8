"""Signed JWT access tokens: issued by the token endpoint, checked on every API request.

Tokens are HS256-signed with one instance key: the configured one (``token_signing_key`` of the settings, at least
32 bytes) or else 64 random bytes generated once and kept in the control-plane database (``isthmus.identity.
instance``). HS256 suffices because the instance is the only party that ever verifies its tokens (clients treat
access tokens as opaque), and a shared database key lets every process of the instance verify tokens the others
issued, across restarts, with no key files to distribute.

The claims follow Entra ID's v2 access tokens: ``iss``, ``sub``/``oid``, ``aud``, ``iat``/``nbf``/``exp``,
``name``, ``preferred_username`` (users), ``appid`` (applications), ``roles``, ``tid``, ``idtyp`` and ``ver``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from isthmus.errors import AuthenticationError, ValidationError
from isthmus.identity import instance
from isthmus.identity.directory import APPLICATION, Directory, PrincipalRecord
from isthmus.identity.principal import Principal
from isthmus.identity.resources import RESOURCES, scope_for

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
DEFAULT_LIFETIME_S = 3600
DEFAULT_LEEWAY_S = 30
REQUIRED_CLAIMS = ["iss", "sub", "oid", "aud", "iat", "nbf", "exp"]
GET_A_TOKEN = "Get one from POST /oauth2/token with scope={scope}."


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    audience: str
    expires_at: dt.datetime

    @property
    def scope(self) -> str:
        return scope_for(self.audience)

    def __repr__(self) -> str:  # a token is a bearer credential: keep it out of reprs and logs
        return f"IssuedToken(audience={self.audience!r}, expires_at={self.expires_at.isoformat()})"


class TokenService:
    """Issues and validates access tokens for the principals of one ``Directory``.

    ``issuer`` defaults to ``https://login.isthmus.local/<tenant id>/v2.0``; ``clock`` (seconds since the epoch)
    dates the tokens issued. Principals looked up during validation are cached for ``cache_s`` seconds; writes
    through the same ``Directory`` object take effect at once, writes by other processes within ``cache_s``.
    """

    def __init__(
        self,
        directory: Directory,
        *,
        signing_key: str | bytes | None = None,
        issuer: str | None = None,
        lifetime_s: int = DEFAULT_LIFETIME_S,
        leeway_s: int = DEFAULT_LEEWAY_S,
        cache_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self._key = instance.signing_key(directory.database, signing_key)
        self.tenant_id = instance.tenant_id(directory.database)
        self.issuer = issuer or f"https://login.isthmus.local/{self.tenant_id}/v2.0"
        self.lifetime_s = lifetime_s
        self.leeway_s = leeway_s
        self.cache_s = cache_s
        self.clock = clock
        self._cache: dict[str, tuple[PrincipalRecord | None, float, int]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, directory: Directory, settings: Any, **kwargs: Any) -> TokenService:
        """Take the signing key and issuer from ``settings`` (``token_signing_key``/``token_issuer`` fields, or the same
        names in ``settings.extra``) when they are set."""
        extra: Mapping[str, Any] = getattr(settings, "extra", None) or {}
        key = getattr(settings, "token_signing_key", None) or extra.get("token_signing_key")
        issuer = getattr(settings, "token_issuer", None) or extra.get("token_issuer")
        return cls(directory, signing_key=key, issuer=issuer, **kwargs)

    # --- issuing ----------------------------------------------------------------------------------------------

    def issue(self, record: PrincipalRecord, audience: str, *, lifetime_s: int | None = None) -> IssuedToken:
        if audience not in RESOURCES:
            raise ValidationError(f"{audience} is not a resource of this instance.", target="audience")
        if record.disabled:
            raise AuthenticationError(f"The {record.kind} {record.name} is disabled.")
        lifetime = self.lifetime_s if lifetime_s is None else lifetime_s
        now = int(self.clock())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": record.object_id,
            "oid": record.object_id,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "name": record.display_name,
            "roles": list(record.directory_roles),
            "tid": self.tenant_id,
            "idtyp": "app" if record.kind == APPLICATION else "user",
            "ver": "2.0",
            "jti": str(uuid.uuid4()),
        }
        if record.kind == APPLICATION:
            claims["appid"] = record.name
        else:
            claims["preferred_username"] = record.name
            if record.email:
                claims["email"] = record.email
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"typ": "JWT"})
        log.info("identity: issued a token for %s %s, audience %s, valid %d s", record.kind, record.name, audience,
                 lifetime)
        return IssuedToken(token, lifetime, audience, dt.datetime.fromtimestamp(now + lifetime, dt.UTC))

    # --- validating -------------------------------------------------------------------------------------------

    def validate(self, token: str | None, audience: str) -> Principal:
        """The principal ``token`` stands for, if it is a valid token for ``audience``; else ``AuthenticationError``
        with a message that says what is wrong."""
        get_one = GET_A_TOKEN.format(scope=scope_for(audience))
        if not token:
            raise AuthenticationError("No token: send Authorization: Bearer <token>.", next_step=get_one)
        claims = self._decode(token, audience, get_one)
        record = self._principal(str(claims["oid"]))
        if record is None:
            raise AuthenticationError(f"The token's principal {claims['oid']} no longer exists in the directory.")
        if record.disabled:
            raise AuthenticationError(f"The token's {record.kind} {record.name} is disabled.",
                                      next_step="An administrator must enable it again.")
        return Principal.from_record(record, audience, claims)

    def _decode(self, token: str, audience: str, get_one: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("The token has expired.", next_step=get_one) from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthenticationError("The token is not valid yet (its nbf or iat is in the future).") from exc
        except jwt.InvalidAudienceError as exc:
            found = self._unverified(token).get("aud")
            raise AuthenticationError(
                f"The token's audience {found} is not valid for this API (expected {audience}).", next_step=get_one
            ) from exc
        except jwt.InvalidIssuerError as exc:
            found = self._unverified(token).get("iss")
            raise AuthenticationError(
                f"The token's issuer {found} is not valid (expected {self.issuer}).", next_step=get_one
            ) from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthenticationError("The token's signature is invalid.", next_step=get_one) from exc
        except jwt.InvalidAlgorithmError as exc:
            raise AuthenticationError(f"The token is not signed with {ALGORITHM}, the only algorithm accepted.",
                                      next_step=get_one) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationError(f"The token has no {exc.claim} claim.", next_step=get_one) from exc
        except jwt.DecodeError as exc:
            raise AuthenticationError("The token is malformed: it is not a signed JWT.", next_step=get_one) from exc
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"The token is invalid: {exc}.", next_step=get_one) from exc

    @staticmethod
    def _unverified(token: str) -> dict[str, Any]:
        """Claims of a token whose signature was already checked (PyJWT checks it before any claim)."""
        return jwt.decode(token, options={"verify_signature": False})

    def _principal(self, object_id: str) -> PrincipalRecord | None:
        now = time.monotonic()
        generation = self.directory.generation
        cached = self._cache.get(object_id)
        if cached is not None and cached[2] == generation and now - cached[1] < self.cache_s:
            return cached[0]
        record = self.directory.get_by_id(object_id)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[object_id] = (record, now, generation)
        return record
