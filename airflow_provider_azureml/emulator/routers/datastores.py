"""Datastore routes: the workspace's one blob datastore, which building a pipeline asks for.

``PipelineData`` outputs need a datastore; without one passed in, the SDK reads the workspace default
(``GET /datastore/v1.0{scope}/default``) while the ``Pipeline`` is constructed. The emulator has exactly
one, ``workspaceblobstore``, on its own storage account, with no credential to hand out.
"""

from __future__ import annotations

from fastapi import APIRouter

from airflow_provider_azureml.emulator.infrastructure.tls import BLOB_ACCOUNT
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.errors import NotFound
from airflow_provider_azureml.emulator.wire.models import AzureStorageSection, DataStoreDto

router = APIRouter()
DEFAULT_DATASTORE = "workspaceblobstore"
DEFAULT_CONTAINER = "azureml-blobstore-emulator"


def blob_datastore(subscription_id: str, resource_group: str) -> DataStoreDto:
    return DataStoreDto(
        name=DEFAULT_DATASTORE,
        azure_storage_section=AzureStorageSection(
            account_name=BLOB_ACCOUNT,
            container_name=DEFAULT_CONTAINER,
            subscription_id=subscription_id,
            resource_group=resource_group,
        ),
    )


@router.get(routes.DEFAULT_DATASTORE.template)
async def default_datastore(subscription_id: str, resource_group: str, workspace_name: str) -> DataStoreDto:
    return blob_datastore(subscription_id, resource_group)


@router.get(routes.GET_DATASTORE.template)
async def get_datastore(
    subscription_id: str, resource_group: str, workspace_name: str, datastore_name: str
) -> DataStoreDto:
    if datastore_name != DEFAULT_DATASTORE:
        raise NotFound(
            f"Datastore '{datastore_name}' was not found; the emulator has only '{DEFAULT_DATASTORE}'.",
            target="name",
        )
    return blob_datastore(subscription_id, resource_group)
