"""Schedules over raw REST: the service's checks (400 in AEVA's shape, 404), ``--state`` across a restart,
and the emulator's firing instants against the timetable's case table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_azureml.emulator.state.schedules import firing_instants, recurrence
from airflow_provider_azureml.emulator.testing import ManualClock, RunningEmulator, run_emulator
from airflow_provider_azureml.emulator.wire import routes
from tests.emulator.support import AUTH, TRAINING_ENDPOINT, url
from tests.schedules.support import SUBMISSION, create, creation
from tests.timetables.cases import CASES, Case

HOUR = 3600


@pytest.fixture
def client(emulator: RunningEmulator) -> httpx.Client:
    with httpx.Client(headers=AUTH) as http:
        yield http


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"PipelineId": "no-such-pipeline"}, "Published pipeline 'no-such-pipeline' was not found"),
        (
            {"PipelineId": None, "PipelineEndpointId": "no-such-endpoint"},
            "PipelineEndpoint 'no-such-endpoint' was not found",
        ),
        ({"PipelineId": None}, "Give exactly one of PipelineId or PipelineEndpointId"),
        (
            {"Recurrence": {"Frequency": "Hour", "Interval": 1, "StartTime": "tomorrow"}},
            "StartTime 'tomorrow'",
        ),
        ({"PipelineSubmissionInfo": {**SUBMISSION, "ExperimentName": ""}}, "ExperimentName"),
        (
            {"Recurrence": {"Frequency": "Hour", "Interval": 1, "Schedule": {"Hours": [3]}}},
            "Can only specify hours if frequency is Week or Day.",
        ),
        (
            {"Recurrence": {"Frequency": "Day", "Interval": 1, "Schedule": {"WeekDays": ["Monday"]}}},
            "Can only specify week days if frequency is Week.",
        ),
        ({"Recurrence": {"Frequency": "Hour", "Interval": 0}}, "Interval must be an integer greater than 0."),
        ({"Recurrence": {"Frequency": "hour", "Interval": 1}}, "Invalid value for frequency"),
        (
            {"Recurrence": {"Frequency": "Hour", "Interval": 1, "TimeZone": "America/Los_Angeles"}},
            "Time zone 'America/Los_Angeles' is not a valid TimeZone",
        ),
        ({"Recurrence": None}, "needs Recurrence"),
        ({"PipelineSubmissionInfo": {**SUBMISSION, "ParameterAssignments": {"nope": "1"}}}, "nope"),
        (
            {"Recurrence": None, "ScheduleType": "1", "DataStoreTriggerInfo": {"PollingInterval": 5}},
            "needs DataStoreTriggerInfo.DataStoreName",
        ),
        (
            {"Recurrence": None, "ScheduleType": "1", "DataStoreTriggerInfo": {"DataStoreName": "other"}},
            "Datastore 'other' was not found",
        ),
        (
            {
                "Recurrence": None,
                "ScheduleType": "1",
                "DataStoreTriggerInfo": {"DataStoreName": "workspaceblobstore", "PathOnDataStore": "a/../.."},
            },
            "PathOnDataStore 'a/../..'",
        ),
        ({"ScheduleType": "7"}, "Unknown ScheduleType '7'"),
    ],
)
def test_what_the_service_refuses_is_a_400_in_aevas_shape(
    client: httpx.Client, emulator: RunningEmulator, changes: dict[str, Any], message: str
) -> None:
    response = create(client, emulator.url, **changes)

    assert response.status_code == 400, response.text
    error = response.json()["Error"]
    assert error["Code"] == "BadRequest"
    assert message in error["Message"]
    assert emulator.backend.schedules.list() == []


@pytest.mark.parametrize(
    "route",
    [routes.GET_SCHEDULE, routes.RUNS_OF_SCHEDULE, routes.LAST_RUN_OF_SCHEDULE, routes.UPDATE_SCHEDULE],
    ids=lambda route: route.method + " " + route.template.rsplit("/", 2)[-2],
)
def test_an_unknown_schedule_is_a_404(client: httpx.Client, emulator: RunningEmulator, route: Any) -> None:
    response = client.request(route.method, url(emulator.url, route, schedule_id="nope"), json=creation())

    assert response.status_code == 404
    assert response.json()["Error"]["Code"] == "NotFound"


def test_lists_of_unknown_pipelines_and_endpoints_are_404(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    assert client.get(url(emulator.url, routes.SCHEDULES_OF_PIPELINE, pipeline_id="nope")).status_code == 404
    assert client.get(url(emulator.url, routes.SCHEDULES_OF_ENDPOINT, endpoint_id="nope")).status_code == 404
    assert (
        client.get(url(emulator.url, routes.SCHEDULES_OF_ENDPOINT, endpoint_id=TRAINING_ENDPOINT)).json()
        == []
    )


def test_the_entity_echoes_the_creation_body_and_put_bumps_the_etag(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    recurrence = {
        "Frequency": "Week",
        "Interval": 2,
        "Schedule": {"Hours": [18], "Minutes": [30], "WeekDays": ["Monday"]},
    }
    entity = create(client, emulator.url, Recurrence=recurrence).json()

    assert (entity["ScheduleType"], entity["EntityStatus"], entity["ProvisioningStatus"]) == (
        "0",
        "Active",
        "Completed",
    )
    assert entity["Recurrence"]["Schedule"] == recurrence["Schedule"]
    assert entity["PipelineSubmissionInfo"]["ParameterAssignments"] == {"avg_rate": "0.5"}
    updated = client.put(
        url(emulator.url, routes.UPDATE_SCHEDULE, schedule_id=entity["Id"]),
        json={**entity, "EntityStatus": "Disabled"},
    ).json()
    assert (updated["EntityStatus"], updated["Etag"], updated["CreatedDate"]) == (
        "Disabled",
        str(int(entity["Etag"]) + 1),
        entity["CreatedDate"],
    )
    listed = client.get(url(emulator.url, routes.LIST_SCHEDULES), params={"activeOnly": "false"}).json()
    assert [s["Id"] for s in listed] == [entity["Id"]]
    assert client.get(url(emulator.url, routes.LIST_SCHEDULES), params={"activeOnly": "true"}).json() == []


def test_schedules_survive_a_restart_with_state_and_keep_firing(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    with (
        run_emulator(state_file=tmp_path / "state.json", clock=manual_clock) as emulator,
        httpx.Client(headers=AUTH) as client,
    ):
        entity = create(client, emulator.url).json()
        runs = url(emulator.url, routes.RUNS_OF_SCHEDULE, schedule_id=entity["Id"])
        assert len(client.get(runs).json()) == 1

        emulator.restart()
        manual_clock.advance(HOUR)

        assert client.get(url(emulator.url, routes.GET_SCHEDULE, schedule_id=entity["Id"])).json() == entity
        fired = client.get(runs).json()
        assert len(fired) == 2 and {run["ScheduleId"] for run in fired} == {entity["Id"]}
        last = client.get(url(emulator.url, routes.LAST_RUN_OF_SCHEDULE, schedule_id=entity["Id"])).json()
        assert last["Id"] == fired[-1]["Id"]


def test_the_admin_clock_advance_fires_what_became_due(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    entity = create(client, emulator.url).json()
    advanced = httpx.post(f"{emulator.url}/_emulator/clock/advance", json={"seconds": 2 * HOUR})
    assert advanced.status_code == 200

    submissions = httpx.get(f"{emulator.url}/_emulator/submissions").json()
    assert [s["schedule_id"] for s in submissions] == [entity["Id"]] * 3


def _rule(case: Case) -> Any:
    kwargs = dict(case.kwargs)
    if "time_of_day" in kwargs:  # the SDK sends it as hours and minutes
        hour, minute = kwargs.pop("time_of_day").split(":")
        kwargs.update(hours=[int(hour)], minutes=[int(minute)])
    start = kwargs.pop("start_time", None)
    return recurrence(
        kwargs.pop("frequency"),
        kwargs.pop("interval"),
        start_time=start.strftime("%Y-%m-%dT%H:%M:%S") if isinstance(start, datetime) else start,
        **kwargs,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_emulator_fires_at_the_timetables_instants(case: Case) -> None:
    """A schedule created at the case's "now" fires at its expected instants (and nothing between)."""
    expected = [instant.timestamp() for instant in case.expected_instants]
    created = case.now_utc.timestamp()

    assert firing_instants(_rule(case), created, None, expected[-1]) == expected


def test_a_schedule_created_at_a_fractional_second_fires_at_once() -> None:
    """The anchor is a whole second, as a StartTime is: its first instant is never lost to rounding."""
    with (
        run_emulator(clock=ManualClock(start=1_800_000_000.2410214)) as emulator,
        httpx.Client(headers=AUTH) as client,
    ):
        entity = create(client, emulator.url).json()
        manual_runs = client.get(url(emulator.url, routes.RUNS_OF_SCHEDULE, schedule_id=entity["Id"])).json()

    assert len(manual_runs) == 1
