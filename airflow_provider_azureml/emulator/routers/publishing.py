"""AEVA routes of the publish path: Modules, DataSources, ``Pipelines/Create`` and endpoint writes.

What the SDK reads of each answer (``azureml.pipeline.core._aeva_provider``: ``find_module_by_fingerprint``,
``from_module_info``, the endpoint helpers): a module hit carries
``Data.UploadState`` "Completed" (else the SDK builds the module again), ``GET Modules/{id}`` carries an
``Interface`` (the SDK iterates its parameter and port lists), and endpoint answers carry
``PipelineVersionList``. The module's ``Data`` is the ``ModuleCreationInfo`` it was created from, cut to
the keys of ``ModuleEntity``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from pydantic import TypeAdapter

from airflow_provider_azureml.emulator.infrastructure.context import Context
from airflow_provider_azureml.emulator.routers.pipelines import endpoint_entity, etag, pipeline_entity
from airflow_provider_azureml.emulator.state.catalog import DataSourceRecord, ModuleRecord
from airflow_provider_azureml.emulator.state.records import EndpointUpdate, PublishRequest
from airflow_provider_azureml.emulator.state.views import utc
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.models import (
    DataSourceCreation,
    DataSourceEntity,
    InputPort,
    ModuleAnswer,
    ModuleCreation,
    ModuleEntity,
    ModuleInterface,
    ModuleParameter,
    OutputPort,
    PipelineCreationInfo,
    PipelineEndpointCreationInfo,
    PipelineEndpointEntity,
    PipelineEndpointUpdateBody,
    PipelineEntity,
    Ports,
)

router = APIRouter()
PIPELINE_CREATION = TypeAdapter(PipelineCreationInfo)
ENDPOINT_CREATION = TypeAdapter(PipelineEndpointCreationInfo)
ENDPOINT_UPDATE = TypeAdapter(PipelineEndpointUpdateBody)
#: ``ModuleCreationInfo`` keys that ``ModuleEntity`` shares, copied as they came.
MODULE_ENTITY_KEYS = (
    "Name",
    "Description",
    "IsDeterministic",
    "ModuleExecutionType",
    "ModuleType",
    "IdentifierHash",
    "Hash",
    "Runconfig",
    "StepType",
    "Category",
    "Properties",
)
DATA_SOURCE_ENTITY_KEYS = ("Name", "Description", "DataTypeId", "IdentifierHash")
_INTERFACE_LISTS = ("Inputs", "Outputs", "Parameters", "MetadataParameters", "Arguments")


def _structured_interface(module: ModuleRecord) -> dict[str, Any]:
    interface = dict(module.info.get("StructuredInterface") or {})
    return {**interface, **{key: interface.get(key) or [] for key in _INTERFACE_LISTS}}


def _echoed(info: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: info[key] for key in keys if key in info}


def module_entity(module: ModuleRecord) -> ModuleEntity:
    """The ``ModuleEntity``: what was sent, plus the service's own fields."""
    echoed = _echoed(module.info, MODULE_ENTITY_KEYS)
    if module.info.get("CloudSettings") is not None:  # an object when sent, a JSON string in the entity
        echoed["CloudSettings"] = json.dumps(module.info["CloudSettings"])
    created = utc(module.created_at)
    return ModuleEntity(
        **echoed,
        id=module.id,
        structured_interface=_structured_interface(module),
        tags=module.info.get("KvTags") or {},
        etag=etag(module.id),
        created_date=created,
        last_modified_date=created,
    )


def _parameter(parameter: dict[str, Any]) -> ModuleParameter:
    return ModuleParameter(
        name=parameter.get("Name"),
        default_value=parameter.get("DefaultValue"),
        is_optional=bool(parameter.get("IsOptional")),
        type=parameter.get("ParameterType"),
    )


