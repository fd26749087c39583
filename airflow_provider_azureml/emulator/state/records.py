"""The emulator's records: what it stores about pipelines, endpoints, submissions and runs.

Pydantic models, so the whole state round-trips through the ``--state`` file as JSON; the
:class:`~.backend.Backend` owns them and the routers read them.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from airflow_provider_azureml.emulator.state.catalog import CatalogState
from airflow_provider_azureml.emulator.state.lifecycle import Durations, SimulatedTime, Timeline

EntityStatus = Literal["Active", "Deprecated", "Disabled"]
ParameterType = Literal["int", "float", "bool", "string"]
#: ``EntityInterface.Parameters[].Type`` codes
#: (``_get_backend_param_type_code`` in ``azureml.pipeline.core._aeva_provider``).
PARAMETER_TYPE_CODES: dict[str, str] = {"int": "0", "float": "1", "bool": "2", "string": "3"}
PARAMETER_TYPES_BY_CODE: dict[str, ParameterType] = {"0": "int", "1": "float", "2": "bool", "3": "string"}
RUN_ORIGIN = "ExperimentRun"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParameterDef(Record):
    name: str
    type: ParameterType = "string"
    default: str


class StepDef(Record):
    name: str
    node_id: str
    script: str
    step_type: str = "PythonScriptStep"
    depends_on: tuple[str, ...] = ()
    duration: float | None = None
    module_id: str | None = None  # published pipelines: the module and snapshot the step runs
    snapshot_id: str | None = None


class FailureRule(Record):
    """Fail ``step`` with ``message``, only if every ``when`` parameter has one of the listed values."""

    step: str
    message: str
    when: dict[str, tuple[str, ...]] = {}

    def applies(self, parameters: Mapping[str, str]) -> bool:
        return all(
            any(_same_value(parameters.get(name), value) for value in values)
            for name, values in self.when.items()
        )


class Behaviour(Record):
    durations: dict[str, float] = {}
    failures: tuple[FailureRule, ...] = ()


class Pipeline(Record):
    id: str
    name: str
    version: str | None = None
    description: str = ""
    status: EntityStatus = "Active"
    continue_on_step_failure: bool = False
    parameters: tuple[ParameterDef, ...] = ()
    steps: tuple[StepDef, ...]
    graph_id: str
    graph: dict[str, Any]
    behaviour: Behaviour = Behaviour()
    created_at: float

    def step_by_name(self, name: str) -> StepDef:
        return next(step for step in self.steps if step.name == name)


class Endpoint(Record):
    id: str
    name: str
    description: str = ""
    status: EntityStatus = "Active"
    pipeline_ids: list[str]  # version N is pipeline_ids[N]
    default_version: str = "0"
    created_at: float


class DataPathRef(Record):
    """A ``DataPath`` pipeline parameter's value: a path on a datastore."""

    datastore_name: str
    relative_path: str


class Submission(Record):
    """What a client (or a schedule, ``schedule_id``) sent, kept for assertions and the admin API."""

    run_id: str
    pipeline_id: str
    endpoint_id: str | None = None
    endpoint_version: str | None = None
    experiment_name: str
    parameters_received: dict[str, str]
    parameters_resolved: dict[str, str]
    tags: dict[str, str]
    parent_run_id: str | None = None
    continue_on_step_failure: bool | None = None
    data_paths: dict[str, DataPathRef] = {}
    schedule_id: str | None = None
    submitted_at: float


class SubmitRequest(Record):
    """A submission as the routers hand it over, already validated."""

    experiment_name: str
    description: str | None = None
    parameters: dict[str, str] = {}
    tags: dict[str, str] = {}
    properties: dict[str, str] = {}
    continue_on_step_failure: bool | None = None
    parent_run_id: str | None = None
    data_paths: dict[str, DataPathRef] = {}
    schedule_id: str | None = None


Frequency = Literal["Minute", "Hour", "Day", "Week", "Month"]
WeekDay = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class Recurrence(Record):
    """When a recurrence schedule fires (the SDK's ``ScheduleRecurrence``); see :mod:`.schedules`."""

    frequency: Frequency
    interval: int
    start_time: str | None = None  # naive ``YYYY-MM-DDThh:mm:ss`` in ``time_zone``, kept as sent
    time_zone: str | None = None  # a Windows zone id; None is UTC
    hours: tuple[int, ...] | None = None
    minutes: tuple[int, ...] | None = None
    week_days: tuple[WeekDay, ...] | None = None


class DatastoreTrigger(Record):
    """A datastore schedule: files appearing or changing directly under ``path_on_datastore``."""

    datastore_name: str
    polling_interval: int = 5  # minutes
    data_path_parameter_name: str | None = None
    path_on_datastore: str | None = None


