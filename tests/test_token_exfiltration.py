"""No request carrying the token reaches a host the policy does not allow, however the URL is spelled.

A capture server listens on 127.0.0.2, a loopback address other than the endpoint override's
127.0.0.1: every hostile URL below names it in a way some parser reads as the allowed host. The sync
client, the async client, the invoke operator, discovery answers and the SDK path are each driven at it,
and the capture server must see no request at all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.async_client import AsyncAzureMLClient
from airflow_provider_azureml.client.config import AzureMLConnectionConfig
from airflow_provider_azureml.client.credentials import TokenProvider
from airflow_provider_azureml.client.errors import AzureMLConfigError, AzureMLHostNotAllowedError
from airflow_provider_azureml.client.models import SubmissionRequest
from airflow_provider_azureml.client.operations import (
    REFUSED_SERVICE,
    Call,
    ServiceHosts,
    clear_hosts_cache,
)
from airflow_provider_azureml.client.sync_client import AzureMLClient
from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from airflow_provider_azureml.operators.invoke_pipeline_endpoint import AzureMLInvokePipelineEndpointOperator
from tests.client.helpers import (
    RESOURCE_GROUP,
    SCOPE_PARAMS,
    SUBSCRIPTION,
    WORKSPACE,
    WORKSPACE_ID,
    FakeCredential,
    Sleeps,
    make_config,
    path,
)
from tests.client.scripted_server import Reply, ScriptedServer
from tests.task_context import make_context

SUBMIT_PATH = "/pipelines/v1.0/x/PipelineRuns/PipelineSubmit/p1"


@pytest.fixture
def capture() -> Iterator[ScriptedServer]:
    with ScriptedServer(host="127.0.0.2") as server:
        yield server


@pytest.fixture
def endpoint() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def authority(server: ScriptedServer) -> str:
    return server.base_url.removeprefix("http://")


def hostile_urls(capture: ScriptedServer, allowed: str) -> list[str]:
    """URLs on ``capture`` that some parser reads as being on ``allowed`` (an ``host:port``)."""
    evil = authority(capture)
    return [
        f"http://{evil}\\@{allowed}{SUBMIT_PATH}",
        f"http://{evil}\\\\@{allowed}{SUBMIT_PATH}",
        f"http://{allowed}@{evil}{SUBMIT_PATH}",
        f"http://{evil}#@{allowed}{SUBMIT_PATH}",
        f"http://{evil}?@{allowed}{SUBMIT_PATH}",
        f"http://{evil}%2f@{allowed}{SUBMIT_PATH}",
        f"http://{evil}\t@{allowed}{SUBMIT_PATH}",
        f"http://{evil}{SUBMIT_PATH}",
    ]


def script_discovery(endpoint: ScriptedServer, *, discovery_url: str | None = None, **services: str) -> None:
    arm = {"properties": {"discoveryUrl": discovery_url or f"{endpoint.base_url}/discovery"}}
    arm["properties"]["workspaceId"] = WORKSPACE_ID
    endpoint.script("GET", path(routes.ARM_WORKSPACE), Reply(200, arm))
    document = {"api": endpoint.base_url, "history": endpoint.base_url, "studio": endpoint.base_url}
    endpoint.script("GET", "/discovery", Reply(200, {**document, **services}))


def tokens() -> TokenProvider:
    return TokenProvider(FakeCredential(), on_token=lambda token: None)


def test_sync_and_async_clients_refuse_every_hostile_invoke_url(capture, endpoint) -> None:
    script_discovery(endpoint)
    config = make_config(endpoint)
    request = SubmissionRequest.build("exfiltration")

    async def invoke_async(url: str) -> None:
        async with AsyncAzureMLClient(config, tokens=tokens(), sleep=asyncio.sleep) as client:
            await client.invoke_rest_endpoint(url, request)

    with AzureMLClient(config, tokens=tokens(), sleep=Sleeps()) as client:
        for url in hostile_urls(capture, authority(endpoint)):
            with pytest.raises(AzureMLHostNotAllowedError):
                client.invoke_rest_endpoint(url, request)
            with pytest.raises(AzureMLHostNotAllowedError):
                asyncio.run(invoke_async(url))
    assert capture.requests == []
    assert endpoint.requests == []


def read_run_with_both_clients(config) -> None:
    """Each client must refuse: the sync one, then the async one."""

    async def read_async() -> None:
        async with AsyncAzureMLClient(config, tokens=tokens(), sleep=asyncio.sleep) as client:
            await client.get_pipeline_run("r1")

    with (
        AzureMLClient(config, tokens=tokens(), sleep=Sleeps()) as client,
        pytest.raises(AzureMLHostNotAllowedError),
    ):
        client.get_pipeline_run("r1")
    with pytest.raises(AzureMLHostNotAllowedError):
        asyncio.run(read_async())


@pytest.mark.parametrize("key", ["discoveryUrl", "api", "history"])
def test_a_tampered_discovery_answer_is_refused_by_both_clients(capture, endpoint, key) -> None:
    for url in hostile_urls(capture, authority(endpoint)):
        hostile_base = url.removesuffix(SUBMIT_PATH)
        if key == "discoveryUrl":
            script_discovery(endpoint, discovery_url=f"{hostile_base}/discovery")
        else:
            script_discovery(endpoint, **{key: hostile_base})
        read_run_with_both_clients(make_config(endpoint))
        clear_hosts_cache()
    assert capture.requests == []


def test_the_invoke_operator_refuses_hostile_endpoint_urls(capture, emulator_conn: RunningEmulator) -> None:
    emulator = authority_of(emulator_conn.url)
    for url in hostile_urls(capture, emulator):
        operator = AzureMLInvokePipelineEndpointOperator(
            task_id="invoke", endpoint_url=url, experiment_name="exfiltration", deferrable=False
        )
        with pytest.raises(AirflowFailException, match="endpoint_url is not allowed"):
            operator.execute(make_context())
    assert capture.requests == []
    assert emulator_conn.backend.submissions() == []


def authority_of(url: str) -> str:
    return url.removeprefix("http://").rstrip("/")


@pytest.fixture
def sdk_hook(endpoint, monkeypatch) -> AzureMLHook:
    connection = {
        "conn_type": "azureml",
        "host": endpoint.base_url,
        "extra": {
            "subscription_id": SUBSCRIPTION,
            "resource_group": RESOURCE_GROUP,
            "workspace_name": WORKSPACE,
            "auth_method": "emulator",
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_AZUREML_SDK", json.dumps(connection))
    monkeypatch.setenv("HBI_WORKSPACE_JOB", "true")  # no SDK telemetry
    return AzureMLHook("azureml_sdk")


@pytest.mark.parametrize("key", ["api", "history"])
def test_the_sdk_never_sees_a_refused_pipelines_or_history_host(capture, endpoint, sdk_hook, key) -> None:
    script_discovery(endpoint, **{key: capture.base_url})
    with pytest.raises(AzureMLHostNotAllowedError, match=f"discovery key '{key}'"):
        sdk_hook.get_workspace()
    assert capture.requests == []


def test_the_sdk_learns_only_checked_hosts_and_never_rediscovers(capture, endpoint, sdk_hook) -> None:
    from azureml.core import Environment
    from azureml.pipeline.core import PublishedPipeline

    foreign = {key: capture.base_url for key in ("experimentation", "hyperdrive", "modelmanagement")}
    script_discovery(endpoint, **foreign)
    workspace = sdk_hook.get_workspace()

    with pytest.raises(Exception):  # noqa: B017 - nothing is scripted for the pipeline: any SDK error
        PublishedPipeline.get(workspace, "p1")
    with pytest.raises(Exception):  # noqa: B017 - the environment service's host was refused
        Environment.list(workspace)

    assert capture.requests == []
    assert len(endpoint.calls("GET", "/discovery")) == 1  # ours: the SDK used the checked copy
    sdk_calls = [r for r in endpoint.requests if r.path.startswith("/pipelines/v1.0/")]
    assert sdk_calls and all(r.headers["Authorization"].startswith("Bearer ") for r in sdk_calls)


def test_the_sdk_gets_tokens_for_the_clouds_audiences_only(endpoint, sdk_hook) -> None:
    script_discovery(endpoint)
    auth = sdk_hook.get_workspace()._auth
    assert auth.get_authentication_header()["Authorization"].startswith("Bearer ")
    with pytest.raises(AzureMLHostNotAllowedError, match="audience"):
        auth._token_for_resource("https://vault.azure.net")


def test_the_sdk_learns_refused_addresses_for_keys_the_document_lacks(capture, endpoint, sdk_hook) -> None:
    from azureml.core import Environment

    script_discovery(endpoint, experimentation=capture.base_url)  # no hyperdrive, no modelmanagement
    workspace = sdk_hook.get_workspace()
    with pytest.raises(Exception):  # noqa: B017 - the environment service's host was refused
        Environment.list(workspace)
    assert capture.requests == []
    assert len(endpoint.calls("GET", "/discovery")) == 1


def test_another_process_rewriting_the_shared_sdk_cache_cannot_drop_the_checked_hosts(
    capture, endpoint, sdk_hook
) -> None:
    """azureml-core rewrites ``~/.azureml/.discovery`` whole from a stale read; here, as another SDK
    process would, it is emptied between our seeding and the SDK's first call."""
    from azureml.core import Environment

    script_discovery(endpoint, experimentation=capture.base_url)
    workspace = sdk_hook.get_workspace()
    shared = Path.home() / ".azureml" / ".discovery"
    if shared.exists():
        shared.write_text("{}")
    with pytest.raises(Exception):  # noqa: B017 - the environment service's host was refused
        Environment.list(workspace)
    assert capture.requests == []
    assert len(endpoint.calls("GET", "/discovery")) == 1


