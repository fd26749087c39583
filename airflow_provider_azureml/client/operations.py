"""Every client operation, written once and free of I/O, for both the sync and the async client.

An operation is a generator: it yields :class:`Call` objects and receives each decoded answer (or has the
call's exception thrown into it), then returns a typed result. Each is an :class:`operation` method of
:class:`Operations`, the base of both clients, which gives it to each client with the same signature: the
requests-based and httpx-based clients only differ in how they carry out a ``Call``, so the two cannot
drift apart.
"""

from __future__ import annotations

import inspect
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Generator, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import update_wrapper
from types import MethodType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.clouds import HostPolicy
from airflow_provider_azureml.client.errors import (
    AzureMLConfigError,
    AzureMLHostNotAllowedError,
    AzureMLNotFoundError,
    AzureMLServiceError,
)
from airflow_provider_azureml.client.models import (
    GraphInterface,
    PipelineEndpoint,
    PipelineParameterSpec,
    PipelineRun,
    PipelineSchedule,
    PublishedPipeline,
    Run,
    SubmissionRequest,
)
from airflow_provider_azureml.client.statuses import RunStatus

if TYPE_CHECKING:
    from airflow_provider_azureml.client.async_client import AsyncAzureMLClient
    from airflow_provider_azureml.client.sync_client import AzureMLClient

P = ParamSpec("P")
T = TypeVar("T")
Operation = Generator["Call", Any, T]

ARTIFACT_ORIGIN = "ExperimentRun"
#: Where step logs live, newest runtime layout last; the first prefix holding ``.txt`` files wins.
LOG_PREFIXES = ("azureml-logs/", "user_logs/", "logs/")
PREFERRED_LOGS = ("70_driver_log.txt", "std_log.txt")
CHILDREN_PAGE_SIZE = 500
QUERY_PAGE_SIZE = 50
#: Run ids per ``runs:query`` of :meth:`Operations.get_run_statuses`: the SDK's page size for
#: ``ExperimentClient.get_runs_by_run_ids`` (``_restclient.constants.DEFAULT_PAGE_SIZE``), so that one
#: batch is answered in one page. The SDK puts no bound on the filter's length; ours keeps a body small.
RUN_IDS_PER_QUERY = 500
MAX_FILTER_CHARS = 32_000
#: Run ids written bare in a filter, as the SDK writes them; any other is quoted.
_BARE_RUN_ID = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Call:
    """One HTTP request, before hosts, token and transport are known.

    ``service`` is the discovery key whose host serves ``path`` ("arm", "api", "history"), or "url" when
    ``path`` is already an absolute URL. ``idempotent`` decides what may be retried (see ``retry``);
    by default only POST is not. ``text`` asks for the body as text rather than JSON.
    """

    method: str
    service: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    idempotent: bool | None = None
    text: bool = False

    @property
    def is_idempotent(self) -> bool:
        return self.method != "POST" if self.idempotent is None else self.idempotent


#: Where a discovery key whose host the policy refuses points the SDK: a scheme no HTTP client speaks,
#: so a call to that service fails before connecting instead of carrying the token.
REFUSED_SERVICE = "refused://host-not-allowed/{key}"


@dataclass(frozen=True)
class ServiceHosts:
    """The discovery answer for one workspace.

    ``services`` holds every key of the document whose value is a URL (``api`` and ``history`` too), for
    the SDK, which looks up more keys than this client uses.
    """

    api: str
    history: str
    studio: str | None
    workspace_id: str | None
    discovery_url: str
    services: tuple[tuple[str, str], ...] = ()

    def base(self, service: str) -> str:
        return self.api if service == "api" else self.history

    def checked(self, policy: HostPolicy) -> ServiceHosts:
        """The same answer rebuilt by the URL gate; ``AzureMLHostNotAllowedError`` if ``api``, ``history``
        or the discovery URL may not receive the token. Other refused keys point at ``REFUSED_SERVICE``."""

        def required(key: str, url: str) -> str:
            try:
                return policy.check(url).base
            except AzureMLHostNotAllowedError as error:
                raise AzureMLHostNotAllowedError(f"discovery key {key!r}: {error.message}") from None

        def optional(key: str, url: str) -> str:
            try:
                return policy.check(url).base
            except AzureMLHostNotAllowedError:
                return REFUSED_SERVICE.format(key=key)

        return replace(
            self,
            api=required("api", self.api),
            history=required("history", self.history),
            discovery_url=policy.check(self.discovery_url).url,
            services=tuple((key, optional(key, url)) for key, url in self.services),
        )

    def sdk_document(self) -> dict[str, str]:
        """The discovery document to hand the SDK: checked URLs only (``api`` and ``history`` always)."""
        return {**dict(self.services), "api": self.api, "history": self.history}


