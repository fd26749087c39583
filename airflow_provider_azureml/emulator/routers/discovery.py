"""Discovery and the ARM workspace GET: how a client finds the emulator's hosts.

The SDK reads the ARM answer's ``discoveryUrl``, then the discovery document
(``azureml._base_sdk_common.service_discovery``).

Every discovery key points at the emulator's own base URL, taken from the request unless
``--public-url`` says otherwise, so the SDK keeps talking to the host it reached us on.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from airflow_provider_azureml.emulator.infrastructure.context import Context
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.models import ArmWorkspace, WorkspaceProperties

router = APIRouter()
DISCOVERY_KEYS = (
    "api",
    "catalog",
    "experimentation",
    "gallery",
    "history",
    "hyperdrive",
    "labeling",
    "modelmanagement",
    "pipelines",
    "studio",
)


@router.get(routes.DISCOVERY.template)
async def discovery(ctx: Context) -> dict[str, str]:
    return {key: ctx.base_url for key in DISCOVERY_KEYS}


@router.get(routes.ARM_WORKSPACE.template)
async def arm_workspace(
    ctx: Context,
    subscription_id: str,
    resource_group: str,
    workspace_name: str,
    api_version: Annotated[str, Query(alias="api-version")],
) -> ArmWorkspace:
    workspace = ctx.services.seed.workspace
    return ArmWorkspace(
        id=routes.ARM_WORKSPACE.path(
            subscription_id=subscription_id, resource_group=resource_group, workspace_name=workspace_name
        ),
        name=workspace_name,
        location=workspace.location,
        properties=WorkspaceProperties(
            friendly_name=workspace_name,
            discovery_url=ctx.base_url + routes.DISCOVERY.path(),
            workspace_id=workspace.workspace_id,
        ),
    )
