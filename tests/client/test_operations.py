"""Each operation is written once, in ``Operations``: both clients have it, with the same signature."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.async_client import AsyncAzureMLClient
from airflow_provider_azureml.client.credentials import TokenProvider
from airflow_provider_azureml.client.operations import Operations, operation
from airflow_provider_azureml.client.sync_client import AzureMLClient
from tests.client.helpers import FakeCredential, make_config, path
from tests.client.scripted_server import Reply, ScriptedServer

OPERATIONS = sorted(name for name, value in vars(Operations).items() if isinstance(value, operation))
PIPELINES = [
    {"Id": "pp-1", "Name": "train", "Version": "1", "EntityStatus": "0", "ParameterAssignments": {"a": 1}},
    {"Id": "pp-2", "Name": "train", "Version": "2", "EntityStatus": "Disabled"},
]


@pytest.fixture
async def aclient(server: ScriptedServer, credential: FakeCredential) -> AsyncIterator[AsyncAzureMLClient]:
    async with AsyncAzureMLClient(make_config(server), tokens=TokenProvider(credential)) as c:
        yield c


def test_the_clients_keep_their_public_operations() -> None:
    assert set(OPERATIONS) >= {
        "list_data_types",
        "get_published_pipeline",
        "get_graph_interface",
        "get_pipeline_parameters",
        "list_published_pipelines",
        "get_pipeline_endpoint",
        "submit_pipeline_run",
        "submit_pipeline_endpoint_run",
        "invoke_rest_endpoint",
        "get_pipeline_run",
        "cancel_pipeline_run",
        "get_run",
        "get_run_details",
        "list_step_runs",
        "find_runs_by_tags",
        "get_run_statuses",
        "get_step_log_tail",
    }


@pytest.mark.parametrize("name", OPERATIONS)
def test_both_clients_have_each_operation_with_its_signature(
    name: str, client: AzureMLClient, aclient: AsyncAzureMLClient
) -> None:
    steps = getattr(Operations, name).steps
    written = inspect.signature(steps)
    expected = written.replace(
        parameters=list(written.parameters.values())[1:], return_annotation=inspect.Signature.empty
    )
    sync_method, async_method = getattr(client, name), getattr(aclient, name)

    assert inspect.signature(sync_method) == expected
    assert inspect.signature(async_method) == expected
    assert sync_method.__doc__ == async_method.__doc__ == steps.__doc__
    assert inspect.iscoroutinefunction(async_method)
    assert not inspect.iscoroutinefunction(sync_method)


def test_list_published_pipelines_is_one_request_keeping_active_only(
    client: AzureMLClient, server: ScriptedServer
) -> None:
    listing = path(routes.LIST_PIPELINES)
    server.script("GET", listing, Reply(200, PIPELINES))

    pipelines = client.list_published_pipelines(active_only=False)

    assert [(p.id, p.version, p.status) for p in pipelines] == [
        ("pp-1", "1", "Active"),
        ("pp-2", "2", "Disabled"),
    ]
    assert pipelines[0].parameter_assignments == {"a": "1"}
    [call] = server.calls("GET", listing)
    assert call.query == {"activeOnly": ["false"]}


async def test_the_async_client_lists_published_pipelines_too(
    aclient: AsyncAzureMLClient, server: ScriptedServer
) -> None:
    listing = path(routes.LIST_PIPELINES)
    server.script("GET", listing, Reply(200, PIPELINES[:1]))

    pipelines = await aclient.list_published_pipelines()

    assert [p.id for p in pipelines] == ["pp-1"]
    assert server.calls("GET", listing)[0].query == {"activeOnly": ["true"]}
