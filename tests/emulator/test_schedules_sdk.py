"""The real SDK's schedule API (``azureml.pipeline.core.schedule``) against the emulator on a ManualClock.

Schedules fire on the emulator's time, which only the test moves (``manual_clock.advance``): a run two
hours after creation takes no time, and each assertion sees exactly the runs due by then.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from airflow_provider_azureml.emulator.state.records import DataPathRef, Submission
from airflow_provider_azureml.emulator.testing import ManualClock, RunningEmulator, run_emulator
from airflow_provider_azureml.emulator.wire import routes
from tests.emulator import test_sdk_referee
from tests.emulator.support import AUTH, TRAINING_ENDPOINT, TRAINING_V1, TRAINING_V2, url

# Fixtures (pytest registers fixtures found in the test module).
sdk, ws = test_sdk_referee.sdk, test_sdk_referee.ws
HOUR = 3600


@pytest.fixture
def emulator(manual_clock: ManualClock, tmp_path: Path) -> Iterator[RunningEmulator]:
    with run_emulator(clock=manual_clock, data_dir=tmp_path / "data") as running:
        yield running


@pytest.fixture
def api(sdk: SimpleNamespace) -> SimpleNamespace:
    """``Schedule``, ``ScheduleRecurrence``, ``TimeZone`` and ``Datastore``, imported after ``sdk``."""
    schedule = importlib.import_module("azureml.pipeline.core.schedule")
    core = importlib.import_module("azureml.core")
    return SimpleNamespace(
        Schedule=schedule.Schedule,
        Recurrence=schedule.ScheduleRecurrence,
        TimeZone=schedule.TimeZone,
        Datastore=core.Datastore,
    )


def scheduled(emulator: RunningEmulator, schedule_id: str) -> list[Submission]:
    return [s for s in emulator.backend.submissions() if s.schedule_id == schedule_id]


def hourly(api: SimpleNamespace, ws: Any, **options: Any) -> Any:
    return api.Schedule.create(
        ws,
        name="hourly",
        pipeline_id=TRAINING_V1,
        experiment_name="scheduled",
        recurrence=api.Recurrence("Hour", 1),
        **options,
    )


def test_a_recurrence_without_start_time_fires_at_once_then_every_interval(
    sdk: SimpleNamespace, api: SimpleNamespace, ws: Any, emulator: RunningEmulator, manual_clock: ManualClock
) -> None:
    created = emulator.backend.clock()
    schedule = api.Schedule.create(
        ws,
        name="every-2h",
        pipeline_id=TRAINING_V1,
        experiment_name="scheduled",
        recurrence=api.Recurrence("Hour", 2),
        pipeline_parameters={"avg_rate": 0.7},
        description="every two hours",
        continue_on_step_failure=True,
    )
    assert [run.id for run in schedule.get_pipeline_runs()] == [
        s.run_id for s in scheduled(emulator, schedule.id)
    ]

    manual_clock.advance(2 * HOUR - 1)
    assert len(schedule.get_pipeline_runs()) == 1
    manual_clock.advance(1)
    runs = schedule.get_pipeline_runs()

    submissions = scheduled(emulator, schedule.id)
    assert [s.submitted_at for s in submissions] == [created, created + 2 * HOUR]
    assert {run.id for run in runs} == {s.run_id for s in submissions}
    assert all(isinstance(run, sdk.PipelineRun) for run in runs)
    assert {(s.experiment_name, s.pipeline_id, s.continue_on_step_failure) for s in submissions} == {
        ("scheduled", TRAINING_V1, True)
    }
    assert [s.parameters_received for s in submissions] == [{"avg_rate": "0.7"}] * 2
    last = schedule.get_last_pipeline_run()
    assert last.id == submissions[-1].run_id
    entity = httpx.get(url(emulator.url, routes.GET_PIPELINE_RUN, run_id=last.id), headers=AUTH).json()
    assert entity["ScheduleId"] == schedule.id


def test_a_future_start_time_fires_at_that_wall_clock_time_in_its_zone(
    api: SimpleNamespace, ws: Any, emulator: RunningEmulator, manual_clock: ManualClock
) -> None:
    due = (int(emulator.backend.clock()) // 60 + 180) * 60  # three hours ahead, on a whole minute
    berlin = datetime.fromtimestamp(due, ZoneInfo("Europe/Berlin")).replace(tzinfo=None)
    recurrence = api.Recurrence("Minute", 30, start_time=berlin, time_zone=api.TimeZone.WEuropeStandardTime)
    schedule = api.Schedule.create(
        ws, name="half-hourly", pipeline_id=TRAINING_V1, experiment_name="scheduled", recurrence=recurrence
    )
    assert schedule.get_last_pipeline_run() is None  # 204 from .../Last

    manual_clock.advance(due - emulator.backend.clock() - 1)
    assert schedule.get_pipeline_runs() == []
    manual_clock.advance(1 + 30 * 60)

    assert [s.submitted_at for s in scheduled(emulator, schedule.id)] == [due, due + 30 * 60]
    assert api.Schedule.get(ws, schedule.id).recurrence.time_zone == api.TimeZone.WEuropeStandardTime


def test_a_weekly_pattern_fires_on_its_days_and_times_of_every_other_week(
    api: SimpleNamespace, ws: Any, emulator: RunningEmulator, manual_clock: ManualClock
) -> None:
    now = datetime.fromtimestamp(emulator.backend.clock(), UTC)
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    recurrence = api.Recurrence(
        "Week",
        2,
        start_time=monday.replace(tzinfo=None),
        week_days=["Monday", "Wednesday"],
        time_of_day="18:30",
    )
    schedule = api.Schedule.create(
        ws, name="fortnightly", pipeline_id=TRAINING_V1, experiment_name="scheduled", recurrence=recurrence
    )

    manual_clock.advance((monday + timedelta(days=15)).timestamp() - emulator.backend.clock())

    expected = [monday + timedelta(days=days, hours=18, minutes=30) for days in (0, 2, 14)]
    assert [s.submitted_at for s in scheduled(emulator, schedule.id)] == [e.timestamp() for e in expected]
    assert len(schedule.get_pipeline_runs()) == 3


def test_get_list_update_disable_and_enable(api: SimpleNamespace, ws: Any, emulator: RunningEmulator) -> None:
    daily = api.Schedule.create(
        ws,
        name="daily",
        pipeline_id=TRAINING_V1,
        experiment_name="scheduled",
        recurrence=api.Recurrence("Day", 1, start_time="2030-01-01T06:00:00", time_zone=api.TimeZone.UTC),
        description="daily at six",
    )
    endpoint = api.Schedule.create_for_pipeline_endpoint(
        ws,
        name="endpoint-hourly",
        pipeline_endpoint_id=TRAINING_ENDPOINT,
        experiment_name="scheduled",
        recurrence=api.Recurrence("Hour", 1, start_time="2030-01-01T00:00:00"),
    )

    got = api.Schedule.get(ws, daily.id)
    assert (got.name, got.pipeline_id, got.status, got.description) == (
        "daily",
        TRAINING_V1,
        "Active",
        "daily at six",
    )
    assert (got.recurrence.frequency, got.recurrence.interval, got.recurrence.start_time) == (
        "Day",
        1,
        "2030-01-01T06:00:00",
    )
    assert {s.id for s in api.Schedule.list(ws)} == {daily.id, endpoint.id}
    assert [s.id for s in api.Schedule.list(ws, pipeline_id=TRAINING_V1)] == [daily.id]
    assert [s.id for s in api.Schedule.list(ws, pipeline_endpoint_id=TRAINING_ENDPOINT)] == [endpoint.id]

    daily.disable()
    assert [s.id for s in api.Schedule.list(ws)] == [endpoint.id]
    assert {s.id for s in api.Schedule.list(ws, active_only=False)} == {daily.id, endpoint.id}
    daily.update(description="new description", pipeline_parameters={"avg_rate": 0.2})
    updated = api.Schedule.get(ws, daily.id)
    assert (updated.status, updated.description) == ("Disabled", "new description")
    daily.enable()
    assert api.Schedule.get(ws, daily.id).status == "Active"
    assert emulator.backend.schedules.get(daily.id).submission.parameters == {"avg_rate": "0.2"}


def test_a_disabled_schedule_does_not_fire_and_enabling_does_not_catch_up(
    api: SimpleNamespace, ws: Any, emulator: RunningEmulator, manual_clock: ManualClock
) -> None:
    schedule = hourly(api, ws)
    schedule.disable()
    manual_clock.advance(3 * HOUR)
    assert len(schedule.get_pipeline_runs()) == 1  # the immediate one

    schedule.enable()
    assert len(schedule.get_pipeline_runs()) == 1
    manual_clock.advance(HOUR)
    assert len(schedule.get_pipeline_runs()) == 2


def test_an_endpoint_schedule_runs_the_endpoints_default_version(
    api: SimpleNamespace, ws: Any, emulator: RunningEmulator
) -> None:
    schedule = api.Schedule.create_for_pipeline_endpoint(
        ws,
        name="endpoint",
        pipeline_endpoint_id=TRAINING_ENDPOINT,
        experiment_name="scheduled",
        recurrence=api.Recurrence("Day", 1),
        pipeline_parameters={"epochs": 4},
    )

    [submission] = scheduled(emulator, schedule.id)
    assert (submission.pipeline_id, submission.endpoint_id, submission.endpoint_version) == (
        TRAINING_V2,
        TRAINING_ENDPOINT,
        "1",
    )
    assert submission.parameters_resolved == {"avg_rate": "0.5", "epochs": "4"}


def test_a_datastore_schedule_fires_once_per_new_or_changed_file_directly_under_its_path(
    api: SimpleNamespace, ws: Any, emulator: RunningEmulator, manual_clock: ManualClock
) -> None:
    folder = emulator.backend.layout.datastores / "workspaceblobstore" / "incoming"
    folder.mkdir(parents=True)
    (folder / "before.csv").write_text("there before the schedule")
    schedule = api.Schedule.create(
        ws,
        name="on-files",
        pipeline_id=TRAINING_V1,
        experiment_name="on-files",
        datastore=api.Datastore(ws, "workspaceblobstore"),
        path_on_datastore="incoming",
        data_path_parameter_name="in_path",
        polling_interval=10,
    )
    (folder / "new.csv").write_text("1")
    (folder / "deeper").mkdir()
    (folder / "deeper" / "ignored.csv").write_text("sub-folders are not watched")

    manual_clock.advance(10 * 60 - 1)
    assert schedule.get_pipeline_runs() == []
    manual_clock.advance(1)
    assert len(schedule.get_pipeline_runs()) == 1
    stat = (folder / "new.csv").stat()
    os.utime(folder / "new.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    manual_clock.advance(10 * 60)

    submissions = scheduled(emulator, schedule.id)
    assert [s.data_paths for s in submissions] == [
        {"in_path": DataPathRef(datastore_name="workspaceblobstore", relative_path="incoming/new.csv")}
    ] * 2
    got = api.Schedule.get(ws, schedule.id)
    assert (got.datastore_name, got.path_on_datastore, got.polling_interval) == (
        "workspaceblobstore",
        "incoming",
        10,
    )


def test_unknown_ids_are_404_and_unknown_pipelines_400(
    sdk: SimpleNamespace, api: SimpleNamespace, ws: Any, emulator: RunningEmulator
) -> None:
    with pytest.raises(sdk.ErrorResponseException) as raised:
        api.Schedule.get(ws, "no-such-schedule")
    assert raised.value.response.status_code == 404
    with pytest.raises(sdk.ErrorResponseException) as raised:
        api.Schedule.create(
            ws,
            name="x",
            pipeline_id="no-such-pipeline",
            experiment_name="e",
            recurrence=api.Recurrence("Hour", 1),
        )
    assert raised.value.response.status_code == 400
    assert "no-such-pipeline" in str(raised.value)
