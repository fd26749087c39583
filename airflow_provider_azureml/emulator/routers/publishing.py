"""AEVA routes of the publish path: Modules, DataSources, ``Pipelines/Create`` and endpoint writes.

What each answer must hold is in the wire doc (sections 4 and 6): a module hit carries
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
    ModuleCreation,
    PipelineCreationInfo,
    PipelineEndpointCreationInfo,
    PipelineEndpointEntity,
    PipelineEndpointUpdateBody,
    PipelineEntity,
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


def module_data(module: ModuleRecord) -> dict[str, Any]:
    """The ``ModuleEntity``: what was sent, plus the service's own fields."""
    data = {key: module.info[key] for key in MODULE_ENTITY_KEYS if key in module.info}
    if module.info.get("CloudSettings") is not None:  # an object when sent, a JSON string in the entity
        data["CloudSettings"] = json.dumps(module.info["CloudSettings"])
    created = utc(module.created_at).isoformat()
    return {
        **data,
        "Id": module.id,
        "StructuredInterface": _structured_interface(module),
        "UploadState": "Completed",
        "EntityStatus": "Active",
        "tags": module.info.get("KvTags") or {},
        "Etag": etag(module.id),
        "CreatedDate": created,
        "LastModifiedDate": created,
    }


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": parameter.get("Name"),
        "DefaultValue": parameter.get("DefaultValue"),
        "IsOptional": bool(parameter.get("IsOptional")),
        "Type": parameter.get("ParameterType"),
    }


def module_interface(module: ModuleRecord) -> dict[str, Any]:
    """The ``EntityInterface`` derived from the structured interface (parameters and ports)."""
    structured = _structured_interface(module)
    return {
        "Parameters": [_parameter(p) for p in structured["Parameters"]],
        "MetadataParameters": [_parameter(p) for p in structured["MetadataParameters"]],
        "Ports": {
            "Inputs": [
                {
                    "Name": port.get("Name"),
                    "DataTypesIds": port.get("DataTypeIdsList") or [],
                    "IsOptional": bool(port.get("IsOptional")),
                }
                for port in structured["Inputs"]
            ],
            "Outputs": [
                {"Name": port.get("Name"), "DataTypeId": port.get("DataTypeId")}
                for port in structured["Outputs"]
            ],
        },
        "DataPathParameters": [],
        "DataPathParameterList": [],
    }


def module_answer(module: ModuleRecord) -> dict[str, Any]:
    return {"Data": module_data(module), "Interface": module_interface(module)}


def data_source_entity(source: DataSourceRecord) -> dict[str, Any]:
    created = utc(source.created_at).isoformat()
    return {
        **{key: source.info[key] for key in DATA_SOURCE_ENTITY_KEYS if key in source.info},
        "Id": source.id,
        "UploadState": "Completed",
        "EntityStatus": "Active",
        "Etag": etag(source.id),
        "CreatedDate": created,
        "LastModifiedDate": created,
    }


@router.get(routes.MODULE_BY_HASH.template)
async def module_by_hash(ctx: Context, identifier_hash: str) -> dict[str, Any]:
    return module_answer(ctx.backend.catalog.module_by_hash(identifier_hash))


@router.post(routes.CREATE_MODULE.template)
async def create_module(ctx: Context) -> dict[str, Any]:
    return module_data(ctx.backend.catalog.create_module(await ctx.body(ModuleCreation)))


@router.get(routes.GET_MODULE.template)
async def get_module(ctx: Context, module_id: str) -> dict[str, Any]:
    return module_answer(ctx.backend.catalog.get_module(module_id))


@router.get(routes.DATA_SOURCE_BY_HASH.template)
async def data_source_by_hash(ctx: Context, identifier_hash: str) -> dict[str, Any]:
    return data_source_entity(ctx.backend.catalog.data_source_by_hash(identifier_hash))


@router.post(routes.CREATE_DATA_SOURCE.template)
async def create_data_source(ctx: Context) -> dict[str, Any]:
    return data_source_entity(ctx.backend.catalog.create_data_source(await ctx.body(DataSourceCreation)))


@router.get(routes.GET_DATA_SOURCE.template)
async def get_data_source(ctx: Context, data_source_id: str) -> dict[str, Any]:
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
