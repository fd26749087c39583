"""AzureMLSubmitPipelineRunOperator against the emulator over loopback HTTP, on simulated time.

The waits' sleeps move the emulator's clock on (``clocked_conn``); tests/operators/test_synchronous_wait.py
covers how the synchronous wait paces its polls.
"""

from __future__ import annotations

import threading

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from airflow_provider_azureml.links.studio import XCOM_RUN_ID, XCOM_STUDIO_URL
from airflow_provider_azureml.operators.base import AMBIGUOUS_SUBMIT_ATTEMPTS
from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator
from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger
from airflow_provider_azureml.utils.events import build_error_event
from airflow_provider_azureml.utils.idempotency import IDEMPOTENCY_TAG
from tests.task_context import TaskInstanceStandIn, TaskStateStoreStandIn, make_context
from tests.triggers.support import remote_status, run_trigger, wait_until

TRAINING_V1 = "3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e01"
TRAINING_V2 = "3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e02"
ENDPOINT_ID = "9d4e2b7a-1c3f-4a5b-8c6d-7e8f9a0b1c01"
FAILING_RATE = 0.99  # the seeded training pipeline fails its `train` step for this value


def operator(**kwargs):
    options = {
        "task_id": "submit",
        "experiment_name": "unit-tests",
        "poll_interval": 30,
        "deferrable": False,
        **kwargs,
    }
    return AzureMLSubmitPipelineRunOperator(**options)


def test_published_pipeline_runs_to_success_and_pushes_xcom_first(clocked_conn):
    context = make_context()
    summary = operator(published_pipeline_id=TRAINING_V1, pipeline_parameters={"avg_rate": 0.8}).execute(
        context
    )

    [submission] = clocked_conn.backend.submissions()
    assert submission.parameters_received == {"avg_rate": "0.8"}
    assert summary["status"] == "Finished"
    assert summary["run_id"] == submission.run_id
    assert summary["parameters"] == {"avg_rate": "0.8"}
    xcoms = context["ti"].xcoms
    assert xcoms[XCOM_RUN_ID] == submission.run_id
    assert submission.run_id in xcoms[XCOM_STUDIO_URL]
    assert submission.tags[IDEMPOTENCY_TAG]
    assert submission.tags["airflow.task_id"] == "submit"


@pytest.mark.parametrize(
    ("version", "expected_pipeline"), [(None, TRAINING_V2), ("0", TRAINING_V1), (0, TRAINING_V1)]
)
def test_endpoint_by_name_default_or_pinned_version(clocked_conn, version, expected_pipeline):
    op = operator(pipeline_endpoint_name="training-endpoint", pipeline_version=version)
    summary = op.execute(make_context())

    [submission] = clocked_conn.backend.submissions()
    assert submission.endpoint_id == ENDPOINT_ID
    assert submission.pipeline_id == expected_pipeline
    assert summary["pipeline_endpoint_id"] == ENDPOINT_ID


def test_failing_step_fails_the_task_with_its_own_error_and_log_tail(clocked_conn, capsys):
    op = operator(published_pipeline_id=TRAINING_V1, pipeline_parameters={"avg_rate": FAILING_RATE})
    with pytest.raises(AirflowException) as raised:
        op.execute(make_context())

    message = str(raised.value)
    run_id = clocked_conn.backend.submissions()[0].run_id
    assert run_id in message
    assert "step 'train'" in message
    assert "avg_rate=0.99 makes the loss diverge" in message
    assert "Traceback" in capsys.readouterr().out  # the failing step's own log, in the task log


def test_no_wait_returns_right_after_submission(clocked_conn):
    clocked_conn.backend.set_default_durations({"step": 30})
    summary = operator(published_pipeline_id=TRAINING_V1, wait_for_completion=False).execute(make_context())
    assert summary["status"] in ("NotStarted", "Queued", "Running")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({}, "exactly one of published_pipeline_id"),
        ({"published_pipeline_id": TRAINING_V1, "pipeline_endpoint_name": "x"}, "exactly one of"),
        ({"published_pipeline_id": TRAINING_V1, "pipeline_parameters": {"nope": 1}}, "unknown name(s) nope"),
        ({"published_pipeline_id": TRAINING_V1, "pipeline_parameters": {"avg_rate": [1]}}, "avg_rate"),
        (
            {"published_pipeline_id": TRAINING_V1, "pipeline_parameters": {"avg_rate": "fast"}},
            "not a valid float",
        ),
        ({"published_pipeline_id": TRAINING_V1, "experiment_name": "bad name!"}, "experiment"),
        ({"published_pipeline_id": "00000000-dead-beef-0000-000000000000"}, "404"),
        ({"pipeline_endpoint_name": "no-such-endpoint"}, "no-such-endpoint"),
        ({"published_pipeline_id": TRAINING_V1, "pipeline_version": "1"}, "pipeline_version"),
    ],
)
def test_bad_input_fails_before_anything_is_submitted(clocked_conn, kwargs, fragment):
    with pytest.raises(AirflowFailException, match=None) as raised:
        operator(**kwargs).execute(make_context())
    assert fragment in str(raised.value)
    assert clocked_conn.backend.submissions() == []


