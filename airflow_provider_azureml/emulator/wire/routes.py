"""Every route the emulator serves on the Azure surface, declared by the emulator alone.

The client has its own table; neither imports the other, so a wrong template cannot be wrong on both
sides at once. ``tests/test_sdk_routes.py`` holds both tables to the SDK: each template must equal the
``metadata['url']`` of the SDK operation that declares it (placeholder names aside) with the same HTTP
method, or the URL that the SDK function cited beside it builds by hand. The few routes that are the
emulator's own (discovery's address, the Studio page, the blob container) say so.

Names are the fault injector's and request counter's route names (``GET_PIPELINE_RUN``). Templates use
``{name}`` placeholders, which FastAPI reads as path parameters (``{name:path}`` keeps slashes).
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote

SCOPE = (
    "/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
    "/providers/Microsoft.MachineLearningServices/workspaces/{workspace_name}"
)
AEVA_ROOT = "/pipelines/v1.0"
AEVA = AEVA_ROOT + SCOPE
HISTORY = "/history/v1.0" + SCOPE
ARTIFACT = "/artifact/v2.0" + SCOPE
CONTENT_V1 = "/content/v1.0" + SCOPE
CONTENT_V2 = "/content/v2.0" + SCOPE
DATASTORE = "/datastore/v1.0" + SCOPE
#: The container the content service hands out upload URLs for (the emulator's own choice).
SNAPSHOT_CONTAINER = "snapshots"


class Route(NamedTuple):
    """A method and path template; ``host`` says which of the emulator's hosts serves it."""

    host: str  # "azure" (the REST surface), "blob" (storage, behind the CONNECT proxy), "browser"
    method: str
    template: str

    def path(self, **params: object) -> str:
        """The template with each value percent-encoded (``{name:path}`` values keep their slashes)."""
        template, values = self.template, {}
        for key, value in params.items():
            is_path = "{" + key + ":path}" in template
            template = template.replace("{" + key + ":path}", "{" + key + "}")
            values[key] = quote(str(value), safe="/" if is_path else "")
        return template.format(**values)


# Workspace and discovery. ARM: azureml._restclient.operations.workspaces_operations.WorkspacesOperations.get
ARM_WORKSPACE = Route("azure", "GET", SCOPE)
# The emulator's own address: the SDK reads whatever ``discoveryUrl`` the ARM workspace answer names.
DISCOVERY = Route("azure", "GET", "/discovery")
# The emulator's own Studio-like page, where run links of an emulated workspace lead.
STUDIO_RUN = Route("browser", "GET", "/runs/{run_id}")

# Pipelines (AEVA), all declared by azureml.pipeline.core._restclients.aeva.aml_pipelines_api10.
DATA_TYPES = Route("azure", "GET", AEVA + "/DataTypes")
CREATE_DATA_TYPE = Route("azure", "POST", AEVA + "/DataTypes")
LIST_PIPELINES = Route("azure", "GET", AEVA + "/Pipelines")
GET_PIPELINE = Route("azure", "GET", AEVA + "/Pipelines/{pipeline_id}")
SET_PIPELINE_STATUS = Route("azure", "PUT", AEVA + "/Pipelines/{pipeline_id}/status")
CREATE_PIPELINE = Route("azure", "POST", AEVA + "/Pipelines/Create")
GET_GRAPH = Route("azure", "GET", AEVA + "/Graphs/{graph_id}")
GET_GRAPH_INTERFACE = Route("azure", "GET", AEVA + "/Graphs/{graph_id}/Interface")
SUBMIT_PIPELINE = Route("azure", "POST", AEVA + "/PipelineRuns/PipelineSubmit/{pipeline_id}")
SUBMIT_ENDPOINT = Route("azure", "POST", AEVA + "/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}")
# Built by hand in the endpoint submit operation: it appends ``/{pipeline_version}`` when one is given.
SUBMIT_ENDPOINT_VERSION = Route(
    "azure", "POST", AEVA + "/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}/{pipeline_version}"
)
GET_PIPELINE_RUN = Route("azure", "GET", AEVA + "/PipelineRuns/{run_id}")
CANCEL_PIPELINE_RUN = Route("azure", "DELETE", AEVA + "/PipelineRuns/{run_id}/Execution")
PIPELINE_RUNS_OF_PIPELINE = Route("azure", "GET", AEVA + "/PipelineRuns/Pipeline/{pipeline_id}")
NODE_STATUS = Route("azure", "POST", AEVA + "/PipelineRuns/{run_id}/Graph/Node/StatusCode")
ALL_NODES_STATUS = Route("azure", "POST", AEVA + "/PipelineRuns/{run_id}/Graph/AllNodes/Status")
LIST_ENDPOINTS = Route("azure", "GET", AEVA + "/PipelineEndpoints")
GET_ENDPOINT = Route("azure", "GET", AEVA + "/PipelineEndpoints/Id/{endpoint_id}")
GET_ENDPOINT_BY_NAME = Route("azure", "GET", AEVA + "/PipelineEndpoints/Name")
CREATE_ENDPOINT = Route("azure", "POST", AEVA + "/PipelineEndpoints/Create")
UPDATE_ENDPOINT = Route("azure", "PUT", AEVA + "/PipelineEndpoints/{endpoint_id}")
ENDPOINT_PIPELINES = Route("azure", "GET", AEVA + "/PipelineEndpoints/{endpoint_id}/pipelines")
MODULE_BY_HASH = Route("azure", "GET", AEVA + "/Modules/Hash/{identifier_hash}")
CREATE_MODULE = Route("azure", "POST", AEVA + "/Modules")
GET_MODULE = Route("azure", "GET", AEVA + "/Modules/{module_id}")
DATA_SOURCE_BY_HASH = Route("azure", "GET", AEVA + "/DataSources/Hash/{identifier_hash}")
CREATE_DATA_SOURCE = Route("azure", "POST", AEVA + "/DataSources")
GET_DATA_SOURCE = Route("azure", "GET", AEVA + "/DataSources/{data_source_id}")
CREATE_SCHEDULE = Route("azure", "POST", AEVA + "/Schedules/Create")
GET_SCHEDULE = Route("azure", "GET", AEVA + "/Schedules/{schedule_id}")
UPDATE_SCHEDULE = Route("azure", "PUT", AEVA + "/Schedules/{schedule_id}")
LIST_SCHEDULES = Route("azure", "GET", AEVA + "/Schedules")
SCHEDULES_OF_PIPELINE = Route("azure", "GET", AEVA + "/Schedules/Pipeline/{pipeline_id}")
SCHEDULES_OF_ENDPOINT = Route("azure", "GET", AEVA + "/Schedules/PipelineEndpoint/{endpoint_id}")
RUNS_OF_SCHEDULE = Route("azure", "GET", AEVA + "/PipelineRuns/Schedule/{schedule_id}")
LAST_RUN_OF_SCHEDULE = Route("azure", "GET", AEVA + "/PipelineRuns/Schedule/{schedule_id}/Last")

