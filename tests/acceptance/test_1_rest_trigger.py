"""Scenario 1: trigger ``azureml_recurring_training`` through the REST API as the UI form does."""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import unique_run_id

pytestmark = pytest.mark.timeout(600)

DAG_ID = "azureml_recurring_training"
TRIGGER = "airflow_provider_azureml.triggers.pipeline_run.AzureMLPipelineRunTrigger"


def test_conf_value_reaches_the_service_and_the_wait_runs_in_the_triggerer(airflow, fresh_emulator):
    run_id = unique_run_id("rest")
    fresh_emulator.hold()  # the run stays NotStarted until Airflow has taken in the task's deferral

    response = airflow.trigger(DAG_ID, run_id, {"avg_rate": 0.8})
    assert response.status_code == 200, response.text
    airflow.wait_for_deferred(DAG_ID, [run_id], "train", timeout=300)
    deferred = airflow.task_instance(DAG_ID, run_id, "train")
    fresh_emulator.release()

    assert airflow.wait_for_run(DAG_ID, run_id, timeout=180) == "success"
    assert deferred["trigger"]["classpath"] == TRIGGER
    assert airflow.task_instance(DAG_ID, run_id, "train")["state"] == "success"
    [submission] = fresh_emulator.submissions(dag_id=DAG_ID, run_id=run_id)
    assert submission["parameters_received"] == {"avg_rate": "0.8"}
    assert submission["tags"]["airflow.task_id"] == "train"
    assert fresh_emulator.run_status(submission["run_id"]) == "Finished"
    assert airflow.xcom(DAG_ID, run_id, "train", "azureml_run_id") == submission["run_id"]

    # One try: deferred by the worker, polled by the triggerer, finished by the worker.
    log = airflow.task_log(DAG_ID, run_id, "train", 1)
    assert any(line.startswith("Pausing task as DEFERRED") for line in log), log
    assert any(line == "Trigger fired event" for line in log), log
    trigger_log = airflow.trigger_log(DAG_ID, run_id, "train")
    assert f"Azure ML pipeline run {submission['run_id']}: status Finished" in trigger_log


@pytest.mark.parametrize("bad_value", ["abc", 5, 0])
def test_invalid_form_values_are_refused_before_the_service(airflow, fresh_emulator, bad_value):
    run_id = unique_run_id("invalid")

    response = airflow.trigger(DAG_ID, run_id, {"avg_rate": bad_value})

    assert response.status_code == 400, response.text
    assert "avg_rate" in response.json()["detail"]
    assert airflow.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}").status_code == 404
    received = {s["parameters_received"].get("avg_rate") for s in fresh_emulator.submissions(dag_id=DAG_ID)}
    assert str(bad_value) not in received
    assert not fresh_emulator.submissions(run_id=run_id)
