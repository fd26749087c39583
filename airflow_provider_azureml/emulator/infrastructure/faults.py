"""Deterministic fault injection: the next ``count`` matching requests misbehave, then the rule is spent.

Kinds:

- ``throttle``: 429 with ``Retry-After``;
- ``error``: ``status`` (default 503) with the service's error body;
- ``delay``: sleep ``delay`` seconds, then serve normally;
- ``drop``: close the connection without any HTTP response;
- ``drop_after``: serve the request (a submission does happen), then close the connection instead of
  answering: the lost-response case.

A rule matches a route name of :mod:`..wire.routes` and/or a ``path`` glob
(:func:`glob_match`), and a method (``*`` for any). Rules are tried in the order they were added.

Paths are never matched with regular expressions: rules come from the admin API and are tried on the
event loop for every request, and a backtracking pattern such as ``(a+)+b`` takes time exponential in
the path's length, during which nothing else is served.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from airflow_provider_azureml.emulator.infrastructure.routing import ROUTES, route_name_of
from airflow_provider_azureml.emulator.wire.routes import Route

FaultKind = Literal["throttle", "error", "delay", "drop", "drop_after"]
PATH_HELP = "a glob on the whole path: '*' is any run of characters, all else literal, e.g. '*/DataTypes'"


def glob_match(pattern: str, path: str) -> bool:
    """Whether all of ``path`` matches ``pattern``, where only ``*`` is special (any run, ``/`` included).

    The literal pieces between stars are found left to right with ``str.find``, each from where the
    previous one ended: no backtracking, so a pattern costs about one pass over the path.
    """
    head, *rest = pattern.split("*")
    if not rest:
        return path == pattern
    *middle, tail = rest
    end = len(path) - len(tail)
    if end < len(head) or not path.startswith(head) or not path.endswith(tail):
        return False
    position = len(head)
    for piece in middle:
        found = path.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


class FaultRule(BaseModel):
    """One scripted fault; also the body of ``POST /_emulator/faults``."""

    model_config = ConfigDict(extra="forbid")

    route: str | None = Field(default=None, description="route name from routes.py, e.g. GET_PIPELINE_RUN")
    path: str | None = Field(default=None, max_length=1024, description=PATH_HELP)
    method: str = "*"
    kind: FaultKind
    count: int = Field(default=1, ge=1)
    status: int | None = Field(default=None, ge=400, le=599)
    retry_after: float = Field(default=1.0, ge=0)
    delay: float = Field(default=0.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _no_regex(cls, data: Any) -> Any:
        """Refuse the former ``path_regex`` by name, rather than as one more unknown field."""
        if isinstance(data, dict) and "path_regex" in data:
            raise ValueError(
                "path_regex is no longer accepted (regular expressions can backtrack): "
                f"use 'path', {PATH_HELP}, or 'route', a route name"
            )
        return data

    @model_validator(mode="after")
    def _valid(self) -> FaultRule:
        if self.route is not None and self.route not in ROUTES:
            raise ValueError(f"unknown route name '{self.route}'")
        if self.path is not None and not self.path.startswith(("/", "*")):
            raise ValueError(
                f"path '{self.path}' can never match: it must start with '/' or '*' ({PATH_HELP})"
            )
        self.method = self.method.upper()
        return self

    @property
    def http_status(self) -> int:
        if self.kind == "throttle":
            return 429
        return self.status or 503

    def matches(self, method: str, route: str | None, path: str) -> bool:
        if self.method not in ("*", method):
            return False
        if self.route is not None and self.route != route:
            return False
        return self.path is None or glob_match(self.path, path)


class FaultInjector:
    """Holds the rules; shared by the app (which consumes them) and tests or the admin API (which add)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def inject(
        self,
        route_or_path: str | Route | None,
        method: str | None = None,
        kind: FaultKind = "error",
        count: int = 1,
        *,
        status: int | None = None,
        retry_after: float = 1.0,
        delay: float = 0.0,
    ) -> FaultRule:
        """Add a rule. A ``Route`` or a route name matches that route (and its method unless given);
        any other string is a path glob (:func:`glob_match`); ``None`` matches every request."""
        route: str | None = None
        path: str | None = None
        if isinstance(route_or_path, Route):
            route, method = route_name_of(route_or_path), method or route_or_path.method
        elif route_or_path in ROUTES:
            route = route_or_path
        else:
            path = route_or_path
        return self.add(
            FaultRule(
                route=route,
                path=path,
                method=method or "*",
                kind=kind,
                count=count,
                status=status,
                retry_after=retry_after,
                delay=delay,
            )
        )

    def take(self, method: str, route: str | None, path: str) -> FaultRule | None:
        """The first rule matching this request, with one use consumed."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, route, path):
                    rule.count -= 1
                    if rule.count == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def pending(self) -> list[FaultRule]:
        with self._lock:
            return [rule.model_copy() for rule in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