def test_plain_http_to_the_override_never_goes_through_an_environment_proxy(
    capture, endpoint, monkeypatch
) -> None:
    """A proxy named in the environment would read the token of an http (loopback) override in clear."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, capture.base_url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    script_discovery(endpoint)
    run_path = path(routes.GET_PIPELINE_RUN, run_id="r1")
    endpoint.script("GET", run_path, Reply(200, {"Id": "r1", "Status": {"StatusCode": "Running"}}))
    config = make_config(endpoint)

    async def read_async() -> None:
        async with AsyncAzureMLClient(config, tokens=tokens(), sleep=asyncio.sleep) as client:
            await client.get_pipeline_run("r1")

    with AzureMLClient(config, tokens=tokens(), sleep=Sleeps()) as client:
        client.get_pipeline_run("r1")
    clear_hosts_cache()
    asyncio.run(read_async())
    assert capture.requests == []
    assert len(endpoint.calls("GET", run_path)) == 2


def test_clients_send_to_the_rebuilt_url() -> None:
    config = AzureMLConnectionConfig.parse({**SCOPE_PARAMS, "auth_method": "managed_identity"})
    with AzureMLClient(config, tokens=tokens(), sleep=Sleeps()) as client:
        call = Call("POST", "url", "HTTPS://WestEurope.API.azureml.ms:443/p", {"parentRunId": "r"})
        assert client._prepare(call, None).url == "https://westeurope.api.azureml.ms/p?parentRunId=r"
    raw = ServiceHosts(
        api="HTTPS://X.API.AZUREML.MS:443",
        history="https://x.api.azureml.ms/",
        studio=None,
        workspace_id=None,
        discovery_url="HTTPS://X.api.azureml.ms:443/discovery",
        services=(("experimentation", "HTTPS://X.api.azureml.ms:443/"), ("catalog", "https://evil.example")),
    )
    checked = raw.checked(config.host_policy)
    assert (checked.api, checked.history) == ("https://x.api.azureml.ms", "https://x.api.azureml.ms")
    assert checked.discovery_url == "https://x.api.azureml.ms/discovery"
    assert dict(checked.services) == {
        "experimentation": "https://x.api.azureml.ms",
        "catalog": REFUSED_SERVICE.format(key="catalog"),
    }


def test_hosts_discovered_under_one_cloud_are_not_reused_under_another(capture, endpoint) -> None:
    script_discovery(endpoint, experimentation="https://eastus.experiments.azureml.net")
    public, china = make_config(endpoint), make_config(endpoint, cloud="china")
    with AzureMLClient(public, tokens=tokens(), sleep=Sleeps()) as client:
        assert dict(client.hosts().services)["experimentation"] == "https://eastus.experiments.azureml.net"
    with AzureMLClient(china, tokens=tokens(), sleep=Sleeps()) as client:
        refused = REFUSED_SERVICE.format(key="experimentation")
        assert dict(client.hosts().services)["experimentation"] == refused


def test_an_endpoint_is_checked_however_the_config_is_built() -> None:
    raw = {**SCOPE_PARAMS, "auth_method": "managed_identity"}
    for endpoint in (
        "http://10.1.2.3",
        "https://evil.example\\@127.0.0.1",
        "HTTP://Proxy.example:443/base?x",
    ):
        with pytest.raises(AzureMLConfigError, match="endpoint"):
            AzureMLConnectionConfig.parse({**raw, "endpoint": endpoint})
