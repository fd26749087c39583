"""AzureMLScheduleOperator against the emulator over loopback HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.operators.schedule import AzureMLScheduleOperator
from tests.schedules.support import create_schedule
from tests.task_context import make_context


def run(**kwargs: Any) -> dict[str, Any]:
    return AzureMLScheduleOperator(task_id="schedule", **kwargs).execute(make_context())


def test_disable_by_name_then_enable_by_id(emulator_conn: RunningEmulator) -> None:
    entity = create_schedule(emulator_conn.url, Name="nightly")

    assert run(action="disable", schedule_name="nightly") == {
        "schedule_id": entity["Id"],
        "name": "nightly",
        "status": "Disabled",
    }
    assert emulator_conn.backend.schedules.get(entity["Id"]).status == "Disabled"
    assert run(action="enable", schedule_id=entity["Id"])["status"] == "Active"
    assert run(action="enable", schedule_id=entity["Id"])["status"] == "Active"


def test_an_unknown_schedule_fails_at_once_naming_it(emulator_conn: RunningEmulator) -> None:
    with pytest.raises(AirflowFailException, match="Cannot disable Azure ML schedule nope: HTTP 404"):
        run(action="disable", schedule_id="nope")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "disable"}, "exactly one of schedule_id or schedule_name"),
        ({"action": "disable", "schedule_id": "a", "schedule_name": "b"}, "exactly one of schedule_id"),
        ({"action": "pause", "schedule_id": "a"}, "action: Input should be 'enable' or 'disable'"),
        ({"action": "enable", "schedule_id": 5}, "schedule_id: Input should be a valid string"),
    ],
)
def test_bad_arguments_fail_before_any_request(
    emulator_conn: RunningEmulator, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(AirflowFailException, match=message):
        run(**kwargs)
    assert emulator_conn.requests.snapshot()["total"] == 0