# Run history, declared by azureml._restclient.operations.run_operations.RunOperations.
GET_RUN = Route("azure", "GET", HISTORY + "/experiments/{experiment_name}/runs/{run_id}")
GET_RUN_DETAILS = Route("azure", "GET", HISTORY + "/experiments/{experiment_name}/runs/{run_id}/details")
GET_RUN_CHILDREN = Route("azure", "GET", HISTORY + "/experiments/{experiment_name}/runs/{run_id}/children")
QUERY_RUNS = Route("azure", "POST", HISTORY + "/experiments/{experiment_name}/runs:query")
# What ``Schedule.get_pipeline_runs()`` reads to build each ``PipelineRun``: the experiment
# (azureml._restclient.operations.experiment_operations.ExperimentOperations.get) and the run by
# experiment id (RunOperations.get_by_exp_id).
GET_EXPERIMENT = Route("azure", "GET", HISTORY + "/experiments/{experiment_name}")
GET_RUN_BY_EXPERIMENT_ID = Route("azure", "GET", HISTORY + "/experimentids/{experiment_id}/runs/{run_id}")

# Artifacts: azureml._restclient.operations.artifact_operations.ArtifactOperations.
LIST_ARTIFACTS = Route(
    "azure", "GET", ARTIFACT + "/artifacts/prefix/contentinfo/{origin}/{container}/{prefix:path}"
)
GET_ARTIFACT_CONTENT = Route(
    "azure", "GET", ARTIFACT + "/artifacts/content/{origin}/{container}/{artifact_path:path}"
)
LIST_ARTIFACT_CONTAINER = Route("azure", "GET", ARTIFACT + "/artifacts/{origin}/{container}")

# Snapshots: the latest-metadata route is declared by azureml._restclient.operations.snapshot_operations;
# the other two are built by hand in azureml._restclient.snapshots_client.SnapshotsClient.
SNAPSHOT_LATEST_METADATA = Route("azure", "GET", CONTENT_V1 + "/snapshots/latest/metadata")
SNAPSHOT_GET_BLOB = Route("azure", "POST", CONTENT_V2 + "/snapshots/getblob")
CREATE_SNAPSHOT = Route("azure", "POST", CONTENT_V2 + "/snapshots/{snapshot_id}")

# Datastores: azureml._restclient.operations.data_stores_operations.DataStoresOperations.
DEFAULT_DATASTORE = Route("azure", "GET", DATASTORE + "/default")
GET_DATASTORE = Route("azure", "GET", DATASTORE + "/datastores/{datastore_name}")

# Blob storage for snapshot uploads, at the upload URLs the content service hands out (the emulator's own
# container; the SDK reaches it only as https://{account}.blob.{suffix}, through the CONNECT proxy).
PUT_SNAPSHOT_BLOB = Route("blob", "PUT", f"/{SNAPSHOT_CONTAINER}/{{blob_name:path}}")
HEAD_SNAPSHOT_BLOB = Route("blob", "HEAD", f"/{SNAPSHOT_CONTAINER}/{{blob_name:path}}")

#: Every route by name.
ROUTES: dict[str, Route] = {
    name: value for name, value in dict(globals()).items() if isinstance(value, Route)
}
