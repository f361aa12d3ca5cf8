"""The only place where errors become HTTP: status codes by error family, OData error bodies, and the translation of
database-driver exceptions at the boundary.

Body shape (OData JSON, as finance and operations and Dataverse answer)::

    {"error": {"code": "...", "message": "...", "target": "...", "details": [...], "innererror": {...}}}
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from isthmus import errors
from isthmus.odata.values import dumps

log = logging.getLogger(__name__)

STATUS_BY_FAMILY: tuple[tuple[type[BaseException], int], ...] = (
    (errors.AuthenticationError, 401),
    (errors.ForbiddenError, 403),
    (errors.NotFoundError, 404),
    (errors.MethodNotAllowedError, 405),
    (errors.ConflictError, 409),
    (errors.PreconditionFailedError, 412),
    (errors.PayloadTooLargeError, 413),
    (errors.UnsupportedMediaTypeError, 415),
    (errors.NotSupportedError, 501),
    (errors.ClientError, 400),
    (errors.RateLimitedError, 429),
    (errors.UnavailableError, 503),
    (errors.IsthmusError, 500),
)


def status_for(exc: BaseException) -> int:
    for family, status in STATUS_BY_FAMILY:
        if isinstance(exc, family):
            return status
    return 500


def translate(exc: BaseException) -> errors.IsthmusError:
    """Turn a driver exception into the family it belongs to; everything unknown is an internal error."""
    if isinstance(exc, errors.IsthmusError):
        return exc
    if isinstance(exc, IntegrityError):
        return errors.ConflictError(
            "The write conflicts with existing data (a duplicate key or a missing reference): "
            f"{_first_line(exc.orig)}.",
            next_step="Read the current data and retry with values that do not collide.",
        )
    if isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower():
        return errors.UnavailableError("The database is busy; retry in a moment.")
    if isinstance(exc, OperationalError):
        return errors.UnavailableError(f"The database is unavailable: {_first_line(exc.orig)}.")
    if isinstance(exc, DBAPIError):
        log.error("database error", exc_info=exc)
        return errors.IsthmusError("The database refused the request; the server log has the details.")
    log.error("unhandled error", exc_info=exc)
    return errors.IsthmusError("An unexpected error occurred; the server log has the details.", code="InternalServerError")


def _first_line(value: Any) -> str:
    return str(value).strip().splitlines()[0] if str(value).strip() else type(value).__name__


def error_body(exc: errors.IsthmusError) -> dict[str, Any]:
    error: dict[str, Any] = {"code": exc.code, "message": exc.full_message}
    if exc.target:
        error["target"] = exc.target
    if exc.details:
        error["details"] = [{"code": exc.code, "message": exc.message, "target": exc.target, **exc.details}]
    error["innererror"] = {"message": exc.full_message, "type": type(exc).__name__}
    return {"error": error}


def error_payload(exc: BaseException) -> tuple[int, bytes, dict[str, str]]:
    """(status, JSON body, extra headers) for any exception."""
    translated = translate(exc)
    status = status_for(translated)
    headers: dict[str, str] = {}
    if isinstance(translated, errors.RateLimitedError):
        headers["Retry-After"] = str(translated.retry_after_s)
    elif status == 503:
        headers["Retry-After"] = "1"
    return status, dumps(error_body(translated)), headers
