"""What ``Pipeline.publish()`` creates before ``Pipelines/Create``: snapshots, modules and data sources.

State only, no HTTP (the routers are :mod:`..routers.publishing` and :mod:`..routers.content`). A
snapshot is kept as the SDK describes it: its directory tree (``DirTreeNode``) plus, per file, the SDK's
file hash; the bytes are in the :class:`~.blobs.BlobStore` under that hash. The SDK uploads only the
files that changed since the snapshot it last saw (``SnapshotsClient.create_snapshot``), so a new
snapshot is complete only once every hash of its tree is known; otherwise creation fails with a 400,
which makes the SDK retry once with a full upload.

A module is stored as the ``ModuleCreationInfo`` it was created from, keyed by id and by its
``IdentifierHash`` (the SDK's reuse fingerprint). Its ``StorageId`` must name a snapshot this emulator
holds, so a client whose snapshot cache outlived the emulator's state gets a clear error at publish time
instead of a pipeline whose code is missing.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict

from airflow_provider_azureml.emulator.execution.commands import safe_relative
from airflow_provider_azureml.emulator.state.blobs import BlobStore, file_hash
from airflow_provider_azureml.emulator.wire.errors import BadRequest, NotFound
from airflow_provider_azureml.emulator.wire.routes import SNAPSHOT_CONTAINER


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModuleRecord(_Record):
    id: str
    identifier_hash: str | None = None
    info: dict[str, Any]  # the ModuleCreationInfo as received (PascalCase keys)
    created_at: float

    @property
    def name(self) -> str:
        return str(self.info.get("Name") or self.id)


class DataSourceRecord(_Record):
    id: str
    identifier_hash: str | None = None
    info: dict[str, Any]  # the DataSourceCreationInfo as received
    created_at: float


class SnapshotRecord(_Record):
    id: str
    parent_id: str | None = None
    root: dict[str, Any]  # the DirTreeNode as received
    files: dict[str, str]  # relative path -> file hash
    created_at: float


class CatalogState(_Record):
    modules: dict[str, ModuleRecord] = {}
    data_sources: dict[str, DataSourceRecord] = {}
    snapshots: dict[str, SnapshotRecord] = {}
    latest_snapshot_id: str | None = None


def tree_files(node: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(relative path, file hash)`` of every file in a ``DirTreeNode`` (children keyed by name)."""
    for name, child in (node.get("children") or {}).items():
        path = f"{prefix}{name}"
        if child.get("type") == "File":
            if not child.get("hash"):
                raise BadRequest(f"DirTreeNode file '{path}' has no hash.", target="DirTreeNode")
            yield path, str(child["hash"])
        else:
            yield from tree_files(child, f"{path}/")


