"""Pipelines (AEVA) routes: PascalCase JSON, HTTP 200 on every success (the SDK accepts nothing else)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import TypeAdapter

from airflow_provider_azureml.emulator.infrastructure.context import Context
from airflow_provider_azureml.emulator.state.records import (
    PARAMETER_TYPE_CODES,
    DataPathRef,
    Endpoint,
    Pipeline,
    SubmitRequest,
)
from airflow_provider_azureml.emulator.state.views import RunView, utc
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.errors import BadRequest
from airflow_provider_azureml.emulator.wire.models import (
    DataTypeEntity,
    EntityInterface,
    InterfaceParameter,
    NodeIds,
    PipelineEndpointEntity,
    PipelineEntity,
    PipelineRunEntity,
    PipelineRunStatus,
    PipelineSubmissionInfo,
    PipelineVersion,
    StatusBody,
    TaskStatus,
)

router = APIRouter()
SUBMISSION = TypeAdapter(PipelineSubmissionInfo)
DATA_TYPE = TypeAdapter(DataTypeEntity)
#: The data types the SDK creates when missing
#: (``azureml.pipeline.core._aeva_provider._AevaDataTypeProvider.ensure_default_datatypes``).
DEFAULT_DATA_TYPES = [
    *(
        DataTypeEntity(id=name, name=name, description=name)
        for name in (
            "AnyFile",
            "AzureBlobReference",
            "AzureDataLakeReference",
            "AzureFilesReference",
            "AzureSqlDatabaseReference",
            "AzurePostgresDatabaseReference",
            "AzureDataLakeGen2Reference",
            "AzureMLDataset",
            "AzureMySqlDatabaseReference",
            "DBFSReference",
        )
    ),
    DataTypeEntity(id="AnyDirectory", name="AnyDirectory", description="AnyDirectory", is_directory=True),
]
ActiveOnly = Annotated[bool, Query(alias="activeOnly")]


def etag(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def pipeline_entity(ctx: Context, pipeline: Pipeline) -> PipelineEntity:
    return PipelineEntity(
        id=pipeline.id,
        name=pipeline.name,
        description=pipeline.description,
        version=pipeline.version,
        graph_id=pipeline.graph_id,
        total_run_steps=len(pipeline.steps),
        parameter_assignments={p.name: p.default for p in pipeline.parameters},
        url=ctx.url(routes.SUBMIT_PIPELINE, pipeline_id=pipeline.id),
        entity_status=pipeline.status,
        continue_run_on_step_failure=pipeline.continue_on_step_failure,
        etag=etag(pipeline.id, pipeline.status),
        created_date=utc(pipeline.created_at),
        last_modified_date=utc(pipeline.created_at),
    )


def endpoint_entity(ctx: Context, endpoint: Endpoint) -> PipelineEndpointEntity:
    return PipelineEndpointEntity(
        id=endpoint.id,
        name=endpoint.name,
        description=endpoint.description,
        default_version=endpoint.default_version,
        pipeline_version_list=[
            PipelineVersion(version=str(index), pipeline_id=pipeline_id)
            for index, pipeline_id in enumerate(endpoint.pipeline_ids)
        ],
        url=ctx.url(routes.SUBMIT_ENDPOINT, endpoint_id=endpoint.id),
        swagger_url=f"{ctx.base_url}/pipelines/swagger/pipelineendpointsubmit/swagger.json",
        entity_status=endpoint.status,
        etag=etag(endpoint.id, endpoint.status, endpoint.default_version, *endpoint.pipeline_ids),
        created_date=utc(endpoint.created_at),
        last_modified_date=utc(endpoint.created_at),
    )


def run_entity(view: RunView) -> PipelineRunEntity:
    run = view.run
    return PipelineRunEntity(
        id=run.run_id,
        description=run.description,
        graph_id=run.graph_id,
        pipeline_id=run.pipeline_id,
        run_history_experiment_name=run.experiment_name,
        has_errors=view.failed,
        parameter_assignments=run.parameters,
        total_run_steps=len(run.steps),
        schedule_id=run.submission.schedule_id,
        status=PipelineRunStatus(
            status_code=view.status,
            status_detail=view.error,
            creation_time=view.submitted_at,
            end_time=view.ended_at,
        ),
        tags=run.tags,
        properties=run.properties,
        etag=etag(run.run_id, view.status),
        created_date=view.submitted_at,
        last_modified_date=view.submitted_at,
    )


def task_status(view: RunView) -> TaskStatus:
    return TaskStatus(
        status_code=view.status,
        creation_time=view.submitted_at,
        start_time=view.started_at,
        end_time=view.ended_at,
        run_id=view.run_id if view.exists_in_history else None,
    )


def submit_request(info: PipelineSubmissionInfo, parent_run_id: str | None = None) -> SubmitRequest:
    """What a submission body asks for; a schedule keeps the same body and submits it when it fires."""
    return SubmitRequest(
        experiment_name=info.experiment_name,
        description=info.description,
        parameters=info.parameters_text(),
        tags=info.tags or {},
        properties=info.properties or {},
        continue_on_step_failure=info.continue_run_on_step_failure,
        parent_run_id=parent_run_id,
        data_paths={
            name: DataPathRef(datastore_name=path.data_store_name, relative_path=path.relative_path)
            for name, path in info.data_path_assignments.items()
        },
    )


async def _submit_request(ctx: Context, parent_run_id: str | None) -> SubmitRequest:
    return submit_request(await ctx.body(SUBMISSION), parent_run_id)


@router.get(routes.DATA_TYPES.template)
async def list_data_types() -> list[DataTypeEntity]:
    return DEFAULT_DATA_TYPES


@router.post(routes.CREATE_DATA_TYPE.template)
async def create_data_type(ctx: Context) -> DataTypeEntity:
    """Accepted and echoed: the defaults are always listed, so the SDK never needs to create one."""
    return await ctx.body(DATA_TYPE)


@router.get(routes.LIST_PIPELINES.template)
async def list_pipelines(ctx: Context, active_only: ActiveOnly = True) -> list[PipelineEntity]:
    return [pipeline_entity(ctx, p) for p in ctx.backend.registry.list_pipelines(active_only)]


@router.get(routes.GET_PIPELINE.template)
async def get_pipeline(ctx: Context, pipeline_id: str) -> PipelineEntity:
    return pipeline_entity(ctx, ctx.backend.registry.get_pipeline(pipeline_id))


@router.put(routes.SET_PIPELINE_STATUS.template)
async def set_pipeline_status(ctx: Context, pipeline_id: str) -> Response:
    ctx.backend.registry.set_pipeline_status(pipeline_id, await ctx.body(StatusBody))
    return Response(status_code=200)


@router.get(routes.GET_GRAPH.template)
async def get_graph(ctx: Context, graph_id: str) -> dict[str, Any]:
    return ctx.backend.registry.get_graph(graph_id).graph


@router.get(routes.GET_GRAPH_INTERFACE.template)
async def get_graph_interface(ctx: Context, graph_id: str) -> EntityInterface:
    pipeline = ctx.backend.registry.get_graph(graph_id)
    return EntityInterface(
        parameters=[
            InterfaceParameter(name=p.name, default_value=p.default, type=PARAMETER_TYPE_CODES[p.type])
            for p in pipeline.parameters
        ]
    )


@router.post(routes.SUBMIT_PIPELINE.template)
async def submit_pipeline(
    ctx: Context, pipeline_id: str, parent_run_id: Annotated[str | None, Query(alias="parentRunId")] = None
) -> PipelineRunEntity:
    request = await _submit_request(ctx, parent_run_id)
    return run_entity(ctx.backend.submit_pipeline(pipeline_id, request))


@router.post(routes.SUBMIT_ENDPOINT.template)
async def submit_endpoint(
    ctx: Context,
    endpoint_id: str,
    parent_run_id: Annotated[str | None, Query(alias="parentRunId")] = None,
    pipeline_version: Annotated[str | None, Query(alias="pipelineVersion")] = None,
) -> PipelineRunEntity:
    request = await _submit_request(ctx, parent_run_id)
    return run_entity(ctx.backend.submit_endpoint(endpoint_id, pipeline_version, request))


@router.post(routes.SUBMIT_ENDPOINT_VERSION.template)
async def submit_endpoint_version(
    ctx: Context,
    endpoint_id: str,
    pipeline_version: str,
    parent_run_id: Annotated[str | None, Query(alias="parentRunId")] = None,
    query_version: Annotated[str | None, Query(alias="pipelineVersion")] = None,
) -> PipelineRunEntity:
    """The SDK puts a pinned version in both the path and the query (its endpoint submit operation in
    ``azureml.pipeline.core._restclients.aeva.aml_pipelines_api10``)."""
    if query_version is not None and query_version != pipeline_version:
        raise BadRequest(
            f"pipelineVersion '{query_version}' in the query differs from '{pipeline_version}' in the path."
        )
    request = await _submit_request(ctx, parent_run_id)
    return run_entity(ctx.backend.submit_endpoint(endpoint_id, pipeline_version, request))


@router.get(routes.GET_PIPELINE_RUN.template)
async def get_pipeline_run(ctx: Context, run_id: str) -> PipelineRunEntity:
    return run_entity(ctx.backend.view(run_id))


@router.delete(routes.CANCEL_PIPELINE_RUN.template)
async def cancel_pipeline_run(ctx: Context, run_id: str) -> Response:
    ctx.backend.cancel_run(run_id)
    return Response(status_code=200)


@router.get(routes.PIPELINE_RUNS_OF_PIPELINE.template)
async def runs_of_pipeline(ctx: Context, pipeline_id: str) -> list[PipelineRunEntity]:
    return [run_entity(view) for view in ctx.backend.runs_of_pipeline(pipeline_id)]


@router.post(routes.NODE_STATUS.template)
async def node_status(ctx: Context, run_id: str) -> str:
    """Body ``["<nodeId>"]``; the answer is the node's status as a bare JSON string."""
    node_ids = await ctx.body(NodeIds)
    if len(node_ids) != 1:
        raise BadRequest(f"Expected exactly one node id in the body, got {len(node_ids)}.")
    return ctx.backend.step_view(run_id, node_ids[0]).status


