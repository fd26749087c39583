"""The OData subset of ``runs:query`` filters that the SDK builds (``_restclient/_odata/constants.py``).

Clauses are joined with ``and``; each is one of ``Tags/{key} eq {value}``, ``Tags/{key} ne null or
Tags/{key} eq null`` (tag exists), ``Properties/{key} eq {value}``, ``Status eq {value}``,
``RunId eq {value}`` or ``CreatedUtc ge|gt|le|lt {datetime}``. Values may be bare or single-quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from airflow_provider_azureml.emulator.wire.errors import BadRequest

_VALUE = r"(?P<value>'(?:[^']|'')*'|[^\s()]+)"
_PATTERNS = [
    (
        "exists",
        re.compile(r"^(?P<field>Tags|Properties)/(?P<key>\S+) ne null or (?P=field)/(?P=key) eq null$"),
    ),
    ("eq", re.compile(rf"^(?P<field>Tags|Properties)/(?P<key>\S+) eq {_VALUE}$")),
    ("eq", re.compile(rf"^(?P<field>Status|RunId) eq {_VALUE}$")),
    ("time", re.compile(rf"^(?P<field>CreatedUtc) (?P<op>ge|gt|le|lt) {_VALUE}$")),
]
_TIME_OPS = {"ge": float.__ge__, "gt": float.__gt__, "le": float.__le__, "lt": float.__lt__}


class Clause(NamedTuple):
    kind: str  # "eq", "exists" or "time"
    field: str
    key: str | None
    value: Any
    op: str = "eq"


def parse_filter(text: str | None) -> list[Clause]:
    """Parse a filter into clauses; anything outside the supported subset is a 400 naming the clause."""
    if not text or not text.strip():
        return []
    return [_parse_clause(part) for part in _split_and(text)]


def matches(clauses: Iterable[Clause], fields: Mapping[str, Any]) -> bool:
    return all(_matches(clause, fields) for clause in clauses)


def _matches(clause: Clause, fields: Mapping[str, Any]) -> bool:
    if clause.kind == "time":
        return bool(_TIME_OPS[clause.op](float(fields[clause.field]), clause.value))
    if clause.key is None:
        return str(fields[clause.field]) == clause.value
    mapping = fields[clause.field]
    return clause.key in mapping if clause.kind == "exists" else mapping.get(clause.key) == clause.value


def _split_and(text: str) -> list[str]:
    """Split on top-level `` and `` (outside quotes and parentheses), dropping outer parentheses."""
    parts, depth, quoted, start, index = [], 0, False, 0, 0
    while index < len(text):
        char = text[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        elif not quoted and depth == 0 and text[index : index + 5].lower() == " and ":
            parts.append(text[start:index])
            start = index = index + 5
            continue
        index += 1
    parts.append(text[start:])
    return [_unwrap(part.strip()) for part in parts]


def _unwrap(part: str) -> str:
    while part.startswith("(") and part.endswith(")"):
        part = part[1:-1].strip()
    return part


def _parse_clause(part: str) -> Clause:
    for kind, pattern in _PATTERNS:
        match = pattern.match(part)
        if match is None:
            continue
        groups = match.groupdict()
        value = _unquote(groups["value"]) if "value" in groups else None
        if kind == "time":
            return Clause(kind, groups["field"], None, _timestamp(value or ""), groups["op"])
        return Clause(kind, groups["field"], groups.get("key"), value)
    raise BadRequest(f"Unsupported filter clause '{part}'.", target="filter")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def _timestamp(value: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid datetime '{value}' in filter.", target="filter") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
