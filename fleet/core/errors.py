"""The FleetError family: one place that maps a domain failure to an HTTP status and a message.

The API turns these into JSON, the CLI into a one-line message and a non-zero exit.
"""

from __future__ import annotations

from typing import Any


class FleetError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(FleetError):
    status_code = 404
    code = "not_found"


class Conflict(FleetError):
    status_code = 409
    code = "conflict"


class Invalid(FleetError):
    status_code = 422
    code = "invalid"


class Unauthorized(FleetError):
    status_code = 401
    code = "unauthorized"


class Forbidden(FleetError):
    status_code = 403
    code = "forbidden"


class TooManyRequests(FleetError):
    """Too many attempts from one client; the next is allowed after `retry_after` seconds."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class Unavailable(FleetError):
    """An outside service (geocoder, feed endpoint) could not be reached."""

    status_code = 503
    code = "unavailable"
