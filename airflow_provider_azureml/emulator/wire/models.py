"""Wire models with the services' exact key casing (msrest matches keys case-sensitively).

AEVA (pipelines) is PascalCase except ``tags`` and the correlation keys; run history, artifacts and ARM
are camelCase. Request models validate bodies; response models are returned by the routers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
)
from pydantic.alias_generators import to_camel, to_pascal

from airflow_provider_azureml.emulator.state.records import EntityStatus
from airflow_provider_azureml.emulator.state.seed import Scalar, scalar_text

EMULATOR_USER_ID = "00000000-0000-0000-0000-00000000e0e0"


class AevaModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True)


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# -- requests -------------------------------------------------------------------------------------------
LEGACY_ENTITY_STATUS: dict[str, EntityStatus] = {"0": "Active", "1": "Deprecated", "2": "Disabled"}


def _legacy_status(value: object) -> object:
    """A legacy status code as its name; anything else is left for ``EntityStatus`` to judge."""
    return LEGACY_ENTITY_STATUS.get(value, value) if isinstance(value, str) else value


Status = Annotated[EntityStatus, BeforeValidator(_legacy_status)]
Objects = list[dict[str, Any]] | None


class _Shape(BaseModel):
    """What the emulator reads of a body it keeps as sent, typed; every other key is let through.

    Checked at the edge (:func:`kept_as_sent`), so that a node that is not an object, or a list where a
    string goes, is a 400 naming its place instead of a failure deep in the backend or at execution.
    """

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False, extra="allow")


class ModuleNodeShape(_Shape):
    id: str
    module_parameters: Objects = None
    module_output_settings: Objects = None


class EdgeShape(_Shape):
    source_output_port: dict[str, Any] | None = None
    destination_input_port: dict[str, Any] | None = None


class GraphShape(_Shape):
    """The ``GraphEntity`` of ``Pipelines/Create``: nodes and edges give the steps and their folders."""

    module_nodes: list[ModuleNodeShape] | None = None
    dataset_nodes: Objects = None
    edges: list[EdgeShape] | None = None


class GraphParameterShape(_Shape):
    name: str = Field(min_length=1)


class GraphInterfaceShape(_Shape):
    parameters: list[GraphParameterShape] | None = None


class StructuredInterfaceShape(_Shape):
    inputs: Objects = None
    outputs: Objects = None
    parameters: Objects = None
    metadata_parameters: Objects = None
    arguments: Objects = None


class ModuleCreationShape(_Shape):
    """``ModuleCreationInfo``: its snapshot, its reuse hash, and the interface a step is resolved from."""

    storage_id: str | None = None
    identifier_hash: str | None = None
    structured_interface: StructuredInterfaceShape | None = None


class DataSourceCreationShape(_Shape):
    identifier_hash: str | None = None


class DirTreeNodeShape(BaseModel):
    """A snapshot's ``DirTreeNode`` (camelCase on the wire): its ``children`` by name are nodes too."""

    model_config = ConfigDict(extra="allow")

    children: dict[str, DirTreeNodeShape] | None = None


def kept_as_sent(shape: type[BaseModel]) -> AfterValidator:
    """A JSON object checked against ``shape`` and then kept as it came: the emulator stores and echoes it."""

    def check(value: dict[str, Any]) -> dict[str, Any]:
        shape.model_validate(value)
        return value

    return AfterValidator(check)


