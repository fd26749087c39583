"""AzureMLInvokePipelineEndpointOperator: POST to the REST URL of a published pipeline or endpoint.

Runs are waited for on simulated time (``clocked_conn``): the waits' sleeps move the emulator's clock on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred
from airflow.sdk.log import _secrets_masker

from airflow_provider_azureml.client.credentials import EMULATOR_TOKEN
from airflow_provider_azureml.emulator.connection import emulator_connection
from airflow_provider_azureml.emulator.testing import RunningEmulator, run_emulator
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from airflow_provider_azureml.links.studio import XCOM_RUN_ID
from airflow_provider_azureml.operators.invoke_pipeline_endpoint import AzureMLInvokePipelineEndpointOperator
from tests.task_context import TaskInstanceStandIn, TaskStateStoreStandIn, make_context
from tests.triggers.support import FAILING_RATE, TRAINING_V1, run_trigger

TRAINING_V2 = "3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e02"


def pipeline_url() -> str:
    return AzureMLHook().get_published_pipeline(TRAINING_V1).url or ""


def endpoint_url() -> str:
    return AzureMLHook().get_pipeline_endpoint(name="training-endpoint").url or ""


def operator(url: str, **kwargs):
    options = {
        "task_id": "invoke",
        "experiment_name": "invoke-tests",
        "poll_interval": 30,
        "deferrable": False,
    }
    return AzureMLInvokePipelineEndpointOperator(endpoint_url=url, **{**options, **kwargs})


def test_published_pipeline_url_runs_to_success(clocked_conn):
    context = make_context()
    summary = operator(pipeline_url(), pipeline_parameters={"avg_rate": 0.7}).execute(context)

    [submission] = clocked_conn.backend.submissions()
    assert submission.pipeline_id == TRAINING_V1
    assert submission.parameters_received == {"avg_rate": "0.7"}
    assert (summary["run_id"], summary["status"]) == (submission.run_id, "Finished")
    assert summary["endpoint_url"] == pipeline_url()
    assert context["ti"].xcoms[XCOM_RUN_ID] == submission.run_id


@pytest.mark.parametrize(
    ("suffix", "expected_pipeline", "parameters"),
    [
        ("", TRAINING_V2, {"epochs": 3}),  # the endpoint's default version declares epochs
        ("/0", TRAINING_V1, {"avg_rate": 0.2}),
        ("?pipelineVersion=0", TRAINING_V1, {"avg_rate": 0.2}),
    ],
)
def test_endpoint_url_submits_the_version_it_names(clocked_conn, suffix, expected_pipeline, parameters):
    operator(endpoint_url() + suffix, pipeline_parameters=parameters).execute(make_context())
    [submission] = clocked_conn.backend.submissions()
    assert submission.pipeline_id == expected_pipeline


@pytest.mark.parametrize("suffix", ["/0", "?pipelineVersion=0"])
def test_parameters_are_checked_against_the_version_the_url_names(clocked_conn, suffix):
    with pytest.raises(AirflowFailException) as raised:
        operator(endpoint_url() + suffix, pipeline_parameters={"epochs": 3}).execute(make_context())
    assert "unknown name(s) epochs; the pipeline declares: avg_rate (float)" in str(raised.value)
    assert clocked_conn.backend.submissions() == []


def test_mistyped_parameter_fails_before_submitting(clocked_conn):
    with pytest.raises(AirflowFailException) as raised:
        operator(pipeline_url(), pipeline_parameters={"avg_rate": "fast"}).execute(make_context())
    assert "avg_rate is not a valid float" in str(raised.value)
    assert clocked_conn.backend.submissions() == []


def _elsewhere(url: str, netloc: str, scheme: str = "http") -> str:
    return urlsplit(url)._replace(scheme=scheme, netloc=netloc).geturl()


@pytest.mark.parametrize("target", ["https://evil.example", "other loopback port"])
def test_url_on_another_host_is_refused_and_nothing_is_sent(clocked_conn, target):
    port = urlsplit(clocked_conn.url).port or 0
    if target == "other loopback port":
        url, shown = _elsewhere(pipeline_url(), f"127.0.0.1:{port + 1}"), f"http://127.0.0.1:{port + 1}"
    else:
        url, shown = _elsewhere(pipeline_url(), "evil.example", "https"), "https://evil.example:443"
    clocked_conn.requests.reset()
    with pytest.raises(AirflowFailException) as raised:
        operator(url, pipeline_parameters={"avg_rate": 0.5}).execute(make_context())
    assert shown in str(raised.value)
    assert "refusing to send the Azure AD token" in str(raised.value)
    assert clocked_conn.backend.submissions() == []
    assert clocked_conn.requests.snapshot()["total"] == 0  # refused before any request, lookups included


def test_failing_run_names_the_step(clocked_conn):
    with pytest.raises(AirflowException, match=r"step 'train'.*loss diverge"):
        operator(pipeline_url(), pipeline_parameters={"avg_rate": FAILING_RATE}).execute(make_context())


def test_no_wait_returns_right_after_submission(clocked_conn):
    clocked_conn.backend.set_default_durations({"step": 30})
    summary = operator(pipeline_url(), wait_for_completion=False).execute(make_context())
    assert summary["status"] in ("NotStarted", "Queued", "Running")


def test_deferrable_defers_then_completes(clocked_conn):
    context = make_context()
    op = operator(pipeline_url(), deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    assert deferred.value.trigger.cancel_on_kill is True  # the operator owns the run it started
    summary = op.execute_complete(context, run_trigger(deferred.value.trigger))
    assert summary["status"] == "Finished"
    assert len(clocked_conn.backend.submissions()) == 1


def test_worker_killed_between_submit_and_store_reconnects_by_tag(clocked_conn):
    clocked_conn.backend.set_default_durations({"step": 600})
    first = make_context(ti=TaskInstanceStandIn(task_id="invoke"))  # its state store dies with the worker
    first_summary = operator(pipeline_url(), wait_for_completion=False).execute(first)

    retry = make_context(
        ti=TaskInstanceStandIn(task_id="invoke", try_number=2), state_store=TaskStateStoreStandIn()
    )
    summary = operator(pipeline_url()).execute(retry)

    assert first_summary["status"] == "NotStarted"  # the retry came while the run was active
    assert (summary["run_id"], summary["status"]) == (first_summary["run_id"], "Finished")
    assert len(clocked_conn.backend.submissions()) == 1


def test_dropped_answer_is_looked_up_not_resent(clocked_conn):
    url = pipeline_url()
    clocked_conn.faults.inject("SUBMIT_PIPELINE", kind="drop_after", count=1)
    summary = operator(url).execute(make_context())
    [submission] = clocked_conn.backend.submissions()
    assert summary["run_id"] == submission.run_id


# -- secrets ------------------------------------------------------------------------------------------
# tests/client/test_secrets.py covers the client (an SP secret and the token in requests, errors, reprs).
# Here: what the operator layer adds (its own log lines, XComs, returned and raised texts) on failure.


@pytest.fixture
def masker_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty the process-wide masker so that a registration seen afterwards was made by this test."""
    masker = _secrets_masker()
    monkeypatch.setattr(masker, "patterns", set())
    monkeypatch.setattr(masker, "replacer", None)
    assert masker.redact(f"Bearer {EMULATOR_TOKEN}") == f"Bearer {EMULATOR_TOKEN}"


