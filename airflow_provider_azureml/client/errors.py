"""Exceptions raised by the Azure ML REST client.

    AzureMLError                      base: carries status, code, message, target and correlation id
     ├── AzureMLConfigError           bad connection or argument; raised before any request
     ├── AzureMLHostNotAllowedError   a URL whose host may not receive the bearer token
     ├── AzureMLConnectionError       transport failed (DNS, refused, reset, timeout) after retries
     │    └── AzureMLAmbiguousSubmitError  a non-idempotent request was sent but got no answer: not resent
     └── AzureMLServiceError          the service answered with an error status
          ├── AzureMLNotFoundError    404
          ├── AzureMLAuthError        401 / 403
          │    └── AzureMLCredentialRefusedError  403, or 401 again with a new token: what to check
          └── AzureMLThrottledError   429 after retries

Messages never contain tokens, secrets or SAS query strings: URLs are shown without their query, and every
secret the process holds is scrubbed from the text (``redaction``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_azureml.client.redaction import scrub


def redact_url(url: str) -> str:
    """Drop the query string (SAS signatures, tokens) and any userinfo from a URL for display."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError:  # a port that is not a number: show the host alone
        netloc = host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class AzureMLError(Exception):
    """Base error; ``str()`` shows code, message, target and correlation id."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        target: str | None = None,
        correlation_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        message = scrub(message)
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.target = target
        self.correlation_id = correlation_id
        self.method = method
        self.url = redact_url(url) if url else None

    def __str__(self) -> str:
        parts = []
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}")
        if self.code:
            parts.append(f"({self.code})")
        parts.append(self.message)
        if self.target:
            parts.append(f"[target: {self.target}]")
        if self.method and self.url:
            parts.append(f"[{self.method} {self.url}]")
        if self.correlation_id:
            parts.append(f"[correlation id: {self.correlation_id}]")
        return scrub(" ".join(parts))


class AzureMLConfigError(AzureMLError, ValueError):
    """Invalid connection field or argument, found before anything was sent."""


class AzureMLHostNotAllowedError(AzureMLConfigError):
    """The URL's host is not an Azure ML host of the configured cloud nor the configured endpoint."""


class AzureMLConnectionError(AzureMLError):
    """The request never got an HTTP answer.

    ``request_sent`` is False only when the failure certainly happened before the request left (DNS,
    connection refused, connect timeout); otherwise the service may have received and acted on it.
    """

    def __init__(self, message: str, *, request_sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.request_sent = request_sent


class AzureMLAmbiguousSubmitError(AzureMLConnectionError):
    """A submit was sent but no answer came back, so a run may or may not exist.

    Not retried blindly: the caller looks the run up by its idempotency tag (``runs:query``) first.
    """


class AzureMLServiceError(AzureMLError):
    """The service answered with an error status."""


class AzureMLNotFoundError(AzureMLServiceError):
    pass


class AzureMLAuthError(AzureMLServiceError):
    pass


class AzureMLCredentialRefusedError(AzureMLAuthError):
    """A 403, or a 401 again after the token was renewed: the message says what to check."""


class AzureMLThrottledError(AzureMLServiceError):
    pass


def _first(mapping: Any, *keys: str) -> Any:
    if not isinstance(mapping, dict):
        return None
    for key in keys:
        if mapping.get(key) is not None:
            return mapping[key]
    return None


def error_from_response(
    status_code: int, body: Any, headers: dict[str, str], *, method: str, url: str
) -> AzureMLServiceError:
    """Build the exception for an error answer, reading both AEVA (PascalCase) and history (camelCase)."""
    error = _first(body, "Error", "error") or {}
    correlation = _first(body, "Correlation", "correlation") or {}
    message = _first(error, "Message", "message")
    if not message:
        message = body if isinstance(body, str) and body else f"request failed with HTTP {status_code}"
    correlation_id = (
        _first(correlation, "operation", "request", "RequestId")
        or headers.get("x-ms-request-id")
        or headers.get("x-ms-client-request-id")
    )
    cls: type[AzureMLServiceError] = {
        404: AzureMLNotFoundError,
        401: AzureMLAuthError,
        403: AzureMLAuthError,
        429: AzureMLThrottledError,
    }.get(status_code, AzureMLServiceError)
    return cls(
        scrub(str(message))[:2000],
        status_code=status_code,
        code=_first(error, "Code", "code"),
        target=_first(error, "Target", "target"),
        correlation_id=correlation_id,
        method=method,
        url=url,
    )