def module_interface(module: ModuleRecord) -> ModuleInterface:
    """The ``EntityInterface`` derived from the structured interface (parameters and ports)."""
    structured = _structured_interface(module)
    return ModuleInterface(
        parameters=[_parameter(p) for p in structured["Parameters"]],
        metadata_parameters=[_parameter(p) for p in structured["MetadataParameters"]],
        ports=Ports(
            inputs=[
                InputPort(
                    name=port.get("Name"),
                    data_types_ids=port.get("DataTypeIdsList") or [],
                    is_optional=bool(port.get("IsOptional")),
                )
                for port in structured["Inputs"]
            ],
            outputs=[
                OutputPort(name=port.get("Name"), data_type_id=port.get("DataTypeId"))
                for port in structured["Outputs"]
            ],
        ),
    )


def module_answer(module: ModuleRecord) -> ModuleAnswer:
    return ModuleAnswer(data=module_entity(module), interface=module_interface(module))


def data_source_entity(source: DataSourceRecord) -> DataSourceEntity:
    created = utc(source.created_at)
    return DataSourceEntity(
        **_echoed(source.info, DATA_SOURCE_ENTITY_KEYS),
        id=source.id,
        etag=etag(source.id),
        created_date=created,
        last_modified_date=created,
    )


@router.get(routes.MODULE_BY_HASH.template)
async def module_by_hash(ctx: Context, identifier_hash: str) -> ModuleAnswer:
    return module_answer(ctx.backend.catalog.module_by_hash(identifier_hash))


@router.post(routes.CREATE_MODULE.template)
async def create_module(ctx: Context) -> ModuleEntity:
    return module_entity(ctx.backend.catalog.create_module(await ctx.body(ModuleCreation)))


@router.get(routes.GET_MODULE.template)
async def get_module(ctx: Context, module_id: str) -> ModuleAnswer:
    return module_answer(ctx.backend.catalog.get_module(module_id))


@router.get(routes.DATA_SOURCE_BY_HASH.template)
async def data_source_by_hash(ctx: Context, identifier_hash: str) -> DataSourceEntity:
    return data_source_entity(ctx.backend.catalog.data_source_by_hash(identifier_hash))


@router.post(routes.CREATE_DATA_SOURCE.template)
async def create_data_source(ctx: Context) -> DataSourceEntity:
    return data_source_entity(ctx.backend.catalog.create_data_source(await ctx.body(DataSourceCreation)))


@router.get(routes.GET_DATA_SOURCE.template)
async def get_data_source(ctx: Context, data_source_id: str) -> DataSourceEntity:
    return data_source_entity(ctx.backend.catalog.get_data_source(data_source_id))


@router.post(routes.CREATE_PIPELINE.template)
async def create_pipeline(ctx: Context) -> PipelineEntity:
    info = await ctx.body(PIPELINE_CREATION)
    pipeline = ctx.backend.registry.publish_pipeline(
        PublishRequest(
            name=info.name,
            description=info.description or "",
            version=info.version,
            graph=info.graph,
            interface_parameters=info.interface_parameters(),
            continue_on_step_failure=bool(info.continue_run_on_step_failure),
        )
    )
    return pipeline_entity(ctx, pipeline)


@router.post(routes.CREATE_ENDPOINT.template)
async def create_endpoint(ctx: Context) -> PipelineEndpointEntity:
    info = await ctx.body(ENDPOINT_CREATION)
    endpoint = ctx.backend.registry.create_endpoint(info.name, info.description or "", info.pipeline_id)
    return endpoint_entity(ctx, endpoint)


@router.put(routes.UPDATE_ENDPOINT.template)
async def update_endpoint(ctx: Context, endpoint_id: str) -> PipelineEndpointEntity:
    body = await ctx.body(ENDPOINT_UPDATE)
    update = EndpointUpdate(
        name=body.name,
        description=body.description or "",
        default_version=body.default_version,
        versions=[(entry.version, entry.pipeline_id) for entry in body.pipeline_version_list],
        status=body.entity_status,
    )
    return endpoint_entity(ctx, ctx.backend.registry.update_endpoint(endpoint_id, update))
