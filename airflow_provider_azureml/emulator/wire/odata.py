"""The OData subset of ``runs:query`` filters that the SDK builds (``_restclient/_odata/constants.py``).

Clauses are joined with ``and`` and ``or`` (``and`` binding tighter, as in OData; parentheses group);
each is one of ``Tags/{key} eq {value}``, ``Tags/{key} ne null or Tags/{key} eq null`` (tag exists),
``Properties/{key} eq {value}``, ``Status eq {value}``, ``RunId eq {value}`` or
``CreatedUtc ge|gt|le|lt {datetime}``. Values may be bare or single-quoted. ``RunId eq a or RunId eq b
...`` is how ``ExperimentClient.get_runs_by_run_ids`` asks for many runs at once.
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
    """``kind`` "eq", "exists" or "time"; "in" (``value`` the set of values ``field`` may equal); or
    "any" (``value`` a tuple of alternatives, each a tuple of clauses that must all hold)."""

    kind: str
    field: str
    key: str | None
    value: Any
    op: str = "eq"


def parse_filter(text: str | None) -> list[Clause]:
    """Parse a filter into clauses that must all hold; anything outside the supported subset is a 400
    naming the clause."""
    if not text or not text.strip():
        return []
    return _conjunction(text)


def matches(clauses: Iterable[Clause], fields: Mapping[str, Any]) -> bool:
    return all(_matches(clause, fields) for clause in clauses)


def _matches(clause: Clause, fields: Mapping[str, Any]) -> bool:
    if clause.kind == "any":
        return any(matches(alternative, fields) for alternative in clause.value)
    if clause.kind == "in":
        return str(fields[clause.field]) in clause.value
    if clause.kind == "time":
        return bool(_TIME_OPS[clause.op](float(fields[clause.field]), clause.value))
    if clause.key is None:
        return str(fields[clause.field]) == clause.value
    mapping = fields[clause.field]
    return clause.key in mapping if clause.kind == "exists" else mapping.get(clause.key) == clause.value


def _conjunction(text: str) -> list[Clause]:
    """The clauses of ``text``, all of which must hold: ``or`` splits first, since ``and`` binds tighter."""
    part = _unwrap(text)
    if _PATTERNS[0][1].match(part):  # the tag-exists form is an ``or`` of its own
        return [_parse_clause(part)]
    alternatives = _split(part, "or")
    if len(alternatives) > 1:
        return [_any(alternatives)]
    conjuncts = _split(part, "and")
    if len(conjuncts) == 1:
        return [_parse_clause(part)]
    return [clause for conjunct in conjuncts for clause in _conjunction(conjunct)]


def _any(alternatives: list[str]) -> Clause:
    """An ``or`` of alternatives; ``RunId eq a or RunId eq b ...`` becomes one set look-up."""
    branches = tuple(tuple(_conjunction(alternative)) for alternative in alternatives)
    equalities = [b[0] for b in branches if len(b) == 1 and b[0].kind == "eq" and b[0].key is None]
    if len(equalities) == len(branches) and len({clause.field for clause in equalities}) == 1:
        return Clause("in", equalities[0].field, None, frozenset(clause.value for clause in equalities))
    return Clause("any", "", None, branches)


def _split(text: str, word: str) -> list[str]:
    """Split on top-level `` {word} `` (outside quotes and parentheses, any case)."""
    separator = f" {word} "
    parts, depth, quoted, start, index = [], 0, False, 0, 0
    while index < len(text):
        char = text[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        elif not quoted and depth == 0 and text[index : index + len(separator)].lower() == separator:
            parts.append(text[start:index])
            start = index = index + len(separator)
            continue
        index += 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def _unwrap(part: str) -> str:
    """``part`` without the parentheses that enclose all of it (not those of ``(a) and (b)``)."""
    part = part.strip()
    while part.startswith("(") and _closing(part) == len(part) - 1:
        part = part[1:-1].strip()
    return part


def _closing(text: str) -> int:
    """Where the parenthesis opening ``text`` closes (-1 if it does not)."""
    depth, quoted = 0, False
    for index, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
            if depth == 0:
                return index
    return -1


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