_hosts_cache: dict[tuple[str, ...], ServiceHosts] = {}
_hosts_lock = threading.Lock()


def cached_hosts(key: tuple[str, ...]) -> ServiceHosts | None:
    """Process-wide discovery cache, keyed by (cloud, ARM base URL, workspace scope): hosts never change."""
    with _hosts_lock:
        return _hosts_cache.get(key)


def store_hosts(key: tuple[str, ...], hosts: ServiceHosts) -> None:
    with _hosts_lock:
        _hosts_cache[key] = hosts


def clear_hosts_cache() -> None:
    with _hosts_lock:
        _hosts_cache.clear()


def odata_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def runs_filter(
    tags: dict[str, str], *, status: str | None = None, created_after: datetime | None = None
) -> str:
    """The ``runs:query`` OData filter: tag equality, status and creation time, joined with ``and``."""
    clauses = [f"(Tags/{key} eq {odata_literal(str(value))})" for key, value in tags.items()]
    if status:
        clauses.append(f"(Status eq {odata_literal(status)})")
    if created_after:
        moment = created_after if created_after.tzinfo else created_after.replace(tzinfo=UTC)
        clauses.append(f"(CreatedUtc ge {moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')})")
    return " and ".join(clauses)


def run_id_clause(run_id: str) -> str:
    """``RunId eq <id>``, bare as ``get_run_ids_filter_expression`` writes it, unless that would not parse."""
    return f"RunId eq {run_id if _BARE_RUN_ID.fullmatch(run_id) else odata_literal(run_id)}"


def run_id_batches(run_ids: Iterable[str]) -> list[list[str]]:
    """The distinct ``run_ids`` in order, cut into batches of one ``runs:query`` each: at most
    :data:`RUN_IDS_PER_QUERY` ids and :data:`MAX_FILTER_CHARS` of filter (``... or RunId eq ...``)."""
    batches: list[list[str]] = []
    length = 0
    for run_id in dict.fromkeys(run_ids):
        clause = len(run_id_clause(run_id)) + len(" or ")
        if not batches or len(batches[-1]) == RUN_IDS_PER_QUERY or length + clause > MAX_FILTER_CHARS:
            batches.append([])
            length = 0
        batches[-1].append(run_id)
        length += clause
    return batches


def tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:]) if lines > 0 else ""


def _pick_log(paths: list[str]) -> str | None:
    """``70_driver_log.txt`` (or ``std_log.txt``) if present, else the last ``.txt`` file by name."""
    texts = sorted(p for p in paths if p.endswith(".txt"))
    for preferred in PREFERRED_LOGS:
        for path in texts:
            if path.rsplit("/", 1)[-1] == preferred:
                return path
    return texts[-1] if texts else None


class operation(Generic[P, T]):  # lower case: a decorator, like ``property``
    """Declares an operation once, as a generator method of :class:`Operations`, for both clients.

    Read on a client, it is the same method carried out by the client's ``run``: returning the result on
    the sync client, a coroutine of it on the async one. Read on the class, it is the generator function,
    which is how one operation uses another: ``yield from Operations.get_pipeline_run(self, run_id)``
    (``self.get_pipeline_run`` would carry it out instead, since ``self`` is a client).
    """

    def __init__(self, steps: Callable[Concatenate[Operations, P], Operation[T]]) -> None:
        self.steps = steps
        update_wrapper(self, steps)
        # The client method's signature is the generator's: same parameters, no ``Operation`` return.
        signature = inspect.signature(steps).replace(return_annotation=inspect.Signature.empty)

        def carried_out(client: Any, *args: Any, **kwargs: Any) -> Any:
            return client.run(steps(client, *args, **kwargs))

        async def awaited(client: Any, *args: Any, **kwargs: Any) -> Any:
            return await client.run(steps(client, *args, **kwargs))

        for method in (carried_out, awaited):
            update_wrapper(method, steps)
            method.__signature__ = signature  # type: ignore[union-attr]
        self._sync, self._async = carried_out, awaited

    def __call__(self, ops: Operations, /, *args: P.args, **kwargs: P.kwargs) -> Operation[T]:
        return self.steps(ops, *args, **kwargs)

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: AzureMLClient, owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, client: AsyncAzureMLClient, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, client: Any, owner: type[Any]) -> Any:
        if client is None:
            return self
        return MethodType(self._async if inspect.iscoroutinefunction(client.run) else self._sync, client)


