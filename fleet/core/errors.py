"""The FleetError family: one place that maps a domain failure to an HTTP status and a message.

The API turns these into JSON, the CLI into a one-line message and a non-zero exit.

A message is English with `{name}` fields filled from keyword values:
`Invalid("staff must be at least {least}", least=1)`. The unfilled text is also its msgid, so the
pages (and the API, for a client that asks in Chinese) show it translated from the errors
catalogue (fleet/pages/translations/*/LC_MESSAGES/errors.po); a test fails on a message
without its translation, and on an f-string, which could not be looked up.
"""

from __future__ import annotations

from typing import Any


class Listed(tuple[Any, ...]):
    """Several values as one field of a message: "a, b, c" in English (the pages say each in
    the user's words)."""

    def __format__(self, spec: str) -> str:
        return ", ".join(format(value, spec) for value in self)


class FleetError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, *, details: Any = None, **values: object) -> None:
        self.template = message
        self.values = values
        self.message = message.format(**values) if values else message
        super().__init__(self.message)
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

    def __init__(
        self, message: str, *, retry_after: int, details: Any = None, **values: object
    ) -> None:
        super().__init__(message, details=details, **values)
        self.retry_after = retry_after


class Unavailable(FleetError):
    """An outside service (geocoder, feed endpoint) could not be reached."""

    status_code = 503
    code = "unavailable"


class Busy(Unavailable):
    """The database is held by another writer longer than a request waits for it (SQLite's
    lock): nothing was changed, the same request will most likely succeed in a moment."""

    code = "busy"


class Reason:
    """Why one thing (a row of a file, a cell) was refused, as a msgid and its values, like a
    FleetError's message but not raised: `Reason("{value} is not a number", value="x")`. Kept
    as code and values, it is said in the reader's language where it is shown
    (`Texts.reason`); `str()` is the English."""

    __slots__ = ("template", "values")

    def __init__(self, template: str, **values: object) -> None:
        self.template = template
        self.values = values

    def __str__(self) -> str:
        return self.template.format(**self.values) if self.values else self.template

    def __repr__(self) -> str:
        return f"Reason({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Reason)
            and self.template == other.template
            and self.values == other.values
        )

    def __hash__(self) -> int:
        return hash(self.template)

    @classmethod
    def of(cls, exc: FleetError) -> Reason:
        """A domain error's message as a reason."""
        return cls(exc.template, **exc.values)


class BadValue(ValueError):
    """A value refused by a parser or a model's validator, with its reason (pydantic keeps the
    exception, so the reason reaches whoever shows the validation error)."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(str(reason))
        self.reason = reason
