"""The trigger event payload, built and checked in one place for the trigger, operators and sensor."""

from __future__ import annotations

from typing import Any

from airflow_provider_azureml.client.redaction import scrub
from airflow_provider_azureml.client.statuses import RunState, RunStatus

EVENT_KEYS = frozenset({"status", "run_id", "experiment_name", "run_status", "message"})
EVENT_STATUSES = frozenset({"success", "failed", "timeout", "error"})


def build_run_event(
    run_id: str, experiment_name: str, run_status: str, *, timed_out: bool = False
) -> dict[str, Any]:
    """Payload for a terminal run, or for a deadline reached while it was still active."""
    state = RunState(run_status)
    if state.is_successful:
        status, message = "success", f"Azure ML pipeline run {run_id} {run_status}."
    elif state.is_terminal:
        status, message = "failed", f"Azure ML pipeline run {run_id} ended {run_status}."
    elif timed_out:
        status, message = "timeout", f"Azure ML pipeline run {run_id} still {run_status} at the deadline."
    else:
        raise ValueError(f"run {run_id} is {run_status}: neither terminal nor timed out")
    return {
        "status": status,
        "run_id": run_id,
        "experiment_name": experiment_name,
        "run_status": run_status,
        "message": message,
    }


def build_error_event(
    run_id: str,
    experiment_name: str,
    message: str,
    *,
    permanent: bool = False,
    run_status: str = RunStatus.UNKNOWN,
) -> dict[str, Any]:
    """The trigger could not watch the run, last seen ``run_status``; ``permanent`` errors fail the task
    without retries."""
    return {
        "status": "error",
        "run_id": run_id,
        "experiment_name": experiment_name,
        "run_status": run_status,
        "message": scrub(message),
        "permanent": permanent,
    }


def validate_event(event: Any) -> dict[str, Any]:
    """Refuse an event that lacks a key the caller relies on (naming them) or has an unknown status.

    An unknown status would otherwise fall through to the run-status branch and be judged by
    ``run_status`` alone, whatever the trigger meant.
    """
    if not isinstance(event, dict) or not set(event) >= EVENT_KEYS:
        missing = sorted(EVENT_KEYS - set(event)) if isinstance(event, dict) else sorted(EVENT_KEYS)
        raise ValueError(f"malformed trigger event, missing {missing}: {event!r}")
    if event["status"] not in EVENT_STATUSES:
        raise ValueError(
            f"malformed trigger event, status {event['status']!r} is not one of {sorted(EVENT_STATUSES)}"
        )
    return event
