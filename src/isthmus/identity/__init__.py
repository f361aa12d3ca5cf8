"""Identity: the directory of people and applications, the OAuth 2.0 token endpoint that signs them in, the JWT
access tokens it issues, and the middleware that requires one on every API.

* ``directory`` — principals (users, applications) with hashed secrets (``hashing``), in the control-plane database
  (tables in ``schema``; per-instance tenant id and signing key in ``instance``);
* ``resources`` — the three audiences (ERP, Dataverse, admin) and how a token request names one;
* ``tokens`` — ``TokenService``: issue and validate signed access tokens;
* ``endpoint`` — ``POST /oauth2/token`` (client credentials and password grants);
* ``principal`` / ``middleware`` — the caller of a request, and the ASGI middleware that establishes it;
* ``demo`` — the demo people and applications ``isthmus up`` creates.
"""

from isthmus.identity.demo import DemoIdentity, development_principal, ensure_demo_identities, reset_secret
from isthmus.identity.directory import ADMINISTRATOR, Directory, PrincipalRecord
from isthmus.identity.endpoint import token_endpoint, token_route
from isthmus.identity.middleware import Authentication
from isthmus.identity.principal import Principal, principal_of
from isthmus.identity.resources import ADMIN, DATAVERSE, ERP, RESOURCES
from isthmus.identity.tokens import IssuedToken, TokenService

PROTECTED_PATHS = {"/data": ERP, "/api/data": DATAVERSE, "/admin": ADMIN}
"""What ``Authentication`` protects in the Isthmus app: each API's path prefix and the audience it requires
(``/api/data`` rather than ``/api/data/v9.2``, so any Web API version that gets a route is covered too)."""

__all__ = [
    "ADMIN",
    "ADMINISTRATOR",
    "DATAVERSE",
    "ERP",
    "PROTECTED_PATHS",
    "RESOURCES",
    "Authentication",
    "DemoIdentity",
    "Directory",
    "IssuedToken",
    "Principal",
    "PrincipalRecord",
    "TokenService",
    "development_principal",
    "ensure_demo_identities",
    "principal_of",
    "reset_secret",
    "token_endpoint",
    "token_route",
]
