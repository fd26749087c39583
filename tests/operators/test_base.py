"""Settings every operator and the sensor share through AzureMLHookMixin."""

from __future__ import annotations

import pytest

from airflow_provider_azureml.operators.cancel_pipeline_run import AzureMLCancelPipelineRunOperator
from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator
from airflow_provider_azureml.sensors.pipeline_run import AzureMLPipelineRunSensor

SHARED = {"azureml_conn_id": "team_ws", "max_retries": 2, "retry_max_seconds": 30.0, "request_timeout": 5.0}


@pytest.mark.parametrize(
    "build",
    [
        lambda **kw: AzureMLCancelPipelineRunOperator(task_id="cancel", run_id="r", **kw),
        lambda **kw: AzureMLPipelineRunSensor(task_id="wait", run_id="r", **kw),
        lambda **kw: AzureMLSubmitPipelineRunOperator(
            task_id="submit", published_pipeline_id="p", experiment_name="e", **kw
        ),
    ],
)
@pytest.mark.parametrize("via_default_args", [False, True])
def test_connection_and_retry_settings_reach_the_hook(build, via_default_args):
    task = build(default_args=SHARED) if via_default_args else build(**SHARED)

    assert task.retry_settings == {k: v for k, v in SHARED.items() if k != "azureml_conn_id"}
    assert task.hook.azureml_conn_id == "team_ws"