@router.post(routes.ALL_NODES_STATUS.template)
async def all_nodes_status(ctx: Context, run_id: str) -> dict[str, TaskStatus]:
    return {node_id: task_status(view) for node_id, view in ctx.backend.step_views(run_id).items()}


@router.get(routes.LIST_ENDPOINTS.template)
async def list_endpoints(
    ctx: Context,
    active_only: ActiveOnly = True,
    batch_size: Annotated[int | None, Header(alias="BatchSize", ge=1)] = None,
) -> list[PipelineEndpointEntity]:
    endpoints = ctx.backend.registry.list_endpoints(active_only)[:batch_size]
    return [endpoint_entity(ctx, endpoint) for endpoint in endpoints]


@router.get(routes.GET_ENDPOINT.template)
async def get_endpoint(ctx: Context, endpoint_id: str) -> PipelineEndpointEntity:
    return endpoint_entity(ctx, ctx.backend.registry.get_endpoint(endpoint_id))


@router.get(routes.GET_ENDPOINT_BY_NAME.template)
async def get_endpoint_by_name(
    ctx: Context, name: Annotated[str, Query(alias="Name")]
) -> PipelineEndpointEntity:
    return endpoint_entity(ctx, ctx.backend.registry.get_endpoint_by_name(name))


@router.get(routes.ENDPOINT_PIPELINES.template)
async def endpoint_pipelines(
    ctx: Context, endpoint_id: str, active_only: ActiveOnly = True
) -> list[PipelineEntity]:
    return [
        pipeline_entity(ctx, p) for p in ctx.backend.registry.endpoint_pipelines(endpoint_id, active_only)
    ]
