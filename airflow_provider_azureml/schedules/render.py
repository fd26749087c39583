"""One Azure ML schedule as the source of an Airflow DAG file that does the same.

A recurrence becomes an :class:`~airflow_provider_azureml.timetables.AzureMLRecurrenceTimetable` with the
schedule's own keywords; a datastore schedule becomes an asset-driven DAG (the service's blob polling has
no timetable equivalent). Either way one :class:`AzureMLSubmitPipelineRunOperator` submits the schedule's
pipeline or endpoint with its experiment, parameters, data paths and ``ContinueRunOnStepFailure``.
Values are written as Python literals (``repr``), parameters as the text the schedule sends.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from airflow_provider_azureml.client.models import PipelineSchedule
from airflow_provider_azureml.windows_zones import iana_zone

START_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
SUBMIT_OPERATOR = (
    "airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator"
)
#: The asset event's ``extra["path"]`` is the changed file's path on the datastore.
CHANGED_FILE_TEMPLATE = "{{ (triggering_asset_events.values() | first | last).extra['path'] }}"


class Name(str):
    """A name of the generated module: written as itself, not as a string literal."""

    def __repr__(self) -> str:
        return str(self)


def dag_id_for(schedule: PipelineSchedule) -> str:
    """``azureml_schedule_<name>_<first 8 of the id>``: readable, and unique when names are not."""
    slug = _slug(schedule.name or "") or "unnamed"
    return f"azureml_schedule_{slug}_{_slug(schedule.id[:8])}"


def _slug(text: str) -> str:
    """Letters, digits and ``_`` only: the name and id come from the service and become a file name."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def render_dag(schedule: PipelineSchedule, conn_id: str) -> str:
    """The DAG file's source for ``schedule``, submitting through connection ``conn_id``."""
    if schedule.is_recurrence:
        return _recurrence_dag(schedule, conn_id)
    return _datastore_dag(schedule, conn_id)


def _recurrence_dag(schedule: PipelineSchedule, conn_id: str) -> str:
    what = (
        f"Runs {_target(schedule)}\nat the instants of the schedule's recurrence, with its parameters. "
        "Missed instants are skipped,\nas Azure ML does (catchup has no effect)."
    )
    timetable = _call("AzureMLRecurrenceTimetable", timetable_arguments(schedule), indent=4)
    return "\n".join(
        [
            _docstring(schedule, what),
            "from __future__ import annotations",
            "",
            "from airflow.sdk import DAG",
            "",
            f"from {SUBMIT_OPERATOR}",
            "from airflow_provider_azureml.timetables import AzureMLRecurrenceTimetable",
            "",
            "with DAG(",
            f"    dag_id={dag_id_for(schedule)!r},",
            f"    schedule={timetable},",
            "    catchup=False,",
            '    tags=["azureml", "azureml-schedule"],',
            "):",
            f"    {_submit_task(schedule, conn_id, {})}",
            "",
        ]
    )


def _datastore_dag(schedule: PipelineSchedule, conn_id: str) -> str:
    trigger = schedule.datastore_trigger
    datastore = (trigger.datastore_name if trigger else None) or "workspaceblobstore"
    path = ((trigger.path_on_datastore if trigger else None) or "").strip("/")
    uri = f"azureml://datastores/{datastore}/paths/{path + '/' if path else ''}"
    polling = trigger.polling_interval if trigger and trigger.polling_interval else 5
    parameter = trigger.data_path_parameter_name if trigger else None
    what = (
        f"Runs {_target(schedule)}\nwhen a file appears or changes directly under {uri}.\n"
        f"Azure ML polled that folder every {polling} minutes; in Airflow, record an event of the asset\n"
        'WATCHED for each new or changed file, with the file\'s path on the datastore as its extra "path":\n'
        "an asset watcher or a sensor task polling the blob prefix, or the REST API\n"
        '(``POST /api/v2/assets/events`` with ``{"asset_id": ..., "extra": {"path": "<path>"}}``).'
    )
    data_paths = (
        {parameter: {"DataStoreName": datastore, "RelativePath": Name("CHANGED_FILE")}} if parameter else {}
    )
    asset_name = f"azureml_datastore_{datastore}_{path or 'root'}".replace("/", "_")
    return "\n".join(
        [
            _docstring(schedule, what),
            "from __future__ import annotations",
            "",
            "from airflow.sdk import DAG, Asset",
            "",
            f"from {SUBMIT_OPERATOR}",
            "",
            f"WATCHED = Asset(name={asset_name!r}, uri={uri!r})",
            "#: The changed file: the triggering asset event's extra['path'].",
            f"CHANGED_FILE = {CHANGED_FILE_TEMPLATE!r}",
            "",
            "with DAG(",
            f"    dag_id={dag_id_for(schedule)!r},",
            "    schedule=[WATCHED],",
            "    catchup=False,",
            '    tags=["azureml", "azureml-schedule"],',
            "):",
            f"    {_submit_task(schedule, conn_id, data_paths)}",
            "",
        ]
    )


