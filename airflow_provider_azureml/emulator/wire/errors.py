"""Domain errors of the emulator: each class carries the service's error code and HTTP status.

The backend raises these; the app turns them into the service's error body (AEVA PascalCase or
run-history camelCase, chosen by the request path), so no router builds an error response by hand.
"""

from __future__ import annotations


class EmulatorError(Exception):
    """Base error; subclasses set ``code`` and ``status``."""

    code = "InternalServerError"
    status = 500

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target


class BadRequest(EmulatorError):
    code = "BadRequest"
    status = 400


class Unauthorized(EmulatorError):
    code = "Unauthorized"
    status = 401


class NotFound(EmulatorError):
    code = "NotFound"
    status = 404


class Conflict(EmulatorError):
    code = "Conflict"
    status = 409


class UnsupportedMediaType(EmulatorError):
    code = "UnsupportedMediaType"
    status = 415


class Throttled(EmulatorError):
    code = "TooManyRequests"
    status = 429


class ServiceUnavailable(EmulatorError):
    code = "ServiceUnavailable"
    status = 503


#: The error class an injected fault of a given HTTP status raises.
ERRORS_BY_STATUS: dict[int, type[EmulatorError]] = {
    cls.status: cls
    for cls in (
        EmulatorError,
        BadRequest,
        Unauthorized,
        NotFound,
        Conflict,
        UnsupportedMediaType,
        Throttled,
        ServiceUnavailable,
    )
}
