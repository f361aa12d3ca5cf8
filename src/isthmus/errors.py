"""The one error root of Isthmus, its recovery markers, and the families every package raises.

Two axes, as in docs/design/errors.md:

* the *family* says what went wrong (the caller's request, a business rule, a missing record, a dependency);
* the *recovery marker* says what a runner should do about it: ``RetryableError`` (the same operation may succeed
  later, so back off and retry) or ``TerminalError`` (retrying the same input fails the same way).

Runners (relays, job runners, sync coordinators) branch once, on the marker. The HTTP layer maps families to status
codes in one place (``isthmus.api.errors``). Messages carry the ids involved and, where there is one, the next step.
"""

from __future__ import annotations

from typing import Any


class RetryableError:
    """Marker: the same operation may succeed later (a dependency was down, a lock was busy)."""


class TerminalError:
    """Marker: the same input fails the same way every time; do not retry it unchanged."""


class IsthmusError(Exception):
    """Root of every error Isthmus raises on purpose.

    ``target`` names the field, option or resource at fault (OData's ``error.target``); ``next_step`` tells the reader
    what to do about it; ``details`` carries structured facts (figures of a refused credit check, for example).
    """

    code: str = "IsthmusError"

    def __init__(
        self,
        message: str,
        *,
        target: str | None = None,
        next_step: str | None = None,
        details: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message
        self.target = target
        self.next_step = next_step
        self.details = details or {}
        if code is not None:
            self.code = code
        super().__init__(self.full_message)

    @property
    def full_message(self) -> str:
        return f"{self.message} {self.next_step}" if self.next_step else self.message


# --- the caller's mistakes (4xx) ---------------------------------------------------------------------------------


class ClientError(IsthmusError, TerminalError):
    """The request cannot be served as sent; the caller must change it."""

    code = "BadRequest"


class InvalidRequestError(ClientError):
    """Malformed syntax: a URL, a query option, a body that does not parse."""

    code = "InvalidRequest"


class QueryOptionError(InvalidRequestError):
    """A system query option ($filter, $select, ...) is malformed or names something that does not exist."""

    code = "InvalidQueryOption"


class ValidationError(ClientError):
    """A value has the wrong type or shape, or a mandatory value is missing."""

    code = "ValidationFailed"


class BusinessRuleError(ClientError):
    """The business logic refused the operation (credit check, state transition, closed period...)."""

    code = "BusinessRuleViolation"


class AuthenticationError(ClientError):
    """No valid credentials were presented (answered with 401)."""

    code = "Unauthorized"


class ForbiddenError(ClientError):
    """The caller is known but may not do this (answered with 403)."""

    code = "Forbidden"


class NotFoundError(ClientError):
    """The addressed resource does not exist."""

    code = "NotFound"


class MethodNotAllowedError(ClientError):
    """The resource exists but does not support this HTTP method."""

    code = "MethodNotAllowed"


class ConflictError(ClientError):
    """The write collides with existing data (a duplicate key, a record still referenced)."""

    code = "Conflict"


class PreconditionFailedError(ClientError):
    """An If-Match / If-None-Match precondition does not hold."""

    code = "PreconditionFailed"


class PayloadTooLargeError(ClientError):
    """The request body exceeds the configured limit."""

    code = "PayloadTooLarge"


class UnsupportedMediaTypeError(ClientError):
    """The request body is not in a format the endpoint reads."""

    code = "UnsupportedMediaType"


class NotSupportedError(ClientError):
    """A valid OData construct that this server deliberately does not implement (answered with 501)."""

    code = "NotImplemented"


# --- not the caller's fault -----------------------------------------------------------------------------------------


class UnavailableError(IsthmusError, RetryableError):
    """A dependency (database, broker, the other app) is unreachable right now."""

    code = "ServiceUnavailable"


class RateLimitedError(IsthmusError, RetryableError):
    """The caller exceeded a service-protection limit; ``retry_after_s`` says when to try again."""

    code = "TooManyRequests"

    def __init__(self, message: str, *, retry_after_s: int = 1, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_s = retry_after_s


class ConfigurationError(IsthmusError, TerminalError):
    """The system is configured in a way that cannot work; an operator must fix the configuration."""

    code = "ConfigurationError"
