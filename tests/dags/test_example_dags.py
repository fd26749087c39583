"""The example DAGs, run end to end by real Airflow (``airflow dags test``) against the emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_azureml.emulator.testing import RunningEmulator, run_emulator
from tools.local_airflow import LocalAirflow


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


def xcom(airflow: LocalAirflow, dag_id: str, task_id: str, key: str) -> object:
    value = airflow.xcom(dag_id, task_id, key)
    assert value is not None, f"no XCom {key!r} for {dag_id}.{task_id}"
    return value


@pytest.fixture
def seeded_endpoints_restored(emulator: RunningEmulator) -> Iterator[None]:
    """Publishing moves the endpoints' defaults; later tests expect the seeded pipelines behind them."""
    names = ("training-endpoint", "batch-scoring-endpoint")
    saved = [emulator.backend.get_endpoint_by_name(name).model_copy(deep=True) for name in names]
    yield
    for endpoint in saved:
        emulator.backend.register_endpoint(endpoint)


@pytest.mark.usefixtures("seeded_endpoints_restored")
def test_publish_then_run_the_new_versions(airflow, emulator):
    result = airflow.dags_test("azureml_publish_pipelines")
    assert result.ok, result.output[-3000:]

    published = xcom(airflow, "azureml_publish_pipelines", "publish_training", "published_pipeline_id")
    runs = {s.pipeline_id: s for s in submissions_of(emulator, "azureml_publish_pipelines")}
    assert runs[published].parameters_received == {"avg_rate": "0.6"}
    assert len(runs) == 2
    endpoint = emulator.backend.get_endpoint_by_name("training-endpoint")
    assert endpoint.pipeline_ids[int(endpoint.default_version)] == published


def test_recurring_training_deferred_with_form_value(airflow, emulator):
    result = airflow.dags_test("azureml_recurring_training", {"avg_rate": 0.8})
    assert result.ok, result.output[-3000:]

    [submission] = submissions_of(emulator, "azureml_recurring_training")
    assert submission.parameters_received == {"avg_rate": "0.8"}
    assert "Pausing task as DEFERRED" in result.output
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
    fast = emulator.backend.default_durations
    emulator.backend.set_default_durations({"step": 4.0})  # still running at the sensor's first poke
    try:
        result = airflow.dags_test("azureml_invoke_published_endpoint")
    finally:
        emulator.backend.set_default_durations(fast.__dict__)
    assert result.ok, result.output[-3000:]

    [submission] = submissions_of(emulator, "azureml_invoke_published_endpoint")
    assert submission.parameters_received == {"avg_rate": "0.7"}
    assert "UP_FOR_RESCHEDULE" in result.output
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
