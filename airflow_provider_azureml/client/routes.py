"""Every Azure ML route this project calls or emulates, in one table.

Templates use ``{name}`` placeholders, which FastAPI reads as path parameters, so the emulator mounts
the very same strings the client formats, and the client recognises a URL by the same strings too
(:func:`match_route`). ``service`` names the discovery key whose host serves it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import NamedTuple
from urllib.parse import quote, unquote

SCOPE = (
    "/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
    "/providers/Microsoft.MachineLearningServices/workspaces/{workspace_name}"
)
AEVA = "/pipelines/v1.0" + SCOPE
HISTORY = "/history/v1.0" + SCOPE
ARTIFACT = "/artifact/v2.0" + SCOPE
CONTENT_V1 = "/content/v1.0" + SCOPE
CONTENT_V2 = "/content/v2.0" + SCOPE
DATASTORE = "/datastore/v1.0" + SCOPE
ARM_API_VERSION = "2020-06-01"


class Route(NamedTuple):
    service: str  # "arm", "discovery", "api" (pipelines), "history" (run history, artifacts, content), "blob"
    method: str
    template: str

    def path(self, **params: object) -> str:
        """Format the template, percent-encoding each value (``{name:path}`` values keep their slashes)."""
        template, values = self.template, {}
        for key, value in params.items():
            is_path = "{" + key + ":path}" in template
            template = template.replace("{" + key + ":path}", "{" + key + "}")
            values[key] = quote(str(value), safe="/" if is_path else "")
        return template.format(**values)

    def match(self, path: str) -> dict[str, str] | None:
        """The parameters, percent-decoded, if the URL path ``path`` (as sent: encoded) is this route's.

        Matched before decoding, so an encoded ``/`` (``%2F``) stays inside its segment, as the service
        reads it.
        """
        found = _pattern(self.template).fullmatch(path)
        return None if found is None else {name: unquote(value) for name, value in found.groupdict().items()}


_PLACEHOLDER = re.compile(r"\{(\w+)(:path)?\}")


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """The template as a regex: ``{name}`` is one path segment, ``{name:path}`` the rest; all else literal."""
    parts, end = [], 0
    for placeholder in _PLACEHOLDER.finditer(template):
        name, is_path = placeholder.groups()
        parts.append(re.escape(template[end : placeholder.start()]))
        parts.append(f"(?P<{name}>{'.+' if is_path else '[^/]+'})")
        end = placeholder.end()
    return re.compile("".join([*parts, re.escape(template[end:])]))


def match_route(path: str, candidates: Iterable[Route]) -> tuple[Route, dict[str, str]] | None:
    """Which of ``candidates`` the URL path ``path`` is, with its decoded parameters; None if none."""
    for route in candidates:
        params = route.match(path)
        if params is not None:
            return route, params
    return None


ARM_WORKSPACE = Route("arm", "GET", SCOPE)
DISCOVERY = Route("discovery", "GET", "/discovery")
#: The Studio run page; the hook links here, at the endpoint override's origin for the emulator.
STUDIO_RUN = Route("studio", "GET", "/runs/{run_id}")

# Pipelines (AEVA, PascalCase JSON, HTTP 200 only).
DATA_TYPES = Route("api", "GET", AEVA + "/DataTypes")
CREATE_DATA_TYPE = Route("api", "POST", AEVA + "/DataTypes")
LIST_PIPELINES = Route("api", "GET", AEVA + "/Pipelines")
GET_PIPELINE = Route("api", "GET", AEVA + "/Pipelines/{pipeline_id}")
SET_PIPELINE_STATUS = Route("api", "PUT", AEVA + "/Pipelines/{pipeline_id}/status")
CREATE_PIPELINE = Route("api", "POST", AEVA + "/Pipelines/Create")
GET_GRAPH = Route("api", "GET", AEVA + "/Graphs/{graph_id}")
GET_GRAPH_INTERFACE = Route("api", "GET", AEVA + "/Graphs/{graph_id}/Interface")
SUBMIT_PIPELINE = Route("api", "POST", AEVA + "/PipelineRuns/PipelineSubmit/{pipeline_id}")
SUBMIT_ENDPOINT = Route("api", "POST", AEVA + "/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}")
SUBMIT_ENDPOINT_VERSION = Route(
    "api", "POST", AEVA + "/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}/{pipeline_version}"
)
GET_PIPELINE_RUN = Route("api", "GET", AEVA + "/PipelineRuns/{run_id}")
#: What a published pipeline's or endpoint's ``Url`` (its REST endpoint) is a route of.
SUBMIT_ROUTES = (SUBMIT_PIPELINE, SUBMIT_ENDPOINT, SUBMIT_ENDPOINT_VERSION)
CANCEL_PIPELINE_RUN = Route("api", "DELETE", AEVA + "/PipelineRuns/{run_id}/Execution")
PIPELINE_RUNS_OF_PIPELINE = Route("api", "GET", AEVA + "/PipelineRuns/Pipeline/{pipeline_id}")
NODE_STATUS = Route("api", "POST", AEVA + "/PipelineRuns/{run_id}/Graph/Node/StatusCode")
ALL_NODES_STATUS = Route("api", "POST", AEVA + "/PipelineRuns/{run_id}/Graph/AllNodes/Status")
LIST_ENDPOINTS = Route("api", "GET", AEVA + "/PipelineEndpoints")
GET_ENDPOINT = Route("api", "GET", AEVA + "/PipelineEndpoints/Id/{endpoint_id}")
GET_ENDPOINT_BY_NAME = Route("api", "GET", AEVA + "/PipelineEndpoints/Name")
CREATE_ENDPOINT = Route("api", "POST", AEVA + "/PipelineEndpoints/Create")
UPDATE_ENDPOINT = Route("api", "PUT", AEVA + "/PipelineEndpoints/{endpoint_id}")
ENDPOINT_PIPELINES = Route("api", "GET", AEVA + "/PipelineEndpoints/{endpoint_id}/pipelines")
MODULE_BY_HASH = Route("api", "GET", AEVA + "/Modules/Hash/{identifier_hash}")
CREATE_MODULE = Route("api", "POST", AEVA + "/Modules")
GET_MODULE = Route("api", "GET", AEVA + "/Modules/{module_id}")
DATA_SOURCE_BY_HASH = Route("api", "GET", AEVA + "/DataSources/Hash/{identifier_hash}")
CREATE_DATA_SOURCE = Route("api", "POST", AEVA + "/DataSources")
GET_DATA_SOURCE = Route("api", "GET", AEVA + "/DataSources/{data_source_id}")
# Pipeline schedules (``azureml.pipeline.core.Schedule``).
CREATE_SCHEDULE = Route("api", "POST", AEVA + "/Schedules/Create")
GET_SCHEDULE = Route("api", "GET", AEVA + "/Schedules/{schedule_id}")
UPDATE_SCHEDULE = Route("api", "PUT", AEVA + "/Schedules/{schedule_id}")
LIST_SCHEDULES = Route("api", "GET", AEVA + "/Schedules")
SCHEDULES_OF_PIPELINE = Route("api", "GET", AEVA + "/Schedules/Pipeline/{pipeline_id}")
SCHEDULES_OF_ENDPOINT = Route("api", "GET", AEVA + "/Schedules/PipelineEndpoint/{endpoint_id}")
RUNS_OF_SCHEDULE = Route("api", "GET", AEVA + "/PipelineRuns/Schedule/{schedule_id}")
LAST_RUN_OF_SCHEDULE = Route("api", "GET", AEVA + "/PipelineRuns/Schedule/{schedule_id}/Last")

# Run history (camelCase JSON).
GET_RUN = Route("history", "GET", HISTORY + "/experiments/{experiment_name}/runs/{run_id}")
GET_RUN_DETAILS = Route("history", "GET", HISTORY + "/experiments/{experiment_name}/runs/{run_id}/details")
GET_RUN_CHILDREN = Route("history", "GET", HISTORY + "/experiments/{experiment_name}/runs/{run_id}/children")
QUERY_RUNS = Route("history", "POST", HISTORY + "/experiments/{experiment_name}/runs:query")
GET_EXPERIMENT = Route("history", "GET", HISTORY + "/experiments/{experiment_name}")
GET_RUN_BY_EXPERIMENT_ID = Route("history", "GET", HISTORY + "/experimentids/{experiment_id}/runs/{run_id}")

# Artifacts and snapshot content.
LIST_ARTIFACTS = Route(
    "history", "GET", ARTIFACT + "/artifacts/prefix/contentinfo/{origin}/{container}/{prefix:path}"
)
GET_ARTIFACT_CONTENT = Route(
    "history", "GET", ARTIFACT + "/artifacts/content/{origin}/{container}/{artifact_path:path}"
)
LIST_ARTIFACT_CONTAINER = Route("history", "GET", ARTIFACT + "/artifacts/{origin}/{container}")
SNAPSHOT_LATEST_METADATA = Route("history", "GET", CONTENT_V1 + "/snapshots/latest/metadata")
SNAPSHOT_GET_BLOB = Route("history", "POST", CONTENT_V2 + "/snapshots/getblob")
CREATE_SNAPSHOT = Route("history", "POST", CONTENT_V2 + "/snapshots/{snapshot_id}")

# Datastores (camelCase JSON): what ``Workspace.get_default_datastore()`` reads while building a pipeline.
DEFAULT_DATASTORE = Route("history", "GET", DATASTORE + "/default")
GET_DATASTORE = Route("history", "GET", DATASTORE + "/datastores/{datastore_name}")

# Blob storage: the snapshot container the content service hands out SAS URLs for. The SDK reaches it
# only as https://{account}.blob.{suffix} (the emulator serves it through its CONNECT proxy).
SNAPSHOT_BLOB_CONTAINER = "snapshots"
PUT_SNAPSHOT_BLOB = Route("blob", "PUT", f"/{SNAPSHOT_BLOB_CONTAINER}/{{blob_name:path}}")
HEAD_SNAPSHOT_BLOB = Route("blob", "HEAD", f"/{SNAPSHOT_BLOB_CONTAINER}/{{blob_name:path}}")
