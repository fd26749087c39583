"""Scenario 4: SIGKILL the process running a synchronous submit-and-wait task; the retry reconnects."""

from __future__ import annotations

import os
import signal

import pytest

from tests.acceptance.conftest import unique_run_id
from tests.acceptance.harness import cmdline, wait_until

pytestmark = pytest.mark.timeout(600)

DAG_ID = "acceptance_sync"


def retry_reconnected(airflow, run_id: str) -> bool:
    """Whether the second try is running and has logged its reconnection to the run."""
    ti = airflow.task_instance(DAG_ID, run_id, "train")
    if (ti["try_number"], ti["state"]) != (2, "running"):
        return False
    return any(line.startswith("Reconnecting") for line in airflow.task_log(DAG_ID, run_id, "train", 2))


def test_killed_worker_retry_reconnects_to_the_same_run(airflow, fresh_emulator):
    run_id = unique_run_id("killed")
    fresh_emulator.hold()  # the run stays active until the retry has reconnected to it
    assert airflow.trigger(DAG_ID, run_id).status_code == 200
    [submission] = wait_until(
        lambda: fresh_emulator.submissions(dag_id=DAG_ID, run_id=run_id),
        timeout=180,
        interval=0.3,
        what="the submission",
    )
    remote = submission["run_id"]
    ti = airflow.task_instance(DAG_ID, run_id, "train")
    assert (ti["state"], ti["try_number"]) == ("running", 1)

    # The task runner is the supervised child titled "airflow worker -- <TI id>"; its pid is the TI's.
    [task_process] = [
        pid for pid in airflow.process.members() if cmdline(pid) == f"airflow worker -- {ti['id']}"
    ]
    assert task_process == ti["pid"]
    os.kill(task_process, signal.SIGKILL)
    wait_until(
        lambda: retry_reconnected(airflow, run_id), timeout=180, interval=0.5, what="the retry to reconnect"
    )
    fresh_emulator.release()

    assert airflow.wait_for_run(DAG_ID, run_id, timeout=180) == "success"
    tries = {t["try_number"]: t["state"] for t in airflow.task_tries(DAG_ID, run_id, "train")}
    assert tries == {1: "failed", 2: "success"}
    assert fresh_emulator.submissions(dag_id=DAG_ID, run_id=run_id) == [submission]  # exactly one run
    assert fresh_emulator.run_status(remote) == "Finished"
    assert airflow.xcom(DAG_ID, run_id, "train", "azureml_run_id") == remote
    second_try = airflow.task_log(DAG_ID, run_id, "train", 2)
    assert any(line.startswith("Reconnecting") for line in second_try), second_try
    assert not any(line.startswith("Submitted Azure ML pipeline run") for line in second_try), second_try
