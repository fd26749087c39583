"""The requests-based client over real HTTP against a scripted loopback server."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.credentials import TokenProvider
from airflow_provider_azureml.client.errors import (
    AzureMLAmbiguousSubmitError,
    AzureMLConnectionError,
    AzureMLHostNotAllowedError,
    AzureMLNotFoundError,
    AzureMLServiceError,
    AzureMLThrottledError,
)
from airflow_provider_azureml.client.models import Run, SubmissionRequest
from airflow_provider_azureml.client.retry import RETRY_AFTER_MAX_SECONDS, RetrySettings
from airflow_provider_azureml.client.sync_client import AzureMLClient
from tests.client.helpers import FakeCredential, Sleeps, make_config, path, script_workspace
from tests.client.scripted_server import Drop, Reply, ScriptedServer, Sleep

RUN_ID = "e7baa03d-0000-4000-8000-000000000001"
PIPELINE_ID = "pp-0001"
RUN_PATH = path(routes.GET_PIPELINE_RUN, run_id=RUN_ID)
SUBMIT_PATH = path(routes.SUBMIT_PIPELINE, pipeline_id=PIPELINE_ID)
RUNNING = {"Id": RUN_ID, "Status": {"StatusCode": "Running"}, "RunHistoryExperimentName": "exp1"}
SUBMITTED = {"Id": RUN_ID, "Status": {"StatusCode": "NotStarted"}, "RunHistoryExperimentName": "exp1"}
AEVA_ERROR = {
    "Error": {"Code": "ServiceUnavailable", "Message": "try later", "Target": "PipelineRuns"},
    "Correlation": {"operation": "op-5xx"},
}


@pytest.fixture
def make_client(
    server: ScriptedServer, credential: FakeCredential, sleeps: Sleeps
) -> Iterator[Callable[..., AzureMLClient]]:
    made: list[AzureMLClient] = []

    def factory(**settings: Any) -> AzureMLClient:
        tokens = TokenProvider(credential, on_token=lambda token: None)
        made.append(
            AzureMLClient(
                make_config(server), settings=RetrySettings(**settings), tokens=tokens, sleep=sleeps
            )
        )
        return made[-1]

    yield factory
    for c in made:
        c.close()


def submission() -> SubmissionRequest:
    return SubmissionRequest.build("exp1", parameter_assignments={"batch_size": 20, "fast": True})


# Retries ----------------------------------------------------------------------------------------------


def test_429_retry_after_seconds_is_honoured(
    client: AzureMLClient, server: ScriptedServer, sleeps: Sleeps
) -> None:
    server.script("GET", RUN_PATH, Reply(429, AEVA_ERROR, {"Retry-After": "7"}), Reply(200, RUNNING))

    run = client.get_pipeline_run(RUN_ID)

    assert run.status == "Running"
    assert sleeps == [7.0]
    assert len(server.calls("GET", RUN_PATH)) == 2


def test_429_retry_after_http_date_is_honoured_and_capped(
    client: AzureMLClient, server: ScriptedServer, sleeps: Sleeps
) -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    server.script(
        "GET",
        RUN_PATH,
        Reply(429, AEVA_ERROR, {"Retry-After": soon}),
        Reply(429, AEVA_ERROR, {"Retry-After": "86400"}),
        Reply(200, RUNNING),
    )

    client.get_pipeline_run(RUN_ID)

    assert 25 <= sleeps[0] <= 30
    assert sleeps[1] == RETRY_AFTER_MAX_SECONDS


@pytest.mark.usefixtures("no_jitter")
def test_5xx_burst_then_success_backs_off_exponentially(
    client: AzureMLClient, server: ScriptedServer, sleeps: Sleeps
) -> None:
    server.script(
        "GET", RUN_PATH, Reply(500), Reply(502), Reply(503, AEVA_ERROR), Reply(504), Reply(200, RUNNING)
    )

    assert client.get_pipeline_run(RUN_ID).id == RUN_ID
    assert sleeps == [1.0, 2.0, 4.0, 8.0]


def test_gives_up_after_max_retries_with_the_last_error(
    make_client: Callable[..., AzureMLClient], server: ScriptedServer, sleeps: Sleeps
) -> None:
    server.script("GET", RUN_PATH, Reply(500), Reply(503, AEVA_ERROR))

    with pytest.raises(AzureMLServiceError) as info:
        make_client(max_retries=3).get_pipeline_run(RUN_ID)

    assert info.value.status_code == 503
    assert info.value.code == "ServiceUnavailable"
    assert "try later" in str(info.value)
    assert len(server.calls("GET", RUN_PATH)) == 4
    assert len(sleeps) == 3


def test_gives_up_when_the_next_wait_would_pass_the_time_budget(
    make_client: Callable[..., AzureMLClient], server: ScriptedServer, sleeps: Sleeps
) -> None:
    server.script("GET", RUN_PATH, Reply(429, AEVA_ERROR, {"Retry-After": "90"}))

    with pytest.raises(AzureMLThrottledError):
        make_client(max_retries=10, retry_max_seconds=60).get_pipeline_run(RUN_ID)

    assert len(server.calls("GET", RUN_PATH)) == 1
    assert sleeps == []


def test_client_errors_are_not_retried(client: AzureMLClient, server: ScriptedServer) -> None:
    server.script("GET", RUN_PATH, Reply(400, {"Error": {"Code": "BadRequest", "Message": "no"}}))

    with pytest.raises(AzureMLServiceError):
        client.get_pipeline_run(RUN_ID)

    assert len(server.calls("GET", RUN_PATH)) == 1


def test_dropped_connection_on_get_is_retried(client: AzureMLClient, server: ScriptedServer) -> None:
    server.script("GET", RUN_PATH, Drop(), Reply(200, RUNNING))

    assert client.get_pipeline_run(RUN_ID).status == "Running"
    assert len(server.calls("GET", RUN_PATH)) == 2


def test_dropped_connection_after_submit_is_ambiguous_and_not_resent(
    client: AzureMLClient, server: ScriptedServer
) -> None:
    server.script("POST", SUBMIT_PATH, Drop(), Reply(200, SUBMITTED))

    with pytest.raises(AzureMLAmbiguousSubmitError) as info:
        client.submit_pipeline_run(PIPELINE_ID, submission())

    assert len(server.calls("POST", SUBMIT_PATH)) == 1
    assert "look it up by its tags" in str(info.value)


def test_submit_refused_with_429_or_503_is_resent(client: AzureMLClient, server: ScriptedServer) -> None:
    server.script("POST", SUBMIT_PATH, Reply(429, AEVA_ERROR), Reply(503, AEVA_ERROR), Reply(200, SUBMITTED))

    run = client.submit_pipeline_run(PIPELINE_ID, submission())

    assert run.id == RUN_ID
    bodies = [r.json() for r in server.calls("POST", SUBMIT_PATH)]
    assert len(bodies) == 3 and bodies[0] == bodies[2]


def test_submit_answered_with_500_is_not_resent(client: AzureMLClient, server: ScriptedServer) -> None:
    server.script("POST", SUBMIT_PATH, Reply(500, AEVA_ERROR), Reply(200, SUBMITTED))

    with pytest.raises(AzureMLServiceError) as info:
        client.submit_pipeline_run(PIPELINE_ID, submission())

    assert info.value.status_code == 500
    assert len(server.calls("POST", SUBMIT_PATH)) == 1


def test_submit_that_never_connected_is_retried_then_not_ambiguous(
    server: ScriptedServer, credential: FakeCredential, sleeps: Sleeps
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    dead = f"http://127.0.0.1:{dead_port}{SUBMIT_PATH}"
    tokens = TokenProvider(credential, on_token=lambda token: None)
    config = make_config(server, endpoint=f"http://127.0.0.1:{dead_port}")
    settings = RetrySettings(max_retries=2)
    with (
        AzureMLClient(config, settings=settings, tokens=tokens, sleep=sleeps) as c,
        pytest.raises(AzureMLConnectionError) as info,
    ):
        c.invoke_rest_endpoint(dead, submission())

    assert not isinstance(info.value, AzureMLAmbiguousSubmitError)
    assert info.value.request_sent is False
    assert len(sleeps) == 2


def test_read_timeout_on_get_is_retried_then_raised(
    make_client: Callable[..., AzureMLClient], server: ScriptedServer
) -> None:
    server.script("GET", RUN_PATH, Sleep(1.0, Reply(200, RUNNING)))

    with pytest.raises(AzureMLConnectionError, match="timed out"):
        make_client(max_retries=1, request_timeout=0.2).get_pipeline_run(RUN_ID)

    assert len(server.calls("GET", RUN_PATH)) == 2


def test_read_timeout_on_submit_is_ambiguous(
    make_client: Callable[..., AzureMLClient], server: ScriptedServer
) -> None:
    server.script("POST", SUBMIT_PATH, Sleep(1.0, Reply(200, SUBMITTED)))

    with pytest.raises(AzureMLAmbiguousSubmitError):
        make_client(request_timeout=0.2).submit_pipeline_run(PIPELINE_ID, submission())

    assert len(server.calls("POST", SUBMIT_PATH)) == 1


# Error bodies ----------------------------------------------------------------------------------------


def test_aeva_pascal_case_error_body(client: AzureMLClient, server: ScriptedServer) -> None:
    body = {
        "Error": {"Code": "BadArgument", "Message": "Unknown parameter 'bach_size'", "Target": "Parameters"},
        "Correlation": {"operation": "op-aeva-42"},
    }
    server.script("POST", SUBMIT_PATH, Reply(400, body))

    with pytest.raises(AzureMLServiceError) as info:
        client.submit_pipeline_run(PIPELINE_ID, submission())

    text = str(info.value)
    for part in ("HTTP 400", "BadArgument", "Unknown parameter 'bach_size'", "Parameters", "op-aeva-42"):
        assert part in text


def test_history_camel_case_error_body(client: AzureMLClient, server: ScriptedServer) -> None:
    run_path = path(routes.GET_RUN, experiment_name="exp1", run_id="nope")
    body = {
        "error": {"code": "UserError", "message": "Run nope was not found", "target": "runId"},
        "correlation": {"operation": "op-hist-7"},
    }
    server.script("GET", run_path, Reply(404, body))

    with pytest.raises(AzureMLNotFoundError) as info:
        client.get_run("exp1", "nope")

    text = str(info.value)
    for part in ("HTTP 404", "UserError", "Run nope was not found", "runId", "op-hist-7"):
        assert part in text


# Tokens, discovery and hosts -----------------------------------------------------------------------


def test_one_token_acquisition_for_a_thousand_calls_and_one_more_after_expiry(
    server: ScriptedServer,
) -> None:
    now = [1_000_000.0]
    credential = FakeCredential(lifetime=3600, clock=lambda: now[0])
    tokens = TokenProvider(credential, on_token=lambda token: None, clock=lambda: now[0])
    server.script("GET", RUN_PATH, Reply(200, RUNNING))
    with AzureMLClient(make_config(server), tokens=tokens) as c:
        for _ in range(1000):
            c.get_pipeline_run(RUN_ID)
        assert credential.calls == 1

        now[0] += 3600 - 299  # inside the five-minute refresh margin
        c.get_pipeline_run(RUN_ID)

    assert credential.calls == 2
    auth = {r.headers["Authorization"] for r in server.calls("GET", RUN_PATH)}
    assert auth == {"Bearer eyJ0eXAi.fake-token-1.sig", "Bearer eyJ0eXAi.fake-token-2.sig"}


def test_discovery_happens_once_per_process(
    client: AzureMLClient, server: ScriptedServer, credential: FakeCredential
) -> None:
    server.script("GET", RUN_PATH, Reply(200, RUNNING))
    for _ in range(20):
        client.get_pipeline_run(RUN_ID)
    tokens = TokenProvider(credential, on_token=lambda token: None)
    with AzureMLClient(make_config(server), tokens=tokens) as second:
        second.get_pipeline_run(RUN_ID)

    arm = server.calls("GET", path(routes.ARM_WORKSPACE))
    assert len(arm) == 1 and arm[0].query == {"api-version": [routes.ARM_API_VERSION]}
    assert len(server.calls("GET", "/discovery")) == 1
    assert client.hosts().workspace_id and client.hosts().api == server.base_url


def test_foreign_https_url_is_refused_before_any_request(
    client: AzureMLClient, server: ScriptedServer, credential: FakeCredential
) -> None:
    with pytest.raises(AzureMLHostNotAllowedError) as info:
        client.invoke_rest_endpoint("https://evil.example/pipelines/v1.0/x", submission())

    assert "evil.example" in str(info.value) and "api.azureml.ms" in str(info.value)
    assert server.requests == [] and credential.calls == 0


def test_foreign_host_from_discovery_is_refused(credential: FakeCredential) -> None:
    with ScriptedServer() as srv:
        script_workspace(srv, api="https://westeurope.api.azureml.ms.attacker.example")
        tokens = TokenProvider(credential, on_token=lambda token: None)
        with AzureMLClient(make_config(srv), tokens=tokens) as c, pytest.raises(AzureMLHostNotAllowedError):
            c.get_pipeline_run(RUN_ID)


# Operations ---------------------------------------------------------------------------------------


def test_submit_body_and_parent_run_id(client: AzureMLClient, server: ScriptedServer) -> None:
    server.script("POST", SUBMIT_PATH, Reply(200, SUBMITTED))
    request = SubmissionRequest.build(
        "exp1",
        parameter_assignments={"batch_size": 20, "fast": False},
        data_path_assignments={"input": {"DataStoreName": "blob", "RelativePath": "in/2024"}},
        tags={"airflow.idempotency_key": "k1"},
    )

    client.submit_pipeline_run(PIPELINE_ID, request, parent_run_id="parent-1")

    (sent,) = server.calls("POST", SUBMIT_PATH)
    assert sent.query == {"parentRunId": ["parent-1"]}
    assert sent.headers["Content-Type"].startswith("application/json")
    assert sent.json() == {
        "ExperimentName": "exp1",
        "Description": "exp1",
        "ParameterAssignments": {"batch_size": "20", "fast": "False"},
        "DataPathAssignments": {"input": {"DataStoreName": "blob", "RelativePath": "in/2024"}},
        "tags": {"airflow.idempotency_key": "k1"},
        "Properties": {},
    }


def test_submit_endpoint_version_goes_in_path_and_query(
    client: AzureMLClient, server: ScriptedServer
) -> None:
    versioned = path(routes.SUBMIT_ENDPOINT_VERSION, endpoint_id="ep-1", pipeline_version="2")
    server.script("POST", versioned, Reply(200, SUBMITTED))
    request = SubmissionRequest.build("exp1", continue_on_step_failure=True)

    client.submit_pipeline_endpoint_run("ep-1", request, pipeline_version="2")

    (sent,) = server.calls("POST", versioned)
    assert sent.query == {"pipelineVersion": ["2"]}
    assert sent.json()["ContinueRunOnStepFailure"] is True


def test_pipeline_parameters_from_interface_or_assignments(
    client: AzureMLClient, server: ScriptedServer
) -> None:
    server.script(
        "GET",
        path(routes.GET_PIPELINE, pipeline_id="with-graph"),
        Reply(200, {"Id": "with-graph", "GraphId": "g1", "ParameterAssignments": {"batch_size": "10"}}),
    )
    server.script(
        "GET",
        path(routes.GET_GRAPH_INTERFACE, graph_id="g1"),
        Reply(
            200,
            {"Parameters": [{"Name": "batch_size", "DefaultValue": "10", "Type": "0", "IsOptional": True}]},
        ),
    )
    server.script(
        "GET",
        path(routes.GET_PIPELINE, pipeline_id="no-graph"),
        Reply(200, {"Id": "no-graph", "GraphId": "g404", "ParameterAssignments": {"mode": "fast"}}),
    )

    (typed,) = client.get_pipeline_parameters("with-graph")
    (untyped,) = client.get_pipeline_parameters("no-graph")

    assert (typed.name, typed.type, typed.default_value) == ("batch_size", "int", "10")
    assert (untyped.name, untyped.type, untyped.default_value) == ("mode", "unknown", "fast")


def test_step_runs_follow_continuation_tokens(client: AzureMLClient, server: ScriptedServer) -> None:
    children = path(routes.GET_RUN_CHILDREN, experiment_name="exp1", run_id=RUN_ID)
    step = {"runId": "s1", "status": "Completed", "tags": {"azureml.nodeid": "n1"}}
    server.script(
        "GET",
        children,
        Reply(200, {"value": [step], "continuationToken": "page2"}),
        Reply(200, {"value": [{**step, "runId": "s2", "status": "Failed"}], "continuationToken": None}),
    )

    steps = client.list_step_runs("exp1", RUN_ID)

    assert [(s.run_id, s.status, s.node_id) for s in steps] == [
        ("s1", "Completed", "n1"),
        ("s2", "Failed", "n1"),
    ]
    assert server.calls("GET", children)[1].query["$continuationToken"] == ["page2"]


def test_find_runs_by_tags_quotes_values(client: AzureMLClient, server: ScriptedServer) -> None:
    query = path(routes.QUERY_RUNS, experiment_name="exp1")
    server.script("POST", query, Drop(), Reply(200, {"value": [{"runId": RUN_ID, "status": "Running"}]}))

    runs = client.find_runs_by_tags(
        "exp1", {"airflow.idempotency_key": "k'1"}, status="Running", created_after=datetime(2024, 5, 1)
    )

    assert [r.run_id for r in runs] == [RUN_ID]
    body = server.calls("POST", query)[-1].json()  # read-only POST: retried after the drop
    assert body["filter"] == (
        "(Tags/airflow.idempotency_key eq 'k''1') and (Status eq 'Running') "
        "and (CreatedUtc ge 2024-05-01T00:00:00.000000Z)"
    )


def test_cancel_of_an_ended_run_is_not_an_error(client: AzureMLClient, server: ScriptedServer) -> None:
    cancel = path(routes.CANCEL_PIPELINE_RUN, run_id=RUN_ID)
    server.script("DELETE", cancel, Reply(400, {"Error": {"Code": "RunAlreadyTerminal", "Message": "done"}}))
    server.script("GET", RUN_PATH, Reply(200, {**RUNNING, "Status": {"StatusCode": "3"}}))

    client.cancel_pipeline_run(RUN_ID)  # no error

    assert len(server.calls("GET", RUN_PATH)) == 1


def test_cancel_refused_for_an_active_run_raises(client: AzureMLClient, server: ScriptedServer) -> None:
    cancel = path(routes.CANCEL_PIPELINE_RUN, run_id=RUN_ID)
    server.script("DELETE", cancel, Reply(409, {"Error": {"Code": "Conflict", "Message": "busy"}}))
    server.script("GET", RUN_PATH, Reply(200, RUNNING))

    with pytest.raises(AzureMLServiceError, match="busy"):
        client.cancel_pipeline_run(RUN_ID)


def test_log_tail_reads_the_driver_log_through_the_artifact_service(
    client: AzureMLClient, server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    sas = "https://acct.blob.core.windows.net/c/70_driver_log.txt?sig=SAS-SIGNATURE-SECRET"
    listing = path(routes.LIST_ARTIFACTS, origin="ExperimentRun", container="dcid.s1", prefix="azureml-logs/")
    content = path(
        routes.GET_ARTIFACT_CONTENT,
        origin="ExperimentRun",
        container="dcid.s1",
        artifact_path="azureml-logs/70_driver_log.txt",
    )
    artifacts = [
        {"path": "azureml-logs/55_azureml-execution.txt", "contentUri": sas},
        {"path": "azureml-logs/70_driver_log.txt", "contentUri": sas},
        {"path": "azureml-logs/process_info.json", "contentUri": sas},
    ]
    server.script("GET", listing, Reply(200, {"value": artifacts, "continuationToken": None}))
    server.script("GET", content, Reply(200, "\n".join(f"line {i}" for i in range(100))))
    step = Run.model_validate({"runId": "s1", "dataContainerId": "dcid.s1"})

    with caplog.at_level(logging.DEBUG):
        text = client.get_step_log_tail(step, lines=3)

    assert text == "line 97\nline 98\nline 99"
    assert "SAS-SIGNATURE-SECRET" not in caplog.text
    assert not [r for r in server.requests if "blob.core" in r.path]


def test_log_tail_is_empty_without_logs(client: AzureMLClient, server: ScriptedServer) -> None:
    step = Run.model_validate({"runId": "s9"})
    assert client.get_step_log_tail(step) == ""
    assert len(server.calls("GET")) >= 3  # each log prefix was looked at (404s)