def test_unknown_parameter_message_lists_the_declared_ones(clocked_conn):
    with pytest.raises(AirflowFailException) as raised:
        operator(published_pipeline_id=TRAINING_V2, pipeline_parameters={"rate": 1}).execute(make_context())
    assert "avg_rate (float)" in str(raised.value)
    assert "epochs (int)" in str(raised.value)


def test_disabled_endpoint_is_refused(clocked_conn):
    backend = clocked_conn.backend
    backend.registry.register_endpoint(
        backend.registry.get_endpoint(ENDPOINT_ID).model_copy(update={"status": "Disabled"})
    )
    with pytest.raises(AirflowFailException, match="Disabled"):
        operator(pipeline_endpoint_name="training-endpoint").execute(make_context())
    assert clocked_conn.backend.submissions() == []


def test_faults_during_submit_and_wait_still_give_exactly_one_run(clocked_conn):
    faults = clocked_conn.faults
    faults.inject("SUBMIT_PIPELINE", kind="throttle", count=2, retry_after=0.05)
    faults.inject("SUBMIT_PIPELINE", kind="error", status=503, count=1)
    faults.inject("GET_PIPELINE_RUN", kind="error", status=500, count=3)
    faults.inject("GET_RUN_CHILDREN", kind="drop", count=2)
    summary = operator(published_pipeline_id=TRAINING_V1, max_retries=4).execute(make_context())

    assert summary["status"] == "Finished"
    assert len(clocked_conn.backend.submissions()) == 1
    assert faults.pending() == []


def test_dropped_submit_answer_is_looked_up_not_resent(clocked_conn):
    clocked_conn.faults.inject("SUBMIT_PIPELINE", kind="drop_after", count=1)
    summary = operator(published_pipeline_id=TRAINING_V1).execute(make_context())

    [submission] = clocked_conn.backend.submissions()
    assert summary["run_id"] == submission.run_id


def test_resubmit_whose_answer_is_lost_too_is_looked_up_not_resent(clocked_conn):
    # The first answer is lost before a run exists, the resubmit's after the run was created.
    clocked_conn.faults.inject("SUBMIT_PIPELINE", kind="drop", count=1)
    clocked_conn.faults.inject("SUBMIT_PIPELINE", kind="drop_after", count=1)
    summary = operator(published_pipeline_id=TRAINING_V1).execute(make_context())

    [submission] = clocked_conn.backend.submissions()
    assert summary["run_id"] == submission.run_id
    assert summary["status"] == "Finished"
    assert clocked_conn.faults.pending() == []


def test_submit_answers_lost_every_time_fail_the_try_retryably(clocked_conn):
    clocked_conn.faults.inject("SUBMIT_PIPELINE", kind="drop", count=AMBIGUOUS_SUBMIT_ATTEMPTS)
    with pytest.raises(AirflowException) as raised:
        operator(published_pipeline_id=TRAINING_V1).execute(make_context())

    assert not isinstance(raised.value, AirflowFailException)  # a retry may still succeed
    assert clocked_conn.backend.submissions() == []
    assert clocked_conn.faults.pending() == []


def test_retry_reconnects_to_the_active_run_of_the_previous_try(clocked_conn, wait_clock):
    clocked_conn.backend.set_default_durations({"step": 600})
    store = TaskStateStoreStandIn()
    first = operator(published_pipeline_id=TRAINING_V1, wait_for_completion=False)
    first_summary = first.execute(make_context(state_store=store))

    retry = operator(published_pipeline_id=TRAINING_V1)
    summary = retry.execute(make_context(ti=TaskInstanceStandIn(try_number=2), state_store=store))

    assert first_summary["status"] == "NotStarted"  # the retry came while the run was active
    assert summary["run_id"] == first_summary["run_id"]
    assert summary["status"] == "Finished"
    assert sum(wait_clock.sleeps) == 615  # and waited for it: polls every 30 s, the first after 15 s
    assert len(clocked_conn.backend.submissions()) == 1


def test_worker_killed_between_submit_and_store_reconnects_by_tag(clocked_conn):
    first = operator(published_pipeline_id=TRAINING_V1, wait_for_completion=False)
    first_summary = first.execute(make_context())  # its state store is lost with the worker

    summary = operator(published_pipeline_id=TRAINING_V1).execute(
        make_context(state_store=TaskStateStoreStandIn())
    )

    assert first_summary["status"] == "NotStarted"
    assert (summary["run_id"], summary["status"]) == (first_summary["run_id"], "Finished")
    assert len(clocked_conn.backend.submissions()) == 1


