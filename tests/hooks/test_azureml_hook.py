"""AzureMLHook: connection handling, laziness, links, test_connection, the SDK workspace, the async side."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.errors import AzureMLConfigError
from airflow_provider_azureml.hooks import azureml as hook_module
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from tests.client.helpers import (
    CLIENT_SECRET,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    WORKSPACE,
    WORKSPACE_ID,
    FakeCredential,
    path,
    script_workspace,
)
from tests.client.scripted_server import Reply, ScriptedServer

CONN_ID = "azureml_hook_test"
EXTRA = {
    "tenant_id": "tenant-0001",
    "subscription_id": SUBSCRIPTION,
    "resource_group": RESOURCE_GROUP,
    "workspace_name": WORKSPACE,
}


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        script_workspace(srv)
        yield srv


def set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str = CONN_ID, **fields: Any) -> None:
    extra = {**EXTRA, **fields.pop("extra", {})}
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "azureml", "extra": extra, **fields})
    )


def test_construction_reads_nothing_and_calls_nothing() -> None:
    hook = AzureMLHook("no_such_connection", max_retries=2)
    assert hook.azureml_conn_id == "no_such_connection"
    assert (AzureMLHook.conn_type, AzureMLHook.default_conn_name, AzureMLHook.conn_name_attr) == (
        "azureml",
        "azureml_default",
        "azureml_conn_id",
    )


def test_bad_connection_becomes_airflow_exception_naming_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, extra={"auth_method": "service_principal_secret"}, login="app-1")

    with pytest.raises(AirflowException, match=r"password \(client secret\) is required"):
        AzureMLHook(CONN_ID).get_pipeline_run("r1")


def test_retry_settings_come_from_overrides_then_connection_then_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_connection(monkeypatch, extra={"max_retries": 2, "timeout": 15})

    assert AzureMLHook(CONN_ID).retry_settings == {
        "max_retries": 2,
        "retry_max_seconds": 300.0,
        "request_timeout": 15,
    }
    overridden = AzureMLHook(CONN_ID, max_retries=0, retry_max_seconds=30, request_timeout=5)
    assert overridden.retry_settings == {"max_retries": 0, "retry_max_seconds": 30, "request_timeout": 5}
    set_connection(monkeypatch, conn_id="azureml_plain")
    assert AzureMLHook("azureml_plain").retry_settings == {
        "max_retries": 6,
        "retry_max_seconds": 300.0,
        "request_timeout": 60.0,
    }


@pytest.mark.parametrize(
    ("cloud", "studio"),
    [
        ("public", "https://ml.azure.com"),
        ("china", "https://studio.ml.azure.cn"),
        ("usgov", "https://ml.azure.us"),
    ],
)
def test_studio_url_per_cloud_without_network(
    monkeypatch: pytest.MonkeyPatch, cloud: str, studio: str
) -> None:
    set_connection(monkeypatch, extra={"cloud": cloud})

    url = AzureMLHook(CONN_ID).studio_run_url("run-1", "exp1")

    wsid = f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{RESOURCE_GROUP}/workspaces/{WORKSPACE}"
    assert url == f"{studio}/runs/run-1?wsid={wsid}&tid=tenant-0001"


def test_studio_url_with_endpoint_override(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, host="http://127.0.0.1:8089", extra={"auth_method": "emulator"})
    assert (
        AzureMLHook(CONN_ID)
        .studio_run_url("run-1")
        .startswith("http://127.0.0.1:8089/runs/run-1?wsid=/subscriptions/")
    )


def test_test_connection_calls_arm_discovery_and_the_pipelines_service(
    monkeypatch: pytest.MonkeyPatch, server: ScriptedServer
) -> None:
    set_connection(monkeypatch, host=server.base_url, extra={"auth_method": "emulator"})
    server.script("GET", path(routes.DATA_TYPES), Reply(200, [{"Id": "AnyFile"}]))

    ok, message = AzureMLHook(CONN_ID).test_connection()

    assert ok, message
    assert WORKSPACE in message
    assert [r.path for r in server.requests] == [
        path(routes.ARM_WORKSPACE),
        "/discovery",
        path(routes.DATA_TYPES),
    ]
    assert {r.headers["Authorization"] for r in server.requests} == {"Bearer emulator-token"}


def test_test_connection_failure_never_shows_the_secret(
    monkeypatch: pytest.MonkeyPatch, server: ScriptedServer
) -> None:
    set_connection(
        monkeypatch,
        host=server.base_url,
        login="app-1",
        password=CLIENT_SECRET,
        extra={"auth_method": "service_principal_secret"},
    )
    monkeypatch.setattr(hook_module, "build_credential", lambda config: FakeCredential())
    server.script(
        "GET",
        path(routes.ARM_WORKSPACE),
        Reply(403, {"error": {"code": "AuthorizationFailed", "message": f"client {CLIENT_SECRET} denied"}}),
    )

    ok, message = AzureMLHook(CONN_ID).test_connection()

    assert not ok
    assert "AuthorizationFailed" in message and CLIENT_SECRET not in message


def test_submit_checks_parameters_before_any_request(
    monkeypatch: pytest.MonkeyPatch, server: ScriptedServer
) -> None:
    set_connection(monkeypatch, host=server.base_url, extra={"auth_method": "emulator"})

    with pytest.raises(AzureMLConfigError, match=r"parameter_assignments\.dates: allowed: str, int"):
        AzureMLHook(CONN_ID).submit_pipeline_run(
            "pp-1", experiment_name="exp1", parameter_assignments={"dates": [1]}
        )
    with pytest.raises(AzureMLConfigError, match="experiment_name"):
        AzureMLHook(CONN_ID).submit_pipeline_run("pp-1", experiment_name="bad name!")

    assert server.requests == []


def test_submit_through_the_hook(monkeypatch: pytest.MonkeyPatch, server: ScriptedServer) -> None:
    set_connection(monkeypatch, host=server.base_url, extra={"auth_method": "emulator"})
    submit = path(routes.SUBMIT_PIPELINE, pipeline_id="pp-1")
    server.script(
        "POST", submit, Reply(200, {"Id": "run-9", "Status": {"StatusCode": "0"}, "tags": {"k": "v"}})
    )

    run = AzureMLHook(CONN_ID).submit_pipeline_run(
        "pp-1", experiment_name="exp1", parameter_assignments={"alpha": 0.5}, tags={"k": "v"}
    )

    assert (run.id, run.status, run.tags) == ("run-9", "NotStarted", {"k": "v"})
    assert server.calls("POST", submit)[0].json()["ParameterAssignments"] == {"alpha": "0.5"}


def test_get_workspace_uses_the_same_credential_and_hosts(
    monkeypatch: pytest.MonkeyPatch, server: ScriptedServer
) -> None:
    set_connection(monkeypatch, host=server.base_url, extra={"auth_method": "emulator"})

    workspace = AzureMLHook(CONN_ID).get_workspace()

    auth = workspace._auth_object
    assert auth.get_authentication_header() == {"Authorization": "Bearer emulator-token"}
    assert auth._get_azureml_client_token() == "emulator-token"
    assert workspace._workspace_id == WORKSPACE_ID
    assert workspace.discovery_url == f"{server.base_url}/discovery"
    assert (workspace.subscription_id, workspace.resource_group, workspace.name) == (
        SUBSCRIPTION,
        RESOURCE_GROUP,
        WORKSPACE,
    )


async def test_async_client_rebuilt_from_the_connection_id(
    monkeypatch: pytest.MonkeyPatch, server: ScriptedServer
) -> None:
    set_connection(monkeypatch, host=server.base_url, extra={"auth_method": "emulator"})
    server.script(
        "GET",
        path(routes.GET_PIPELINE_RUN, run_id="r1"),
        Reply(200, {"Id": "r1", "Status": {"StatusCode": "3"}}),
    )
    settings = AzureMLHook(CONN_ID, max_retries=1).retry_settings
    json.dumps(settings)  # a trigger can carry it

    async with await AzureMLHook.get_async_client_for(CONN_ID, **settings) as client:
        run = await client.get_pipeline_run("r1")

    assert run.status == "Finished"
    assert client.settings.max_retries == 1


async def test_async_clients_of_one_connection_share_the_token_cache(
    monkeypatch: pytest.MonkeyPatch, server: ScriptedServer
) -> None:
    """A triggerer with many triggers of one connection holds one credential and acquires once."""
    set_connection(monkeypatch, host=server.base_url, extra={"auth_method": "emulator"})

    first = await AzureMLHook.get_async_client_for(CONN_ID, max_retries=1)
    second = await AzureMLHook.get_async_client_for(CONN_ID, max_retries=2)

    assert first.tokens is second.tokens
    assert (first.settings.max_retries, second.settings.max_retries) == (1, 2)
