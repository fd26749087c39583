"""AzureMLPipelineRunTrigger against the emulator over loopback HTTP, on the test's own event loop.

Time is kept short by fast emulator phases and poll intervals of hundredths of a second; the deadline
tests use a long poll interval so that only the trigger's deadline handling can explain the outcome.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time

import pytest
from airflow.sdk.module_loading import import_string

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.triggers.pipeline_run import (
    MAX_BACKOFF_SECONDS,
    AzureMLPipelineRunTrigger,
    next_backoff,
    next_poll_wait,
)
from airflow_provider_azureml.utils.events import EVENT_KEYS
from tests.triggers.support import EXPERIMENT, FAILING_RATE, first_event, remote_status, submit_run

NO_CLIENT_RETRIES = {"max_retries": 0}


def task_log(capsys: pytest.CaptureFixture) -> str:
    """The trigger logs through Airflow's structlog setup, which writes to stdout in tests."""
    return capsys.readouterr().out


def trigger_for(run_id: str, **kwargs) -> AzureMLPipelineRunTrigger:
    options = {"experiment_name": EXPERIMENT, "poll_interval": 0.02, "cancel_on_kill": False, **kwargs}
    return AzureMLPipelineRunTrigger(run_id=run_id, **options)


async def test_successful_run_gives_a_success_event(emulator_conn):
    run_id = submit_run()
    event = await first_event(trigger_for(run_id))
    assert set(event) == EVENT_KEYS
    assert event["status"] == "success"
    assert (event["run_id"], event["experiment_name"], event["run_status"]) == (
        run_id,
        EXPERIMENT,
        "Finished",
    )


async def test_failed_run_gives_a_failed_event(emulator_conn):
    run_id = submit_run(FAILING_RATE)
    event = await first_event(trigger_for(run_id))
    assert (event["status"], event["run_status"]) == ("failed", "Failed")


async def test_experiment_is_learned_from_the_run_when_not_given(emulator_conn):
    run_id = submit_run()
    event = await first_event(trigger_for(run_id, experiment_name=""))
    assert (event["status"], event["experiment_name"]) == ("success", EXPERIMENT)


async def test_progress_is_logged_on_changes_only(emulator_conn, capsys: pytest.CaptureFixture):
    emulator_conn.backend.set_default_durations({"step": 0.3})  # about 15 polls while the step runs
    run_id = submit_run()
    await first_event(trigger_for(run_id))
    lines = re.findall(rf"Azure ML pipeline run {run_id}: (.*?) \[", task_log(capsys))
    assert any("running: train" in line for line in lines)
    assert lines[-1] == "status Finished; steps: 1 Completed"
    assert len(lines) == len(set(lines))  # every line is a change, never a repeat of the polls
    assert len(lines) < 8


async def test_unknown_run_gives_an_error_event_at_once(emulator_conn):
    started = time.monotonic()
    event = await first_event(trigger_for("no-such-run", end_time=time.time() + 60))
    assert event["status"] == "error"
    assert "no-such-run" in event["message"] and "404" in event["message"]
    assert event["permanent"] is True  # the task fails without retries, as the sync path does
    assert time.monotonic() - started < 2


async def test_undefined_connection_gives_an_error_event(emulator_conn):
    event = await first_event(trigger_for("any", azureml_conn_id="no_such_conn"))
    assert event["status"] == "error"
    assert "no_such_conn" in event["message"]


async def test_faults_while_polling_back_off_exponentially_and_still_end_right(
    emulator_conn, capsys: pytest.CaptureFixture
):
    """With no client retries, every fault reaches the trigger, which doubles its wait each time."""
    run_id = submit_run()
    faults = emulator_conn.faults
    faults.inject(routes.GET_PIPELINE_RUN, kind="throttle", count=2, retry_after=0)
    faults.inject(routes.GET_RUN_CHILDREN, kind="error", status=503, count=1)
    faults.inject(routes.GET_PIPELINE_RUN, kind="drop", count=1)
    event = await first_event(trigger_for(run_id, retry_settings=NO_CLIENT_RETRIES))

    assert (event["status"], event["run_status"]) == ("success", "Finished")
    assert faults.pending() == []
    waits = [float(w) for w in re.findall(r"next poll in ([\d.]+)s", task_log(capsys))]
    assert waits == [0.04, 0.08, 0.16, 0.32]


async def test_client_retries_absorb_short_throttling(
    emulator_conn, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
):
    run_id = submit_run()
    emulator_conn.faults.inject(routes.GET_PIPELINE_RUN, kind="throttle", count=2, retry_after=0.01)
    with caplog.at_level(logging.WARNING):
        event = await first_event(trigger_for(run_id, retry_settings={"max_retries": 3}))
    assert event["status"] == "success"
    assert "next poll in" not in task_log(capsys)  # the trigger's own backoff was not needed
    assert "HTTP 429; retry 2 of 3" in caplog.text  # the client's retries were


