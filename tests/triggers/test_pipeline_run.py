"""AzureMLPipelineRunTrigger against the emulator over loopback HTTP, on the test's own event loop.

Time is simulated (``clocked_conn``): the sleeps of the shared status poller move the emulator's clock
on, so it polls at realistic intervals and the tests assert exactly when it polled, how long it waited
and when it stopped. Its first read comes ``JOIN_DELAY`` after the trigger starts (to batch triggers
starting together), then one every interval. Many triggers sharing it: tests/triggers/test_poller.py.
The pacing rule itself is tested in tests/utils/test_waiting.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest
from airflow.sdk.module_loading import import_string

from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger
from airflow_provider_azureml.triggers.poller import JOIN_DELAY
from airflow_provider_azureml.utils.events import EVENT_KEYS
from tests.triggers.support import (
    EXPERIMENT,
    FAILING_RATE,
    first_event,
    remote_status,
    requests_to,
    run_reads,
    submit_run,
    until,
)

NO_CLIENT_RETRIES = {"max_retries": 0}
INTERVAL = 30.0
QUERIES, STEP_LISTINGS = "POST QUERY_RUNS", "GET GET_RUN_CHILDREN"


def task_log(capsys: pytest.CaptureFixture) -> str:
    """The trigger logs through Airflow's structlog setup, which writes to stdout in tests."""
    return capsys.readouterr().out


def trigger_for(run_id: str, **kwargs) -> AzureMLPipelineRunTrigger:
    options = {"experiment_name": EXPERIMENT, "poll_interval": INTERVAL, "cancel_on_kill": False, **kwargs}
    return AzureMLPipelineRunTrigger(run_id=run_id, **options)


async def test_successful_run_gives_a_success_event(clocked_conn):
    run_id = submit_run()
    event = await first_event(trigger_for(run_id))
    assert set(event) == EVENT_KEYS
    assert event["status"] == "success"
    assert (event["run_id"], event["experiment_name"], event["run_status"]) == (
        run_id,
        EXPERIMENT,
        "Finished",
    )


async def test_failed_run_gives_a_failed_event(clocked_conn):
    run_id = submit_run(FAILING_RATE)
    event = await first_event(trigger_for(run_id))
    assert (event["status"], event["run_status"]) == ("failed", "Failed")


async def test_experiment_is_learned_from_the_run_when_not_given(clocked_conn):
    run_id = submit_run()
    event = await first_event(trigger_for(run_id, experiment_name=""))
    assert (event["status"], event["experiment_name"]) == ("success", EXPERIMENT)


async def test_polls_once_an_interval_and_reads_steps_on_changes_only(
    clocked_conn, wait_clock, capsys: pytest.CaptureFixture
):
    """A 300 s step: status read at 1, 31, ... 301 s (11 times), the steps when it changed to Running
    (its end is reported at once, without them)."""
    clocked_conn.backend.set_default_durations({"step": 300})
    run_id = submit_run()
    reads_before = run_reads(clocked_conn)

    event = await first_event(trigger_for(run_id))

    assert event["status"] == "success"
    assert wait_clock.sleeps == [JOIN_DELAY] + [INTERVAL] * 10
    assert requests_to(clocked_conn, QUERIES) == 11
    assert requests_to(clocked_conn, STEP_LISTINGS) == 1
    assert run_reads(clocked_conn) == reads_before  # no read of the run alone
    lines = re.findall(rf"Azure ML pipeline run {run_id}: (.*?) \[", task_log(capsys))
    assert lines == [
        "status Running; steps: 1 Running; running: train",
        "status Finished",
    ]


async def test_unknown_run_gives_an_error_event_at_once(clocked_conn, wait_clock):
    event = await first_event(trigger_for("no-such-run", end_time=wait_clock.now() + 60))
    assert event["status"] == "error"
    assert "no-such-run" in event["message"] and "404" in event["message"]
    assert event["permanent"] is True  # the task fails without retries, as the sync path does
    assert wait_clock.sleeps == [JOIN_DELAY]  # no waiting beyond the first read for an error no wait fixes
    assert run_reads(clocked_conn) == 1  # missing from the batch, the run was read alone


async def test_undefined_connection_gives_an_error_event(clocked_conn):
    event = await first_event(trigger_for("any", azureml_conn_id="no_such_conn"))
    assert event["status"] == "error"
    assert "no_such_conn" in event["message"]


async def test_faults_while_polling_back_off_exponentially_and_still_end_right(
    clocked_conn, wait_clock, capsys: pytest.CaptureFixture
):
    """With no client retries, every fault reaches the trigger, which doubles its wait up to the cap.

    The status is lost twice (the batch and the read alone both fail), then its steps twice; the run
    ends 600 s in, between the last two polls.
    """
    clocked_conn.backend.set_default_durations({"step": 600})
    run_id = submit_run()
    faults = clocked_conn.faults
    faults.inject("QUERY_RUNS", kind="throttle", count=2, retry_after=0)
    faults.inject("GET_PIPELINE_RUN", kind="throttle", count=1, retry_after=0)
    faults.inject("GET_PIPELINE_RUN", kind="drop", count=1)
    faults.inject("GET_RUN_CHILDREN", kind="error", status=503, count=2)
    event = await first_event(trigger_for(run_id, retry_settings=NO_CLIENT_RETRIES))

    assert (event["status"], event["run_status"]) == ("success", "Finished")
    assert faults.pending() == []
    assert wait_clock.sleeps == [JOIN_DELAY, 60.0, 120.0, 240.0, 300.0]
    waits = [float(w) for w in re.findall(r"next poll in ([\d.]+)s", task_log(capsys))]
    assert waits == wait_clock.sleeps[1:]


