"""Scenario 3: marking a deferred task failed cancels the remote run (the trigger's ``on_kill``).

Airflow 3.3's ``PATCH .../taskInstances/{task_id}`` with ``new_state: failed`` sets the TI failed at once
(HTTP 200); the triggerer then finds its trigger orphaned and, as a user action, calls ``on_kill()``.
"""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import unique_run_id
from tests.acceptance.harness import wait_until

pytestmark = pytest.mark.timeout(600)

DAG_ID = "acceptance_deferred"
STEP_SECONDS = 3600  # longer than this scenario may take (600 s): the run ends only by being cancelled


def test_mark_failed_while_deferred_cancels_the_run(airflow, fresh_emulator):
    fresh_emulator.set_durations(step=STEP_SECONDS)
    run_id = unique_run_id("markfailed")
    assert airflow.trigger(DAG_ID, run_id).status_code == 200
    airflow.wait_for_task(DAG_ID, run_id, "train", "deferred", timeout=180)
    [submission] = fresh_emulator.submissions(dag_id=DAG_ID, run_id=run_id)
    remote = submission["run_id"]
    wait_until(lambda: fresh_emulator.run_status(remote) == "Running", timeout=30, what="the run to start")

    response = airflow.request(
        "PATCH", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/train", {"new_state": "failed"}
    )

    assert response.status_code == 200, response.text
    assert [ti["state"] for ti in response.json()["task_instances"]] == ["failed"]
    wait_until(
        lambda: fresh_emulator.run_status(remote) == "Canceled",
        timeout=180,
        what=f"run {remote} to be cancelled (it would run {STEP_SECONDS} s otherwise)",
    )
    assert airflow.wait_for_run(DAG_ID, run_id, timeout=60) == "failed"
    assert airflow.task_instance(DAG_ID, run_id, "train")["state"] == "failed"
    assert len(fresh_emulator.submissions(dag_id=DAG_ID, run_id=run_id)) == 1
    trigger_log = airflow.trigger_log(DAG_ID, run_id, "train")
    assert "Trigger cancelled by user action, invoking on_kill" in trigger_log
    assert f"Cancel requested for Azure ML pipeline run {remote}" in trigger_log
