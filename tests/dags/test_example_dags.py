"""The example DAGs, run end to end by real Airflow (``airflow dags test``) against the emulator.

A test that asserts a state seen while a run is active (deferred, rescheduled) holds the emulator's time
until Airflow's output shows that state, then releases it: never a race between the machine's speed and
a run's duration.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_azureml.emulator.testing import RunningEmulator, run_emulator
from tools.local_airflow import AIRFLOW, DagTestResult, LocalAirflow

#: Safety net only: how long a hold lasts when the awaited line never shows, so the DAG still ends.
HOLD_PATIENCE = 180.0


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator() as running:
        yield running


@pytest.fixture(scope="module")
def airflow(emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> LocalAirflow:
    local = LocalAirflow(tmp_path_factory.mktemp("airflow-home"), emulator.url)
    local.migrate()
    return local


def submissions_of(emulator: RunningEmulator, dag_id: str) -> list:
    return [s for s in emulator.backend.submissions() if s.tags.get("airflow.dag_id") == dag_id]


def xcom(airflow: LocalAirflow, dag_id: str, task_id: str, key: str) -> Any:
    value = airflow.xcom(dag_id, task_id, key)
    assert value is not None, f"no XCom {key!r} for {dag_id}.{task_id}"
    return value


def dags_test_held_until(
    airflow: LocalAirflow,
    emulator: RunningEmulator,
    dag_id: str,
    shown: str,
    conf: dict[str, Any] | None = None,
) -> DagTestResult:
    """``airflow dags test`` with the emulator's time held until a line of its output contains ``shown``.

    ``LocalAirflow.dags_test`` with the output read as it comes. Should ``shown`` never come, the hold
    ends after ``HOLD_PATIENCE`` so that the DAG ends and the test fails on its assertions, not a hang.
    """
    command = [AIRFLOW, "dags", "test", dag_id, *(["--conf", json.dumps(conf)] if conf else [])]
    env = {**airflow.env, "PYTHONUNBUFFERED": "1"}  # each line as it is written
    backend = emulator.backend
    safety_net = threading.Timer(HOLD_PATIENCE, backend.release)
    started = time.monotonic()
    backend.hold()
    safety_net.start()
    try:
        with subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process:
            assert process.stdout is not None
            output = []
            for line in process.stdout:
                output.append(line)
                if shown in line:
                    backend.release()
            returncode = process.wait()
    finally:
        safety_net.cancel()
        backend.release()
    return DagTestResult(dag_id, returncode, time.monotonic() - started, "".join(output))


@pytest.fixture
def seeded_endpoints_restored(emulator: RunningEmulator) -> Iterator[None]:
    """Publishing moves the endpoints' defaults; later tests expect the seeded pipelines behind them."""
    names = ("training-endpoint", "batch-scoring-endpoint")
    saved = [emulator.backend.registry.get_endpoint_by_name(name).model_copy(deep=True) for name in names]
    yield
    for endpoint in saved:
        emulator.backend.registry.register_endpoint(endpoint)


@pytest.mark.usefixtures("seeded_endpoints_restored")
def test_publish_then_run_the_new_versions(airflow, emulator):
    result = airflow.dags_test("azureml_publish_pipelines")
    assert result.ok, result.output[-3000:]

    published = xcom(airflow, "azureml_publish_pipelines", "publish_training", "published_pipeline_id")
    runs = {s.pipeline_id: s for s in submissions_of(emulator, "azureml_publish_pipelines")}
    assert runs[published].parameters_received == {"avg_rate": "0.6"}
    assert len(runs) == 2
    endpoint = emulator.backend.registry.get_endpoint_by_name("training-endpoint")
    assert endpoint.pipeline_ids[int(endpoint.default_version)] == published


def test_recurring_training_deferred_with_form_value(airflow, emulator):
    deferred = "Pausing task as DEFERRED"
    result = dags_test_held_until(
        airflow, emulator, "azureml_recurring_training", deferred, {"avg_rate": 0.8}
    )
    assert result.ok, result.output[-3000:]

    [submission] = submissions_of(emulator, "azureml_recurring_training")
    assert submission.parameters_received == {"avg_rate": "0.8"}
    assert deferred in result.output
    summary = xcom(airflow, "azureml_recurring_training", "train", "return_value")
    assert summary["status"] == "Finished"
    link = xcom(airflow, "azureml_recurring_training", "train", "_link_AzureMLPipelineRunLink")
    assert link.startswith(emulator.url) and submission.run_id in link


def test_recurring_training_fails_with_the_step_error(airflow, emulator):
    result = airflow.dags_test("azureml_recurring_training", {"avg_rate": 0.99})
    assert "avg_rate=0.99 makes the loss diverge" in result.output
    assert "step 'train'" in result.output
    assert "state=failed" in result.output


def test_invoke_endpoint_then_reschedule_sensor(airflow, emulator):
    rescheduled = "UP_FOR_RESCHEDULE"
    result = dags_test_held_until(airflow, emulator, "azureml_invoke_published_endpoint", rescheduled)
    assert result.ok, result.output[-3000:]

    [submission] = submissions_of(emulator, "azureml_invoke_published_endpoint")
    assert submission.parameters_received == {"avg_rate": "0.7"}
    assert rescheduled in result.output
    run_id = xcom(airflow, "azureml_invoke_published_endpoint", "invoke_endpoint", "azureml_run_id")
    assert run_id == submission.run_id


def test_batch_scoring_reports_the_output_of_its_parallel_run_step(airflow, emulator):
    result = airflow.dags_test("azureml_batch_scoring")
    assert result.ok, result.output[-3000:]

    [submission] = submissions_of(emulator, "azureml_batch_scoring")
    assert submission.parameters_received == {"mini_batch_size": "5"}
    location = xcom(airflow, "azureml_batch_scoring", "report_output", "return_value")
    assert location.endswith("/scores/parallel_run_step.txt")


def test_asset_driven_retraining(airflow, emulator):
    assert airflow.dags_test("azureml_training_data_landing").ok
    result = airflow.dags_test("azureml_retrain_on_new_data")
    assert result.ok, result.output[-3000:]
    assert len(submissions_of(emulator, "azureml_retrain_on_new_data")) == 1
