"""Scenario 5: 429 and 503 bursts and dropped connections during submit and during the waits, and an
emulator restart (same ``--state``) mid-wait: every DAG run ends correctly, none duplicated, none lost.

Deferred runs have no Airflow retry and synchronous runs must succeed on their first try, so every
fault must be absorbed by the provider itself. The emulator's time is held (and survives the restart)
until the faults after the restart are used: every run is mid-wait throughout, however slow the machine.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.acceptance.conftest import unique_run_id
from tests.acceptance.harness import wait_until

pytestmark = pytest.mark.timeout(600)

SUBMIT_FAULTS: list[dict[str, Any]] = [
    {"route": "QUERY_RUNS", "kind": "error", "status": 503, "count": 2},
    {"route": "SUBMIT_ENDPOINT", "kind": "throttle", "retry_after": 1, "count": 2},
    {"route": "SUBMIT_ENDPOINT", "kind": "error", "status": 503, "count": 2},
    {"route": "SUBMIT_ENDPOINT", "kind": "drop", "count": 1},
    {"route": "SUBMIT_ENDPOINT", "kind": "drop_after", "count": 1},  # submitted, answer lost
]
WAIT_FAULTS: list[dict[str, Any]] = [
    {"route": "QUERY_RUNS", "kind": "throttle", "retry_after": 1, "count": 3},  # the triggers' shared read
    {"route": "GET_PIPELINE_RUN", "kind": "throttle", "retry_after": 1, "count": 3},
    {"route": "GET_PIPELINE_RUN", "kind": "error", "status": 503, "count": 3},
    {"route": "GET_PIPELINE_RUN", "kind": "drop", "count": 2},
    {"route": "GET_RUN_CHILDREN", "kind": "error", "status": 503, "count": 2},
]
AFTER_RESTART_FAULTS: list[dict[str, Any]] = [
    {"route": "QUERY_RUNS", "kind": "error", "status": 503, "count": 3},
    {"route": "GET_PIPELINE_RUN", "kind": "error", "status": 503, "count": 3},
    {"route": "GET_PIPELINE_RUN", "kind": "throttle", "retry_after": 2, "count": 2},
]
DOWN_SECONDS = 5.0
RUNS = [("acceptance_deferred", f"faults_deferred{i}") for i in range(4)] + [
    ("acceptance_sync", f"faults_sync{i}") for i in range(2)
]


def inject(emulator, rules) -> None:
    for rule in rules:
        emulator.fault(**rule)


def test_faults_and_a_restart_lose_and_duplicate_nothing(airflow, fresh_emulator, figures):
    emulator = fresh_emulator
    emulator.hold()
    inject(emulator, SUBMIT_FAULTS)
    started = time.monotonic()
    runs = [(dag_id, unique_run_id(name)) for dag_id, name in RUNS]
    for dag_id, run_id in runs:
        assert airflow.trigger(dag_id, run_id).status_code == 200

    wait_until(
        lambda: all(emulator.submissions(dag_id=d, run_id=r) for d, r in runs),
        timeout=180,
        what="a submission for every DAG run",
    )
    wait_until(lambda: not emulator.admin("GET", "faults"), timeout=60, what="the submit faults to be used")
    submitted = time.monotonic() - started

    inject(emulator, WAIT_FAULTS)
    wait_until(lambda: not emulator.admin("GET", "faults"), timeout=90, what="the wait faults to be used")
    remote = {(d, r): emulator.submissions(dag_id=d, run_id=r)[0]["run_id"] for d, r in runs}
    mid_wait = {run: emulator.run_status(run) for run in remote.values()}
    assert set(mid_wait.values()) <= {"NotStarted", "Queued", "Running"}, f"not mid-wait: {mid_wait}"

    emulator.restart(down_for=DOWN_SECONDS)
    inject(emulator, AFTER_RESTART_FAULTS)
    wait_until(lambda: not emulator.admin("GET", "faults"), timeout=120, what="the faults after the restart")
    deferred = [run_id for dag_id, run_id in runs if dag_id == "acceptance_deferred"]
    airflow.wait_for_deferred("acceptance_deferred", deferred, "train", timeout=120)
    emulator.release()

    final = {(d, r): airflow.wait_for_run(d, r, timeout=300) for d, r in runs}
    elapsed = time.monotonic() - started

    assert set(final.values()) == {"success"}, final
    for (dag_id, run_id), run in remote.items():
        received = emulator.submissions(dag_id=dag_id, run_id=run_id)
        assert [s["run_id"] for s in received] == [run], f"{dag_id}/{run_id}: {len(received)} submissions"
        assert emulator.run_status(run) == "Finished"
        assert airflow.xcom(dag_id, run_id, "train", "azureml_run_id") == run
        assert airflow.task_instance(dag_id, run_id, "train")["try_number"] == 1, "a fault needed a retry"
    ours = [s for s in emulator.submissions() if s["tags"].get("airflow.run_id") in {r for _, r in runs}]
    assert len(ours) == len(runs)

    figures["scenario_5_faults_and_restart"] = {
        "dag_runs": len(runs),
        "deferred_runs": sum(d == "acceptance_deferred" for d, _ in runs),
        "synchronous_runs": sum(d == "acceptance_sync" for d, _ in runs),
        "faults_injected": sum(rule["count"] for rule in SUBMIT_FAULTS + WAIT_FAULTS + AFTER_RESTART_FAULTS),
        "faults_left_unused": sum(rule["count"] for rule in emulator.admin("GET", "faults")),
        "emulator_restarts": 1,
        "emulator_down_seconds": DOWN_SECONDS,
        "remote_runs_created": len(ours),
        "duplicates": len(ours) - len(set(remote.values())),
        "lost": sum(state != "success" for state in final.values()),
        "airflow_retries_used": 0,
        "seconds_to_all_submitted": round(submitted, 1),
        "seconds_to_all_finished": round(elapsed, 1),
    }
