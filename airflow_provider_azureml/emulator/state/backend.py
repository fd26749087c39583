"""The emulator's state and run lifecycle, with no HTTP in sight.

The records it keeps are in :mod:`.records` (pydantic, so the whole state round-trips through the
``--state`` file as JSON). Lookups raise :mod:`.errors` classes; statuses are derived from each run's
:class:`~.lifecycle.Timeline` at the backend's clock, so nothing runs in the background.

A pipeline stores its graph (``GraphEntity`` JSON) and its parameter interface; its ``steps`` are the
graph's module nodes in execution order. A run keeps its step runs keyed by node id. A pipeline comes
from the seed (:meth:`register_pipeline`) or from the SDK's publish path (:meth:`publish_pipeline`, whose
modules and snapshots live in :attr:`Backend.catalog`); either way runs are planned and read the same.

With ``execute=True`` a run of a published pipeline (every step has a module and a snapshot) is not
planned but executed (:mod:`.executor`): its timelines start NotStarted and grow as the executor reports
(the :class:`~.executor.RunRecorder` methods below), and its step logs are the processes' output, kept
under :attr:`Backend.layout`. Seeded pipelines keep the simulated lifecycle. An executed run that was not
over when the emulator stopped ends Failed, with a message saying so, when the state is written or
restored: processes cannot be resumed.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from airflow_provider_azureml.emulator.execution.commands import (
    DRIVER_LOG,
    DataLayout,
    StepCommand,
    StepContext,
    input_folders,
    output_folders,
    resolve,
)
from airflow_provider_azureml.emulator.execution.executor import Executor, RunJob, StepJob
from airflow_provider_azureml.emulator.state.blobs import BlobStore
from airflow_provider_azureml.emulator.state.catalog import (
    Catalog,
    node_parameter,
    ordered_module_nodes,
)
from airflow_provider_azureml.emulator.state.lifecycle import (
    Durations,
    StepSpec,
    open_plan,
    plan_run,
)
from airflow_provider_azureml.emulator.state.records import (
    PARAMETER_TYPES_BY_CODE,
    RUN_ORIGIN,
    ArtifactFile,
    Endpoint,
    EndpointUpdate,
    EntityStatus,
    ParameterDef,
    Pipeline,
    PipelineRun,
    PublishRequest,
    State,
    StepDef,
    StepRun,
    Submission,
    SubmitRequest,
)
from airflow_provider_azureml.emulator.state.state_file import StateFile
from airflow_provider_azureml.emulator.state.views import RunView
from airflow_provider_azureml.emulator.wire.errors import BadRequest, NotFound
from airflow_provider_azureml.emulator.wire.odata import Clause, matches
from airflow_provider_azureml.emulator.wire.statuses import RunStatus

STOPPED_MESSAGE = (
    "The emulator stopped while this run was executing; its step processes were killed. Submit it again."
)
RESTARTED_MESSAGE = (
    "The emulator restarted while this run was executing; an executed run cannot resume. Submit it again."
)


class Backend:
    """All state, behind one lock: FastAPI handlers and test code may call in from different threads."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        allow_unknown_parameters: bool = False,
        default_durations: Durations | None = None,
        state_file: StateFile | None = None,
        data_dir: Path | None = None,
        execute: bool = False,
        step_timeout: float | None = None,
    ) -> None:
        """``data_dir`` holds uploaded blobs, snapshot files and executed runs' files; None means a
        temporary directory. ``execute`` runs published pipelines' steps (``step_timeout``: seconds a step
        without its own ``MaxRunDurationSeconds`` may take). ``clock`` is the wall clock; the emulator's
        own time (:meth:`clock`) follows it unless held."""
        self._wall = clock
        self.allow_unknown_parameters = allow_unknown_parameters
        self._lock = threading.RLock()
        self._state_file = state_file
        restored = state_file.load() if state_file else None
        self.restored = restored is not None  # then the seed is not applied again
        self._state = State.model_validate_json(restored) if restored else State()
        if default_durations is not None and restored is None:
            self._state.default_durations = default_durations
        self._history_index: dict[str, tuple[PipelineRun, StepRun | None]] = {}
        for run in self._state.runs.values():
            self._index(run)
        if restored:
            self._end_interrupted_runs(RESTARTED_MESSAGE)
        if state_file is not None:
            state_file.attach(self.snapshot_json)
        self._data_dir = data_dir
        self._temp_dir: str | None = None
        self.catalog = Catalog(
            lambda: self._state.catalog,
            lambda: BlobStore(self.data_dir / "storage"),
            self._lock,
            self.clock,
            self._changed,
        )
        self.step_timeout = step_timeout
        self._executor = Executor(self, self.catalog.copy_snapshot) if execute else None

    @property
    def executes(self) -> bool:
        return self._executor is not None

    @property
    def data_dir(self) -> Path:
        """Blobs, snapshot files and the CA; a temporary directory (made on first use) unless given."""
        if self._data_dir is None:
            self._temp_dir = tempfile.mkdtemp(prefix="azureml-emulator-")
            self._data_dir = Path(self._temp_dir)
        return self._data_dir

    # -- persistence ---------------------------------------------------------------------------------
    def snapshot_json(self) -> bytes:
        with self._lock:
            return self._state.model_dump_json().encode()

    def _changed(self) -> None:
        if self._state_file is not None:
            self._state_file.changed()

    @property
    def layout(self) -> DataLayout:
        """Executed runs' files: datastores, PipelineData outputs, step snapshots and logs."""
        return DataLayout(self.data_dir)

    def close(self) -> None:
        """Stop executing (runs in flight end Failed), write the state file, drop a temporary data dir."""
        if self._executor is not None:
            self._end_interrupted_runs(STOPPED_MESSAGE)
            self._executor.close()
        if self._state_file is not None:
            self._state_file.close()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = self._data_dir = None

    def reset(self) -> None:
        """Forget everything but the durations; a hold is released (time goes on, never back).
        Executing runs are stopped first (their reports then find no run)."""
        with self._lock:
            if self._executor is not None:
                for run_id in list(self._state.runs):
                    self._executor.cancel(run_id)
            self._state = State(
                default_durations=self._state.default_durations,
                time=self._state.time.release(self._wall()),
            )
            self._history_index.clear()
            self._changed()

    # -- time ----------------------------------------------------------------------------------------
    def clock(self) -> float:
        """The emulator's time (:class:`~.lifecycle.SimulatedTime`): runs read their status at it."""
        return self._state.time.now(self._wall())

    @property
    def held(self) -> bool:
        return self._state.time.held

    def hold(self) -> None:
        """Stop the emulator's time: every simulated run stays in its status until :meth:`release`."""
        with self._lock:
            self._state.time = self._state.time.hold(self._wall())
            self._changed()

    def release(self) -> None:
        """Let time go on from where :meth:`hold` stopped it."""
        with self._lock:
            self._state.time = self._state.time.release(self._wall())
            self._changed()

    def advance(self, seconds: float) -> float:
        """Move the emulator's time ``seconds`` ahead (held or not); returns the new time."""
        with self._lock:
            self._state.time = self._state.time.advance(seconds)
            self._changed()
            return self.clock()

    # -- pipelines and endpoints -----------------------------------------------------------------------
    @property
    def default_durations(self) -> Durations:
        return self._state.default_durations

    def set_default_durations(self, overrides: Mapping[str, float | None]) -> Durations:
        with self._lock:
            self._state.default_durations = self._state.default_durations.merged(overrides)
            self._changed()
            return self._state.default_durations

    def register_pipeline(self, pipeline: Pipeline) -> Pipeline:
        with self._lock:
            self._state.pipelines[pipeline.id] = pipeline
            self._changed()
            return pipeline

    def register_endpoint(self, endpoint: Endpoint) -> Endpoint:
        with self._lock:
            for pipeline_id in endpoint.pipeline_ids:
                self.get_pipeline(pipeline_id)
            clash = self._endpoint_named(endpoint.name)
            if clash is not None and clash.id != endpoint.id:
                raise BadRequest(f"A PipelineEndpoint named '{endpoint.name}' already exists ({clash.id}).")
            self._state.endpoints[endpoint.id] = endpoint
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
            created_at=self.clock(),
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
            created_at=self.clock(),
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
            clash = self._endpoint_named(update.name)
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
        pipeline = self._state.pipelines.get(pipeline_id)
        if pipeline is None:
            raise NotFound(f"Published pipeline '{pipeline_id}' was not found.", target="pipelineId")
        return pipeline

    def list_pipelines(self, active_only: bool) -> list[Pipeline]:
        with self._lock:
            return [p for p in self._state.pipelines.values() if not active_only or p.status == "Active"]

    def set_pipeline_status(self, pipeline_id: str, status: EntityStatus) -> None:
        with self._lock:
            self.get_pipeline(pipeline_id).status = status
            self._changed()

    def get_graph(self, graph_id: str) -> Pipeline:
        """The pipeline owning graph ``graph_id``: it holds both the graph and its interface."""
        with self._lock:
            pipeline = next((p for p in self._state.pipelines.values() if p.graph_id == graph_id), None)
        if pipeline is None:
            raise NotFound(f"Graph '{graph_id}' was not found.", target="graphId")
        return pipeline

    def get_endpoint(self, endpoint_id: str) -> Endpoint:
        endpoint = self._state.endpoints.get(endpoint_id)
        if endpoint is None:
            raise NotFound(f"PipelineEndpoint '{endpoint_id}' was not found.", target="endpointId")
        return endpoint

    def _endpoint_named(self, name: str) -> Endpoint | None:
        with self._lock:
            return next((e for e in self._state.endpoints.values() if e.name == name), None)

    def get_endpoint_by_name(self, name: str) -> Endpoint:
        endpoint = self._endpoint_named(name)
        if endpoint is None:
            raise NotFound(f"PipelineEndpoint named '{name}' was not found.", target="name")
        return endpoint

    def list_endpoints(self, active_only: bool) -> list[Endpoint]:
        with self._lock:
            return [e for e in self._state.endpoints.values() if not active_only or e.status == "Active"]

    def endpoint_pipelines(self, endpoint_id: str, active_only: bool) -> list[Pipeline]:
        pipelines = [self.get_pipeline(pid) for pid in self.get_endpoint(endpoint_id).pipeline_ids]
        return [p for p in pipelines if not active_only or p.status == "Active"]

    # -- submission ------------------------------------------------------------------------------------
    def submit_pipeline(self, pipeline_id: str, request: SubmitRequest) -> RunView:
        with self._lock:
            return self._view(self._submit(self.get_pipeline(pipeline_id), request, None, None))

    def submit_endpoint(self, endpoint_id: str, version: str | None, request: SubmitRequest) -> RunView:
        with self._lock:
            endpoint = self.get_endpoint(endpoint_id)
            if endpoint.status != "Active":
                raise BadRequest(
                    f"PipelineEndpoint '{endpoint.name}' is {endpoint.status}; "
                    "only Active endpoints accept runs."
                )
            version = endpoint.default_version if version is None else version
            if not version.isdigit() or int(version) >= len(endpoint.pipeline_ids):
                valid = ", ".join(str(v) for v in range(len(endpoint.pipeline_ids)))
                raise NotFound(
                    f"PipelineEndpoint '{endpoint.name}' has no version '{version}' (versions: {valid}).",
                    target="pipelineVersion",
                )
            pipeline = self.get_pipeline(endpoint.pipeline_ids[int(version)])
            return self._view(self._submit(pipeline, request, endpoint.id, version))

    def _submit(
        self, pipeline: Pipeline, request: SubmitRequest, endpoint_id: str | None, version: str | None
    ) -> PipelineRun:
        if pipeline.status != "Active":
            raise BadRequest(
                f"Published pipeline '{pipeline.id}' is {pipeline.status}; it cannot be submitted."
            )
        resolved = self._resolve_parameters(pipeline, request.parameters)
        now = self.clock()
        run_id = str(uuid.uuid4())
        submission = Submission(
            run_id=run_id,
            pipeline_id=pipeline.id,
            endpoint_id=endpoint_id,
            endpoint_version=version,
            experiment_name=request.experiment_name,
            parameters_received=request.parameters,
            parameters_resolved=resolved,
            tags=request.tags,
            parent_run_id=request.parent_run_id,
            continue_on_step_failure=request.continue_on_step_failure,
            submitted_at=now,
        )
        run = self._create_run(pipeline, request, submission)
        self._state.runs[run_id] = run
        self._index(run)
        self._changed()
        if run.executed and self._executor is not None:
            self._executor.submit(self._run_job(pipeline, run, self._continue_on_failure(pipeline, request)))
        return run

    def _resolve_parameters(self, pipeline: Pipeline, received: Mapping[str, str]) -> dict[str, str]:
        defaults = {p.name: p.default for p in pipeline.parameters}
        unknown = sorted(set(received) - set(defaults))
        if unknown and not self.allow_unknown_parameters:
            raise BadRequest(
                f"Unknown pipeline parameter(s) {', '.join(unknown)} for pipeline '{pipeline.name}'; "
                f"valid parameters: {', '.join(sorted(defaults)) or '(none)'}.",
                target="ParameterAssignments",
            )
        return {**defaults, **received}

    @staticmethod
    def _continue_on_failure(pipeline: Pipeline, request: SubmitRequest) -> bool:
        if request.continue_on_step_failure is None:
            return pipeline.continue_on_step_failure
        return request.continue_on_step_failure

    def _executes(self, pipeline: Pipeline) -> bool:
        """Runs of a published pipeline execute in execute mode; seeded ones (no modules) are simulated."""
        return self._executor is not None and all(s.module_id and s.snapshot_id for s in pipeline.steps)

    def _create_run(self, pipeline: Pipeline, request: SubmitRequest, submission: Submission) -> PipelineRun:
        continue_on_failure = self._continue_on_failure(pipeline, request)
        failures = {
            rule.step: rule.message
            for rule in reversed(pipeline.behaviour.failures)
            if rule.applies(submission.parameters_resolved)
        }
        durations = self.default_durations.merged(pipeline.behaviour.durations)
        specs = [StepSpec(s.name, s.node_id, s.depends_on, s.duration) for s in pipeline.steps]
        executed = self._executes(pipeline)
        plan = open_plan(specs) if executed else plan_run(specs, failures, durations, continue_on_failure)
        experiment = request.experiment_name
        run_number = self._next_run_number(experiment)
        steps = {
            step.node_id: StepRun(
                run_id=str(uuid.uuid4()),
                run_number=self._next_run_number(experiment),
                node_id=step.node_id,
                name=step.name,
                script=step.script,
                timeline=plan.steps[step.name],
                error=failures.get(step.name)
                if plan.steps[step.name].final_status == RunStatus.FAILED
                else None,
            )
            for step in pipeline.steps
        }
        parent = self._history_index.get(request.parent_run_id or "")
        tags = {**request.tags, "azureml.pipelineid": pipeline.id}
        properties = {
            **request.properties,
            "azureml.runsource": "azureml.PipelineRun",
            "runSource": "SDK",
            "runType": "SDK",
            "azureml.parameters": json.dumps(submission.parameters_resolved),
            "azureml.continue_on_step_failure": str(continue_on_failure),
            "azureml.pipelineComponent": "pipelinerun",
        }
        if submission.endpoint_id:
            properties["azureml.pipelineEndpointId"] = submission.endpoint_id
        return PipelineRun(
            run_id=submission.run_id,
            run_number=run_number,
            root_run_id=parent[0].root_run_id if parent else submission.run_id,
            experiment_name=experiment,
            pipeline_id=pipeline.id,
            graph_id=pipeline.graph_id,
            description=request.description or experiment,
            parameters=submission.parameters_resolved,
            tags=tags,
            properties=properties,
            submitted_at=submission.submitted_at,
            timeline=plan.root,
            steps=steps,
            failed_node_id=pipeline.step_by_name(plan.failed_step).node_id if plan.failed_step else None,
            cancel_duration=durations.cancel,
            submission=submission,
            executed=executed,
        )

    def _next_run_number(self, experiment: str) -> int:
        number = self._state.run_numbers.get(experiment, 1)
        self._state.run_numbers[experiment] = number + 1
        return number

    def _index(self, run: PipelineRun) -> None:
        self._history_index[run.run_id] = (run, None)
        for step in run.steps.values():
            self._history_index[step.run_id] = (run, step)

    # -- runs ------------------------------------------------------------------------------------------
    def offset(self, run: PipelineRun) -> float:
        """Seconds since ``run`` was submitted, by the backend clock."""
        return self.clock() - run.submitted_at

    def get_run(self, run_id: str) -> PipelineRun:
        run = self._state.runs.get(run_id)
        if run is None:
            raise NotFound(f"Pipeline run '{run_id}' was not found.", target="pipelineRunId")
        return run

    def _view(self, run: PipelineRun, step: StepRun | None = None) -> RunView:
        return RunView(run, step, self.offset(run))

    def view(self, run_id: str) -> RunView:
        """Pipeline run ``run_id`` as it stands now."""
        with self._lock:
            return self._view(self.get_run(run_id))

    def step_views(self, run_id: str) -> dict[str, RunView]:
        """Every step run of ``run_id`` now, by node id, started or not (as AEVA lists nodes)."""
        with self._lock:
            run = self.get_run(run_id)
            return {node_id: self._view(run, step) for node_id, step in run.steps.items()}

    def step_view(self, run_id: str, node_id: str) -> RunView:
        with self._lock:
            run = self.get_run(run_id)
            step = run.steps.get(node_id)
            if step is None:
                raise NotFound(f"Node '{node_id}' is not part of pipeline run '{run_id}'.", target="nodeId")
            return self._view(run, step)

    def runs_of_pipeline(self, pipeline_id: str) -> list[RunView]:
        with self._lock:
            self.get_pipeline(pipeline_id)
            return [self._view(run) for run in self._state.runs.values() if run.pipeline_id == pipeline_id]

    def cancel_run(self, run_id: str) -> None:
        """Request cancellation; a run already in a terminal status is left unchanged."""
        with self._lock:
            run = self.get_run(run_id)
            at = self.offset(run)
            if run.timeline.status_at(at) in RunStatus.TERMINAL:
                return
            if run.executed:
                self._cancel_execution(run)
                return
            run.timeline = run.timeline.cancel(at, run.cancel_duration)
            for step in run.steps.values():
                step.timeline = step.timeline.cancel(at, run.cancel_duration)
            self._changed()

    def history_view(self, experiment: str, run_id: str) -> RunView:
        """A root run or step run of ``experiment`` as run history sees it now."""
        with self._lock:
            found = self._history_index.get(run_id)
            view = self._view(*found) if found is not None else None
        if view is None or view.run.experiment_name != experiment or not view.exists_in_history:
            raise NotFound(f"Run '{run_id}' was not found in experiment '{experiment}'.", target="runId")
        return view

    def _history_views(self, run: PipelineRun) -> list[RunView]:
        """The root run and the step runs that exist in run history (the started ones), now."""
        views = [self._view(run), *(self._view(run, step) for step in run.steps.values())]
        return [view for view in views if view.exists_in_history]

    def children(self, experiment: str, run_id: str) -> list[RunView]:
        parent = self.history_view(experiment, run_id)
        with self._lock:
            return [] if parent.step is not None else self._history_views(parent.run)[1:]

    def query_runs(self, experiment: str, clauses: list[Clause]) -> list[RunView]:
        """Runs of ``experiment`` (roots and started steps) matching every clause."""
        with self._lock:
            views = [
                view
                for run in self._state.runs.values()
                if run.experiment_name == experiment
                for view in self._history_views(run)
            ]
        return [view for view in views if matches(clauses, view.filter_fields())]

    def submissions(self) -> list[Submission]:
        with self._lock:
            return [run.submission for run in self._state.runs.values()]

    # -- artifacts -------------------------------------------------------------------------------------
    def artifacts(self, container: str) -> list[ArtifactFile]:
        """Files of a run's data container (``dcid.{runId}``): a driver log per started step."""
        with self._lock:
            found = self._history_index.get(container.removeprefix("dcid."))
            view = self._view(*found) if found is not None and container.startswith("dcid.") else None
        if view is None:
            raise NotFound(f"Artifact container '{container}' was not found.", target="container")
        if view.step is None or not view.exists_in_history:
            return []
        return [
            ArtifactFile(origin=RUN_ORIGIN, container=container, path=DRIVER_LOG, content=self._log(view))
        ]

    def artifact(self, container: str, path: str) -> ArtifactFile:
        for artifact in self.artifacts(container):
            if artifact.path == path:
                return artifact
        raise NotFound(f"Artifact '{path}' was not found in container '{container}'.", target="path")

    def _log(self, view: RunView) -> str:
        """An executed step's real output so far, or a simulated step's log."""
        assert view.step is not None
        if not view.run.executed:
            return view.simulated_log()
        path = self.layout.step_log(view.run.run_id, view.step.run_id)
        return path.read_text(errors="replace") if path.is_file() else ""

    # -- execution (the executor's RunRecorder) -----------------------------------------------------------
    def _run_job(self, pipeline: Pipeline, run: PipelineRun, continue_on_failure: bool) -> RunJob:
        """What the executor needs: per step, its folders and how to resolve its command once the
        snapshot is in place. Ports are mapped here, so a downstream input is its producer's folder."""
        layout, graph = self.layout, pipeline.graph
        nodes = {str(node["Id"]): node for node in graph.get("ModuleNodes") or []}
        produced: dict[tuple[str, str], Path] = {}
        steps = []
        for step in pipeline.steps:
            step_run = run.steps[step.node_id]
            node, module = nodes[step.node_id], self.catalog.get_module(step.module_id or "").info
            outputs = output_folders(node, module, layout, step_run.run_id)
            produced.update({(step.node_id, port): folder for port, folder in outputs.items()})
            context = StepContext(
                node=node,
                module=module,
                parameters=run.parameters,
                inputs={},
                outputs=outputs,
                default_timeout=self.step_timeout,
            )
            steps.append(
                StepJob(
                    spec=StepSpec(step.name, step.node_id, step.depends_on),
                    step_run_id=step_run.run_id,
                    snapshot_id=step.snapshot_id or "",
                    step_dir=layout.step_dir(run.run_id, step_run.run_id),
                    log_path=layout.step_log(run.run_id, step_run.run_id),
                    resolve=functools.partial(self._resolve_step, graph, context, dict(produced)),
                )
            )
        return RunJob(run.run_id, tuple(steps), continue_on_failure)

    def _resolve_step(
        self,
        graph: dict[str, Any],
        context: StepContext,
        produced: dict[tuple[str, str], Path],
        snapshot: Path,
    ) -> StepCommand:
        node_id = str(context.node["Id"])
        inputs = input_folders(
            graph,
            node_id,
            produced,
            lambda source_id: self.catalog.get_data_source(source_id).info,
            self.layout,
        )
        return resolve(dataclasses.replace(context, inputs=inputs), snapshot)

    def _executed(self, run_id: str) -> PipelineRun | None:
        run = self._state.runs.get(run_id)
        return run if run is not None and run.executed else None

    def run_started(self, run_id: str) -> None:
        with self._lock:
            run = self._executed(run_id)
            if run is not None and run.timeline.final_status in (RunStatus.NOT_STARTED, RunStatus.QUEUED):
                run.timeline = run.timeline.then(self.offset(run), RunStatus.RUNNING)
                self._changed()

    def step_started(self, run_id: str, node_id: str) -> bool:
        with self._lock:
            run = self._executed(run_id)
            if run is None or run.timeline.final_status != RunStatus.RUNNING:
                return False
            step = run.steps[node_id]
            step.timeline = step.timeline.then(self.offset(run), RunStatus.RUNNING)
            self._changed()
            return True

    def step_ended(self, run_id: str, node_id: str, outcome: str, error: str | None) -> None:
        with self._lock:
            run = self._executed(run_id)
            if run is None:
                return
            step = run.steps[node_id]
            before = step.timeline
            step.timeline = before.conclude(self.offset(run), outcome)
            if step.timeline is not before and step.timeline.final_status == RunStatus.FAILED:
                step.error = error or "The step failed."
                run.failed_node_id = run.failed_node_id or node_id
            self._changed()

    def run_ended(self, run_id: str, error: str | None = None) -> None:
        """The root run ends as its steps did: Canceled if asked to, Failed if a step failed; ``error``
        (the executor itself failed) fails whatever is still running."""
        with self._lock:
            run = self._executed(run_id)
            if run is None:
                return
            if error is not None:
                self._end_run(run, error)
                return
            at = self.offset(run)
            outcome = RunStatus.FAILED if run.failed_node_id else RunStatus.FINISHED
            run.timeline = run.timeline.conclude(at, outcome)
            for step in run.steps.values():
                if step.timeline.final_status == RunStatus.CANCEL_REQUESTED:
                    step.timeline = step.timeline.conclude(at, RunStatus.CANCELED)
            self._changed()

    def _cancel_execution(self, run: PipelineRun) -> None:
        """CancelRequested now; Canceled once the executor has killed the step's processes."""
        at = self.offset(run)
        if run.timeline.final_status != RunStatus.CANCEL_REQUESTED:
            run.timeline = run.timeline.then(at, RunStatus.CANCEL_REQUESTED)
            for step in run.steps.values():
                if step.timeline.final_status not in RunStatus.TERMINAL:
                    step.timeline = step.timeline.then(at, RunStatus.CANCEL_REQUESTED)
            self._changed()
        if self._executor is not None:
            self._executor.cancel(run.run_id)
        else:  # not reachable through restarts (restored runs are ended at load), but never hang
            self.run_ended(run.run_id)

    def _end_interrupted_runs(self, message: str) -> None:
        """Executed runs not over yet end now (the emulator stops, or restarted): Failed with ``message``."""
        with self._lock:
            for run in self._state.runs.values():
                if run.executed and run.timeline.final_status not in RunStatus.TERMINAL:
                    self._end_run(run, message)

    def _end_run(self, run: PipelineRun, message: str) -> None:
        """A running step fails with ``message``, and so does the run (Canceled if that was asked for)."""
        at = self.offset(run)
        for step in run.steps.values():
            if step.timeline.final_status in (RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED):
                step.timeline = step.timeline.conclude(at, RunStatus.FAILED)
                if step.timeline.final_status == RunStatus.FAILED:
                    step.error = message
                    run.failed_node_id = run.failed_node_id or step.node_id
        run.run_error = message
        run.timeline = run.timeline.conclude(at, RunStatus.FAILED)
        self._changed()

    def step_outputs(self, run_id: str) -> dict[str, dict[str, Path]]:
        """Where an executed run's steps write: output folders by step name and output name."""
        run = self.get_run(run_id)
        pipeline = self.get_pipeline(run.pipeline_id)
        nodes = {str(node["Id"]): node for node in pipeline.graph.get("ModuleNodes") or []}
        return {
            step.name: output_folders(
                nodes[step.node_id],
                self.catalog.get_module(step.module_id).info,
                self.layout,
                run.steps[step.node_id].run_id,
            )
            for step in pipeline.steps
            if run.executed and step.module_id
        }

    def datastore_path(self, uri: str) -> Path:
        """The local folder or file behind ``azureml://datastores/<name>/paths/<path>`` when executing."""
        return self.layout.local_path(uri)
