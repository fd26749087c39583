"""
Build the two reference pipelines with the Azure ML SDK, publish them, make each the new default of its
pipeline endpoint, then run each new version once with a parameter override.

Re-running the DAG with the same ``version`` reuses what was published instead of publishing it again.
Against the local emulator the connection's ``auth_method`` is ``emulator`` and the operator routes the
SDK's snapshot uploads through the emulator's blob proxy; nothing here differs from real Azure.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_azureml.operators.publish_pipeline import AzureMLPublishPipelineOperator
from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator

with DAG(
    dag_id="azureml_publish_pipelines",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["azureml", "publish"],
) as dag:
    publish_training = AzureMLPublishPipelineOperator(
        task_id="publish_training",
        pipeline_factory="azureml_pipelines.training:build_training_pipeline",
        pipeline_name="training-pipeline",
        description="Train a small logistic regression; avg_rate is the gradient step size",
        version="2026.1",
        pipeline_endpoint_name="training-endpoint",
    )
    run_training = AzureMLSubmitPipelineRunOperator(
        task_id="run_training",
        published_pipeline_id="{{ ti.xcom_pull(task_ids='publish_training', key='published_pipeline_id') }}",
        experiment_name="published-training",
        pipeline_parameters={"avg_rate": 0.6},
        poll_interval=5,
    )

    publish_scoring = AzureMLPublishPipelineOperator(
        task_id="publish_scoring",
        pipeline_factory="azureml_pipelines.batch_scoring:build_batch_scoring_pipeline",
        pipeline_name="batch-scoring-pipeline",
        description="Score the shipped items in parallel with the shipped model",
        version="2026.1",
        pipeline_endpoint_name="batch-scoring-endpoint",
    )
    run_scoring = AzureMLSubmitPipelineRunOperator(
        task_id="run_scoring",
        published_pipeline_id="{{ ti.xcom_pull(task_ids='publish_scoring', key='published_pipeline_id') }}",
        experiment_name="published-batch-scoring",
        pipeline_parameters={"mini_batch_size": "3"},
        poll_interval=5,
    )

    publish_training >> run_training
    publish_scoring >> run_scoring
