"""Tags that let a retried task find the run its previous try submitted.

The task state store only knows a run id once it has been written; a worker killed between submit and
write would resubmit. Every submission therefore carries a key derived from the task instance, and the
operator looks it up with ``runs:query`` before submitting.
"""

from __future__ import annotations

import hashlib
from typing import Any

IDEMPOTENCY_TAG = "airflow.idempotency_key"


def idempotency_key(dag_id: str, run_id: str, task_id: str, map_index: int | None) -> str:
    """Stable across tries of one task instance, distinct between task instances."""
    raw = f"{dag_id}\x1f{run_id}\x1f{task_id}\x1f{-1 if map_index is None else map_index}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def submission_tags(context: Any) -> dict[str, str]:
    """Tags identifying the task instance: the idempotency key plus readable ids for Studio filters."""
    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    return {
        IDEMPOTENCY_TAG: idempotency_key(ti.dag_id, ti.run_id, ti.task_id, map_index),
        "airflow.dag_id": ti.dag_id,
        "airflow.task_id": ti.task_id,
        "airflow.run_id": ti.run_id,
    }
