"""DAGs that only the acceptance suite runs (tests/acceptance), next to the repo's own ``dags/``.

- ``acceptance_deferred``: the deferred wait, up to 50 runs at once, no Airflow retries (a fault must be
  handled by the provider itself, not hidden by a retry).
- ``acceptance_sync``: submit and wait in the worker (``deferrable=False``), one quick retry: the
  worker-killed case.
- ``acceptance_secret_check``: both waits through ``azureml_secret_check``, a connection with a client
  secret, so that the suite can look for it in every log.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param

from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator

COMMON = {
    "schedule": None,
    "start_date": datetime(2026, 1, 1),
    "catchup": False,
    "render_template_as_native_obj": True,
    "params": {"avg_rate": Param(0.5, type="number", minimum=0.01, maximum=1.0)},
    "tags": ["azureml", "acceptance"],
}


def train(task_id: str = "train", **kwargs: object) -> AzureMLSubmitPipelineRunOperator:
    return AzureMLSubmitPipelineRunOperator(
        task_id=task_id,
        pipeline_endpoint_name="training-endpoint",
        experiment_name="acceptance",
        pipeline_parameters={"avg_rate": "{{ params.avg_rate }}"},
        timeout=1800,
        **kwargs,
    )


with DAG(dag_id="acceptance_deferred", max_active_runs=50, max_active_tasks=50, **COMMON):
    train(deferrable=True, poll_interval=5, retries=0)

with DAG(dag_id="acceptance_sync", max_active_runs=10, **COMMON):
    train(deferrable=False, poll_interval=2, retries=1, retry_delay=timedelta(seconds=2))

with DAG(dag_id="acceptance_secret_check", max_active_runs=1, **COMMON):
    train("train_deferred", deferrable=True, poll_interval=2, azureml_conn_id="azureml_secret_check")
    train("train_sync", deferrable=False, poll_interval=2, azureml_conn_id="azureml_secret_check")