class DataPathAssignment(AevaModel):
    """A ``DataPath`` parameter's value in ``DataPathAssignments``."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False, extra="allow")

    data_store_name: str = Field(min_length=1)
    relative_path: str = ""


class PipelineSubmissionInfo(AevaModel):
    """Body of ``PipelineSubmit`` and ``PipelineEndpointSubmit`` (``pipeline_submission_info.py``).

    Keys must be PascalCase, as the SDK sends them: a snake_case or camelCase key is not recognised.
    """

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False)

    experiment_name: str = Field(min_length=1)
    description: str | None = None
    run_source: str | None = None
    run_type: str | None = None
    parameter_assignments: dict[str, Scalar] = {}
    data_path_assignments: dict[str, DataPathAssignment] = {}
    data_set_definition_value_assignments: dict[str, Any] = {}
    continue_run_on_step_failure: bool | None = None
    enable_notification: bool | None = None
    schedule_id: str | None = None
    tags: dict[str, str] | None = Field(default=None, alias="tags")
    properties: dict[str, str] | None = None

    @field_validator("experiment_name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("ExperimentName must not be blank")
        return value

    def parameters_text(self) -> dict[str, str]:
        return {name: scalar_text(value) for name, value in self.parameter_assignments.items()}


class RecurrencePattern(AevaModel):
    """``RecurrenceSchedule``: the hours x minutes of each day, and the week days of a weekly one."""

    hours: list[int] | None = None
    minutes: list[int] | None = None
    week_days: list[str] | None = None


class RecurrenceInfo(AevaModel):
    """``Recurrence`` (``models/recurrence.py``): ``StartTime`` naive, ``TimeZone`` a Windows zone id."""

    frequency: str
    interval: int
    start_time: str | None = None
    time_zone: str | None = None
    schedule: RecurrencePattern | None = None


class DataStoreTriggerInfo(AevaModel):
    """``DataStoreTriggerInfo``: the datastore folder a datastore schedule polls every few minutes."""

    data_store_name: str | None = None
    polling_interval: int = 5
    data_path_parameter_name: str | None = None
    path_on_data_store: str | None = None


class ScheduleCreationInfo(AevaModel):
    """Body of ``Schedules/Create`` (``models/schedule_creation_info.py``). ``ScheduleType`` is a string:
    ``"0"``/``"Recurrence"`` or ``"1"``/``"DataStore"``."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False)

    name: str | None = None
    pipeline_id: str | None = None
    pipeline_endpoint_id: str | None = None
    pipeline_submission_info: PipelineSubmissionInfo
    recurrence: RecurrenceInfo | None = None
    schedule_type: str | None = None
    data_store_trigger_info: DataStoreTriggerInfo | None = None


class ScheduleUpdateBody(ScheduleCreationInfo):
    """Body of ``PUT Schedules/{id}``: the whole entity as read, with the SDK's edits (``EntityStatus``)."""

    entity_status: Status = "Active"


class QueryParams(CamelModel):
    """Body of ``runs:query`` (``QueryParamsDto``)."""

    filter: str | None = None
    continuation_token: str | None = None
    orderby: str | None = None
    top: int | None = Field(default=None, ge=1)


class PipelineCreationInfo(AevaModel):
    """Body of ``Pipelines/Create`` (``pipeline_creation_info.py``); the graph is kept as sent."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False)

    name: str = Field(min_length=1)
    description: str | None = None
    version: str | None = None
    graph: Annotated[dict[str, Any], kept_as_sent(GraphShape)]
    graph_interface: Annotated[dict[str, Any], kept_as_sent(GraphInterfaceShape)] | None = None
    continue_run_on_step_failure: bool | None = None
    properties: dict[str, str] | None = None
    tags: dict[str, str] | None = Field(default=None, alias="tags")

    def interface_parameters(self) -> list[dict[str, Any]]:
        return list((self.graph_interface or {}).get("Parameters") or [])


class PipelineEndpointCreationInfo(AevaModel):
    """Body of ``PipelineEndpoints/Create``
    (``azureml.pipeline.core._aeva_provider._AevaPipelineEndpointProvider.create_pipeline_endpoint``)."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False)

    name: str = Field(min_length=1)
    description: str | None = None
    pipeline_id: str = Field(min_length=1)
    properties: dict[str, Any] | None = None


class PipelineVersionIn(AevaModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False)

    version: str
    pipeline_id: str


class PipelineEndpointUpdateBody(AevaModel):
    """Body of ``PUT PipelineEndpoints/{id}``: the whole entity echoed back with the SDK's edits."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False)

    name: str = Field(min_length=1)
    description: str | None = None
    default_version: str
    pipeline_version_list: list[PipelineVersionIn] = Field(min_length=1)
    entity_status: Status = "Active"


class GetBlobRequest(AevaModel):
    """Body of content ``snapshots/getblob``: the files about to be uploaded, relative, ``/``-separated."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False)

    file_names: list[str]


class FileNodeIn(AevaModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False)

    full_name: str
    blob_uri: str
    file_size: int | None = None


class FileRevisionList(AevaModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False)

    file_nodes: list[FileNodeIn] = []


