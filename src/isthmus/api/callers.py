"""Who a request runs as, in each application: the token's principal (put on the request by the authentication
middleware) mapped to the ERP's ``CallContext`` and to Dataverse's ``Caller``.

* Development mode (no token) runs as an unrestricted administrator.
* A principal mapped in the application (an ERP user with its ``objectid``, a Dataverse systemuser with its
  ``azureactivedirectoryobjectid`` or ``applicationid``) runs with that user's roles and companies.
* A principal with the directory's Administrator role that is not mapped in an environment administers it anyway,
  so a new environment is never locked out; anyone else unmapped gets a 403 that says how to map them.
"""

from __future__ import annotations

import threading
import time

from starlette.requests import Request

from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.records.service import Caller
from isthmus.erp.security import ErpSecurity
from isthmus.errors import AuthenticationError, ForbiddenError
from isthmus.identity import Principal, principal_of
from isthmus.storage import CallContext


def _principal(request: Request) -> Principal:
    principal = principal_of(request)
    if principal is None:  # only possible if the app runs without the authentication middleware
        raise AuthenticationError("No token: send Authorization: Bearer <token>.")
    return principal


def is_development(principal: Principal) -> bool:
    return bool(principal.claims.get("development_mode"))


def erp_context(request: Request, security: ErpSecurity, default_company: str) -> CallContext:
    principal = _principal(request)
    if is_development(principal):
        return CallContext(user=principal.name, company=default_company, principal_id=principal.object_id)
    try:
        return security.context(principal.object_id)
    except ForbiddenError:
        if principal.is_administrator:
            return CallContext(user=principal.name, company=default_company, principal_id=principal.object_id)
        raise


class DataverseCallers:
    """Principal → Dataverse ``Caller`` for one environment, cached a few seconds (resolving one takes several
    queries: the user, teams, roles and privileges). Role changes apply within ``ttl`` seconds."""

    def __init__(self, environment: DataverseEnvironment, *, ttl: float = 5.0) -> None:
        self.environment = environment
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def caller(self, request: Request) -> Caller:
        principal = _principal(request)
        if is_development(principal):
            return self.environment.admin()
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(principal.object_id)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        try:
            found = self.environment.caller_for(principal.object_id, application=principal.is_application)
        except ForbiddenError:
            if not principal.is_administrator:
                raise
            found = self.environment.admin()
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[principal.object_id] = (now, found)
        return found
