"""
Call a published pipeline's REST endpoint over HTTP exactly as an external service would (a bearer token
from the connection's credential and a ``{"ExperimentName", "ParameterAssignments"}`` body), then wait for
the run with the sensor in reschedule mode, which frees the worker slot between checks.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_azureml.operators.invoke_pipeline_endpoint import AzureMLInvokePipelineEndpointOperator
from airflow_provider_azureml.sensors.pipeline_run import AzureMLPipelineRunSensor

with DAG(
    dag_id="azureml_invoke_published_endpoint",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["azureml", "rest"],
) as dag:

    @task
    def endpoint_url(name: str = "training-endpoint") -> str:
        """The REST URL external callers use; here read from the pipeline endpoint itself."""
        from airflow_provider_azureml.hooks.azureml import AzureMLHook

        return AzureMLHook().get_pipeline_endpoint(name=name).url

    invoke = AzureMLInvokePipelineEndpointOperator(
        task_id="invoke_endpoint",
        endpoint_url="{{ ti.xcom_pull(task_ids='endpoint_url') }}",
        experiment_name="invoked-over-rest",
        pipeline_parameters={"avg_rate": 0.7},
        wait_for_completion=False,
    )

    wait = AzureMLPipelineRunSensor(
        task_id="wait_for_run",
        run_id="{{ ti.xcom_pull(task_ids='invoke_endpoint', key='azureml_run_id') }}",
        mode="reschedule",
        poke_interval=5,
        timeout=3600,
    )

    endpoint_url() >> invoke >> wait
