"""Hook for Azure Machine Learning pipelines (SDK v1), over the project's own REST client.

Importing this module is cheap: azureml, azure.identity and azure.core are only imported when a credential
or a ``Workspace`` is actually built. Nothing is requested at construction either: the connection is read,
the credential built and the service hosts discovered on first use.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from typing_extensions import Unpack

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.async_client import AsyncAzureMLClient
from airflow_provider_azureml.client.clouds import HostPolicy
from airflow_provider_azureml.client.config import AzureMLConnectionConfig
from airflow_provider_azureml.client.credentials import (
    TokenProvider,
    build_credential,
    shared_token_provider,
)
from airflow_provider_azureml.client.errors import AzureMLConfigError, AzureMLHostNotAllowedError
from airflow_provider_azureml.client.models import (
    GraphInterface,
    PipelineEndpoint,
    PipelineParameterSpec,
    PipelineRun,
    PipelineSchedule,
    PublishedPipeline,
    Run,
    SubmissionOptions,
    SubmissionRequest,
)
from airflow_provider_azureml.client.operations import REFUSED_SERVICE, ServiceHosts
from airflow_provider_azureml.client.redaction import remember_secret, scrub
from airflow_provider_azureml.client.retry import RetrySettings
from airflow_provider_azureml.client.sync_client import AzureMLClient
from airflow_provider_azureml.utils.sdk import require_sdk

if TYPE_CHECKING:
    from airflow.sdk import Connection

#: The emulator's admin route telling a publishing process where its blob proxy and CA are.
EMULATOR_PUBLISHING_INFO = "/_emulator/publishing"
#: Environment variables are process-wide: one publishing environment at a time per process.
_PUBLISHING_LOCK = threading.RLock()
#: (pid, path) of this process's azureml-core discovery cache; see :func:`_private_discovery_cache`.
_DISCOVERY_CACHE: list[Any] = [None, None]


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the block, then restore exactly what was there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _credential_authentication(tokens: TokenProvider, policy: HostPolicy) -> Any:
    """An azureml-core ``TokenAuthentication`` fed by our token cache, for the cloud's audiences only.

    ``TokenAuthentication`` (azureml.core.authentication) lacks ``_get_azureml_client_token``; the
    subclass adds it. Passing ``cloud`` keeps azureml-core from fetching cloud metadata over the network.
    """
    from azureml._vendor.azure_cli_core.auth.util import resource_to_scopes
    from azureml.core.authentication import TokenAuthentication

    class CredentialAuthentication(TokenAuthentication):
        def __init__(self) -> None:
            super().__init__(get_token_for_audience=self._token_for_resource, cloud=policy.cloud.sdk_name)

        def _token_for_resource(self, resource: str) -> str:
            if not policy.allows_audience(resource):
                raise AzureMLHostNotAllowedError(
                    f"refusing a token for audience {resource!r}: the {policy.cloud.name} cloud's are "
                    f"{', '.join(policy.cloud.token_audiences)}"
                )
            return tokens.get_token(resource_to_scopes(resource)[0])

        def _get_azureml_client_token(self) -> str:
            return self._token_for_resource(self._get_aml_resource_id())

    return CredentialAuthentication()


class AzureMLHook(BaseHook):
    """
    Talk to an Azure ML workspace: published pipelines, pipeline endpoints, runs and their logs.

    :param azureml_conn_id: the ``azureml`` connection.
    :param max_retries: retries on 429, 5xx and connection errors (else the connection's, else 6).
    :param retry_max_seconds: total time one request may spend retrying (default 300).
    :param request_timeout: per-request timeout in seconds (else the connection's, else 60).
    """

    conn_name_attr = "azureml_conn_id"
    default_conn_name = "azureml_default"
    conn_type = "azureml"
    hook_name = "Azure Machine Learning"

    def __init__(
        self,
        azureml_conn_id: str = default_conn_name,
        *,
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
        request_timeout: float | None = None,
    ) -> None:
        super().__init__()
        self.azureml_conn_id = azureml_conn_id
        self._overrides = {
            "max_retries": max_retries,
            "retry_max_seconds": retry_max_seconds,
            "request_timeout": request_timeout,
        }
        self._connection: Connection | None = None

    # Configuration -------------------------------------------------------------------------------

    @cached_property
    def config(self) -> AzureMLConnectionConfig:
        """The parsed connection; a bad field raises ``AirflowFailException`` naming it (a retry would read
        the same field), before any request."""
        return _parse_connection(self._connection or self.get_connection(self.azureml_conn_id))

    @cached_property
    def settings(self) -> RetrySettings:
        """Operator overrides, else the connection's ``max_retries`` / ``timeout``, else the defaults."""
        defaults = RetrySettings()
        chosen = {
            "max_retries": self._first(
                self._overrides["max_retries"], self.config.max_retries, defaults.max_retries
            ),
            "retry_max_seconds": self._first(
                self._overrides["retry_max_seconds"], defaults.retry_max_seconds
            ),
            "request_timeout": self._first(
                self._overrides["request_timeout"], self.config.timeout, defaults.request_timeout
            ),
        }
        return RetrySettings(**chosen)

    @staticmethod
    def _first(*values: Any) -> Any:
        return next(value for value in values if value is not None)

    @property
    def retry_settings(self) -> dict[str, Any]:
        """JSON-able hook keyword arguments, for a trigger to rebuild the same client."""
        return self.settings.to_dict()

    @cached_property
    def tokens(self) -> TokenProvider:
        """One token cache for the sync client, the async client and the SDK workspace."""
        return TokenProvider(build_credential(self.config))

    # Clients ---------------------------------------------------------------------------------------

    @cached_property
    def client(self) -> AzureMLClient:
        return AzureMLClient(
            self.config, settings=self.settings, tokens=self.tokens, reread_config=self._reread_config
        )

    def _reread_config(self) -> AzureMLConnectionConfig:
        """The connection as it is now (a long wait may see its secret rotated), for the client's 401."""
        return _parse_connection(self.get_connection(self.azureml_conn_id))

    def get_async_client(self) -> AsyncAzureMLClient:
        """A new httpx-based client with the same settings and token cache; close it (``async with``).

        Cheap: it sends through its event loop's shared connection pool and TLS context.
        """
        return AsyncAzureMLClient(self.config, settings=self.settings, tokens=self.tokens)

    @classmethod
    async def get_async_client_for(cls, azureml_conn_id: str, **retry_settings: Any) -> AsyncAzureMLClient:
        """Trigger side: rebuild the async client from the connection id and ``retry_settings`` alone.

        All triggers of one connection in the triggerer share its token cache (one credential, one
        acquisition per token lifetime) and, through the client, the event loop's connection pool.
        """
        hook = cls(azureml_conn_id, **retry_settings)
        hook._connection = await cls.aget_connection(azureml_conn_id)

        async def reread_config() -> AzureMLConnectionConfig:
            return _parse_connection(await cls.aget_connection(azureml_conn_id))

        tokens = shared_token_provider(hook.config)
        return AsyncAzureMLClient(
            hook.config, settings=hook.settings, tokens=tokens, reread_config=reread_config
        )

    # Published pipelines and endpoints ------------------------------------------------------------

    def get_published_pipeline(self, pipeline_id: str) -> PublishedPipeline:
        """``GET {api}/pipelines/v1.0{scope}/Pipelines/{pipeline_id}``."""
        return self.client.get_published_pipeline(pipeline_id)

    def get_graph_interface(self, graph_id: str) -> GraphInterface:
        """``GET {api}/pipelines/v1.0{scope}/Graphs/{graph_id}/Interface``."""
        return self.client.get_graph_interface(graph_id)

    def get_pipeline_parameters(self, pipeline_id: str) -> list[PipelineParameterSpec]:
        """Declared parameters: the graph interface's types, else ``ParameterAssignments`` names."""
        return self.client.get_pipeline_parameters(pipeline_id)

    def list_published_pipelines(self, *, active_only: bool = True) -> list[PublishedPipeline]:
        """``GET {api}/pipelines/v1.0{scope}/Pipelines?activeOnly=``: every published pipeline."""
        return self.client.list_published_pipelines(active_only=active_only)

    def get_pipeline_endpoint(
        self, *, endpoint_id: str | None = None, name: str | None = None
    ) -> PipelineEndpoint:
        """``GET .../PipelineEndpoints/Id/{endpoint_id}`` or ``.../PipelineEndpoints/Name?Name={name}``."""
        return self.client.get_pipeline_endpoint(endpoint_id=endpoint_id, name=name)

    # Schedules --------------------------------------------------------------------------------------

    def list_schedules(self, *, active_only: bool = True) -> list[PipelineSchedule]:
        """``GET {api}/pipelines/v1.0{scope}/Schedules?activeOnly=``: every (active) schedule."""
        return self.client.list_schedules(active_only=active_only)

    def get_schedule(self, *, schedule_id: str | None = None, name: str | None = None) -> PipelineSchedule:
        """``GET .../Schedules/{schedule_id}``, or the one schedule called ``name`` (listing them all)."""
        if bool(schedule_id) == bool(name):
            raise AzureMLConfigError("give exactly one of schedule_id or name")
        if schedule_id:
            return self.client.get_schedule(schedule_id)
        return self.client.find_schedule(str(name))

    def enable_schedule(self, schedule_id: str) -> PipelineSchedule:
        """``PUT .../Schedules/{schedule_id}`` with ``EntityStatus`` Active; it fires from now on."""
        return self.client.set_schedule_status(schedule_id, "Active")

    def disable_schedule(self, schedule_id: str) -> PipelineSchedule:
        """``PUT .../Schedules/{schedule_id}`` with ``EntityStatus`` Disabled; runs it started go on."""
        return self.client.set_schedule_status(schedule_id, "Disabled")

    # Submitting -------------------------------------------------------------------------------------
    # A submit is not blindly retried: with no answer after sending, AzureMLAmbiguousSubmitError is
    # raised so the caller can look the run up by its tags (find_runs_by_tags) before resubmitting.
    # ``options`` are the optional fields of the body (SubmissionOptions): parameter_assignments,
    # data_path_assignments, description, tags, continue_on_step_failure, properties.

    def submit_pipeline_run(
        self,
        published_pipeline_id: str,
        *,
        experiment_name: str,
        parent_run_id: str | None = None,
        **options: Unpack[SubmissionOptions],
    ) -> PipelineRun:
        """``POST {api}/pipelines/v1.0{scope}/PipelineRuns/PipelineSubmit/{published_pipeline_id}``."""
        request = SubmissionRequest.build(experiment_name, **options)
        return self.client.submit_pipeline_run(published_pipeline_id, request, parent_run_id=parent_run_id)

    def submit_pipeline_endpoint_run(
        self,
        endpoint_id: str,
        *,
        experiment_name: str,
        pipeline_version: str | None = None,
        parent_run_id: str | None = None,
        **options: Unpack[SubmissionOptions],
    ) -> PipelineRun:
        """``POST .../PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}[/{version}?pipelineVersion=]``.

        Unlike the SDK, ``continue_on_step_failure`` is sent when given.
        """
        request = SubmissionRequest.build(experiment_name, **options)
        return self.client.submit_pipeline_endpoint_run(
            endpoint_id, request, pipeline_version=pipeline_version, parent_run_id=parent_run_id
        )

    def invoke_rest_endpoint(
        self,
        url: str,
        *,
        experiment_name: str,
        parent_run_id: str | None = None,
        **options: Unpack[SubmissionOptions],
    ) -> PipelineRun:
        """``POST {url}``: a published pipeline's or endpoint's REST URL, if its host may get the token."""
        request = SubmissionRequest.build(experiment_name, **options)
        return self.client.invoke_rest_endpoint(url, request, parent_run_id=parent_run_id)

    # Runs ---------------------------------------------------------------------------------------------

    def get_pipeline_run(self, run_id: str) -> PipelineRun:
        """``GET {api}/pipelines/v1.0{scope}/PipelineRuns/{run_id}`` (status as AEVA reports it)."""
        return self.client.get_pipeline_run(run_id)

    def cancel_pipeline_run(self, run_id: str) -> None:
        """``DELETE .../PipelineRuns/{run_id}/Execution``; a run that already ended is not an error."""
        self.client.cancel_pipeline_run(run_id)

    def get_run(self, experiment_name: str, run_id: str) -> Run:
        """``GET {history}/history/v1.0{scope}/experiments/{experiment_name}/runs/{run_id}``."""
        return self.client.get_run(experiment_name, run_id)

    def get_run_details(self, experiment_name: str, run_id: str) -> Run:
        """``GET .../experiments/{experiment_name}/runs/{run_id}/details``: where a failure's error lives."""
        return self.client.get_run_details(experiment_name, run_id)

    def list_step_runs(self, experiment_name: str, run_id: str) -> list[Run]:
        """``GET .../experiments/{experiment_name}/runs/{run_id}/children``, every page."""
        return self.client.list_step_runs(experiment_name, run_id)

    def find_runs_by_tags(
        self,
        experiment_name: str,
        tags: dict[str, str],
        *,
        status: str | None = None,
        created_after: datetime | None = None,
    ) -> list[Run]:
        """``POST .../experiments/{experiment_name}/runs:query``, OData filter on tags (and status, time)."""
        return self.client.find_runs_by_tags(
            experiment_name, tags, status=status, created_after=created_after
        )

    def get_step_log_tail(self, run: Run, lines: int = 50) -> str:
        """Last lines of a step's driver log, read through the artifact service (never a SAS URL)."""
        return self.client.get_step_log_tail(run, lines)

    # Links, connection test and the SDK workspace -------------------------------------------------

    def check_token_host(self, url: str) -> str:
        """``url`` as the URL gate rebuilt it; ``AzureMLHostNotAllowedError`` unless its host may receive
        the bearer token or parsers could read another host in it."""
        return self.config.host_policy.check(url).url

    def studio_run_url(self, run_id: str, experiment_name: str | None = None) -> str:
        """Azure ML Studio page of a run, computed without any request.

        With an endpoint override (the emulator) the same path and query go to the override's origin.
        ``experiment_name`` is not needed by Studio's run page; it is accepted for links that want it.
        """
        return self.config.studio_run_url(run_id)

    def test_connection(self) -> tuple[bool, str]:
        """Really call the service: ARM workspace, discovery, then ``GET {api}/.../DataTypes``."""
        try:
            hosts = self.client.discover()
            self.client.list_data_types()
        except Exception as error:
            return False, self._scrub(f"{type(error).__name__}: {error}")
        return (
            True,
            f"Connected to Azure ML workspace {self.config.workspace_name!r} (pipelines at {hosts.api})",
        )

    def _scrub(self, text: str) -> str:
        """Strip every secret of this process (tokens included) and the connection's from a UI message."""
        config = self.config
        for secret in (config.client_secret, config.certificate_password):
            if secret:
                remember_secret(secret.get_secret_value())
        return scrub(text)

    def get_workspace(self) -> Any:
        """An ``azureml.core.Workspace`` on the same credential and the same checked hosts.

        ``_workspace_id`` and ``_discovery_url_internal`` come from the ARM and discovery answers, so the SDK
        makes no ARM call of its own. The SDK would fetch the discovery document again and trust every host
        in it; instead its discovery cache is filled with the document this client fetched and checked
        (:func:`_seed_sdk_discovery`), so the SDK only ever learns hosts the token host policy allows.
        """
        require_sdk("AzureMLHook.get_workspace()")
        from azureml.core import Workspace

        config = self.config
        hosts = self.client.hosts()
        auth = _credential_authentication(self.tokens, config.host_policy)
        _seed_sdk_discovery(config.workspace_scope, hosts)
        workspace = Workspace(
            config.subscription_id,
            config.resource_group,
            config.workspace_name,
            auth=auth,
            _disable_service_check=True,
            _workspace_id=hosts.workspace_id,
            _cloud=config.cloud_info.sdk_name,
        )
        workspace._discovery_url_internal = hosts.discovery_url
        return workspace

    # Publishing -----------------------------------------------------------------------------------

    @contextmanager
    def publishing_environment(self) -> Iterator[None]:
        """Prepare this process for the SDK's publish path (``Pipeline.publish()`` and endpoint writes).

        Against Azure there is nothing to do. Against the emulator (``auth_method`` "emulator"), the SDK
        uploads snapshot files only to ``https://<account>.blob.core.windows.net``, which the emulator
        serves through its CONNECT proxy. For the duration of the block this sets, and then restores:

        - ``HTTPS_PROXY``/``https_proxy``: the emulator's blob proxy (from ``GET /_emulator/publishing``);
        - ``NO_PROXY``/``no_proxy``: loopback and the emulator's host only, so REST calls go direct and
          a user's ``.windows.net`` exemption cannot route blob uploads past the proxy;
        - ``REQUESTS_CA_BUNDLE``: the emulator's CA, written to a temporary file;
        - ``HOME``: a temporary directory. The SDK caches the workspace's latest snapshot in
          ``~/.azureml/.projectcontent``, keyed by workspace id alone, and the emulator's workspace id is
          fixed by its seed. After an emulator restart that cache names a snapshot the emulator no longer
          holds, and an unchanged source folder is then never uploaded (``ContentSnapshotCache`` in
          azureml._base_sdk_common.project_snapshot_cache). With no cache the SDK asks the emulator for its
          latest snapshot and diffs against that, which is always right.

        Before yielding, one HTTPS request goes through the proxy: a setup that cannot reach the blob
        host fails here in milliseconds rather than after the SDK's ~84 s of upload retries. The
        variables are process-wide, so publishing environments are serialised within a process.
        """
        require_sdk("Publishing a pipeline")
        config = self.config
        if config.auth_method != "emulator" or not config.endpoint:
            yield
            return
        with _PUBLISHING_LOCK, tempfile.TemporaryDirectory(prefix="azureml-publish-") as temp:
            info = self._emulator_publishing_info(config.endpoint)
            ca_bundle = Path(temp, "emulator-ca.pem")
            ca_bundle.write_text(info["ca_bundle_pem"])
            home = Path(temp, "home")
            home.mkdir()
            _check_blob_proxy(info["https_proxy"], info["blob_host"], ca_bundle)
            no_proxy = ",".join(
                dict.fromkeys(["127.0.0.1", "localhost", "::1", urlsplit(config.endpoint).hostname or ""])
            )
            values = {
                "HTTPS_PROXY": info["https_proxy"],
                "https_proxy": info["https_proxy"],
                "NO_PROXY": no_proxy,
                "no_proxy": no_proxy,
                "REQUESTS_CA_BUNDLE": str(ca_bundle),
                "HOME": str(home),
            }
            with _environment(values):
                yield

    def _emulator_publishing_info(self, endpoint: str) -> dict[str, str]:
        """``GET {endpoint}/_emulator/publishing``: the blob proxy URL, its host and the CA to trust."""
        url = endpoint.rstrip("/") + EMULATOR_PUBLISHING_INFO
        try:
            with requests.Session() as session:
                session.trust_env = False  # loopback: no proxy of the user's may sit in between
                response = session.get(url, timeout=self.settings.request_timeout)
                response.raise_for_status()
                info = response.json()
        except (requests.RequestException, ValueError) as error:
            raise AirflowException(
                f"Could not read the emulator's publishing settings from {url}: {error}. Publishing needs an "
                "emulator that serves its blob proxy (airflow-provider-azureml 0.1 or later)."
            ) from error
        missing = [key for key in ("https_proxy", "ca_bundle_pem", "blob_host") if not info.get(key)]
        if missing:
            raise AirflowException(f"{url} lacks {', '.join(missing)}")
        return info


def _private_discovery_cache() -> Path:
    """This process's own azureml-core discovery cache file, made the SDK's default on first use.

    ``CachedServiceDiscovery`` (azureml._base_sdk_common.service_discovery) defaults to the shared
    ``~/.azureml/.discovery``, which every SDK process rewrites whole from what it read earlier, without
    a lock between processes: another process could drop the checked entry, and the SDK would then fetch
    discovery itself. A file per process (a forked child gets its own) cannot be rewritten by another.
    """
    from azureml._base_sdk_common.service_discovery import CachedServiceDiscovery

    owner, path = _DISCOVERY_CACHE
    if owner != os.getpid() or path is None:
        directory = tempfile.mkdtemp(prefix="azureml-discovery-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        path = Path(directory, ".discovery")
        CachedServiceDiscovery.__init__.__defaults__ = (str(path),)
        _DISCOVERY_CACHE[:] = [os.getpid(), path]
    return path


def _parse_connection(connection: Any) -> AzureMLConnectionConfig:
    """A bad field fails without retries, naming it: a retry would read the same field."""
    try:
        return AzureMLConnectionConfig.from_connection(connection)
    except AzureMLConfigError as error:
        raise AirflowFailException(str(error)) from None


def _seed_sdk_discovery(scope: str, hosts: ServiceHosts) -> None:
    """Write the checked discovery document into azureml-core's discovery cache for this workspace.

    ``CachedServiceDiscovery`` answers from its cache file (:func:`_private_discovery_cache`), keyed by
    scope, workspace id and discovery URL, and only goes to the network for a key it lacks. Every key the
    SDK looks up is written, under both key forms it uses (with and without the discovery URL); a key the
    document lacks or whose host was refused gets an address no HTTP client will send to.
    """
    from azureml._base_sdk_common.service_discovery import DEFAULT_FLIGHT, CachedServiceDiscovery
    from azureml._restclient.service_context import _ServiceKeys

    keys = dict.fromkeys(_ServiceKeys.get_discovery_keys())
    document = {key: REFUSED_SERVICE.format(key=key) for key in keys} | hosts.sdk_document()
    workspace_key = scope + (f"/{hosts.workspace_id}" if hosts.workspace_id else "")
    path = _private_discovery_cache()
    with CachedServiceDiscovery._cache_file_writing_lock:
        try:
            cache = json.loads(path.read_text())
        except (OSError, ValueError):
            cache = {}
        if not isinstance(cache, dict):
            cache = {}
        for key in (workspace_key, f"{workspace_key}|{hosts.discovery_url}"):
            cache[key] = {DEFAULT_FLIGHT: document}
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(cache))
        os.replace(temporary, path)


def _check_blob_proxy(proxy: str, blob_host: str, ca_bundle: Path) -> None:
    """One HEAD through the proxy to the blob host: any HTTP answer proves CONNECT, TLS and the CA work."""
    url = f"https://{blob_host}/{routes.SNAPSHOT_BLOB_CONTAINER}/preflight"
    try:
        with requests.Session() as session:
            session.trust_env = False
            session.head(url, proxies={"https": proxy}, verify=str(ca_bundle), timeout=10)
    except requests.RequestException as error:
        raise AirflowException(
            f"The emulator's blob proxy {proxy} does not serve https://{blob_host} ({error}); the SDK "
            "could not upload snapshots through it, so publishing stops here."
        ) from error
