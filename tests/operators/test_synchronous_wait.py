"""The synchronous wait (``deferrable=False``) of the submitting operators, on simulated time.

It paces its polls by the trigger's rule (tests/utils/test_waiting.py): one interval apart after a
successful poll, the first one half an interval here (the test clock's jitter), and an exponential
backoff after errors the client's own retries did not absorb. The emulator's clock moves only when the
wait sleeps, so the tests assert every sleep.
"""

from __future__ import annotations

import re

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator
from tests.task_context import make_context
from tests.triggers.support import EXPERIMENT, TRAINING_V1, remote_status

INTERVAL = 30.0
NO_CLIENT_RETRIES = 0  # every fault reaches the wait itself


def operator(**kwargs) -> AzureMLSubmitPipelineRunOperator:
    options = {
        "task_id": "submit",
        "published_pipeline_id": TRAINING_V1,
        "experiment_name": EXPERIMENT,
        "poll_interval": INTERVAL,
        "deferrable": False,
        **kwargs,
    }
    return AzureMLSubmitPipelineRunOperator(**options)


def task_log(capsys: pytest.CaptureFixture) -> str:
    return capsys.readouterr().out


def test_polls_once_an_interval_and_logs_progress_on_changes_only(clocked_conn, wait_clock, capsys):
    """A 300 s step: polls at 0, 15, 45, ... 315 s (12 of them), and one progress line per change."""
    clocked_conn.backend.set_default_durations({"step": 300})

    summary = operator().execute(make_context())

    assert summary["status"] == "Finished"
    assert wait_clock.sleeps == [15.0] + [INTERVAL] * 10  # 12 polls: the last one at 315 s
    lines = re.findall(r"Azure ML pipeline run [\w-]+: (.*?) \[", task_log(capsys))
    assert lines == [
        "status NotStarted",
        "status Running; steps: 1 Running; running: train",
        "status Finished; steps: 1 Completed",
    ]


def test_transient_errors_back_off_and_the_wait_still_finishes(clocked_conn, wait_clock, capsys):
    """More 503s than the client retries (none here): the wait doubles its sleep each time, then ends."""
    clocked_conn.faults.inject("GET_PIPELINE_RUN", kind="error", status=503, count=3)

    summary = operator(max_retries=NO_CLIENT_RETRIES).execute(make_context())

    assert summary["status"] == "Finished"
    assert clocked_conn.faults.pending() == []
    assert wait_clock.sleeps == [60.0, 120.0, 240.0]
    waits = [float(w) for w in re.findall(r"next poll in ([\d.]+)s", task_log(capsys))]
    assert waits == wait_clock.sleeps


def test_backoff_is_capped(clocked_conn, wait_clock):
    clocked_conn.backend.set_default_durations({"step": 1000})
    clocked_conn.faults.inject("GET_PIPELINE_RUN", kind="drop", count=5)

    summary = operator(max_retries=NO_CLIENT_RETRIES).execute(make_context())

    assert summary["status"] == "Finished"
    assert wait_clock.sleeps == [60.0, 120.0, 240.0, 300.0, 300.0]  # the sixth poll, at 1020 s, sees it end


def test_permanent_error_ends_the_wait_at_once_saying_the_run_goes_on(clocked_conn, wait_clock):
    clocked_conn.faults.inject("GET_PIPELINE_RUN", kind="error", status=403, count=1)
    op = operator(max_retries=NO_CLIENT_RETRIES)

    with pytest.raises(AirflowFailException) as raised:
        op.execute(make_context())

    assert "HTTP 403" in str(raised.value)
    assert f"The wait stopped, not Azure ML pipeline run {op.run_id}" in str(raised.value)
    assert wait_clock.sleeps == []
    assert remote_status(op.run_id) == "NotStarted"  # left alone, not cancelled


def test_run_still_active_at_the_deadline_is_cancelled_at_the_deadline(clocked_conn, wait_clock):
    """Polls at 0, 15, 45, 75 s; the next would be at 105 s, so the last sleep stops at the deadline."""
    clocked_conn.backend.set_default_durations({"step": 3600})
    started = wait_clock.now()
    op = operator(timeout=100)

    with pytest.raises(AirflowException, match=r"still Running after 100s"):
        op.execute(make_context())

    assert wait_clock.sleeps == [15.0, 30.0, 30.0, 25.0]
    assert wait_clock.now() == started + 100
    assert remote_status(op.run_id) == "CancelRequested"


@pytest.mark.parametrize("dropped_polls", [0, 1, 2])
def test_run_that_finishes_before_the_deadline_is_a_success(clocked_conn, wait_clock, dropped_polls):
    """The run ends 60 s in, the deadline is at 90 s, the poll interval an hour.

    With 0 dropped polls the poll at the deadline sees it; with 1 the first poll fails and the one at the
    deadline sees it; with 2 both fail and only the final look at the deadline can see it.
    """
    clocked_conn.backend.set_default_durations({"step": 60 - 0.05})  # 0.05 s NotStarted and Queued
    started = wait_clock.now()
    if dropped_polls:
        clocked_conn.faults.inject("GET_PIPELINE_RUN", kind="drop", count=dropped_polls)
    op = operator(poll_interval=3600, timeout=90, max_retries=NO_CLIENT_RETRIES)

    assert op.execute(make_context())["status"] == "Finished"
    assert wait_clock.sleeps == [90.0]  # one sleep, cut short at the deadline
    assert wait_clock.now() == started + 90
    assert clocked_conn.faults.pending() == []
