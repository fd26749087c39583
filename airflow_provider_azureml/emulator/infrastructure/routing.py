"""Which route of :mod:`..wire.routes` a request is, and how often each was hit.

The fault injector matches rules by these names and ``GET /_emulator/requests`` reports the counts.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any

from starlette.routing import compile_path

from airflow_provider_azureml.emulator.wire.routes import ROUTES, Route

_COMPILED: list[tuple[str, str, re.Pattern[str]]] = [
    (name, route.method, compile_path(route.template)[0]) for name, route in ROUTES.items()
]


def route_name_of(route: Route) -> str:
    """The table name of a route constant (``routes.GET_PIPELINE_RUN`` -> ``"GET_PIPELINE_RUN"``)."""
    return next(name for name, value in ROUTES.items() if value == route)


def match_route(method: str, path: str) -> tuple[str | None, dict[str, Any]]:
    """The route name and path parameters of a request, or ``(None, {})`` for paths outside the table."""
    for name, route_method, pattern in _COMPILED:
        if route_method == method:
            found = pattern.match(path)
            if found:
                return name, found.groupdict()
    return None, {}


class RequestCounter:
    """Requests per ``"METHOD ROUTE_NAME"`` (or ``"METHOD path"`` off the table), and per run id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self._runs: Counter[str] = Counter()

    def record(self, method: str, route: str | None, path: str, params: dict[str, Any]) -> None:
        with self._lock:
            self._routes[f"{method} {route or path}"] += 1
            if "run_id" in params:
                self._runs[params["run_id"]] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._routes.values()),
                "routes": dict(self._routes),
                "runs": dict(self._runs),
            }

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._runs.clear()
