"""The emulator's state and run lifecycle, with no HTTP in sight.

The records it keeps are in :mod:`.records` (pydantic, so the whole state round-trips through the
``--state`` file as JSON). Lookups raise :mod:`..wire.errors` classes. A run's status is read off its
:class:`~.lifecycle.Timeline` at the backend's clock (:meth:`Backend.clock`), so nothing runs in the
background; what a route reports of a run is a :class:`~.views.RunView` at that instant.

Around the state, each concern has its module: published pipelines and endpoints are the
:attr:`Backend.registry` (:mod:`.registry`; their modules and snapshots the :attr:`Backend.catalog`),
what a submission becomes is :mod:`.submission`, and what an executed run's processes are is
:mod:`..execution.jobs`.

With ``execute=True`` a run of a published pipeline (every step has a module and a snapshot) is not
planned but executed (:mod:`..execution.executor`): its timelines start NotStarted and grow as the
executor reports (the ``RunRecorder`` methods below), and its step logs are the processes' output, kept
under :attr:`Backend.layout`. Seeded pipelines keep the simulated lifecycle. An executed run that was not
over when the emulator stopped ends Failed, with a message saying so, when the state is written or
restored: processes cannot be resumed.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from airflow_provider_azureml.emulator.execution.commands import (
    DRIVER_LOG,
    DataLayout,
)
from airflow_provider_azureml.emulator.execution.executor import Executor
from airflow_provider_azureml.emulator.execution.jobs import run_job, step_outputs
from airflow_provider_azureml.emulator.state.blobs import BlobStore
from airflow_provider_azureml.emulator.state.catalog import (
    Catalog,
)
from airflow_provider_azureml.emulator.state.lifecycle import (
    Durations,
)
from airflow_provider_azureml.emulator.state.records import (
    RUN_ORIGIN,
    ArtifactFile,
    Pipeline,
    PipelineRun,
    Schedule,
    ScheduleRequest,
    State,
    StepRun,
    Submission,
    SubmitRequest,
    experiment_id,
)
from airflow_provider_azureml.emulator.state.registry import Registry
from airflow_provider_azureml.emulator.state.schedules import Schedules
from airflow_provider_azureml.emulator.state.state_file import StateFile
from airflow_provider_azureml.emulator.state.submission import (
    continue_on_failure,
    new_run,
    resolve_parameters,
)
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
        self.registry = Registry(lambda: self._state, self._lock, self.clock, self._changed, self.catalog)
        self.schedules = Schedules(
            lambda: self._state,
            self._lock,
            self.clock,
            self._changed,
            check=self._check_schedule,
            submit=self._fire,
            datastores=lambda: self.layout.datastores,
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
        """Move the emulator's time ``seconds`` ahead (held or not), submitting the scheduled runs due by
        then; returns the new time."""
        with self._lock:
            self._state.time = self._state.time.advance(seconds)
            self._changed()
            self.schedules.catch_up()
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

    # -- submission ------------------------------------------------------------------------------------
    def submit_pipeline(self, pipeline_id: str, request: SubmitRequest) -> RunView:
        with self._lock:
            return self._view(self._submit(self.registry.get_pipeline(pipeline_id), request, None, None))

    def submit_endpoint(self, endpoint_id: str, version: str | None, request: SubmitRequest) -> RunView:
        with self._lock:
            endpoint, version, pipeline = self.registry.endpoint_version(endpoint_id, version)
            return self._view(self._submit(pipeline, request, endpoint.id, version))

    def _submit(
        self,
        pipeline: Pipeline,
        request: SubmitRequest,
        endpoint_id: str | None,
        version: str | None,
        at: float | None = None,
    ) -> PipelineRun:
        """A new run, submitted now or (a schedule's) at the instant ``at`` it was due."""
        if pipeline.status != "Active":
            raise BadRequest(
                f"Published pipeline '{pipeline.id}' is {pipeline.status}; it cannot be submitted."
            )
        resolved = resolve_parameters(
            pipeline, request.parameters, allow_unknown=self.allow_unknown_parameters
        )
        now = self.clock() if at is None else at
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
            data_paths=request.data_paths,
            schedule_id=request.schedule_id,
            submitted_at=now,
        )
        parent = self._history_index.get(request.parent_run_id or "")
        run = new_run(
            pipeline,
            request,
            submission,
            durations=self.default_durations,
            executed=self._executes(pipeline),
            next_run_number=lambda: self._next_run_number(request.experiment_name),
            root_run_id=parent[0].root_run_id if parent else run_id,
        )
        self._state.runs[run_id] = run
        self._index(run)
        self._changed()
        if run.executed and self._executor is not None:
            job = run_job(
                pipeline,
                run,
                catalog=self.catalog,
                layout=self.layout,
                step_timeout=self.step_timeout,
                continue_on_failure=continue_on_failure(pipeline, request),
            )
            self._executor.submit(job)
        return run

    # -- schedules -------------------------------------------------------------------------------------
    def catch_up(self) -> None:
        """Submit the scheduled runs due by the emulator's time (:meth:`.schedules.Schedules.catch_up`)."""
        self.schedules.catch_up()

    def _target(self, request: ScheduleRequest) -> tuple[Pipeline, str | None, str | None]:
        """The pipeline a schedule runs now, with the endpoint id and version it is reached through."""
        if request.pipeline_id:
            return self.registry.get_pipeline(request.pipeline_id), None, None
        endpoint, version, pipeline = self.registry.endpoint_version(request.endpoint_id or "", None)
        return pipeline, endpoint.id, version

    def _check_schedule(self, request: ScheduleRequest) -> None:
        """A schedule must name a known pipeline or endpoint and only parameters its pipeline declares."""
        if bool(request.pipeline_id) == bool(request.endpoint_id):
            raise BadRequest("Give exactly one of PipelineId or PipelineEndpointId.", target="PipelineId")
        try:
            pipeline, _, _ = self._target(request)
        except NotFound as error:
            raise BadRequest(error.message, target=error.target) from None
        resolve_parameters(
            pipeline, request.submission.parameters, allow_unknown=self.allow_unknown_parameters
        )

    def _fire(self, schedule: Schedule, request: SubmitRequest, at: float) -> None:
        """A schedule's run: to its pipeline, or to its endpoint's default version at the time."""
        pipeline, endpoint_id, version = self._target(schedule)
        self._submit(pipeline, request, endpoint_id, version, at)

    def schedule_runs(self, schedule_id: str) -> list[RunView]:
        """The runs a schedule submitted, oldest first."""
        with self._lock:
            self.schedules.get(schedule_id)
            runs = [run for run in self._state.runs.values() if run.submission.schedule_id == schedule_id]
            return [self._view(run) for run in sorted(runs, key=lambda run: run.submitted_at)]

    def experiment_named(self, wanted: str) -> str:
        """The name of the experiment whose id is ``wanted`` (a run of it must exist)."""
        with self._lock:
            names = {run.experiment_name for run in self._state.runs.values()}
        for name in names:
            if experiment_id(name) == wanted:
                return name
        raise NotFound(f"Experiment '{wanted}' was not found.", target="experimentId")

    def _executes(self, pipeline: Pipeline) -> bool:
        """Runs of a published pipeline execute in execute mode; seeded ones (no modules) are simulated."""
        return self._executor is not None and all(s.module_id and s.snapshot_id for s in pipeline.steps)

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
            self.registry.get_pipeline(pipeline_id)
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
        """Every submission, the scheduled runs due by now included."""
        with self._lock:
            self.schedules.catch_up()
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
        with self._lock:
            run = self.get_run(run_id)
            pipeline = self.registry.get_pipeline(run.pipeline_id)
        return step_outputs(pipeline, run, catalog=self.catalog, layout=self.layout)

    def datastore_path(self, uri: str) -> Path:
        """The local folder or file behind ``azureml://datastores/<name>/paths/<path>`` when executing."""
        return self.layout.local_path(uri)
