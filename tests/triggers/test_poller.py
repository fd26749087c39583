"""Many AzureMLPipelineRunTriggers in one event loop share one status poller (triggers/poller.py).

Over loopback HTTP against the emulator, on simulated time (``clocked_conn``): the poller's sleeps move
the emulator's clock, and the request counts come from the emulator's own counters.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import pytest

from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger
from airflow_provider_azureml.triggers.poller import JOIN_DELAY
from tests.triggers.support import (
    EXPERIMENT,
    first_event,
    remote_status,
    requests_to,
    run_reads,
    submit_run,
    until,
)

INTERVAL = 30.0
STEP = 100.0  # runs end just after 100 s: read at 1, 31, 61, 91 s running, at 121 s finished
QUERIES, STEP_LISTINGS = "POST QUERY_RUNS", "GET GET_RUN_CHILDREN"
NO_CLIENT_RETRIES = {"max_retries": 0}


def trigger_for(run_id: str, experiment: str = EXPERIMENT, **kwargs: Any) -> AzureMLPipelineRunTrigger:
    options = {"poll_interval": INTERVAL, "cancel_on_kill": False, **kwargs}
    return AzureMLPipelineRunTrigger(run_id=run_id, experiment_name=experiment, **options)


async def start_together(wait_clock, triggers: list[AzureMLPipelineRunTrigger]) -> list[asyncio.Task]:
    """Start every trigger with time stopped, so that all have joined the poller before it first reads
    (as triggers the triggerer starts in one batch do within ``JOIN_DELAY``)."""
    wait_clock.pause()
    tasks = [asyncio.create_task(first_event(trigger)) for trigger in triggers]
    await until(lambda: all(trigger._watching is not None for trigger in triggers), "triggers not joined")
    return tasks


async def test_200_triggers_share_each_poll_and_see_every_end_once(clocked_conn, wait_clock):
    """Two experiments, 100 runs each: one ``runs:query`` per experiment and poll, none per run."""
    clocked_conn.backend.set_default_durations({"step": STEP})
    experiments = {run_id: EXPERIMENT for run_id in (submit_run() for _ in range(100))}
    experiments |= {
        run_id: "other-waits" for run_id in (submit_run(experiment="other-waits") for _ in range(100))
    }
    reads_before = run_reads(clocked_conn)
    triggers = [trigger_for(run_id, experiment) for run_id, experiment in experiments.items()]

    tasks = await start_together(wait_clock, triggers)
    wait_clock.resume()
    events = await asyncio.gather(*tasks)

    assert Counter(event["run_id"] for event in events) == Counter(list(experiments))  # each exactly once
    assert {(event["status"], event["run_status"]) for event in events} == {("success", "Finished")}
    assert wait_clock.sleeps == [JOIN_DELAY] + [INTERVAL] * 4
    assert requests_to(clocked_conn, QUERIES) == 5 * 2  # five polls, one query per experiment each
    assert requests_to(clocked_conn, STEP_LISTINGS) == 200  # steps read once Running, not at the end
    assert run_reads(clocked_conn) == reads_before  # no run read alone
    # Each trigger polling its own run (run and steps) would have sent 5 * 2 * 200 = 2,000 requests.


async def test_a_trigger_killed_mid_wait_cancels_only_its_run(clocked_conn, wait_clock, manual_clock):
    """The triggerer cancels the killed wait, then calls its ``on_kill``: the others go on undisturbed."""
    clocked_conn.backend.set_default_durations({"step": STEP})
    run_ids = [submit_run() for _ in range(3)]
    triggers = [trigger_for(run_id, cancel_on_kill=True) for run_id in run_ids]
    tasks = await start_together(wait_clock, triggers)
    wait_clock.resume()
    wait_clock.pause(after=2)  # the first poll, and the one after it
    await until(lambda: len(wait_clock.sleeps) == 3, "no second poll")

    tasks[1].cancel()
    with pytest.raises(asyncio.CancelledError):
        await tasks[1]
    await triggers[1].on_kill()
    wait_clock.resume()
    events = await asyncio.gather(tasks[0], tasks[2])

    assert [(e["run_id"], e["status"]) for e in events] == [(run_ids[0], "success"), (run_ids[2], "success")]
    assert remote_status(run_ids[1]) == "Canceled"
    assert wait_clock.sleeps == [JOIN_DELAY] + [INTERVAL] * 4  # the others kept their cadence
    assert requests_to(clocked_conn, QUERIES) == 5


async def test_a_failing_batch_is_read_run_by_run(clocked_conn, wait_clock, caplog: pytest.LogCaptureFixture):
    """A ``runs:query`` that fails (beyond the client's retries) costs one read per run, not the poll."""
    clocked_conn.backend.set_default_durations({"step": STEP})
    run_ids = [submit_run() for _ in range(5)]
    reads_before = run_reads(clocked_conn)
    clocked_conn.faults.inject("QUERY_RUNS", kind="error", status=500, count=1)
    triggers = [trigger_for(run_id, retry_settings=NO_CLIENT_RETRIES) for run_id in run_ids]

    tasks = await start_together(wait_clock, triggers)
    wait_clock.resume()
    with caplog.at_level(logging.WARNING):
        events = await asyncio.gather(*tasks)

    assert [(e["run_id"], e["status"]) for e in events] == [(run_id, "success") for run_id in run_ids]
    assert "Reading the status of 5 Azure ML runs in one request failed" in caplog.text
    assert run_reads(clocked_conn) - reads_before == 5  # the first poll, run by run
    assert requests_to(clocked_conn, QUERIES) == 5  # the failed one and four more polls
    assert wait_clock.sleeps == [JOIN_DELAY] + [INTERVAL] * 4  # no poll was lost, none backed off


async def test_throttled_batches_still_end_every_wait_exactly_once(clocked_conn, wait_clock):
    """429 bursts on ``runs:query`` (the client retrying each twice, then giving up) and on the reads
    alone: waits back off, and each still fires one event, with the right status."""
    clocked_conn.backend.set_default_durations({"step": STEP})
    run_ids = [submit_run() for _ in range(20)]
    clocked_conn.faults.inject("QUERY_RUNS", kind="throttle", count=9, retry_after=0)
    clocked_conn.faults.inject("GET_PIPELINE_RUN", kind="throttle", count=25, retry_after=0)
    triggers = [trigger_for(run_id, retry_settings={"max_retries": 2}) for run_id in run_ids]

    tasks = await start_together(wait_clock, triggers)
    wait_clock.resume()
    events = await asyncio.gather(*tasks)

    assert Counter(event["run_id"] for event in events) == Counter(run_ids)
    assert {(event["status"], event["run_status"]) for event in events} == {("success", "Finished")}
    assert clocked_conn.faults.pending() == []


async def test_a_trigger_joining_later_is_read_with_the_others(clocked_conn, wait_clock):
    """A wait that starts between two polls is read on its own once, then with the others."""
    clocked_conn.backend.set_default_durations({"step": STEP})
    first, second = submit_run(), submit_run()
    early = await start_together(wait_clock, [trigger_for(first)])
    wait_clock.resume()
    wait_clock.pause(after=2)  # the first poll, then 30 s
    await until(lambda: len(wait_clock.sleeps) == 3, "no second poll")
    late = asyncio.create_task(first_event(trigger_for(second)))
    await until(lambda: len(wait_clock.sleeps) == 4, "the late trigger did not wake the poller")
    wait_clock.resume()

    events = await asyncio.gather(*early, late)

    assert {event["status"] for event in events} == {"success"}
    # Polls at 1, 31; the late one alone at 32; both at 61 (the late one half an interval early), ...
    assert wait_clock.sleeps[:4] == [JOIN_DELAY, INTERVAL, INTERVAL, JOIN_DELAY]
    assert requests_to(clocked_conn, QUERIES) == len(wait_clock.sleeps) - 1
    assert remote_status(second) == "Finished"
