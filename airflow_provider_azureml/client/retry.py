"""The retry policy shared by the sync (requests) and async (httpx) clients: pure decisions, no I/O.

What is retried:

- idempotent calls (GET, DELETE, PUT and read-only POSTs like ``runs:query``): HTTP 429, 500, 502, 503,
  504, every connection error and every timeout;
- non-idempotent calls (pipeline submits): only answers that say the request was refused before anything
  happened (429, 503) and failures before the request left (DNS, refused, connect timeout). A read timeout
  or a dropped connection after a submit was sent is not resent: the client raises
  ``AzureMLAmbiguousSubmitError`` and the caller looks the run up by its tag first.

Waits grow exponentially with jitter, or follow ``Retry-After`` (seconds or HTTP date, capped). Both the
number of retries and the total time are bounded; giving up surfaces the last answer's error.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from tenacity import (
    RetryCallState,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
    stop_before_delay,
)

from airflow_provider_azureml.client.errors import (
    AzureMLConfigError,
    AzureMLConnectionError,
    AzureMLNotFoundError,
    AzureMLServiceError,
    redact_url,
)

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Answers meaning "refused, nothing done": safe to resend even a submit.
REFUSED_STATUSES = frozenset({429, 503})
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
RETRY_AFTER_MAX_SECONDS = 120.0


@dataclass(frozen=True)
class RetrySettings:
    """Per-hook knobs; the field names are the hook's keyword arguments, so ``asdict`` feeds a trigger."""

    max_retries: int = 6
    retry_max_seconds: float = 300.0
    request_timeout: float = 60.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RawResponse:
    """What a transport returns: status, lower-cased headers and the undecoded body."""

    status: int
    headers: Mapping[str, str]
    content: bytes


def is_retryable_response(response: RawResponse, *, idempotent: bool) -> bool:
    return response.status in (RETRYABLE_STATUSES if idempotent else REFUSED_STATUSES)


def is_retryable_error(error: BaseException, *, idempotent: bool) -> bool:
    return isinstance(error, AzureMLConnectionError) and (idempotent or not error.request_sent)


def is_transient(error: BaseException) -> bool:
    """An error that outlived the client's retries but is worth waiting out in a long poll loop."""
    if isinstance(error, AzureMLConnectionError):
        return True
    return isinstance(error, AzureMLServiceError) and error.status_code in RETRYABLE_STATUSES


def is_permanent(error: BaseException) -> bool:
    """An error no retry can fix: bad input or connection, a missing entity, a refused request."""
    if isinstance(error, (AzureMLConfigError, AzureMLNotFoundError)):
        return True
    return isinstance(error, AzureMLServiceError) and error.status_code in (400, 401, 403)


def add_jitter(seconds: float) -> float:
    """Spread retries of many clients: a random point in the upper half of the wait."""
    return seconds * random.uniform(0.5, 1.0)


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff after the ``attempt``-th failure (1-based), capped, with jitter."""
    return add_jitter(min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)))


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date), capped; None if absent."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_SECONDS)


def wait_seconds(retry_state: RetryCallState) -> float:
    """tenacity ``wait``: the server's ``Retry-After`` when given, else exponential backoff."""
    outcome = retry_state.outcome
    if outcome is not None and not outcome.failed:
        retry_after = parse_retry_after(outcome.result().headers.get("retry-after"))
        if retry_after is not None:
            return retry_after
    return backoff_seconds(retry_state.attempt_number)


def _describe(outcome: Any) -> str:
    if outcome.failed:
        return type(outcome.exception()).__name__
    return f"HTTP {outcome.result().status}"


def _last_outcome(retry_state: RetryCallState) -> Any:
    """On giving up, hand back the last answer (mapped to an error by the caller) or re-raise."""
    return retry_state.outcome.result()  # type: ignore[union-attr]


def retry_options(settings: RetrySettings, *, method: str, url: str, idempotent: bool) -> dict[str, Any]:
    """Keyword arguments for tenacity's ``Retrying`` / ``AsyncRetrying`` (the caller adds ``sleep``)."""
    shown = f"{method} {redact_url(url)}"

    def before_sleep(retry_state: RetryCallState) -> None:
        log.warning(
            "Azure ML %s: %s; retry %d of %d in %.1f s",
            shown,
            _describe(retry_state.outcome),
            retry_state.attempt_number,
            settings.max_retries,
            retry_state.upcoming_sleep,
        )

    return {
        "retry": retry_if_exception(lambda e: is_retryable_error(e, idempotent=idempotent))
        | retry_if_result(lambda r: is_retryable_response(r, idempotent=idempotent)),
        "wait": wait_seconds,
        "stop": stop_after_attempt(settings.max_retries + 1) | stop_before_delay(settings.retry_max_seconds),
        "before_sleep": before_sleep,
        "retry_error_callback": _last_outcome,
    }