def timetable_arguments(schedule: PipelineSchedule) -> dict[str, Any]:
    """The recurrence's keywords; without a start time, the schedule's creation time in its zone (Azure
    ML counts from creation then, which a DAG file cannot know otherwise)."""
    recurrence = schedule.recurrence
    assert recurrence is not None, "a recurrence schedule without Recurrence"
    time_zone = recurrence.time_zone or "UTC"
    arguments: dict[str, Any] = {
        "frequency": recurrence.frequency,
        "interval": recurrence.interval,
        "start_time": recurrence.start_time or _created_in(schedule, time_zone),
        "time_zone": time_zone,
        "hours": recurrence.hours,
        "minutes": recurrence.minutes,
        "week_days": recurrence.week_days,
    }
    return {name: value for name, value in arguments.items() if value is not None}


def _created_in(schedule: PipelineSchedule, time_zone: str) -> str:
    created = datetime.fromisoformat(schedule.created_date) if schedule.created_date else datetime.now(UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created.astimezone(ZoneInfo(iana_zone(time_zone))).strftime(START_TIME_FORMAT)


def _submit_task(schedule: PipelineSchedule, conn_id: str, data_paths: dict[str, Any]) -> str:
    data_paths = {
        **{name: path.model_dump(by_alias=True) for name, path in schedule.data_path_assignments.items()},
        **data_paths,
    }
    by_pipeline = bool(schedule.pipeline_id)
    arguments = {
        "task_id": "submit_pipeline_run",
        "azureml_conn_id": conn_id,
        "published_pipeline_id": schedule.pipeline_id if by_pipeline else None,
        "pipeline_endpoint_id": None if by_pipeline else schedule.pipeline_endpoint_id,
        "experiment_name": schedule.experiment_name,
        "pipeline_parameters": schedule.parameter_assignments or None,
        "data_path_assignments": data_paths or None,
        "description": schedule.description,
        "continue_on_step_failure": schedule.continue_on_step_failure,
    }
    given = {name: value for name, value in arguments.items() if value is not None}
    return _call("AzureMLSubmitPipelineRunOperator", given, indent=4)


def _call(function: str, arguments: dict[str, Any], *, indent: int) -> str:
    pad = " " * indent
    lines = [f"{pad}    {name}={value!r}," for name, value in arguments.items()]
    return "\n".join([f"{function}(", *lines, f"{pad})"])


def _target(schedule: PipelineSchedule) -> str:
    if schedule.pipeline_id:
        return f"published pipeline {schedule.pipeline_id}"
    return f"the default version of pipeline endpoint {schedule.pipeline_endpoint_id}"


def _docstring(schedule: PipelineSchedule, what: str) -> str:
    return f'''"""Azure ML schedule {schedule.name!r} ({schedule.id}), exported as a DAG.

Written by ``python -m airflow_provider_azureml.schedules export``.
{what}

While the Azure ML schedule is active, it and this DAG both submit runs: disable it with
``export --disable-after``, ``AzureMLScheduleOperator(action="disable", schedule_id=...)`` or
``Schedule.disable()`` once this DAG is switched on.
"""
'''
