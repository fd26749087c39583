"""AzureMLCancelPipelineRunOperator against the emulator over loopback HTTP.

The emulator's clock is the test's (``clocked_conn``): a run's phases pass when the test moves it on.
"""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_azureml.links.studio import XCOM_RUN_ID, XCOM_STUDIO_URL
from airflow_provider_azureml.operators.cancel_pipeline_run import AzureMLCancelPipelineRunOperator
from tests.task_context import make_context
from tests.triggers.support import FAILING_RATE, remote_status, submit_run


def cancel_operator(run_id: str, **kwargs):
    return AzureMLCancelPipelineRunOperator(task_id="cancel", run_id=run_id, **kwargs)


def cancel(run_id: str, **kwargs) -> str:
    return cancel_operator(run_id, **kwargs).execute(make_context())


def test_active_run_is_canceled(clocked_conn, manual_clock):
    clocked_conn.backend.set_default_durations({"step": 30, "cancel": 5})
    run_id = submit_run()
    manual_clock.advance(1)
    context = make_context()

    status = cancel_operator(run_id).execute(context)

    assert status == "CancelRequested"
    manual_clock.advance(5)  # the emulator's cancel phase
    assert remote_status(run_id) == "Canceled"
    assert context["ti"].xcoms[XCOM_RUN_ID] == run_id
    assert f"/runs/{run_id}?" in context["ti"].xcoms[XCOM_STUDIO_URL]


@pytest.mark.parametrize(("avg_rate", "final"), [(0.5, "Finished"), (FAILING_RATE, "Failed")])
def test_run_already_ended_is_not_an_error_and_stays_as_it_was(clocked_conn, manual_clock, avg_rate, final):
    run_id = submit_run(avg_rate)
    manual_clock.advance(1)  # fast emulator phases: the run has ended
    assert cancel(run_id) == final
    assert remote_status(run_id) == final


def test_cancelling_twice_is_fine(clocked_conn):
    clocked_conn.backend.set_default_durations({"step": 30, "cancel": 5})
    run_id = submit_run()
    assert cancel(run_id) == "CancelRequested"
    assert cancel(run_id) == "CancelRequested"


def test_unknown_run_fails_at_once_naming_it(clocked_conn):
    with pytest.raises(AirflowFailException) as raised:
        cancel("no-such-run")
    message = str(raised.value)
    assert message.startswith("Cannot cancel Azure ML pipeline run no-such-run: HTTP 404")
    assert "was not found" in message


def test_throttled_cancel_is_retried(clocked_conn):
    clocked_conn.backend.set_default_durations({"step": 30})
    run_id = submit_run()
    clocked_conn.faults.inject("CANCEL_PIPELINE_RUN", kind="throttle", count=2, retry_after=0.01)
    assert cancel(run_id, max_retries=3) == "CancelRequested"
    assert clocked_conn.faults.pending() == []
