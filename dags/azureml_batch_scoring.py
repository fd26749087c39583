"""
Batch scoring with a ParallelRunStep (mini batches of 5 files, error threshold 4, ``append_row`` output),
every night and on demand, then report where the scored rows are.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Param, task

from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator

with DAG(
    dag_id="azureml_batch_scoring",
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "mini_batch_size": Param("5", type="string", pattern=r"^[1-9][0-9]*$", title="Files per mini batch")
    },
    tags=["azureml", "scoring"],
) as dag:
    score = AzureMLSubmitPipelineRunOperator(
        task_id="score",
        pipeline_endpoint_name="batch-scoring-endpoint",
        experiment_name="batch-scoring",
        pipeline_parameters={"mini_batch_size": "{{ params.mini_batch_size }}"},
        deferrable=True,
        poll_interval=5,
        timeout=6 * 3600,
    )

    @task
    def report_output(summary: dict) -> str:
        """Where ParallelRunStep's append_row output lands: the `score` step's `scores` output.

        A PipelineData output lives at ``azureml/<step run id>/<output name>`` on its datastore, on Azure
        and in the emulator's execution mode alike (which keeps datastore ``workspaceblobstore`` in the
        folder ``<data dir>/datastores/workspaceblobstore/``), so the URI is true in both.
        """
        from airflow_provider_azureml.hooks.azureml import AzureMLHook

        steps = AzureMLHook().list_step_runs(summary["experiment_name"], summary["run_id"])
        step = next(s for s in steps if (s.display_name or s.name) == "score")
        location = f"azureml://datastores/workspaceblobstore/paths/azureml/{step.run_id}/scores/parallel_run_step.txt"
        print(f"Scored rows of run {summary['run_id']}: {location}")
        return location

    report_output(score.output)
