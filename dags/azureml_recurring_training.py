"""
Retrain every 4 hours, on the same instants as Azure ML's ``Schedule.create(ws, ...,
recurrence=ScheduleRecurrence(frequency="Hour", interval=4, start_time="2026-01-01T00:30:00",
time_zone=TimeZone.WEuropeStandardTime))``: the timetable takes the same keywords, so runs come
every 4 hours counted from the start time (not on cron's 00:00, 04:00...), and missed runs are
skipped, not replayed.

The UI's trigger form asks for ``avg_rate`` (a bounded number), which becomes the ``avg_rate``
PipelineParameter of the published training pipeline behind the ``training-endpoint`` pipeline endpoint.
The wait is deferred: no worker slot is held while Azure ML trains.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator
from airflow_provider_azureml.timetables import AzureMLRecurrenceTimetable

with DAG(
    dag_id="azureml_recurring_training",
    schedule=AzureMLRecurrenceTimetable(
        frequency="Hour",
        interval=4,
        start_time="2026-01-01T00:30:00",
        time_zone="W. Europe Standard Time",
    ),
    render_template_as_native_obj=True,
    params={
        "avg_rate": Param(
            0.5,
            type="number",
            minimum=0.01,
            maximum=1.0,
            title="Average rate",
            description="The avg_rate PipelineParameter passed to train.py (0.01 to 1).",
        )
    },
    tags=["azureml", "training"],
) as dag:
    AzureMLSubmitPipelineRunOperator(
        task_id="train",
        pipeline_endpoint_name="training-endpoint",
        experiment_name="recurring-training",
        pipeline_parameters={"avg_rate": "{{ params.avg_rate }}"},
        deferrable=True,
        poll_interval=5,
        timeout=3600,
    )
