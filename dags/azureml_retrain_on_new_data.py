"""
Event-driven retraining: retrain when the training data changes, not on a clock.

``azureml_training_data_landing`` stands for whatever lands new data (an ingestion DAG, or an external
system calling the Airflow REST API to create an asset event); every update of the ``training_data``
asset starts ``azureml_retrain_on_new_data``, which can also be triggered directly through the REST API
(see the README for the HTTP calls).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Asset, task

from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator

training_data = Asset(
    name="training_data", uri="azureml://datastores/workspaceblobstore/paths/training-data/"
)

with DAG(
    dag_id="azureml_training_data_landing",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["azureml", "data"],
):

    @task(outlets=[training_data])
    def land_training_data() -> None:
        """Stand-in for an ingestion job; finishing it records an update of the asset."""
        print(f"New training data landed at {training_data.uri}")

    land_training_data()

with DAG(
    dag_id="azureml_retrain_on_new_data",
    schedule=[training_data],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["azureml", "training"],
) as dag:
    AzureMLSubmitPipelineRunOperator(
        task_id="retrain",
        pipeline_endpoint_name="training-endpoint",
        experiment_name="retrain-on-new-data",
        pipeline_parameters={"avg_rate": 0.5},
        deferrable=True,
        poll_interval=5,
        timeout=3600,
    )
