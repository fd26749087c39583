"""Every argument of the operators and the sensor, and every connection field, is checked before any request.

A bad value fails the task at once (``AirflowFailException``: a retry would see the same value), names the
argument and what it allows, never shows the value, and nothing reaches the emulator: no look-up, no GET,
no submission.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_azureml.emulator.connection import emulator_connection
from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.operators.cancel_pipeline_run import AzureMLCancelPipelineRunOperator
from airflow_provider_azureml.operators.invoke_pipeline_endpoint import AzureMLInvokePipelineEndpointOperator
from airflow_provider_azureml.operators.publish_pipeline import AzureMLPublishPipelineOperator
from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator
from airflow_provider_azureml.sensors.pipeline_run import AzureMLPipelineRunSensor
from tests.task_context import make_context

TRAINING_V1 = "3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e01"
SECRET = "s3cr3t-Value~that-must-never-show"
NOT_A_STR = 5


SUBMITTING = {"experiment_name": "unit-tests", "poll_interval": 0.05, "deferrable": False}


def submit(emulator: RunningEmulator, **kwargs: Any) -> AzureMLSubmitPipelineRunOperator:
    options = {**SUBMITTING, "published_pipeline_id": TRAINING_V1, **kwargs}
    return AzureMLSubmitPipelineRunOperator(task_id="submit", **options)


def invoke(emulator: RunningEmulator, **kwargs: Any) -> AzureMLInvokePipelineEndpointOperator:
    url = f"{emulator.url}/pipelines/v1.0/x/PipelineRuns/PipelineSubmit/{TRAINING_V1}"
    options = {**SUBMITTING, "endpoint_url": url, **kwargs}
    return AzureMLInvokePipelineEndpointOperator(task_id="invoke", **options)


def cancel(emulator: RunningEmulator, **kwargs: Any) -> AzureMLCancelPipelineRunOperator:
    return AzureMLCancelPipelineRunOperator(task_id="cancel", **{"run_id": "run-1", **kwargs})


def sensor(emulator: RunningEmulator, **kwargs: Any) -> AzureMLPipelineRunSensor:
    options = {"run_id": "run-1", "poke_interval": 0.05, "timeout": 5, **kwargs}
    return AzureMLPipelineRunSensor(task_id="wait", **options)


def publish(emulator: RunningEmulator, **kwargs: Any) -> AzureMLPublishPipelineOperator:
    options = {"pipeline_factory": "json:dumps", "pipeline_name": "training-pipeline", **kwargs}
    return AzureMLPublishPipelineOperator(task_id="publish", **options)


Build = Callable[..., Any]


def refused(emulator: RunningEmulator, task: Any) -> str:
    """Execute ``task``; it must fail without retries and without a request. Returns the message."""
    emulator.requests.reset()
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    assert emulator.requests.snapshot()["total"] == 0
    assert emulator.backend.submissions() == []
    message = str(raised.value)
    assert SECRET not in message
    return message


# Both submitting operators share these (AzureMLPipelineRunOperatorBase).
SUBMISSION_CASES = [
    ({"data_path_assignments": [1]}, "data_path_assignments: Input should be a valid dictionary"),
    (
        {"data_path_assignments": {"input": {"DataStoreName": "blob"}}},
        "data_path_assignments.input.RelativePath",
    ),
    ({"data_path_assignments": {"input": {"DataStoreName": 1, "RelativePath": "x"}}}, "input.DataStoreName"),
    ({"data_path_assignments": {"in": {"DataStoreName": "b", "RelativePath": "x", "Sas": SECRET}}}, "in.Sas"),
    ({"description": NOT_A_STR}, "description: Input should be a valid string"),
    ({"continue_on_step_failure": "maybe"}, "continue_on_step_failure: Input should be a valid boolean"),
    ({"pipeline_parameters": {None: 0.5}}, "pipeline_parameters key None: Input should be a valid string"),
    ({"pipeline_parameters": {"": 0.5}}, "pipeline_parameters key "),
    (
        {"pipeline_parameters": {"avg_rate": {"password": SECRET}}},
        "pipeline_parameters.avg_rate: allowed: str",
    ),
    ({"pipeline_parameters": {"avg_rate": None}}, "pipeline_parameters.avg_rate"),
    ({"pipeline_parameters": {"avg_rate": float("nan")}}, "pipeline_parameters.avg_rate"),
    (
        {"pipeline_parameters": f"avg_rate={SECRET}"},
        "pipeline_parameters: Input should be a valid dictionary",
    ),
    ({"tags": {"team": NOT_A_STR}}, "tags.team: Input should be a valid string"),
    ({"tags": {"team": [SECRET]}}, "tags.team"),
    ({"tags": {7: "x"}}, "tags key 7"),
    ({"tags": ["team"]}, "tags: Input should be a valid dictionary"),
    ({"experiment_name": ""}, "experiment_name: 1-255 letters"),
    ({"experiment_name": "bad name!"}, "experiment_name: 1-255 letters"),
    ({"experiment_name": "\u0663rd-run"}, "experiment_name: 1-255 letters"),  # an Arabic-Indic digit
    ({"experiment_name": "x" * 256}, "experiment_name: 1-255 letters"),
    ({"experiment_name": NOT_A_STR}, "experiment_name: Input should be a valid string"),
    ({"poll_interval": 0}, "poll_interval: Input should be greater than 0"),
    ({"poll_interval": float("inf")}, "poll_interval: Input should be a finite number"),
    ({"poll_interval": "30"}, "poll_interval: Input should be a valid number"),
    ({"poll_interval": True}, "poll_interval: Input should be a valid number"),
    ({"timeout": -1}, "timeout: Input should be greater than 0"),
    ({"timeout": float("nan")}, "timeout: Input should be a finite number"),
    ({"wait_for_completion": "no"}, "wait_for_completion: Input should be a valid boolean"),
    ({"deferrable": "yes"}, "deferrable: Input should be a valid boolean"),
    ({"cancel_on_kill": 1}, "cancel_on_kill: Input should be a valid boolean"),
    ({"validate_parameters": None}, "validate_parameters: Input should be a valid boolean"),
]
# Every task takes these (AzureMLHookMixin).
HOOK_CASES = [
    ({"azureml_conn_id": ""}, "azureml_conn_id: String should have at least 1 character"),
    ({"max_retries": True}, "max_retries: Input should be a valid integer"),
    ({"max_retries": 2.5}, "max_retries: Input should be a valid integer"),
    ({"max_retries": -1}, "max_retries: Input should be greater than or equal to 0"),
    ({"retry_max_seconds": 0}, "retry_max_seconds: Input should be greater than 0"),
    ({"request_timeout": float("inf")}, "request_timeout: Input should be a finite number"),
]


@pytest.mark.parametrize("build", [submit, invoke])
@pytest.mark.parametrize(("kwargs", "named"), SUBMISSION_CASES + HOOK_CASES)
def test_submitting_operators_refuse_bad_arguments(
    emulator_conn: RunningEmulator, build: Build, kwargs: dict[str, Any], named: str
) -> None:
    assert named in refused(emulator_conn, build(emulator_conn, **kwargs))


def test_every_problem_is_named_at_once(emulator_conn: RunningEmulator) -> None:
    task = submit(emulator_conn, description=NOT_A_STR, tags={"team": NOT_A_STR}, poll_interval=0)
    message = refused(emulator_conn, task)
    assert "description:" in message and "tags.team:" in message and "poll_interval:" in message


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"pipeline_version": True}, "pipeline_version: allowed: str or int"),
        ({"pipeline_version": 1.5}, "pipeline_version: allowed: str or int"),
        ({"published_pipeline_id": NOT_A_STR}, "published_pipeline_id: Input should be a valid string"),
        ({"published_pipeline_id": None, "pipeline_endpoint_name": ["x"]}, "pipeline_endpoint_name"),
    ],
)
def test_submit_refuses_bad_targets(
    emulator_conn: RunningEmulator, kwargs: dict[str, Any], named: str
) -> None:
    assert named in refused(emulator_conn, submit(emulator_conn, **kwargs))


@pytest.mark.parametrize(
    ("url", "named"),
    [
        (NOT_A_STR, "endpoint_url: Input should be a valid string"),
        (f"ftp://127.0.0.1/PipelineSubmit/{SECRET}", "endpoint_url: must be the http(s) URL"),
    ],
)
def test_invoke_refuses_a_url_that_is_not_http(emulator_conn: RunningEmulator, url: Any, named: str) -> None:
    assert named in refused(emulator_conn, invoke(emulator_conn, endpoint_url=url))


@pytest.mark.parametrize("build", [cancel, sensor])
@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"run_id": NOT_A_STR}, "run_id: Input should be a valid string"),
        ({"run_id": ""}, "run_id: String should have at least 1 character"),
        ({"run_id": None}, "run_id: Input should be a valid string"),
        *HOOK_CASES,
    ],
)
def test_tasks_on_a_run_refuse_bad_arguments(
    emulator_conn: RunningEmulator, build: Build, kwargs: dict[str, Any], named: str
) -> None:
    assert named in refused(emulator_conn, build(emulator_conn, **kwargs))


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"experiment_name": "bad name!"}, "experiment_name: 1-255 letters"),
        ({"deferrable": "yes"}, "deferrable: Input should be a valid boolean"),
    ],
)
def test_sensor_refuses_bad_arguments(
    emulator_conn: RunningEmulator, kwargs: dict[str, Any], named: str
) -> None:
    assert named in refused(emulator_conn, sensor(emulator_conn, **kwargs))


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"pipeline_name": NOT_A_STR}, "pipeline_name: Input should be a valid string"),
        ({"factory_kwargs": [SECRET]}, "factory_kwargs: Input should be a valid dictionary"),
        ({"description": NOT_A_STR}, "description: Input should be a valid string"),
        ({"version": 1.5}, "version: allowed: str or int"),
        ({"continue_on_step_failure": "no"}, "continue_on_step_failure: Input should be a valid boolean"),
        ({"pipeline_endpoint_name": NOT_A_STR}, "pipeline_endpoint_name: Input should be a valid string"),
        ({"set_as_default": "yes"}, "set_as_default: Input should be a valid boolean"),
        ({"reuse_existing": None}, "reuse_existing: Input should be a valid boolean"),
        *HOOK_CASES,
    ],
)
def test_publish_refuses_bad_arguments(
    emulator_conn: RunningEmulator, kwargs: dict[str, Any], named: str
) -> None:
    assert named in refused(emulator_conn, publish(emulator_conn, **kwargs))


# -- the connection -----------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [submit, invoke, cancel, sensor, publish])
@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"timeout": "inf"}, "timeout: Input should be a valid number"),
        ({"max_retries": True}, "max_retries: Input should be a valid integer"),
        ({"auth_methd": SECRET}, "unknown extra 'auth_methd' (did you mean 'auth_method'?)"),
        ({"workspace_name": ""}, "workspace_name is required"),
    ],
)
def test_a_bad_connection_fails_without_retries_before_any_request(
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    build: Build,
    extra: dict[str, Any],
    named: str,
) -> None:
    connection = emulator_connection(emulator.url)
    connection["extra"] = {**connection["extra"], **extra}
    monkeypatch.setenv("AIRFLOW_CONN_AZUREML_DEFAULT", json.dumps(connection))

    message = refused(emulator, build(emulator))
    assert named in message
    assert "azureml_default" in message
