"""Artifact routes: listings with content URLs, and the content itself (step driver logs).

A content URL carries a signature (``sig``), the emulator's stand-in for a blob SAS token: like the
real ``contentUri`` it can be fetched without a bearer token.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from airflow_provider_azureml.emulator.infrastructure.context import Context
from airflow_provider_azureml.emulator.state.records import RUN_ORIGIN, ArtifactFile
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.errors import NotFound
from airflow_provider_azureml.emulator.wire.models import (
    ArtifactContentInfo,
    ArtifactContentInfoPage,
    ArtifactDto,
    ArtifactPage,
)

router = APIRouter()


def _files(ctx: Context, origin: str, container: str) -> list[ArtifactFile]:
    if origin != RUN_ORIGIN:
        raise NotFound(f"Unknown artifact origin '{origin}'; only '{RUN_ORIGIN}' exists.", target="origin")
    return ctx.backend.artifacts(container)


def content_uri(ctx: Context, artifact: ArtifactFile) -> str:
    url = ctx.url(
        routes.GET_ARTIFACT_CONTENT,
        origin=artifact.origin,
        container=artifact.container,
        artifact_path=artifact.path,
    )
    return f"{url}?sv=2019-07-07&sr=b&sig={ctx.services.signer.sign(artifact.container, artifact.path)}"


@router.get(routes.LIST_ARTIFACTS.template)
async def list_artifacts(ctx: Context, origin: str, container: str, prefix: str) -> ArtifactContentInfoPage:
    files = [f for f in _files(ctx, origin, container) if f.path.startswith(prefix)]
    return ArtifactContentInfoPage(
        value=[
            ArtifactContentInfo(
                origin=f.origin, container=f.container, path=f.path, content_uri=content_uri(ctx, f)
            )
            for f in files
        ]
    )


@router.get(routes.LIST_ARTIFACT_CONTAINER.template)
async def list_container(ctx: Context, origin: str, container: str) -> ArtifactPage:
    return ArtifactPage(
        value=[
            ArtifactDto(
                artifact_id=f"{f.origin}/{f.container}/{f.path}",
                origin=f.origin,
                container=f.container,
                path=f.path,
            )
            for f in _files(ctx, origin, container)
        ]
    )


@router.get(routes.GET_ARTIFACT_CONTENT.template)
async def get_artifact_content(ctx: Context, origin: str, container: str, artifact_path: str) -> Response:
    _files(ctx, origin, container)
    artifact = ctx.backend.artifact(container, artifact_path)
    return Response(artifact.content.encode(), media_type="text/plain; charset=utf-8")