async def test_client_retries_absorb_short_throttling(
    clocked_conn, wait_clock, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
):
    run_id = submit_run()
    clocked_conn.faults.inject("QUERY_RUNS", kind="throttle", count=2, retry_after=0.01)
    with caplog.at_level(logging.WARNING):
        event = await first_event(trigger_for(run_id, retry_settings={"max_retries": 3}))
    assert event["status"] == "success"
    assert "next poll in" not in task_log(capsys)  # the trigger's own backoff was not needed
    assert "one by one" not in caplog.text  # nor reading the run alone
    assert wait_clock.sleeps == [JOIN_DELAY]  # nor did it wait longer
    assert "HTTP 429; retry 2 of 3" in caplog.text  # the client's retries were


async def test_run_still_active_at_the_deadline_times_out_at_the_deadline(clocked_conn, wait_clock):
    """Polls at 1, 31, 61, 91 s; the next would be at 121 s, so the last sleep stops at the deadline."""
    clocked_conn.backend.set_default_durations({"step": 3600})
    run_id = submit_run()
    deadline = wait_clock.now() + 100
    reads_before = run_reads(clocked_conn)

    event = await first_event(trigger_for(run_id, end_time=deadline))

    assert (event["status"], event["run_status"]) == ("timeout", "Running")
    assert wait_clock.sleeps == [JOIN_DELAY, 30.0, 30.0, 30.0, 9.0]
    assert wait_clock.now() == deadline
    assert requests_to(clocked_conn, QUERIES) == 4  # four polls
    assert run_reads(clocked_conn) - reads_before == 1  # and the final look


@pytest.mark.parametrize("first_poll_lost", [False, True])
async def test_run_that_finishes_before_the_deadline_is_a_success(clocked_conn, wait_clock, first_poll_lost):
    """The run ends 60 s in, the deadline is at 90 s, the poll interval an hour: the final look at the
    deadline sees the end, whether the first poll saw the run running or was lost (batch and read alone)."""
    clocked_conn.backend.set_default_durations({"step": 60 - 0.05})  # 0.05 s NotStarted and Queued
    run_id = submit_run()
    deadline = wait_clock.now() + 90
    if first_poll_lost:
        clocked_conn.faults.inject("QUERY_RUNS", kind="drop", count=1)
        clocked_conn.faults.inject("GET_PIPELINE_RUN", kind="drop", count=1)
    trigger = trigger_for(run_id, poll_interval=3600, end_time=deadline, retry_settings=NO_CLIENT_RETRIES)

    event = await first_event(trigger)

    assert (event["status"], event["run_status"]) == ("success", "Finished")
    assert wait_clock.sleeps == [JOIN_DELAY, 89.0]  # the second sleep cut short at the deadline
    assert wait_clock.now() == deadline
    assert clocked_conn.faults.pending() == []


async def test_serialized_kwargs_rebuild_an_equivalent_trigger(clocked_conn, wait_clock):
    run_id = submit_run()
    original = trigger_for(
        run_id,
        end_time=wait_clock.now() + 30,
        cancel_on_kill=True,
        retry_settings={"max_retries": 2, "retry_max_seconds": None, "request_timeout": 5.0},
    )
    classpath, kwargs = original.serialize()
    stored = json.loads(json.dumps(kwargs))  # what the triggerer reads back from the database

    rebuilt = import_string(classpath)(**stored)

    assert type(rebuilt) is AzureMLPipelineRunTrigger
    assert rebuilt.serialize() == (classpath, kwargs)
    assert await first_event(rebuilt) == await first_event(original)


async def test_on_kill_cancels_the_remote_run(clocked_conn, wait_clock, manual_clock):
    """As the triggerer kills a deferred task: its wait is cancelled, then ``on_kill`` is called."""
    clocked_conn.backend.set_default_durations({"step": 3600})
    run_id = submit_run()
    trigger = trigger_for(run_id, cancel_on_kill=True)
    wait_clock.pause(after=1)
    waiting = asyncio.create_task(first_event(trigger))
    await until(lambda: len(wait_clock.sleeps) == 2)  # it polled once and waits for the next poll
    queries = requests_to(clocked_conn, QUERIES)

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await trigger.on_kill()
    wait_clock.resume()

    manual_clock.advance(60)  # the cancel takes a moment of the emulator's time
    assert remote_status(run_id) == "Canceled"
    assert requests_to(clocked_conn, QUERIES) == queries  # the poller stopped with its only wait


async def test_on_kill_leaves_the_run_alone_without_cancel_on_kill(clocked_conn, manual_clock):
    clocked_conn.backend.set_default_durations({"step": 3600})
    run_id = submit_run()
    manual_clock.advance(1)
    await trigger_for(run_id, cancel_on_kill=False).on_kill()
    manual_clock.advance(60)  # a cancel would have ended long since
    assert remote_status(run_id) == "Running"


async def test_cleanup_never_cancels(clocked_conn, wait_clock, manual_clock):
    """A triggerer restart cancels the trigger's task and calls cleanup(): the run must keep going."""
    clocked_conn.backend.set_default_durations({"step": 3600})
    run_id = submit_run()
    trigger = trigger_for(run_id, cancel_on_kill=True)
    wait_clock.pause()
    waiting = asyncio.create_task(first_event(trigger))
    await until(lambda: wait_clock.sleeps)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    await trigger.cleanup()

    wait_clock.resume()
    manual_clock.advance(60)  # a cancel would have ended long since
    assert remote_status(run_id) == "Running"