@pytest.fixture
def strict_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningEmulator]:
    """An emulator that refuses the token the connection sends: every call answers 401."""
    with run_emulator(expected_token="a-token-the-connection-does-not-have") as running:
        monkeypatch.setenv("AIRFLOW_CONN_AZUREML_DEFAULT", json.dumps(emulator_connection(running.url)))
        yield running


def _texts(raised: pytest.ExceptionInfo, capsys, caplog, context) -> list[str]:
    return [
        str(raised.value),
        repr(raised.value),
        str(raised.value.__cause__),
        capsys.readouterr().out,
        caplog.text,
        *(record.getMessage() for record in caplog.records),
        json.dumps(context["ti"].xcoms),
    ]


@pytest.mark.usefixtures("masker_reset")
def test_refused_token_never_shows_in_task_output(strict_emulator, capsys, caplog):
    context = make_context()
    with caplog.at_level(logging.DEBUG), pytest.raises(AirflowFailException) as raised:
        operator(strict_emulator.url + "/pipelines/x/PipelineRuns/PipelineSubmit/" + TRAINING_V1).execute(
            context
        )

    assert "401" in str(raised.value)
    for text in _texts(raised, capsys, caplog, context):
        assert EMULATOR_TOKEN not in text
    assert _secrets_masker().redact(f"Bearer {EMULATOR_TOKEN}") == "Bearer ***"  # registered by the hook


@pytest.mark.usefixtures("masker_reset")
def test_failed_run_with_log_tail_never_shows_the_token(clocked_conn, capsys, caplog):
    context = make_context()
    with caplog.at_level(logging.DEBUG), pytest.raises(AirflowException) as raised:
        operator(pipeline_url(), pipeline_parameters={"avg_rate": FAILING_RATE}).execute(context)

    texts = _texts(raised, capsys, caplog, context)
    assert "Traceback" in texts[3]  # the failing step's log tail was written to the task log
    for text in texts:
        assert EMULATOR_TOKEN not in text
    assert _secrets_masker().redact(f"Bearer {EMULATOR_TOKEN}") == "Bearer ***"
