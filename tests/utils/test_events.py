"""The trigger event payload: one shape for the trigger, the operators and the sensor."""

from __future__ import annotations

import json

import pytest

from airflow_provider_azureml.utils.events import (
    EVENT_KEYS,
    build_error_event,
    build_run_event,
    validate_event,
)


@pytest.mark.parametrize(
    ("run_status", "timed_out", "expected"),
    [
        ("Finished", False, "success"),
        ("Completed", False, "success"),
        ("Failed", False, "failed"),
        ("Canceled", False, "failed"),
        ("Running", True, "timeout"),
        # A run seen terminal at the deadline is judged by its status, not reported as a timeout.
        ("Finished", True, "success"),
        ("Failed", True, "failed"),
    ],
)
def test_run_event_status_follows_the_run(run_status, timed_out, expected):
    event = build_run_event("run-1", "exp", run_status, timed_out=timed_out)
    assert event["status"] == expected
    assert set(event) == EVENT_KEYS
    assert (event["run_id"], event["experiment_name"], event["run_status"]) == ("run-1", "exp", run_status)
    assert "run-1" in event["message"]
    assert json.loads(json.dumps(event)) == event  # trigger events cross a process boundary


def test_active_run_without_deadline_is_not_an_event():
    with pytest.raises(ValueError, match="neither terminal nor timed out"):
        build_run_event("run-1", "exp", "Running")


def test_error_event_carries_the_message():
    event = build_error_event("run-1", "exp", "HTTP 404 not found")
    assert event == {
        "status": "error",
        "run_id": "run-1",
        "experiment_name": "exp",
        "run_status": "Unknown",
        "message": "HTTP 404 not found",
        "permanent": False,
    }
    assert validate_event(event) is event
    assert build_error_event("run-1", "exp", "HTTP 404 not found", permanent=True)["permanent"] is True


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ({"status": "success"}, "missing ['experiment_name', 'message', 'run_id', 'run_status']"),
        (None, "missing ['experiment_name', 'message', 'run_id', 'run_status', 'status']"),
        ("success", "missing"),
        ({**build_error_event("r", "e", "m"), "status": "done"}, "status 'done' is not one of"),
    ],
)
def test_malformed_events_are_refused_naming_what_is_wrong(event, fragment):
    with pytest.raises(ValueError) as raised:
        validate_event(event)
    assert fragment in str(raised.value)
