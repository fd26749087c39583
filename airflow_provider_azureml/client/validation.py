"""Strict argument types shared by the connection, the request models and the operators, and pydantic's
errors turned into messages that name the field and what it allows, never the value (it may be a secret).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field, StrictStr, ValidationError

NonEmptyStr = Annotated[StrictStr, Field(min_length=1)]
#: Retries of one HTTP call: a whole number, not a bool.
RetryCount = Annotated[int, Field(strict=True, ge=0)]
#: A duration or interval: an int or float (not a bool), finite and above zero.
PositiveSeconds = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]


def field_path(loc: Sequence[int | str]) -> str:
    """``("tags", "team")`` reads ``tags.team``; a mapping key that failed reads ``tags key None``."""
    names = [str(part) for part in loc]
    if names[-1:] == ["[key]"]:
        return f"{'.'.join(names[:-2])} key {names[-2]}"
    return ".".join(names)


def problem(err: Any) -> str:
    """One pydantic error as ``field: what is allowed``; pydantic's own texts never quote the input."""
    field = field_path(err["loc"])
    if err["type"] == "missing":
        return f"{field} is required"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}" if field else message


def describe(error: ValidationError) -> str:
    return "; ".join(problem(err) for err in error.errors())
