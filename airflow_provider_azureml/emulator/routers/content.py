"""Snapshot (content service) routes, and the blob routes the snapshot uploads land on.

The content service answers ``getblob`` with SAS URLs on the blob host ``emuacct.blob.core.windows.net``;
the SDK uploads there through the emulator's CONNECT proxy (:mod:`..infrastructure.blobproxy`), which hands
the decrypted requests to the blob routes below. Those routes need no bearer token, only a valid ``sig``,
like a real SAS (checked by the app, see ``EmulatorApp._auth_problem``).
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ElementTree
from typing import Annotated
from urllib.parse import quote, unquote, urlsplit

from fastapi import APIRouter, Header, Query, Response
from pydantic import TypeAdapter

from airflow_provider_azureml.emulator.infrastructure.context import Context
from airflow_provider_azureml.emulator.infrastructure.tls import BLOB_HOST
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.errors import BadRequest
from airflow_provider_azureml.emulator.wire.models import (
    FileNode,
    FileNodeList,
    GetBlobRequest,
    LatestSnapshot,
    SnapshotCreation,
    SnapshotDto,
)
from airflow_provider_azureml.emulator.wire.routes import SNAPSHOT_CONTAINER

router = APIRouter()
GET_BLOB = TypeAdapter(GetBlobRequest)
SNAPSHOT = TypeAdapter(SnapshotCreation)
STORAGE_VERSION = "2021-08-06"
_BLOCK_LIST_TAGS = ("Latest", "Committed", "Uncommitted")


def blob_uri(ctx: Context, blob_name: str) -> str:
    """A signed URL for uploading ``blob_name`` (``snapshots/<guid>/<relative path>``)."""
    name_in_container = blob_name.removeprefix(f"{SNAPSHOT_CONTAINER}/")
    signature = ctx.services.signer.sign(SNAPSHOT_CONTAINER, name_in_container)
    return f"https://{BLOB_HOST}/{quote(blob_name)}?sv={STORAGE_VERSION}&sr=b&sp=cw&sig={signature}"


def blob_name_of(uri: str) -> str:
    """The blob name a ``BlobUri`` we issued points at."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise BadRequest(f"BlobUri '{uri}' is not a URL.", target="BlobUri") from None
    if parts.hostname != BLOB_HOST:
        raise BadRequest(f"BlobUri '{parts.scheme}://{parts.netloc}/...' was not issued by this emulator.")
    return unquote(parts.path).lstrip("/")


@router.get(routes.SNAPSHOT_LATEST_METADATA.template)
async def latest_snapshot(ctx: Context) -> LatestSnapshot:
    latest = ctx.backend.catalog.latest_snapshot()
    return LatestSnapshot(id=latest.id if latest else None, root=latest.root if latest else {})


@router.post(routes.SNAPSHOT_GET_BLOB.template)
async def get_upload_urls(ctx: Context) -> FileNodeList:
    request = await ctx.body(GET_BLOB)
    blobs = ctx.backend.catalog.new_upload_blobs(request.file_names)
    return FileNodeList(
        file_nodes=[FileNode(full_name=name, blob_uri=blob_uri(ctx, blob)) for name, blob in blobs.items()]
    )


@router.post(routes.CREATE_SNAPSHOT.template)
async def create_snapshot(ctx: Context, snapshot_id: str) -> SnapshotDto:
    body = await ctx.body(SNAPSHOT)
    uploads = {node.full_name: blob_name_of(node.blob_uri) for node in body.file_revision_list.file_nodes}
    snapshot = ctx.backend.catalog.create_snapshot(
        snapshot_id, body.parent_snapshot_id, body.dir_tree_node, uploads
    )
    return SnapshotDto(id=snapshot.id, parent_snapshot_id=snapshot.parent_id)


def _check_sha256(data: bytes, expected: str | None) -> None:
    """The SDK's storage client sends ``Content-sha256`` (base64) instead of ``Content-MD5``."""
    if expected and base64.b64encode(hashlib.sha256(data).digest()).decode() != expected:
        raise BadRequest(
            "The Content-sha256 header does not match the request body.", target="Content-sha256"
        )


def _block_ids(xml: bytes) -> list[str]:
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        raise BadRequest("The block list is not valid XML.", target="BlockList") from None
    return [element.text or "" for element in root if element.tag in _BLOCK_LIST_TAGS]


@router.put(routes.PUT_SNAPSHOT_BLOB.template)
async def put_blob(
    ctx: Context,
    blob_name: str,
    comp: Annotated[str | None, Query()] = None,
    block_id: Annotated[str | None, Query(alias="blockid")] = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
    content_sha256: Annotated[str | None, Header(alias="Content-sha256")] = None,
) -> Response:
    """Put Blob, Put Block (``comp=block``) and Put Block List (``comp=blocklist``): 201 each."""
    data = await ctx.request.body()
    _check_sha256(data, content_sha256)
    name = f"{SNAPSHOT_CONTAINER}/{blob_name}"
    blobs = ctx.backend.catalog.blobs
    if comp == "block" and block_id:
        blobs.put_block(name, block_id, data)
    elif comp == "blocklist":
        blobs.commit_blocks(name, _block_ids(data), if_none_match=if_none_match == "*")
    elif comp is None:
        blobs.put(name, data, if_none_match=if_none_match == "*")
    else:
        raise BadRequest(f"Unsupported blob operation comp={comp!r}.", target="comp")
    return Response(status_code=201, headers={"x-ms-version": STORAGE_VERSION})


@router.head(routes.HEAD_SNAPSHOT_BLOB.template)
async def blob_properties(ctx: Context, blob_name: str) -> Response:
    size = ctx.backend.catalog.blobs.size(f"{SNAPSHOT_CONTAINER}/{blob_name}")
    return Response(
        status_code=200,
        headers={
            "Content-Length": str(size),
            "Content-Type": "application/octet-stream",
            "x-ms-blob-type": "BlockBlob",
            "x-ms-version": STORAGE_VERSION,
        },
    )
