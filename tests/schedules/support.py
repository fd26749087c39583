"""Schedules made over raw REST, as the SDK's ``Schedule.create`` sends them, for hook, operator and
export tests."""

from __future__ import annotations

from typing import Any

import httpx

from airflow_provider_azureml.emulator.seeded import TRAINING_V1
from airflow_provider_azureml.emulator.wire import routes
from tests.emulator.support import AUTH, url


def creation(**changes: Any) -> dict[str, Any]:
    """A ``Schedules/Create`` body as the SDK sends it, with ``changes`` on top (None removes a key)."""
    body = {
        "Name": "s-hour",
        "PipelineId": TRAINING_V1,
        "PipelineSubmissionInfo": {
            "ExperimentName": "exp1",
            "Description": "every hour",
            "ParameterAssignments": {"avg_rate": "0.5"},
            "DataPathAssignments": {},
            "DataSetDefinitionValueAssignments": {},
            "Properties": {},
        },
        "Recurrence": {"Frequency": "Hour", "Interval": 1},
        "ScheduleType": "0",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


SUBMISSION = creation()["PipelineSubmissionInfo"]


def create(client: httpx.Client, base: str, **changes: Any) -> httpx.Response:
    return client.post(url(base, routes.CREATE_SCHEDULE), json=creation(**changes))


def create_schedule(base: str, **changes: Any) -> dict[str, Any]:
    """Create one schedule; its entity."""
    with httpx.Client(headers=AUTH) as client:
        response = create(client, base, **changes)
    assert response.status_code == 200, response.text
    return response.json()


def datastore_schedule(**changes: Any) -> dict[str, Any]:
    """The changes making a datastore schedule watching ``incoming/`` of ``workspaceblobstore``."""
    trigger = {
        "DataStoreName": "workspaceblobstore",
        "PollingInterval": 10,
        "DataPathParameterName": "in_path",
        "PathOnDataStore": "incoming",
    }
    return {"Recurrence": None, "ScheduleType": "1", "DataStoreTriggerInfo": trigger, **changes}