class Catalog:
    """Modules, data sources and snapshots of one workspace; shares the backend's lock and state file."""

    def __init__(
        self,
        state: Callable[[], CatalogState],
        blobs: Callable[[], BlobStore],
        lock: threading.RLock,
        clock: Callable[[], float],
        changed: Callable[[], None],
    ) -> None:
        """``blobs`` makes the blob store on first use: most backends (seeded tests) never need one."""
        self._state = state
        self._make_blobs = blobs
        self._lock = lock
        self._clock = clock
        self._changed = changed

    @cached_property
    def blobs(self) -> BlobStore:
        return self._make_blobs()

    # -- modules ----------------------------------------------------------------------------------------
    def create_module(self, info: dict[str, Any]) -> ModuleRecord:
        storage_id = info.get("StorageId")
        with self._lock:
            if storage_id and storage_id not in self._state().snapshots:
                raise BadRequest(
                    f"Module '{info.get('Name')}' names snapshot '{storage_id}', which this emulator "
                    "does not hold. The SDK's snapshot cache (~/.azureml/.projectcontent) probably "
                    "outlived the emulator's state: publish inside AzureMLHook.publishing_environment(), "
                    "or delete that cache.",
                    target="StorageId",
                )
            record = ModuleRecord(
                id=str(uuid.uuid4()),
                identifier_hash=info.get("IdentifierHash"),
                info=info,
                created_at=self._clock(),
            )
            self._state().modules[record.id] = record
            self._changed()
            return record

    def get_module(self, module_id: str) -> ModuleRecord:
        module = self._state().modules.get(module_id)
        if module is None:
            raise NotFound(f"Module '{module_id}' was not found.", target="moduleId")
        return module

    def module_by_hash(self, identifier_hash: str) -> ModuleRecord:
        with self._lock:
            found = [m for m in self._state().modules.values() if m.identifier_hash == identifier_hash]
        if not found:
            raise NotFound(f"No module has identifier hash '{identifier_hash}'.", target="hash")
        return max(found, key=lambda m: m.created_at)

    # -- data sources -----------------------------------------------------------------------------------
    def create_data_source(self, info: dict[str, Any]) -> DataSourceRecord:
        with self._lock:
            record = DataSourceRecord(
                id=str(uuid.uuid4()),
                identifier_hash=info.get("IdentifierHash"),
                info=info,
                created_at=self._clock(),
            )
            self._state().data_sources[record.id] = record
            self._changed()
            return record

    def get_data_source(self, data_source_id: str) -> DataSourceRecord:
        found = self._state().data_sources.get(data_source_id)
        if found is None:
            raise NotFound(f"Data source '{data_source_id}' was not found.", target="dataSourceId")
        return found

    def data_source_by_hash(self, identifier_hash: str) -> DataSourceRecord:
        with self._lock:
            found = [d for d in self._state().data_sources.values() if d.identifier_hash == identifier_hash]
        if not found:
            raise NotFound(f"No data source has identifier hash '{identifier_hash}'.", target="hash")
        return found[-1]

    # -- snapshots --------------------------------------------------------------------------------------
    @staticmethod
    def new_upload_blobs(file_names: list[str]) -> dict[str, str]:
        """Fresh blob names for files about to be uploaded: the SDK PUTs with ``If-None-Match: *``."""
        folder = uuid.uuid4()
        return {name: f"{SNAPSHOT_CONTAINER}/{folder}/{name}" for name in file_names}

    def latest_snapshot(self) -> SnapshotRecord | None:
        state = self._state()
        return state.snapshots.get(state.latest_snapshot_id or "")

    def create_snapshot(
        self, snapshot_id: str, parent_id: str | None, root: dict[str, Any], uploads: Mapping[str, str]
    ) -> SnapshotRecord:
        """Store a snapshot from its tree and the blobs uploaded for it (``{relative path: blob name}``)."""
        files = dict(tree_files(root))
        for path, blob in uploads.items():
            if path not in files:
                raise BadRequest(
                    f"FileNodes lists '{path}', which the DirTreeNode does not.", target="FileNodes"
                )
            content = self.blobs.read(blob)
            digest = file_hash(content, PurePosixPath(path).name)
            if digest != files[path]:
                raise BadRequest(f"The uploaded content of '{path}' does not match its hash.", target=path)
            self.blobs.keep_file(digest, content)
        missing = sorted(path for path, digest in files.items() if not self.blobs.has_file(digest))
        if missing:
            raise BadRequest(
                f"Snapshot '{snapshot_id}' lists files whose content was never uploaded: "
                f"{', '.join(missing)}.",
                target="FileRevisionList",
            )
        record = SnapshotRecord(
            id=snapshot_id, parent_id=parent_id, root=root, files=files, created_at=self._clock()
        )
        with self._lock:
            self._state().snapshots[snapshot_id] = record
            self._state().latest_snapshot_id = snapshot_id
            self._changed()
        return record

    def get_snapshot(self, snapshot_id: str) -> SnapshotRecord:
        found = self._state().snapshots.get(snapshot_id)
        if found is None:
            raise NotFound(f"Snapshot '{snapshot_id}' was not found.", target="snapshotId")
        return found

    def copy_snapshot(self, snapshot_id: str, target: Path) -> None:
        """Write a snapshot's files under ``target`` (made if needed): a step's working directory."""
        for path, digest in self.get_snapshot(snapshot_id).files.items():
            destination = target / safe_relative(path)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.blobs.file_path(digest), destination)

    def snapshot_files(self, snapshot_id: str) -> dict[str, bytes]:
        """A snapshot's files, rebuilt byte for byte: what a step would execute."""
        snapshot = self.get_snapshot(snapshot_id)
        return {path: self.blobs.read_file(digest) for path, digest in snapshot.files.items()}


def ordered_module_nodes(graph: Mapping[str, Any]) -> list[tuple[dict[str, Any], list[str]]]:
    """Module nodes in execution order (edges first, then the order given) with their upstream node ids.

    Edges from dataset nodes are not dependencies; an edge naming an unknown node, or a cycle, is a 400.
    """
    nodes = {str(node["Id"]): node for node in graph.get("ModuleNodes") or []}
    dataset_ids = {str(node.get("Id")) for node in graph.get("DatasetNodes") or []}
    upstream: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for edge in graph.get("Edges") or []:
        source = str((edge.get("SourceOutputPort") or {}).get("NodeId"))
        target = str((edge.get("DestinationInputPort") or {}).get("NodeId"))
        if source in dataset_ids:
            continue
        if source not in nodes or target not in nodes:
            raise BadRequest(f"Graph edge {source} -> {target} names an unknown node.", target="Graph.Edges")
        if source not in upstream[target]:
            upstream[target].append(source)
    ordered: list[str] = []
    while len(ordered) < len(nodes):
        ready = [n for n in nodes if n not in ordered and set(upstream[n]) <= set(ordered)]
        if not ready:
            raise BadRequest("The graph has a cycle.", target="Graph.Edges")
        ordered.append(ready[0])
    return [(nodes[node_id], upstream[node_id]) for node_id in ordered]


def node_parameter(node: Mapping[str, Any], name: str) -> str | None:
    for parameter in node.get("ModuleParameters") or []:
        if parameter.get("Name") == name:
            value = parameter.get("Value")
            return None if value is None else str(value)
    return None