def test_backoff_doubles_up_to_a_cap():
    assert next_backoff(1.0) == 2.0
    assert next_backoff(MAX_BACKOFF_SECONDS) == MAX_BACKOFF_SECONDS
    assert next_backoff(200.0) == MAX_BACKOFF_SECONDS


async def test_run_still_active_at_the_deadline_times_out(emulator_conn):
    emulator_conn.backend.set_default_durations({"step": 30})
    run_id = submit_run()
    started = time.monotonic()
    event = await first_event(trigger_for(run_id, poll_interval=30, end_time=time.time() + 0.3))
    assert (event["status"], event["run_status"]) == ("timeout", "Running")
    assert 0.25 < time.monotonic() - started < 2  # waited for the deadline, not for a poll interval


@pytest.mark.parametrize("dropped_polls", [0, 1, 2])
async def test_run_that_finishes_at_the_deadline_is_a_success(emulator_conn, dropped_polls):
    """The run ends between the first poll and the deadline; the poll interval would be far later.

    With 0 dropped polls the poll at the deadline sees it; with 1 the first poll fails and the one at the
    deadline sees it; with 2 both fail and only the final look after the deadline can see it.
    """
    emulator_conn.backend.set_default_durations({"step": 0.3})  # finished about 0.35 s after submission
    run_id = submit_run()
    deadline = time.time() + 0.6
    emulator_conn.faults.inject(
        routes.GET_PIPELINE_RUN, kind="drop", count=dropped_polls
    ) if dropped_polls else None
    trigger = trigger_for(run_id, poll_interval=30, end_time=deadline, retry_settings=NO_CLIENT_RETRIES)

    event = await first_event(trigger)

    assert (event["status"], event["run_status"]) == ("success", "Finished")
    assert time.time() >= deadline - 0.05  # it was still active when first looked at
    assert emulator_conn.faults.pending() == []


async def test_serialized_kwargs_rebuild_an_equivalent_trigger(emulator_conn):
    run_id = submit_run()
    original = trigger_for(
        run_id,
        end_time=time.time() + 30,
        cancel_on_kill=True,
        retry_settings={"max_retries": 2, "retry_max_seconds": None, "request_timeout": 5.0},
    )
    classpath, kwargs = original.serialize()
    stored = json.loads(json.dumps(kwargs))  # what the triggerer reads back from the database

    rebuilt = import_string(classpath)(**stored)

    assert type(rebuilt) is AzureMLPipelineRunTrigger
    assert rebuilt.serialize() == (classpath, kwargs)
    assert await first_event(rebuilt) == await first_event(original)


async def test_on_kill_cancels_the_remote_run(emulator_conn):
    emulator_conn.backend.set_default_durations({"step": 30})
    run_id = submit_run()
    trigger = trigger_for(run_id, cancel_on_kill=True)
    waiting = asyncio.create_task(first_event(trigger))
    await asyncio.sleep(0.1)

    await trigger.on_kill()

    event = await asyncio.wait_for(waiting, timeout=5)
    assert (event["status"], event["run_status"]) == ("failed", "Canceled")
    assert remote_status(run_id) == "Canceled"


async def test_on_kill_leaves_the_run_alone_without_cancel_on_kill(emulator_conn):
    emulator_conn.backend.set_default_durations({"step": 30})
    run_id = submit_run()
    await trigger_for(run_id, cancel_on_kill=False).on_kill()
    await asyncio.sleep(0.1)
    assert remote_status(run_id) == "Running"


async def test_cleanup_never_cancels(emulator_conn):
    """A triggerer restart cancels the trigger's task and calls cleanup(): the run must keep going."""
    emulator_conn.backend.set_default_durations({"step": 30})
    run_id = submit_run()
    trigger = trigger_for(run_id, cancel_on_kill=True)
    waiting = asyncio.create_task(first_event(trigger))
    await asyncio.sleep(0.1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    await trigger.cleanup()

    await asyncio.sleep(0.1)
    assert remote_status(run_id) == "Running"


def test_polls_start_one_interval_apart_however_long_a_poll_took():
    assert next_poll_wait(10.0, 0.5, first=False) == 9.5
    assert next_poll_wait(10.0, 0.0, first=False) == 10.0
    assert next_poll_wait(10.0, 30.0, first=False) == 5.0  # an overloaded service still gets a rest


def test_first_wait_is_a_random_fraction_of_the_interval():
    """Triggers started together spread out; the first wait never exceeds the interval (no added lag)."""
    waits = [next_poll_wait(10.0, 0.0, first=True) for _ in range(200)]
    assert all(0.0 <= wait < 10.0 for wait in waits)
    assert max(waits) - min(waits) > 5.0
