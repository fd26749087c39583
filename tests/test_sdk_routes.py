"""Both route tables, the client's and the emulator's, held to the real SDK's own URL templates.

The two tables are written independently (neither side imports the other), so this test is what
keeps them right: each template must equal the ``metadata['url']`` of the SDK operation that declares
it, placeholder names aside, and use the HTTP method that operation sends; a route the SDK builds by
hand must equal the URL the cited SDK function builds, whose source must still show it. The last test
changes one route of a copied table and checks that the comparison reports it.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_azureml.client import routes as client_routes
from airflow_provider_azureml.emulator.wire import routes as emulator_routes

pytest.importorskip("azureml.pipeline.core")

AEVA_CLIENT = "azureml.pipeline.core._restclients.aeva.aml_pipelines_api10:AMLPipelinesAPI10"
RUNS = "azureml._restclient.operations.run_operations:RunOperations"
ARTIFACTS = "azureml._restclient.operations.artifact_operations:ArtifactOperations"
SNAPSHOTS = "azureml._restclient.operations.snapshot_operations:SnapshotOperations"
SNAPSHOTS_CLIENT = "azureml._restclient.snapshots_client:SnapshotsClient"
EXPERIMENTS = "azureml._restclient.operations.experiment_operations:ExperimentOperations"
DATASTORES = "azureml._restclient.operations.data_stores_operations:DataStoresOperations"
WORKSPACES = "azureml._restclient.operations.workspaces_operations:WorkspacesOperations"
SCOPE = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
    "/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}"
)
SEND = re.compile(r"(?:self\._client|session)\.(get|post|put|delete|head|patch)\b")


@dataclass(frozen=True)
class Declared:
    """An operation of an SDK REST client whose ``metadata['url']`` is the template."""

    owner: str  # "module:Class"
    operation: str  # the method's name, or for AEVA the end of it (the generated names are very long)


@dataclass(frozen=True)
class BuiltByHand:
    """An SDK function that concatenates the URL itself; ``shows`` are fragments of its source."""

    owner: str
    function: str
    url: str
    shows: tuple[str, ...]


def aeva(operation: str) -> Declared:
    return Declared(AEVA_CLIENT, operation)


SDK_ROUTES: dict[str, Declared | BuiltByHand] = {
    "ARM_WORKSPACE": Declared(WORKSPACES, "get"),
    "DATA_TYPES": aeva("data_types_get"),
    "CREATE_DATA_TYPE": aeva("data_types_post"),
    "LIST_PIPELINES": aeva("pipelines_get"),
    "GET_PIPELINE": aeva("pipelines_by_pipeline_id_get"),
    "SET_PIPELINE_STATUS": aeva("pipelines_by_pipeline_id_status_put"),
    "CREATE_PIPELINE": aeva("pipelines_create_post"),
    "GET_GRAPH": aeva("graphs_by_graph_id_get"),
    "GET_GRAPH_INTERFACE": aeva("graphs_by_graph_id_interface_get"),
    "SUBMIT_PIPELINE": aeva("pipeline_runs_pipeline_submit_by_pipeline_id_post"),
    "SUBMIT_ENDPOINT": aeva("pipeline_endpoint_submit_by_pipeline_run_id_post"),
    "SUBMIT_ENDPOINT_VERSION": BuiltByHand(
        AEVA_CLIENT,
        "pipeline_endpoint_submit_by_pipeline_run_id_post",
        "/pipelines/v1.0" + SCOPE + "/PipelineRuns/PipelineEndpointSubmit/Id/{id}/{pipelineVersion}",
        ('url = f"{url}/{pipeline_version}"',),
    ),
    "GET_PIPELINE_RUN": aeva("pipeline_runs_by_pipeline_run_id_get"),
    "CANCEL_PIPELINE_RUN": aeva("pipeline_runs_by_pipeline_run_id_execution_delete"),
    "PIPELINE_RUNS_OF_PIPELINE": aeva("pipeline_runs_pipeline_by_pipeline_id_get"),
    "NODE_STATUS": aeva("pipeline_runs_by_pipeline_run_id_graph_node_status_code_post"),
    "ALL_NODES_STATUS": aeva("pipeline_runs_by_pipeline_run_id_graph_all_nodes_status_post"),
    "LIST_ENDPOINTS": aeva("pipeline_endpoints_get"),
    "GET_ENDPOINT": aeva("pipeline_endpoint_by_id_get"),
    "GET_ENDPOINT_BY_NAME": aeva("pipeline_endpoint_by_name_get"),
    "CREATE_ENDPOINT": aeva("pipeline_endpoint_create_post"),
    "UPDATE_ENDPOINT": aeva("pipeline_endpoint_by_id_put"),
    "ENDPOINT_PIPELINES": aeva("pipeline_endpoints_by_id_pipelines_get"),
    "MODULE_BY_HASH": aeva("modules_hash_by_identifier_hash_get"),
    "CREATE_MODULE": aeva("modules_post"),
    "GET_MODULE": aeva("modules_by_id_get"),
    "DATA_SOURCE_BY_HASH": aeva("data_sources_hash_by_hash_get"),
    "CREATE_DATA_SOURCE": aeva("data_sources_post"),
    "GET_DATA_SOURCE": aeva("data_sources_by_id_get"),
    "CREATE_SCHEDULE": aeva("schedules_create_post"),
    "GET_SCHEDULE": aeva("schedules_by_schedule_id_get"),
    "UPDATE_SCHEDULE": aeva("schedules_by_schedule_id_put"),
    "LIST_SCHEDULES": aeva("schedules_get"),
    "SCHEDULES_OF_PIPELINE": aeva("schedules_pipeline_by_pipeline_id_get"),
    "SCHEDULES_OF_ENDPOINT": aeva("schedules_pipeline_by_pipeline_endpoint_id_get"),
    "RUNS_OF_SCHEDULE": aeva("pipeline_runs_schedule_by_schedule_id_get"),
    "LAST_RUN_OF_SCHEDULE": aeva("pipeline_runs_schedule_by_schedule_id_last_get"),
    "GET_RUN": Declared(RUNS, "get"),
    "GET_RUN_DETAILS": Declared(RUNS, "get_details"),
    "GET_RUN_CHILDREN": Declared(RUNS, "get_child"),
    "QUERY_RUNS": Declared(RUNS, "get_by_query"),
    "GET_EXPERIMENT": Declared(EXPERIMENTS, "get"),
    "GET_RUN_BY_EXPERIMENT_ID": Declared(RUNS, "get_by_exp_id"),
    "LIST_ARTIFACTS": Declared(ARTIFACTS, "list_sas_by_prefix"),
    "GET_ARTIFACT_CONTENT": Declared(ARTIFACTS, "download"),
    "LIST_ARTIFACT_CONTAINER": Declared(ARTIFACTS, "list_in_container"),
    "SNAPSHOT_LATEST_METADATA": Declared(SNAPSHOTS, "get_latest_snapshot"),
    "SNAPSHOT_GET_BLOB": BuiltByHand(
        SNAPSHOTS_CLIENT,
        "_upload_snapshot_files",
        "/content/v2.0" + SCOPE + "/snapshots/getblob",
        ('"/content/v2.0"', '"/snapshots/getblob"'),
    ),
    "CREATE_SNAPSHOT": BuiltByHand(
        SNAPSHOTS_CLIENT,
        "create_snapshot",
        "/content/v2.0" + SCOPE + "/snapshots/{snapshotId}",
        ('"/content/v2.0"', '"/snapshots/" + new_snapshot_id'),
    ),
    "DEFAULT_DATASTORE": Declared(DATASTORES, "get_default"),
    "GET_DATASTORE": Declared(DATASTORES, "get"),
}
#: Addresses of the emulator's own making, which the SDK never builds: it follows the ARM answer's
#: ``discoveryUrl``, links to Studio pages, and uploads to the blob URLs the content service hands out.
NOT_FROM_THE_SDK = frozenset({"DISCOVERY", "STUDIO_RUN", "PUT_SNAPSHOT_BLOB", "HEAD_SNAPSHOT_BLOB"})


def route_table(module: Any) -> dict[str, tuple[str, str]]:
    """``{name: (method, template)}`` of every route constant in a routes module."""
    return {
        name: (value.method, value.template)
        for name, value in vars(module).items()
        if isinstance(value, tuple) and hasattr(value, "template") and name.isupper()
    }


def normalised(template: str) -> str:
    """Placeholder names differ between the SDK and us (``{pipelineRunId}``, ``{run_id}``, ``{p:path}``)."""
    return re.sub(r"\{[^}]*\}", "{}", template)


def sdk_function(owner: str, name: str) -> Callable[..., Any]:
    module_name, class_name = owner.split(":")
    cls = vars(importlib.import_module(module_name))[class_name]
    if name in vars(cls):
        return vars(cls)[name]  # type: ignore[no-any-return]
    matches = [value for key, value in vars(cls).items() if key.endswith("_workspace_name_" + name)]
    assert len(matches) == 1, f"{owner} has {len(matches)} operations ending in {name}"
    return matches[0]  # type: ignore[no-any-return]


def sdk_route(source: Declared | BuiltByHand) -> tuple[set[str], str]:
    """The methods the SDK function sends and the URL template it uses."""
    name = source.operation if isinstance(source, Declared) else source.function
    function = sdk_function(source.owner, name)
    code = inspect.getsource(function)
    methods = {method.upper() for method in SEND.findall(code)}
    if isinstance(source, Declared):
        return methods, function.metadata["url"]  # type: ignore[attr-defined]
    missing = [fragment for fragment in source.shows if fragment not in code]
    assert not missing, f"{source.owner}.{source.function} no longer shows {missing}"
    return methods, source.url


def disagreements(table: Mapping[str, tuple[str, str]]) -> list[str]:
    """Every way ``table`` differs from the SDK, one line each; empty when it agrees."""
    problems = []
    for name, (method, template) in sorted(table.items()):
        if name in NOT_FROM_THE_SDK:
            continue
        source = SDK_ROUTES.get(name)
        if source is None:
            problems.append(f"{name}: no SDK operation cited for it")
            continue
        methods, sdk_template = sdk_route(source)
        if normalised(template) != normalised(sdk_template):
            problems.append(f"{name}: {template} is not the SDK's {sdk_template}")
        if method not in methods:
            problems.append(f"{name}: {method} but the SDK sends {sorted(methods)}")
    return problems


@pytest.mark.parametrize("side", [client_routes, emulator_routes], ids=["client", "emulator"])
def test_every_route_is_the_sdks(side: Any) -> None:
    assert disagreements(route_table(side)) == []


def test_both_tables_name_the_same_routes() -> None:
    assert set(route_table(client_routes)) == set(route_table(emulator_routes))


def test_every_cited_sdk_route_is_in_the_tables() -> None:
    assert set(SDK_ROUTES) | NOT_FROM_THE_SDK == set(route_table(emulator_routes))


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("QUERY_RUNS", lambda method, template: (method, template.replace("runs:query", "runs/query"))),
        (
            "GET_PIPELINE_RUN",
            lambda method, template: (method, template.replace("PipelineRuns", "PipelineRun")),
        ),
        ("CANCEL_PIPELINE_RUN", lambda method, template: ("POST", template)),
        ("SUBMIT_ENDPOINT_VERSION", lambda method, template: (method, template.replace("/Id/", "/"))),
    ],
)
def test_a_changed_route_is_reported(name: str, change: Callable[[str, str], tuple[str, str]]) -> None:
    table = route_table(emulator_routes)
    table[name] = change(*table[name])
    problems = disagreements(table)
    assert len(problems) == 1 and problems[0].startswith(name + ":")
