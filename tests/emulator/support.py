"""Ids of the default seed, URL building, and moving simulated runs along for the emulator tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from airflow_provider_azureml.emulator.connection import EMULATOR_WORKSPACE
from airflow_provider_azureml.emulator.seeded import (  # noqa: F401 (re-exported for the tests)
    SCORING,
    SCORING_ENDPOINT,
    TRAINING_ENDPOINT,
    TRAINING_V1,
    TRAINING_V2,
)
from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.routes import Route

T = TypeVar("T")
SCOPE = EMULATOR_WORKSPACE
WORKSPACE_ID = "5e1f3c7a-9d2b-4c8e-a6f0-3b7d9e1c2a40"
TRAIN_NODE = "7a1c9e42"
FAILING_RATE = "0.99"
FAILING_MESSAGE = "ValueError: avg_rate=0.99 makes the loss diverge (loss=nan at epoch 3)"
AUTH = {"Authorization": "Bearer test-token"}
#: A moment past a transition, so that float rounding of the emulator's clock cannot land just before it.
INSTANT = 1e-6


def url(base: str, route: Route, **params: object) -> str:
    return base + route.path(**SCOPE, **params)


def wait_for(probe: Callable[[], T], done: Callable[[T], bool], timeout: float = 10.0) -> T:
    """Call ``probe`` until ``done`` accepts its value; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout}s")
        time.sleep(0.02)


def submit(client: httpx.Client, base: str, pipeline_id: str = TRAINING_V1, **body: Any) -> dict[str, Any]:
    payload = {"ExperimentName": "exp", **body}
    response = client.post(url(base, routes.SUBMIT_PIPELINE, pipeline_id=pipeline_id), json=payload)
    assert response.status_code == 200, response.text
    return response.json()


def run_status(client: httpx.Client, base: str, run_id: str) -> str:
    response = client.get(url(base, routes.GET_PIPELINE_RUN, run_id=run_id))
    assert response.status_code == 200, response.text
    return response.json()["Status"]["StatusCode"]


def move_to(emulator: RunningEmulator, run_id: str, status: str | None = None) -> None:
    """Hold the emulator's time and move it to the instant run ``run_id`` enters ``status`` (None: its end).

    Instead of waiting for a simulated run to get somewhere, a test puts it there: the result does not
    depend on the machine's speed. A run that has passed that instant already is left where it is.
    """
    backend = emulator.backend
    backend.hold()
    run = backend.get_run(run_id)
    at = run.timeline.ends_at if status is None else run.timeline.entered(status)
    assert at is not None, f"run {run_id} never enters {status or 'a final status'}"
    backend.advance(max(0.0, at - backend.offset(run)) + INSTANT)


def finish(client: httpx.Client, emulator: RunningEmulator, run_id: str) -> str:
    """Move a simulated run to its end (:func:`move_to`) and read its final status over HTTP."""
    move_to(emulator, run_id)
    return run_status(client, emulator.url, run_id)
