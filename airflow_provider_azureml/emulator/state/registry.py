"""Published pipelines and pipeline endpoints: registration (seed, admin API, the SDK's publish path),
versions, statuses and look-ups. Runs are not kept here (see :mod:`.backend`)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_azureml.emulator.state.catalog import Catalog, node_parameter, ordered_module_nodes
from airflow_provider_azureml.emulator.state.records import (
    PARAMETER_TYPES_BY_CODE,
    Endpoint,
    EndpointUpdate,
    EntityStatus,
    ParameterDef,
    Pipeline,
    PublishRequest,
    State,
    StepDef,
)
from airflow_provider_azureml.emulator.wire.errors import BadRequest, NotFound


class Registry:
    """Pipelines and endpoints of the backend's state, behind the backend's lock."""

    def __init__(
        self,
        state: Callable[[], State],
        lock: threading.RLock,
        clock: Callable[[], float],
        changed: Callable[[], None],
        catalog: Catalog,
    ) -> None:
        self._state, self._lock, self._clock, self._changed = state, lock, clock, changed
        self.catalog = catalog

    def register_pipeline(self, pipeline: Pipeline) -> Pipeline:
        with self._lock:
            self._state().pipelines[pipeline.id] = pipeline
            self._changed()
            return pipeline

    def register_endpoint(self, endpoint: Endpoint) -> Endpoint:
        with self._lock:
            for pipeline_id in endpoint.pipeline_ids:
                self.get_pipeline(pipeline_id)
            clash = self.endpoint_named(endpoint.name)
            if clash is not None and clash.id != endpoint.id:
                raise BadRequest(f"A PipelineEndpoint named '{endpoint.name}' already exists ({clash.id}).")
            self._state().endpoints[endpoint.id] = endpoint
            self._changed()
            return endpoint

    def publish_pipeline(self, request: PublishRequest) -> Pipeline:
        """``Pipelines/Create``: a pipeline whose steps are the graph's module nodes, named by module."""
        pipeline_id, graph_id = str(uuid.uuid4()), str(uuid.uuid4())
        parameters = tuple(
            ParameterDef(
                name=str(p["Name"]),
                type=PARAMETER_TYPES_BY_CODE.get(str(p.get("Type")), "string"),
                default="" if p.get("DefaultValue") is None else str(p["DefaultValue"]),
            )
            for p in request.interface_parameters
        )
        pipeline = Pipeline(
            id=pipeline_id,
            name=request.name,
            version=request.version,
            description=request.description,
            continue_on_step_failure=request.continue_on_step_failure,
            parameters=parameters,
            steps=self._published_steps(request.graph),
            graph_id=graph_id,
            graph={**request.graph, "Id": graph_id},
            created_at=self._clock(),
        )
        return self.register_pipeline(pipeline)

    def _published_steps(self, graph: Mapping[str, Any]) -> tuple[StepDef, ...]:
        names: dict[str, str] = {}  # node id -> step name
        steps = []
        for node, upstream in ordered_module_nodes(graph):
            module = self.catalog.get_module(str(node.get("ModuleId")))
            if module.name in names.values():
                raise BadRequest(
                    f"Two steps are named '{module.name}': the emulator tells steps apart by name.",
                    target="Graph.ModuleNodes",
                )
            names[str(node["Id"])] = module.name
            steps.append(
                StepDef(
                    name=module.name,
                    node_id=str(node["Id"]),
                    script=node_parameter(node, "Script") or "",
                    step_type=str(module.info.get("StepType") or "PythonScriptStep"),
                    depends_on=tuple(names[node_id] for node_id in upstream),
                    module_id=module.id,
                    snapshot_id=module.info.get("StorageId"),
                )
            )
        if not steps:
            raise BadRequest("The graph has no module nodes.", target="Graph.ModuleNodes")
        return tuple(steps)

    def create_endpoint(self, name: str, description: str, pipeline_id: str) -> Endpoint:
        """``PipelineEndpoints/Create``: version 0 is ``pipeline_id``, and the default."""
        endpoint = Endpoint(
            id=str(uuid.uuid4()),
            name=name,
            description=description,
            pipeline_ids=[pipeline_id],
            created_at=self._clock(),
        )
        return self.register_endpoint(endpoint)

    def update_endpoint(self, endpoint_id: str, update: EndpointUpdate) -> Endpoint:
        """``PUT PipelineEndpoints/{id}``: versions must stay 0..n-1, each naming a known pipeline."""
        versions = sorted(update.versions, key=lambda entry: int(entry[0]) if entry[0].isdigit() else -1)
        if [version for version, _ in versions] != [str(n) for n in range(len(versions))] or not versions:
            raise BadRequest(
                "PipelineVersionList must hold versions 0..n-1, each once.", target="PipelineVersionList"
            )
        if not update.default_version.isdigit() or int(update.default_version) >= len(versions):
            raise BadRequest(
                f"DefaultVersion '{update.default_version}' is not listed.", target="DefaultVersion"
            )
        with self._lock:
            endpoint = self.get_endpoint(endpoint_id)
            for _, pipeline_id in versions:
                self.get_pipeline(pipeline_id)
            clash = self.endpoint_named(update.name)
            if clash is not None and clash.id != endpoint_id:
                raise BadRequest(f"A PipelineEndpoint named '{update.name}' already exists ({clash.id}).")
            endpoint.name, endpoint.description, endpoint.status = (
                update.name,
                update.description,
                update.status,
            )
            endpoint.pipeline_ids = [pipeline_id for _, pipeline_id in versions]
            endpoint.default_version = update.default_version
            self._changed()
            return endpoint

    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        with self._lock:
            pipeline = self._state().pipelines.get(pipeline_id)
        if pipeline is None:
            raise NotFound(f"Published pipeline '{pipeline_id}' was not found.", target="pipelineId")
        return pipeline

    def list_pipelines(self, active_only: bool) -> list[Pipeline]:
        with self._lock:
            return [p for p in self._state().pipelines.values() if not active_only or p.status == "Active"]

    def set_pipeline_status(self, pipeline_id: str, status: EntityStatus) -> None:
        with self._lock:
            self.get_pipeline(pipeline_id).status = status
            self._changed()

    def get_graph(self, graph_id: str) -> Pipeline:
        """The pipeline owning graph ``graph_id``: it holds both the graph and its interface."""
        with self._lock:
            pipeline = next((p for p in self._state().pipelines.values() if p.graph_id == graph_id), None)
        if pipeline is None:
            raise NotFound(f"Graph '{graph_id}' was not found.", target="graphId")
        return pipeline

    def get_endpoint(self, endpoint_id: str) -> Endpoint:
        with self._lock:
            endpoint = self._state().endpoints.get(endpoint_id)
        if endpoint is None:
            raise NotFound(f"PipelineEndpoint '{endpoint_id}' was not found.", target="endpointId")
        return endpoint

    def endpoint_named(self, name: str) -> Endpoint | None:
        with self._lock:
            return next((e for e in self._state().endpoints.values() if e.name == name), None)

    def get_endpoint_by_name(self, name: str) -> Endpoint:
        endpoint = self.endpoint_named(name)
        if endpoint is None:
            raise NotFound(f"PipelineEndpoint named '{name}' was not found.", target="name")
        return endpoint

    def list_endpoints(self, active_only: bool) -> list[Endpoint]:
        with self._lock:
            return [e for e in self._state().endpoints.values() if not active_only or e.status == "Active"]

    def endpoint_pipelines(self, endpoint_id: str, active_only: bool) -> list[Pipeline]:
        with self._lock:
            pipelines = [self.get_pipeline(pid) for pid in self.get_endpoint(endpoint_id).pipeline_ids]
        return [p for p in pipelines if not active_only or p.status == "Active"]

    def endpoint_version(self, endpoint_id: str, version: str | None) -> tuple[Endpoint, str, Pipeline]:
        """The endpoint, the version a submit runs (the default when None) and that version's pipeline.

        Called under the lock by a submit, so that the endpoint cannot change between look-up and run."""
        endpoint = self.get_endpoint(endpoint_id)
        if endpoint.status != "Active":
            raise BadRequest(
                f"PipelineEndpoint '{endpoint.name}' is {endpoint.status}; only Active endpoints accept runs."
            )
        version = endpoint.default_version if version is None else version
        if not version.isdigit() or int(version) >= len(endpoint.pipeline_ids):
            valid = ", ".join(str(v) for v in range(len(endpoint.pipeline_ids)))
            raise NotFound(
                f"PipelineEndpoint '{endpoint.name}' has no version '{version}' (versions: {valid}).",
                target="pipelineVersion",
            )
        return endpoint, version, self.get_pipeline(endpoint.pipeline_ids[int(version)])
