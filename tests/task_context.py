"""A stand-in for the task runner's context, for calling operator methods directly.

Only what our operators and ``ResumableJobMixin`` read is provided: ``ti`` (ids, ``stats_tags``,
``xcom_push``) and ``task_state_store`` (``get`` / ``set``). Whole DAG runs in real Airflow are
covered by ``tests/dags``; these keep scenario tests (faults, crashes between submit and store, kills)
fast and precise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TaskInstanceStandIn:
    dag_id: str = "test_dag"
    run_id: str = "manual__2026-11-27T00:00:00+00:00"
    task_id: str = "submit"
    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)
    stats_tags: dict[str, str] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


class TaskStateStoreStandIn(dict):
    """The task state store survives retries of one task instance: reuse the object across tries."""

    def set(self, key: str, value: Any) -> None:
        self[key] = value


def make_context(
    *, ti: TaskInstanceStandIn | None = None, state_store: TaskStateStoreStandIn | None = None
) -> dict[str, Any]:
    return {
        "ti": ti or TaskInstanceStandIn(),
        "task_state_store": TaskStateStoreStandIn() if state_store is None else state_store,
    }