class Operations(ABC):
    """The operations of one workspace; the base of both clients, which carry them out.

    Adding an operation is writing one :class:`operation` method here: both clients then have it.
    """

    @property
    @abstractmethod
    def scope_params(self) -> dict[str, str]:
        """``subscription_id``, ``resource_group`` and ``workspace_name``: every workspace route's scope."""

    def call(
        self,
        route: routes.Route,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
        text: bool = False,
        **path_params: object,
    ) -> Call:
        path = route.path(**self.scope_params, **path_params)
        return Call(route.method, route.service, path, params or {}, body, idempotent, text)

    def _paged(self, make_call: Callable[[str | None], Call]) -> Operation[list[dict[str, Any]]]:
        """Follow ``continuationToken`` until the service stops returning one."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = yield make_call(token)
            items.extend((page or {}).get("value") or [])
            next_token = (page or {}).get("continuationToken")
            if not next_token or next_token == token:
                return items
            token = next_token

    def discovery(self) -> Operation[ServiceHosts]:
        """ARM workspace -> ``properties.discoveryUrl`` -> ``{"api", "history", "studio", ...}``.

        Not an :class:`operation`: the clients run it behind their hosts cache (``hosts``, ``discover``).
        """
        workspace = yield self.call(routes.ARM_WORKSPACE, params={"api-version": routes.ARM_API_VERSION})
        properties = _object(_object(workspace).get("properties"))
        discovery_url = properties.get("discoveryUrl")
        if not discovery_url or not isinstance(discovery_url, str):
            raise AzureMLServiceError("the ARM workspace answer has no properties.discoveryUrl")
        document = _object((yield Call("GET", "url", discovery_url)))
        urls = {key: value for key, value in document.items() if isinstance(value, str) and "://" in value}
        missing = [key for key in ("api", "history") if key not in urls]
        if missing:
            raise AzureMLServiceError(f"the discovery document lacks {', '.join(missing)}")
        studio = document.get("studio")
        workspace_id = properties.get("workspaceId")
        return ServiceHosts(
            api=urls["api"].rstrip("/"),
            history=urls["history"].rstrip("/"),
            studio=studio if isinstance(studio, str) else None,
            workspace_id=workspace_id if isinstance(workspace_id, str) else None,
            discovery_url=discovery_url,
            services=tuple(urls.items()),
        )

    @operation
    def list_data_types(self) -> Operation[list[Any]]:
        return (yield self.call(routes.DATA_TYPES)) or []

    @operation
    def get_published_pipeline(self, pipeline_id: str) -> Operation[PublishedPipeline]:
        return PublishedPipeline.model_validate(
            (yield self.call(routes.GET_PIPELINE, pipeline_id=pipeline_id))
        )

    @operation
    def get_graph_interface(self, graph_id: str) -> Operation[GraphInterface]:
        return GraphInterface.model_validate((yield self.call(routes.GET_GRAPH_INTERFACE, graph_id=graph_id)))

    @operation
    def get_pipeline_parameters(self, pipeline_id: str) -> Operation[list[PipelineParameterSpec]]:
        """Declared types from the graph interface; else the names of ``ParameterAssignments``."""
        pipeline = yield from Operations.get_published_pipeline(self, pipeline_id)
        if pipeline.graph_id:
            try:
                interface = yield from Operations.get_graph_interface(self, pipeline.graph_id)
            except AzureMLNotFoundError:
                interface = GraphInterface()
            if interface.parameters:
                return interface.parameters
        return [
            PipelineParameterSpec.model_validate({"name": name, "default_value": value, "type": "unknown"})
            for name, value in pipeline.parameter_assignments.items()
        ]

    @operation
    def list_published_pipelines(self, *, active_only: bool = True) -> Operation[list[PublishedPipeline]]:
        """Every published pipeline in one answer: the service does not page this list (the SDK reads a
        plain ``[PipelineEntity]``: azureml.pipeline.core._restclients.aeva.service_caller,
        ``AE3PServiceCaller.get_all_published_pipelines``)."""
        call = self.call(routes.LIST_PIPELINES, params={"activeOnly": str(active_only).lower()})
        return [PublishedPipeline.model_validate(entity) for entity in (yield call) or []]

    @operation
    def get_pipeline_endpoint(
        self, *, endpoint_id: str | None = None, name: str | None = None
    ) -> Operation[PipelineEndpoint]:
        if bool(endpoint_id) == bool(name):
            raise AzureMLConfigError("give exactly one of endpoint_id or name")
        if endpoint_id:
            call = self.call(routes.GET_ENDPOINT, endpoint_id=endpoint_id)
        else:
            call = self.call(routes.GET_ENDPOINT_BY_NAME, params={"Name": str(name)})
        return PipelineEndpoint.model_validate((yield call))

    @operation
    def list_schedules(self, *, active_only: bool = True) -> Operation[list[PipelineSchedule]]:
        """Every schedule in one answer, unpaged, as the SDK reads it (``Schedule.list``)."""
        call = self.call(routes.LIST_SCHEDULES, params={"activeOnly": str(active_only).lower()})
        return [PipelineSchedule.model_validate(entity) for entity in (yield call) or []]

    @operation
    def get_schedule(self, schedule_id: str) -> Operation[PipelineSchedule]:
        return PipelineSchedule.model_validate(
            (yield self.call(routes.GET_SCHEDULE, schedule_id=schedule_id))
        )

    @operation
    def find_schedule(self, name: str) -> Operation[PipelineSchedule]:
        """The one schedule named ``name``, active or not; names are not unique, so two is an error."""
        found = [s for s in (yield from Operations.list_schedules(self, active_only=False)) if s.name == name]
        if len(found) != 1:
            ids = ", ".join(s.id for s in found)
            raise AzureMLConfigError(
                f"no schedule is named {name!r}"
                if not found
                else f"{len(found)} schedules are named {name!r} ({ids}); give schedule_id instead"
            )
        return found[0]

    @operation
    def set_schedule_status(self, schedule_id: str, status: str) -> Operation[PipelineSchedule]:
        """``"Active"`` or ``"Disabled"``: the whole entity is read and written back with only its
        ``EntityStatus`` changed, as the SDK's ``enable()``/``disable()`` do; if it is so already, nothing is
        written."""
        entity = _object((yield self.call(routes.GET_SCHEDULE, schedule_id=schedule_id)))
        if PipelineSchedule.model_validate(entity).status == status:
            return PipelineSchedule.model_validate(entity)
        body = {**entity, "EntityStatus": status}
        return PipelineSchedule.model_validate(
            (yield self.call(routes.UPDATE_SCHEDULE, schedule_id=schedule_id, body=body))
        )

    @operation
    def submit_pipeline_run(
        self, pipeline_id: str, request: SubmissionRequest, *, parent_run_id: str | None = None
    ) -> Operation[PipelineRun]:
        call = self.call(
            routes.SUBMIT_PIPELINE,
            pipeline_id=pipeline_id,
            params=_parent(parent_run_id),
            body=request.to_wire(),
            idempotent=False,
        )
        return PipelineRun.model_validate((yield call))

    @operation
    def submit_pipeline_endpoint_run(
        self,
        endpoint_id: str,
        request: SubmissionRequest,
        *,
        pipeline_version: str | None = None,
        parent_run_id: str | None = None,
    ) -> Operation[PipelineRun]:
        """Default version, or ``/{version}?pipelineVersion={version}`` exactly as the SDK sends it."""
        params = _parent(parent_run_id)
        path_params: dict[str, Any]
        if pipeline_version is None:
            route, path_params = routes.SUBMIT_ENDPOINT, {"endpoint_id": endpoint_id}
        else:
            route = routes.SUBMIT_ENDPOINT_VERSION
            path_params = {"endpoint_id": endpoint_id, "pipeline_version": pipeline_version}
            params["pipelineVersion"] = str(pipeline_version)
        call = self.call(route, params=params, body=request.to_wire(), idempotent=False, **path_params)
        return PipelineRun.model_validate((yield call))

    @operation
    def invoke_rest_endpoint(
        self, url: str, request: SubmissionRequest, *, parent_run_id: str | None = None
    ) -> Operation[PipelineRun]:
        call = Call("POST", "url", url, _parent(parent_run_id), request.to_wire(), idempotent=False)
        return PipelineRun.model_validate((yield call))

    @operation
    def get_pipeline_run(self, run_id: str) -> Operation[PipelineRun]:
        return PipelineRun.model_validate((yield self.call(routes.GET_PIPELINE_RUN, run_id=run_id)))

    @operation
    def cancel_pipeline_run(self, run_id: str) -> Operation[None]:
        """Cancel; a refusal for a run that has already ended is not an error (stopping is idempotent)."""
        try:
            yield self.call(routes.CANCEL_PIPELINE_RUN, run_id=run_id)
        except AzureMLServiceError as error:
            if isinstance(error, AzureMLNotFoundError):
                raise
            run = yield from Operations.get_pipeline_run(self, run_id)
            if run.status not in RunStatus.TERMINAL:
                raise error
        return None

    @operation
    def get_run(self, experiment_name: str, run_id: str) -> Operation[Run]:
        call = self.call(routes.GET_RUN, experiment_name=experiment_name, run_id=run_id)
        return Run.model_validate((yield call))

    @operation
    def get_run_details(self, experiment_name: str, run_id: str) -> Operation[Run]:
        call = self.call(routes.GET_RUN_DETAILS, experiment_name=experiment_name, run_id=run_id)
        return Run.model_validate((yield call))

    @operation
    def list_step_runs(self, experiment_name: str, run_id: str) -> Operation[list[Run]]:
        def page(token: str | None) -> Call:
            params = {"$top": str(CHILDREN_PAGE_SIZE), **({"$continuationToken": token} if token else {})}
            return self.call(
                routes.GET_RUN_CHILDREN, experiment_name=experiment_name, run_id=run_id, params=params
            )

        return [Run.model_validate(item) for item in (yield from self._paged(page))]

    @operation
    def find_runs_by_tags(
        self,
        experiment_name: str,
        tags: dict[str, str],
        *,
        status: str | None = None,
        created_after: datetime | None = None,
    ) -> Operation[list[Run]]:
        query = {
            "filter": runs_filter(tags, status=status, created_after=created_after),
            "top": QUERY_PAGE_SIZE,
        }

        def page(token: str | None) -> Call:
            body = {**query, "continuationToken": token}
            return self.call(routes.QUERY_RUNS, experiment_name=experiment_name, body=body, idempotent=True)

        return [Run.model_validate(item) for item in (yield from self._paged(page))]

    @operation
    def get_run_statuses(self, experiment_name: str, run_ids: Iterable[str]) -> Operation[dict[str, str]]:
        """{run id: status} of many runs of one experiment, in one ``runs:query`` per batch of ids
        (:func:`run_id_batches`) rather than one read per run, the way ``get_runs_by_run_ids`` reads them.

        Statuses are in the pipelines service's words (:meth:`RunStatus.from_history`). A run the service
        does not know in ``experiment_name`` is missing from the answer.
        """
        statuses: dict[str, str] = {}
        for batch in run_id_batches(run_ids):
            query = {"filter": " or ".join(map(run_id_clause, batch)), "top": RUN_IDS_PER_QUERY}

            def page(token: str | None, query: dict[str, Any] = query) -> Call:
                body = {**query, "continuationToken": token}
                return self.call(
                    routes.QUERY_RUNS, experiment_name=experiment_name, body=body, idempotent=True
                )

            for item in (yield from self._paged(page)):
                run = Run.model_validate(item)
                statuses[run.run_id] = run.pipeline_status
        return statuses

    @operation
    def get_step_log_tail(self, run: Run, lines: int = 50) -> Operation[str]:
        """The last ``lines`` of the step's driver log; "" when the run has no log yet."""
        container = run.data_container_id or f"dcid.{run.run_id}"
        for prefix in LOG_PREFIXES:

            def page(token: str | None, prefix: str = prefix) -> Call:
                return self.call(
                    routes.LIST_ARTIFACTS,
                    origin=ARTIFACT_ORIGIN,
                    container=container,
                    prefix=prefix,
                    params={"continuationToken": token} if token else {},
                )

            try:
                artifacts = yield from self._paged(page)
            except AzureMLNotFoundError:
                continue
            path = _pick_log([str(a.get("path", "")) for a in artifacts])
            if path:
                call = self.call(
                    routes.GET_ARTIFACT_CONTENT,
                    origin=ARTIFACT_ORIGIN,
                    container=container,
                    artifact_path=path,
                    text=True,
                )
                return tail((yield call) or "", lines)
        return ""


def _object(value: Any) -> dict[str, Any]:
    """``value`` if the service answered a JSON object, else an empty one (a tampered answer may not)."""
    return value if isinstance(value, dict) else {}


def _parent(parent_run_id: str | None) -> dict[str, str]:
    return {"parentRunId": parent_run_id} if parent_run_id else {}
