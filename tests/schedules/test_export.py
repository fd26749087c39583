"""``python -m airflow_provider_azureml.schedules export`` against the emulator: one DAG file per active
schedule, each parsed by Airflow's DagBag with no import error; ``--disable-after`` disables a schedule
only once its file parses; a schedule whose pipeline is gone is reported and the others still exported."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airflow_provider_azureml.emulator.seeded import SCORING, TRAINING_ENDPOINT, TRAINING_V1, TRAINING_V2
from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from airflow_provider_azureml.schedules.__main__ import main
from tests.schedules.support import SUBMISSION, create_schedule, datastore_schedule

BERLIN_EVERY_4H = {
    "Frequency": "Hour",
    "Interval": 4,
    "StartTime": "2024-05-20T16:00:00",
    "TimeZone": "W. Europe Standard Time",
}
FORTNIGHTLY = {
    "Frequency": "Week",
    "Interval": 2,
    "Schedule": {"Hours": [18], "Minutes": [30], "WeekDays": ["Monday"]},
}


@pytest.fixture
def schedules(emulator_conn: RunningEmulator) -> dict[str, dict[str, Any]]:
    """Five schedules: four active (recurrence, endpoint, weekly, datastore), one disabled."""
    base = emulator_conn.url
    submission = {
        **SUBMISSION,
        "ParameterAssignments": {"avg_rate": "0.7"},
        "DataPathAssignments": {
            "in_path": {"DataStoreName": "workspaceblobstore", "RelativePath": "in/2024"}
        },
        "ContinueRunOnStepFailure": True,
    }
    made = {
        "berlin": create_schedule(
            base, Name="Berlin 4h", Recurrence=BERLIN_EVERY_4H, PipelineSubmissionInfo=submission
        ),
        "endpoint": create_schedule(
            base,
            Name="endpoint daily",
            PipelineId=None,
            PipelineEndpointId=TRAINING_ENDPOINT,
            Recurrence={"Frequency": "Day", "Interval": 1, "Schedule": {"Hours": [6], "Minutes": [15]}},
        ),
        "weekly": create_schedule(
            base,
            Name="fortnightly",
            PipelineId=SCORING,
            Recurrence=FORTNIGHTLY,
            PipelineSubmissionInfo={**SUBMISSION, "ParameterAssignments": {}},
        ),
        "files": create_schedule(base, **datastore_schedule(Name="on files")),
        "off": create_schedule(base, Name="switched off"),
    }
    AzureMLHook().disable_schedule(made["off"]["Id"])
    return made


def exported(out: Path) -> dict[str, Path]:
    return {path.stem: path for path in sorted(out.glob("*.py"))}


def test_every_active_schedule_becomes_a_dag_that_parses(
    schedules: dict[str, dict[str, Any]],
    emulator_conn: RunningEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "dags"

    assert main(["export", "--conn-id", "azureml_default", "--out", str(out)]) == 0

    files = exported(out)
    assert len(files) == 4
    bag = DagBag(dag_folder=out)
    assert bag.import_errors == {}
    assert set(bag.dags) == set(files)
    berlin = bag.dags[next(name for name in files if name.startswith("azureml_schedule_berlin_4h_"))]
    assert berlin.timetable.serialize() == {
        "frequency": "Hour",
        "interval": 4,
        "start_time": "2024-05-20T16:00:00",
        "time_zone": "W. Europe Standard Time",
        "hours": None,
        "minutes": None,
        "week_days": None,
    }
    [task] = berlin.tasks
    assert (task.published_pipeline_id, task.experiment_name, task.pipeline_parameters) == (
        TRAINING_V1,
        "exp1",
        {"avg_rate": "0.7"},
    )
    assert task.data_path_assignments == {
        "in_path": {"DataStoreName": "workspaceblobstore", "RelativePath": "in/2024"}
    }
    assert (task.continue_on_step_failure, task.description) == (True, "every hour")
    endpoint = next(
        dag for dag in bag.dags.values() if dag.dag_id.startswith("azureml_schedule_endpoint_daily")
    )
    assert endpoint.tasks[0].pipeline_endpoint_id == TRAINING_ENDPOINT
    timetable = endpoint.timetable.serialize()
    assert (timetable["hours"], timetable["minutes"]) == ([6], [15])
    created = emulator_conn.backend.schedules.get(schedules["endpoint"]["Id"]).created_at
    assert timetable["start_time"] == _utc_text(created)  # no start time: counted from creation
    files_dag = next(dag for dag in bag.dags.values() if dag.dag_id.startswith("azureml_schedule_on_files"))
    assert [asset.uri for asset in files_dag.timetable.asset_condition.objects] == [
        "azureml://datastores/workspaceblobstore/paths/incoming"
    ]
    assert files_dag.tasks[0].data_path_assignments["in_path"]["RelativePath"].startswith("{{")
    assert all(
        s.status == "Active" for s in emulator_conn.backend.schedules.list() if s.name != "switched off"
    )
    assert capsys.readouterr().out.count("still active in Azure ML") == 4


def test_a_file_reads_as_a_dag_a_person_would_write(
    schedules: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    main(["export", "--out", str(tmp_path)])
    source = next(path for name, path in exported(tmp_path).items() if "berlin" in name).read_text()

    ast.parse(source)
    assert "AzureMLRecurrenceTimetable(" in source
    assert "frequency='Hour'," in source
    assert "AzureMLSubmitPipelineRunOperator(" in source
    assert schedules["berlin"]["Id"] in source.splitlines()[0]


def test_disable_after_disables_each_schedule_once_its_dag_parses(
    schedules: dict[str, dict[str, Any]], emulator_conn: RunningEmulator, tmp_path: Path
) -> None:
    assert main(["export", "--out", str(tmp_path), "--disable-after"]) == 0

    assert emulator_conn.backend.schedules.list(active_only=True) == []
    assert len(exported(tmp_path)) == 4


def test_a_schedule_whose_pipeline_is_gone_is_reported_and_the_others_exported(
    schedules: dict[str, dict[str, Any]],
    emulator_conn: RunningEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gone = create_schedule(emulator_conn.url, Name="orphan", PipelineId=TRAINING_V2)
    emulator_conn.faults.inject(f"*/Pipelines/{TRAINING_V2}", "GET", count=100, status=404)

    assert main(["export", "--out", str(tmp_path), "--disable-after"]) == 1

    output = capsys.readouterr().out
    assert (
        f"SKIPPED  'orphan' ({gone['Id']}): its published pipeline {TRAINING_V2} no longer exists" in output
    )
    assert "4 of 5 active schedules exported" in output
    assert len(exported(tmp_path)) == 4
    assert [s.id for s in emulator_conn.backend.schedules.list(active_only=True)] == [gone["Id"]]


def _utc_text(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def test_a_hostile_name_or_id_cannot_leave_the_output_folder() -> None:
    from airflow_provider_azureml.client.models import PipelineSchedule
    from airflow_provider_azureml.schedules.render import dag_id_for

    schedule = PipelineSchedule.model_validate({"Id": "../../x/y", "Name": "../../etc/cron.d/job"})

    assert dag_id_for(schedule) == "azureml_schedule_etc_cron_d_job_x"  # the id's first 8: "../../x/"
