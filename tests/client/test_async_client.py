"""The httpx client against the same scripted server: same policy, same operations, no blocking."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import pytest

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.async_client import AsyncAzureMLClient
from airflow_provider_azureml.client.credentials import TokenProvider
from airflow_provider_azureml.client.errors import (
    AzureMLConnectionError,
    AzureMLHostNotAllowedError,
    AzureMLNotFoundError,
)
from airflow_provider_azureml.client.models import Run, SubmissionRequest
from airflow_provider_azureml.client.retry import RetrySettings
from tests.client.helpers import AsyncSleeps, FakeCredential, make_config, path
from tests.client.scripted_server import Drop, Reply, ScriptedServer, Sleep

RUN_ID = "run-async-1"
RUN_PATH = path(routes.GET_PIPELINE_RUN, run_id=RUN_ID)


@pytest.fixture
def async_sleeps() -> AsyncSleeps:
    return AsyncSleeps()


@pytest.fixture
async def aclient(
    server: ScriptedServer, credential: FakeCredential, async_sleeps: AsyncSleeps
) -> AsyncIterator[AsyncAzureMLClient]:
    tokens = TokenProvider(credential, on_token=lambda token: None)
    settings = RetrySettings(max_retries=3, request_timeout=0.3)
    async with AsyncAzureMLClient(
        make_config(server), settings=settings, tokens=tokens, sleep=async_sleeps
    ) as c:
        yield c


async def test_retries_throttling_and_drops_honouring_retry_after(
    aclient: AsyncAzureMLClient, server: ScriptedServer, async_sleeps: AsyncSleeps, credential: FakeCredential
) -> None:
    server.script(
        "GET",
        RUN_PATH,
        Reply(429, {"Error": {"Code": "TooMany", "Message": "slow"}}, {"Retry-After": "4"}),
        Drop(),
        Reply(200, {"Id": RUN_ID, "Status": {"StatusCode": "1"}}),
    )

    run = await aclient.get_pipeline_run(RUN_ID)

    assert run.status == "Running"
    assert async_sleeps[0] == 4.0 and len(async_sleeps) == 2
    assert credential.calls == 1
    assert credential.threads[0] != threading.main_thread().name  # acquired off the event loop


async def test_gives_up_on_timeouts(aclient: AsyncAzureMLClient, server: ScriptedServer) -> None:
    server.script("GET", RUN_PATH, Sleep(1.0))

    with pytest.raises(AzureMLConnectionError, match="timed out"):
        await aclient.get_pipeline_run(RUN_ID)

    assert len(server.calls("GET", RUN_PATH)) == 4


async def test_steps_details_cancel_and_log_tail(aclient: AsyncAzureMLClient, server: ScriptedServer) -> None:
    children = path(routes.GET_RUN_CHILDREN, experiment_name="exp1", run_id=RUN_ID)
    server.script(
        "GET",
        children,
        Reply(200, {"value": [{"runId": "s1", "status": "Failed"}], "continuationToken": "t2"}),
        Reply(200, {"value": [{"runId": "s2", "status": "Completed"}]}),
    )
    details = path(routes.GET_RUN_DETAILS, experiment_name="exp1", run_id="s1")
    error = {"error": {"code": "UserError", "message": "division by zero", "target": "train.py"}}
    server.script("GET", details, Reply(200, {"runId": "s1", "status": "Failed", "error": error}))
    server.script("DELETE", path(routes.CANCEL_PIPELINE_RUN, run_id=RUN_ID), Reply(200))
    listing = path(routes.LIST_ARTIFACTS, origin="ExperimentRun", container="dcid.s1", prefix="user_logs/")
    server.script("GET", listing, Reply(200, {"value": [{"path": "user_logs/std_log.txt"}]}))
    content = path(
        routes.GET_ARTIFACT_CONTENT,
        origin="ExperimentRun",
        container="dcid.s1",
        artifact_path="user_logs/std_log.txt",
    )
    server.script("GET", content, Reply(200, "start\nTraceback\nZeroDivisionError\n"))

    steps = await aclient.list_step_runs("exp1", RUN_ID)
    failed = await aclient.get_run_details("exp1", "s1")
    await aclient.cancel_pipeline_run(RUN_ID)
    tail = await aclient.get_step_log_tail(Run.model_validate({"runId": "s1"}), lines=2)

    assert [s.run_id for s in steps] == ["s1", "s2"]
    assert failed.error is not None and failed.error.message == "division by zero"
    assert tail == "Traceback\nZeroDivisionError"


async def test_not_found_and_host_check(aclient: AsyncAzureMLClient, server: ScriptedServer) -> None:
    with pytest.raises(AzureMLNotFoundError):
        await aclient.get_run("exp1", "missing")
    before = len(server.requests)
    with pytest.raises(AzureMLHostNotAllowedError):
        request = SubmissionRequest.build("exp1")
        await aclient.invoke_rest_endpoint("https://evil.example/x", request)
    assert len(server.requests) == before