class ScheduleRequest(Record):
    """A ``Schedules/Create`` or ``PUT Schedules/{id}`` body as the router hands it over."""

    name: str | None = None
    pipeline_id: str | None = None
    endpoint_id: str | None = None
    schedule_type: str  # as sent ("0"/"Recurrence" or "1"/"DataStore"), and echoed so
    submission: SubmitRequest
    recurrence: Recurrence | None = None
    trigger: DatastoreTrigger | None = None
    status: EntityStatus = "Active"

    @property
    def is_recurrence(self) -> bool:
        return self.schedule_type in ("0", "Recurrence")


class Schedule(ScheduleRequest):
    """A schedule and where its firing stands (:mod:`.schedules` moves it on)."""

    id: str
    etag: int = 1
    created_at: float
    modified_at: float
    #: The creation (or re-scheduling) second, as whole as a StartTime: a recurrence without one starts here.
    anchor: float
    fired_through: float | None = None  # recurrence: instants up to here are handled (None: none yet)
    polled_at: float = 0.0  # datastore: the last poll
    seen: dict[str, int] = {}  # datastore: files under the watched path -> modification time (ns)


class PublishRequest(Record):
    """A ``Pipelines/Create`` body as the router hands it over."""

    name: str
    description: str = ""
    version: str | None = None
    graph: dict[str, Any]
    interface_parameters: list[dict[str, Any]] = []
    continue_on_step_failure: bool = False


class EndpointUpdate(Record):
    """A ``PUT PipelineEndpoints/{id}`` body: the whole entity, with the version list the SDK edited."""

    name: str
    description: str = ""
    default_version: str
    versions: list[tuple[str, str]]  # (version, pipeline id)
    status: EntityStatus = "Active"


class StepRun(Record):
    run_id: str
    run_number: int
    node_id: str
    name: str
    script: str
    timeline: Timeline
    error: str | None = None

    def status_at(self, offset: float) -> str:
        return self.timeline.status_at(offset)


class PipelineRun(Record):
    run_id: str
    run_number: int
    root_run_id: str
    experiment_name: str
    pipeline_id: str
    graph_id: str
    description: str
    parameters: dict[str, str]
    tags: dict[str, str]
    properties: dict[str, str]
    submitted_at: float
    timeline: Timeline
    steps: dict[str, StepRun]  # by node id, in execution order
    failed_node_id: str | None = None
    cancel_duration: float
    submission: Submission
    executed: bool = False  # its steps run as local processes (--execute), not on a planned timeline
    run_error: str | None = None  # why the run failed when no step did (an executed run interrupted)

    @property
    def parent_run_id(self) -> str | None:
        return self.submission.parent_run_id

    def error_message(self) -> str | None:
        """The root run's error: names the failing step and repeats its message."""
        if self.failed_node_id is None:
            return self.run_error
        step = self.steps[self.failed_node_id]
        return f"Pipeline run failed because step '{step.name}' (run {step.run_id}) failed: {step.error}"


class State(Record):
    """Everything the ``--state`` file holds."""

    pipelines: dict[str, Pipeline] = {}
    endpoints: dict[str, Endpoint] = {}
    schedules: dict[str, Schedule] = {}
    runs: dict[str, PipelineRun] = {}
    run_numbers: dict[str, int] = {}  # next run number by experiment
    default_durations: Durations = Field(default_factory=Durations)
    time: SimulatedTime = Field(default_factory=SimulatedTime)
    catalog: CatalogState = Field(default_factory=CatalogState)


class ArtifactFile(BaseModel):
    origin: str
    container: str
    path: str
    content: str


def node_id_for(pipeline_id: str, step_name: str) -> str:
    """A stable 8-hex node id, like the SDK's, for steps declared without one."""
    return hashlib.sha256(f"{pipeline_id}/{step_name}".encode()).hexdigest()[:8]


def experiment_id(experiment_name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"azureml-emulator/experiments/{experiment_name}"))


def _same_value(actual: str | None, expected: str) -> bool:
    if actual is None:
        return False
    try:
        return float(actual) == float(expected)
    except ValueError:
        return actual == expected


def build_graph(graph_id: str, steps: Iterable[StepDef]) -> dict[str, Any]:
    """A ``GraphEntity`` for a declared pipeline: one module node per step, an edge per dependency."""
    steps = list(steps)
    by_name = {step.name: step for step in steps}
    nodes = [
        {
            "Id": step.node_id,
            "ModuleId": node_id_for(graph_id, step.name),
            "Comment": step.name,
            "ModuleParameters": [
                {"Name": "Script", "Value": step.script, "ValueType": "0"},
                {"Name": "StepType", "Value": step.step_type, "ValueType": "0"},
            ],
        }
        for step in steps
    ]
    edges = [
        {
            "SourceOutputPort": {"NodeId": by_name[dependency].node_id, "PortName": "output"},
            "DestinationInputPort": {"NodeId": step.node_id, "PortName": "input"},
        }
        for step in steps
        for dependency in step.depends_on
    ]
    return {"Id": graph_id, "ModuleNodes": nodes, "DatasetNodes": [], "SubGraphNodes": [], "Edges": edges}