class SnapshotCreation(AevaModel):
    """Body of content ``POST snapshots/{id}``
    (``azureml._restclient.snapshots_client.SnapshotsClient.create_snapshot``)."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False)

    parent_snapshot_id: str | None = None
    tags: dict[str, str] | None = None
    properties: dict[str, str] | None = None
    dir_tree_node: Annotated[dict[str, Any], kept_as_sent(DirTreeNodeShape)]
    file_revision_list: FileRevisionList = FileRevisionList()


NodeIds = TypeAdapter(list[str])
ModuleCreation = TypeAdapter(Annotated[dict[str, Any], kept_as_sent(ModuleCreationShape)])
DataSourceCreation = TypeAdapter(Annotated[dict[str, Any], kept_as_sent(DataSourceCreationShape)])
#: Body of ``PUT Pipelines/{id}/status``: a JSON string, a name or a legacy code.
StatusBody = TypeAdapter(Status)


# -- AEVA responses -------------------------------------------------------------------------------------
class PipelineEntity(AevaModel):
    id: str
    name: str
    description: str
    version: str | None
    graph_id: str
    total_run_steps: int
    parameter_assignments: dict[str, str]
    data_set_definition_value_assignments: dict[str, Any] = {}
    url: str
    entity_status: str
    continue_run_on_step_failure: bool
    enable_notification: bool | None = None
    properties: dict[str, Any] = {}
    etag: str
    created_date: datetime
    last_modified_date: datetime


class PipelineVersion(AevaModel):
    version: str
    pipeline_id: str


class PipelineEndpointEntity(AevaModel):
    id: str
    name: str
    description: str
    default_version: str
    pipeline_version_list: list[PipelineVersion]
    url: str
    swagger_url: str
    entity_status: str
    properties: dict[str, Any] = {}
    tags: dict[str, Any] = Field(default={}, alias="tags")
    etag: str
    created_date: datetime
    last_modified_date: datetime


class PipelineScheduleEntity(AevaModel):
    """``PipelineScheduleEntity``: the creation body echoed, with the service's id, status and etag."""

    id: str
    name: str | None
    pipeline_id: str | None
    pipeline_endpoint_id: str | None
    provisioning_status: str = "Completed"
    pipeline_submission_info: dict[str, Any]
    recurrence: RecurrenceInfo | None
    data_store_trigger_info: DataStoreTriggerInfo | None
    schedule_type: str
    entity_status: str
    etag: str
    created_date: datetime
    last_modified_date: datetime


class FileNode(CamelModel):
    full_name: str
    blob_uri: str


class FileNodeList(CamelModel):
    """Answer of content ``snapshots/getblob``: where to upload each file (camelCase; read by
    ``azureml._restclient.snapshots_client.SnapshotsClient._upload_snapshot_files``)."""

    file_nodes: list[FileNode]


class SnapshotDto(CamelModel):
    id: str
    parent_snapshot_id: str | None


class LatestSnapshot(BaseModel):
    """Answer of ``snapshots/latest/metadata``: an empty ``root`` means there is no parent."""

    id: str | None
    root: dict[str, Any]


class PipelineRunStatus(AevaModel):
    status_code: str
    status_detail: str | None = None
    creation_time: datetime
    end_time: datetime | None = None


class PipelineRunEntity(AevaModel):
    id: str
    description: str
    graph_id: str
    pipeline_id: str
    run_history_experiment_name: str
    is_submitted: bool = True
    has_errors: bool
    has_warnings: bool = False
    upload_state: str = "Completed"
    parameter_assignments: dict[str, str]
    data_set_definition_value_assignments: dict[str, Any] = {}
    run_source: str = "SDK"
    run_type: str = "SDK"
    total_run_steps: int
    schedule_id: str | None = None
    status: PipelineRunStatus
    tags: dict[str, str] = Field(alias="tags")
    properties: dict[str, str]
    entity_status: str = "Active"
    etag: str
    created_date: datetime
    last_modified_date: datetime


class TaskStatus(AevaModel):
    status_code: str
    status_detail: str | None = None
    creation_time: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    run_id: str | None = None


class InterfaceParameter(AevaModel):
    name: str
    default_value: str
    is_optional: bool = True
    type: str


class EntityInterface(AevaModel):
    parameters: list[InterfaceParameter]
    metadata_parameters: list[InterfaceParameter] = []
    data_path_parameters: list[Any] = []
    data_path_parameter_list: list[Any] = []