def test_retry_after_a_failed_run_submits_anew(clocked_conn):
    store = TaskStateStoreStandIn()
    failing = operator(published_pipeline_id=TRAINING_V1, pipeline_parameters={"avg_rate": FAILING_RATE})
    with pytest.raises(AirflowException):
        failing.execute(make_context(state_store=store))

    summary = operator(published_pipeline_id=TRAINING_V1).execute(make_context(state_store=store))

    assert summary["status"] == "Finished"
    assert len(clocked_conn.backend.submissions()) == 2


def test_other_task_instances_do_not_share_runs(clocked_conn):
    operator(published_pipeline_id=TRAINING_V1).execute(make_context())
    operator(published_pipeline_id=TRAINING_V1).execute(make_context(ti=TaskInstanceStandIn(map_index=1)))
    assert len(clocked_conn.backend.submissions()) == 2


def test_on_kill_cancels_the_remote_run(clocked_conn, wait_clock):
    clocked_conn.backend.set_default_durations({"step": 3600})
    op = operator(published_pipeline_id=TRAINING_V1)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            op.execute(make_context())
        except BaseException as error:
            errors.append(error)

    wait_clock.pause()
    worker = threading.Thread(target=run)
    worker.start()
    wait_until(lambda: wait_clock.sleeps)  # it polled once and waits for the next poll
    op.on_kill()
    wait_clock.resume()
    worker.join(timeout=60)

    assert errors and "Canceled" in str(errors[0])
    assert remote_status(op.run_id) == "Canceled"
    assert wait_clock.sleeps == [15.0]  # the poll after the kill saw the end of the cancel


def test_timeout_cancels_and_fails(clocked_conn, manual_clock):
    clocked_conn.backend.set_default_durations({"step": 3600})
    op = operator(published_pipeline_id=TRAINING_V1, timeout=300)
    with pytest.raises(AirflowException, match=r"still Running after 300s"):
        op.execute(make_context())
    assert remote_status(op.run_id) == "CancelRequested"
    manual_clock.advance(1)
    assert remote_status(op.run_id) == "Canceled"


def test_deferrable_stores_the_run_then_defers_and_completes(clocked_conn):
    store = TaskStateStoreStandIn()
    op = operator(published_pipeline_id=TRAINING_V1, deferrable=True, pipeline_parameters={"avg_rate": 0.3})
    context = make_context(state_store=store)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)

    trigger = deferred.value.trigger
    assert isinstance(trigger, AzureMLPipelineRunTrigger)
    run_id = clocked_conn.backend.submissions()[0].run_id
    assert store[op.external_id_key]["run_id"] == run_id
    assert context["ti"].xcoms[XCOM_RUN_ID] == run_id
    event = run_trigger(trigger)
    summary = op.execute_complete(context, event)
    assert summary["status"] == "Finished"


def test_deferrable_does_not_defer_for_a_run_already_finished(clocked_conn):
    store = TaskStateStoreStandIn()
    operator(published_pipeline_id=TRAINING_V1).execute(make_context(state_store=store))

    summary = operator(published_pipeline_id=TRAINING_V1, deferrable=True).execute(
        make_context(state_store=store)
    )

    assert summary["status"] == "Finished"
    assert len(clocked_conn.backend.submissions()) == 1


def test_deferred_failure_names_the_step(clocked_conn):
    op = operator(
        published_pipeline_id=TRAINING_V1, deferrable=True, pipeline_parameters={"avg_rate": FAILING_RATE}
    )
    context = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    event = run_trigger(deferred.value.trigger)
    with pytest.raises(AirflowException, match=r"step 'train'.*loss diverge"):
        op.execute_complete(context, event)


@pytest.mark.parametrize(("permanent", "expected"), [(True, AirflowFailException), (False, AirflowException)])
def test_error_event_fails_with_or_without_retries_as_the_sync_path_would(permanent, expected):
    event = build_error_event("r1", "unit-tests", "Polling failed: HTTP 404 (NotFound)", permanent=permanent)
    with pytest.raises(AirflowException) as raised:
        operator(published_pipeline_id=TRAINING_V1).execute_complete(make_context(), event)
    assert type(raised.value) is expected
    assert "HTTP 404" in str(raised.value)


def test_malformed_event_is_refused(clocked_conn):
    with pytest.raises(AirflowException, match="missing"):
        operator(published_pipeline_id=TRAINING_V1).execute_complete(make_context(), {"status": "success"})


def test_templated_fields_render_natively():
    op = operator(published_pipeline_id=TRAINING_V1)
    assert {"pipeline_parameters", "experiment_name", "published_pipeline_id", "pipeline_version"} <= set(
        op.template_fields
    )
