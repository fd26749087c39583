"""AzureMLHook's schedule methods over loopback HTTP against the emulator (no SDK)."""

from __future__ import annotations

import pytest

from airflow_provider_azureml.client.errors import AzureMLConfigError, AzureMLNotFoundError
from airflow_provider_azureml.emulator.seeded import TRAINING_ENDPOINT, TRAINING_V1
from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from tests.schedules.support import create_schedule, datastore_schedule

WEEKLY = {
    "Frequency": "Week",
    "Interval": 2,
    "StartTime": "2030-01-07T00:00:00",
    "TimeZone": "Pacific Standard Time",
    "Schedule": {"Hours": [18], "Minutes": [30], "WeekDays": ["Monday", "Wednesday"]},
}


def test_list_and_get_read_what_a_schedule_runs_and_when(emulator_conn: RunningEmulator) -> None:
    weekly = create_schedule(emulator_conn.url, Name="weekly", Recurrence=WEEKLY)
    on_files = create_schedule(
        emulator_conn.url,
        **datastore_schedule(Name="on-files", PipelineId=None, PipelineEndpointId=TRAINING_ENDPOINT),
    )
    hook = AzureMLHook()

    assert {s.id for s in hook.list_schedules()} == {weekly["Id"], on_files["Id"]}
    got = hook.get_schedule(schedule_id=weekly["Id"])
    assert (got.name, got.pipeline_id, got.status, got.is_recurrence) == (
        "weekly",
        TRAINING_V1,
        "Active",
        True,
    )
    assert (got.experiment_name, got.description, got.parameter_assignments) == (
        "exp1",
        "every hour",
        {"avg_rate": "0.5"},
    )
    rule = got.recurrence
    assert rule is not None
    assert (rule.frequency, rule.interval, rule.start_time, rule.time_zone) == (
        "Week",
        2,
        "2030-01-07T00:00:00",
        "Pacific Standard Time",
    )
    assert (rule.hours, rule.minutes, rule.week_days) == ([18], [30], ["Monday", "Wednesday"])
    by_name = hook.get_schedule(name="on-files")
    assert (by_name.id, by_name.is_recurrence, by_name.pipeline_endpoint_id) == (
        on_files["Id"],
        False,
        TRAINING_ENDPOINT,
    )
    trigger = by_name.datastore_trigger
    assert trigger is not None
    assert (trigger.datastore_name, trigger.path_on_datastore, trigger.polling_interval) == (
        "workspaceblobstore",
        "incoming",
        10,
    )


def test_disable_and_enable_write_only_the_status(emulator_conn: RunningEmulator) -> None:
    entity = create_schedule(emulator_conn.url, Recurrence=WEEKLY)
    before = emulator_conn.backend.schedules.get(entity["Id"])
    hook = AzureMLHook()

    assert hook.disable_schedule(entity["Id"]).status == "Disabled"
    assert hook.list_schedules() == []
    assert [s.id for s in hook.list_schedules(active_only=False)] == [entity["Id"]]
    after = emulator_conn.backend.schedules.get(entity["Id"])
    assert (after.recurrence, after.submission, after.name) == (
        before.recurrence,
        before.submission,
        before.name,
    )
    assert hook.enable_schedule(entity["Id"]).status == "Active"
    requests = emulator_conn.requests.snapshot()["routes"]
    assert requests["PUT UPDATE_SCHEDULE"] == 2

    assert hook.enable_schedule(entity["Id"]).status == "Active"  # already so: nothing written
    assert emulator_conn.requests.snapshot()["routes"]["PUT UPDATE_SCHEDULE"] == 2


def test_an_unknown_or_shared_name_and_an_unknown_id_are_errors(emulator_conn: RunningEmulator) -> None:
    create_schedule(emulator_conn.url, Name="twin")
    create_schedule(emulator_conn.url, Name="twin")
    hook = AzureMLHook()

    with pytest.raises(AzureMLConfigError, match="2 schedules are named 'twin'"):
        hook.get_schedule(name="twin")
    with pytest.raises(AzureMLConfigError, match="no schedule is named 'nobody'"):
        hook.get_schedule(name="nobody")
    with pytest.raises(AzureMLConfigError, match="exactly one of schedule_id or name"):
        hook.get_schedule()
    with pytest.raises(AzureMLNotFoundError):
        hook.disable_schedule("no-such-schedule")
