"""Scenario 7 (last): no task, scheduler, triggerer or other Airflow log holds the client secret or a
bearer token, after every scenario and a run of ``acceptance_secret_check`` (whose connection has a
client secret and whose token the emulator checks: ``--expected-token``)."""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import CLIENT_SECRET, unique_run_id
from tests.acceptance.harness import EMULATOR_TOKEN

pytestmark = pytest.mark.timeout(600)

DAG_ID = "acceptance_secret_check"


def test_no_secret_or_token_in_any_log(airflow, fresh_emulator):
    run_id = unique_run_id("secrets")
    fresh_emulator.hold()  # the runs stay NotStarted until Airflow has taken in the task's deferral
    assert airflow.trigger(DAG_ID, run_id).status_code == 200
    airflow.wait_for_deferred(DAG_ID, [run_id], "train_deferred", timeout=300)
    fresh_emulator.release()
    assert airflow.wait_for_run(DAG_ID, run_id, timeout=180) == "success"
    used = {s["tags"]["airflow.task_id"] for s in fresh_emulator.submissions(dag_id=DAG_ID, run_id=run_id)}
    assert used == {"train_deferred", "train_sync"}  # both waits went through the secret's connection

    files = [*airflow.log_files(), airflow.process.log_path]
    task_logs = [f for f in files if f"dag_id={DAG_ID}" in str(f)]
    assert any(".trigger." in f.name for f in task_logs), "no triggerer log for the deferred task"
    assert any(f.name.endswith("attempt=1.log") for f in task_logs)
    leaks = []
    for path in files:
        text = path.read_text(errors="replace")
        leaks += [f"{path}: {secret!r}" for secret in (CLIENT_SECRET, EMULATOR_TOKEN) if secret in text]
    assert not leaks, "secrets in logs:\n" + "\n".join(leaks)