class EchoedEntity(AevaModel):
    """An entity echoing the keys it was created with (kept as sent, ``extra``) beside the service's own."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="allow")

    id: str
    upload_state: str = "Completed"
    entity_status: str = "Active"
    etag: str
    created_date: datetime
    last_modified_date: datetime


class ModuleEntity(EchoedEntity):
    structured_interface: dict[str, Any]
    tags: dict[str, str] = Field(alias="tags")


class DataSourceEntity(EchoedEntity):
    pass


class ModuleParameter(AevaModel):
    name: str | None
    default_value: Any
    is_optional: bool
    type: Any


class InputPort(AevaModel):
    name: str | None
    data_types_ids: list[str]
    is_optional: bool


class OutputPort(AevaModel):
    name: str | None
    data_type_id: str | None


class Ports(AevaModel):
    inputs: list[InputPort]
    outputs: list[OutputPort]


class ModuleInterface(AevaModel):
    """The ``EntityInterface`` of a module: the SDK iterates its parameter and port lists."""

    parameters: list[ModuleParameter]
    metadata_parameters: list[ModuleParameter]
    ports: Ports
    data_path_parameters: list[Any] = []
    data_path_parameter_list: list[Any] = []


class ModuleAnswer(AevaModel):
    data: ModuleEntity
    interface: ModuleInterface


class DataTypeEntity(AevaModel):
    id: str
    name: str
    description: str = ""
    is_directory: bool = False
    parent_data_type_ids: list[str] = []
    entity_status: str = "Active"


class AevaErrorDetail(AevaModel):
    code: str
    message: str
    target: str | None = None


class AevaRootError(AevaModel):
    code: str
    message: str
    target: str | None = None
    details: list[AevaErrorDetail] = []
    inner_error: dict[str, Any] | None = None


class AevaErrorResponse(AevaModel):
    error: AevaRootError
    correlation: dict[str, str]


# -- run history and artifacts --------------------------------------------------------------------------
class RootError(CamelModel):
    code: str
    message: str
    target: str | None = None
    details: list[RootError] = []
    inner_error: dict[str, Any] | None = None


class ErrorResponse(CamelModel):
    """Run history's ``ErrorResponse``: also the shape of a run's ``error`` field."""

    error: RootError
    correlation: dict[str, str] | None = None


class ExperimentDto(CamelModel):
    experiment_id: str
    name: str
    description: str | None = None
    created_utc: datetime | None = None
    tags: dict[str, str] = {}


class RunDto(CamelModel):
    run_id: str
    root_run_id: str
    parent_run_id: str | None = None
    run_number: int
    experiment_id: str
    status: str
    run_type: str
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    target: str | None = None
    tags: dict[str, str]
    properties: dict[str, str]
    data_container_id: str
    created_utc: datetime
    start_time_utc: datetime | None = None
    end_time_utc: datetime | None = None
    hidden: bool = False
    created_by: dict[str, str] = {"userName": "emulator", "userObjectId": EMULATOR_USER_ID}
    error: ErrorResponse | None = None
    warnings: list[Any] = []


class RunDetailsDto(CamelModel):
    run_id: str
    target: str | None = None
    status: str
    start_time_utc: datetime | None = None
    end_time_utc: datetime | None = None
    error: ErrorResponse | None = None
    warnings: list[Any] = []
    properties: dict[str, str]
    input_datasets: list[Any] = []
    output_datasets: list[Any] = []
    run_definition: dict[str, Any] = {}
    log_files: dict[str, str] = {}


class RunPage(CamelModel):
    value: list[RunDto]
    continuation_token: str | None = None


class ArtifactContentInfo(CamelModel):
    origin: str
    container: str
    path: str
    content_uri: str


class ArtifactContentInfoPage(CamelModel):
    value: list[ArtifactContentInfo]
    continuation_token: str | None = None


class ArtifactDto(CamelModel):
    artifact_id: str
    origin: str
    container: str
    path: str
    etag: str | None = None
    created_time: datetime | None = None


class ArtifactPage(CamelModel):
    value: list[ArtifactDto]
    continuation_token: str | None = None


# -- ARM ------------------------------------------------------------------------------------------------
class WorkspaceProperties(CamelModel):
    friendly_name: str
    discovery_url: str
    workspace_id: str
    provisioning_state: str = "Succeeded"


class ArmWorkspace(CamelModel):
    id: str
    name: str
    type: str = "Microsoft.MachineLearningServices/workspaces"
    location: str
    properties: WorkspaceProperties


class AzureStorageSection(CamelModel):
    account_name: str
    container_name: str
    endpoint: str = "core.windows.net"
    protocol: str = "https"
    credential_type: str = "None"
    is_sas: bool = False
    subscription_id: str
    resource_group: str


class DataStoreDto(CamelModel):
    name: str
    data_store_type: str = "AzureBlob"
    has_been_validated: bool = True
    tags: dict[str, str] = {}
    azure_storage_section: AzureStorageSection
