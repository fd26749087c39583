"""Build an Azure ML pipeline with the SDK, validate and publish it, optionally behind a pipeline endpoint."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_azureml.client.errors import (
    AzureMLConfigError,
    AzureMLConnectionError,
    AzureMLNotFoundError,
    AzureMLServiceError,
)
from airflow_provider_azureml.operators.arguments import PublishArguments
from airflow_provider_azureml.operators.base import AzureMLHookMixin, as_airflow_error
from airflow_provider_azureml.utils.sdk import require_sdk

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_azureml.client.models import PublishedPipeline

XCOM_PUBLISHED_PIPELINE_ID = "published_pipeline_id"
XCOM_PUBLISHED_PIPELINE_URL = "published_pipeline_url"
XCOM_PIPELINE_ENDPOINT_ID = "pipeline_endpoint_id"
XCOM_PIPELINE_ENDPOINT_VERSION = "pipeline_endpoint_version"
PipelineFactory = Callable[..., Any]


def resolve_factory(factory: str | PipelineFactory) -> PipelineFactory:
    """A callable as given, or ``"package.module:function"`` imported now (at execute, not at parse)."""
    if callable(factory):
        return factory
    module_name, _, attribute = str(factory).partition(":")
    if not module_name or not attribute:
        raise AirflowFailException(
            f"pipeline_factory {factory!r} must be a callable or 'package.module:function'"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise AirflowFailException(
            f"pipeline_factory {factory!r}: cannot import module {module_name!r}: "
            f"{type(error).__name__}: {error}"
        ) from error
    found = getattr(module, attribute, None)
    if not callable(found):
        raise AirflowFailException(
            f"pipeline_factory {factory!r}: module {module_name!r} has no callable {attribute!r}"
        )
    return found


def _factory_name(factory: str | PipelineFactory) -> str:
    if isinstance(factory, str):
        return factory
    return f"{getattr(factory, '__module__', '?')}:{getattr(factory, '__qualname__', repr(factory))}"


class AzureMLPublishPipelineOperator(AzureMLHookMixin, BaseOperator):
    """
    Build a pipeline with ``pipeline_factory``, validate and publish it, and optionally add it to an endpoint.

    Against the emulator (connection ``auth_method`` "emulator") the publishing process is set up by
    :meth:`AzureMLHook.publishing_environment`; against Azure nothing special happens.

    :param pipeline_factory: a callable, or ``"package.module:function"`` imported at execute time (the
        DAG folder is on ``sys.path``), called as ``factory(workspace, **factory_kwargs)``; it must
        return an ``azureml.pipeline.core.Pipeline``.
    :param pipeline_name: name of the published pipeline.
    :param factory_kwargs: keyword arguments for the factory (JSON values; templated).
    :param description: description of the published pipeline.
    :param version: version label. With ``reuse_existing``, an Active published pipeline of the same name
        and version is reused instead of publishing a duplicate; without a version nothing identifies
        the code, so every run publishes.
    :param continue_on_step_failure: the published pipeline's default for runs.
    :param pipeline_endpoint_name: also add the pipeline to this ``PipelineEndpoint`` (created if missing).
        An endpoint already listing the pipeline is left unchanged.
    :param pipeline_endpoint_description: description of an endpoint this task creates.
    :param set_as_default: make the added version the endpoint's default (default True).
    :param reuse_existing: reuse a published pipeline with the same name and version (default True).

    Pushes ``published_pipeline_id``, ``published_pipeline_url``, ``pipeline_endpoint_id`` and
    ``pipeline_endpoint_version`` to XCom and returns them (with ``reused``) as a dict.
    """

    template_fields: Sequence[str] = (
        "pipeline_name",
        "description",
        "version",
        "pipeline_endpoint_name",
        "factory_kwargs",
        "azureml_conn_id",
    )
    template_fields_renderers = {"factory_kwargs": "json"}
    ui_color = "#cfe6fb"
    arguments = PublishArguments

    def __init__(
        self,
        *,
        pipeline_factory: str | PipelineFactory,
        pipeline_name: str,
        factory_kwargs: dict[str, Any] | None = None,
        description: str | None = None,
        version: str | None = None,
        continue_on_step_failure: bool = False,
        pipeline_endpoint_name: str | None = None,
        pipeline_endpoint_description: str | None = None,
        set_as_default: bool = True,
        reuse_existing: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pipeline_factory = pipeline_factory
        self.pipeline_name = pipeline_name
        self.factory_kwargs = factory_kwargs
        self.description = description
        self.version = version
        self.continue_on_step_failure = continue_on_step_failure
        self.pipeline_endpoint_name = pipeline_endpoint_name
        self.pipeline_endpoint_description = pipeline_endpoint_description
        self.set_as_default = set_as_default
        self.reuse_existing = reuse_existing

    def execute(self, context: Context) -> dict[str, Any]:
        self.check_arguments()
        require_sdk(f"{type(self).__name__}")
        factory = resolve_factory(self.pipeline_factory)
        try:
            with self.hook.publishing_environment():
                workspace = self.hook.get_workspace()
                existing = self._existing_pipeline()
                if existing is not None:
                    self.log.info(
                        "Reusing published pipeline %s (%s, version %s)",
                        existing.id,
                        existing.name,
                        existing.version,
                    )
                    pipeline_id, url = existing.id, existing.url
                else:
                    published = self._publish(self._build(factory, workspace))
                    pipeline_id, url = published.id, published.endpoint
                endpoint_id, endpoint_version = self._add_to_endpoint(workspace, pipeline_id)
        except (AzureMLConfigError, AzureMLConnectionError, AzureMLServiceError) as error:
            raise as_airflow_error(error) from error
        result = {
            XCOM_PUBLISHED_PIPELINE_ID: pipeline_id,
            XCOM_PUBLISHED_PIPELINE_URL: url,
            XCOM_PIPELINE_ENDPOINT_ID: endpoint_id,
            XCOM_PIPELINE_ENDPOINT_VERSION: endpoint_version,
        }
        for key, value in result.items():
            context["ti"].xcom_push(key=key, value=value)
        return {**result, "reused": existing is not None}

    # -- building and publishing -------------------------------------------------------------------
    def _build(self, factory: PipelineFactory, workspace: Any) -> Any:
        from azureml.pipeline.core import Pipeline

        name = _factory_name(self.pipeline_factory)
        try:
            pipeline = factory(workspace, **(self.factory_kwargs or {}))
        except Exception as error:
            raise AirflowFailException(
                f"pipeline_factory {name} raised {type(error).__name__}: {error}"
            ) from error
        if not isinstance(pipeline, Pipeline):
            raise AirflowFailException(
                f"pipeline_factory {name} returned "
                f"{type(pipeline).__module__}.{type(pipeline).__qualname__}, "
                "not an azureml.pipeline.core.Pipeline"
            )
        return pipeline

    def _publish(self, pipeline: Any) -> Any:
        """Validate (the SDK's own messages fail the task), then publish."""
        errors = pipeline.validate()
        if errors:
            raise AirflowFailException(
                f"Pipeline {self.pipeline_name!r} failed validation: " + "; ".join(str(e) for e in errors)
            )
        published = pipeline.publish(
            name=self.pipeline_name,
            description=self.description,
            version=self.version,
            continue_on_step_failure=self.continue_on_step_failure,
        )
        self.log.info(
            "Published pipeline %s (%s, version %s)", published.id, self.pipeline_name, self.version
        )
        return published

    def _existing_pipeline(self) -> PublishedPipeline | None:
        """The newest Active published pipeline with this name and version, when reuse applies."""
        if not self.reuse_existing or self.version in (None, ""):
            if self.reuse_existing:
                self.log.info("No version given: publishing without looking for an existing pipeline")
            return None
        matches = [
            p
            for p in self.hook.list_published_pipelines(active_only=True)
            if p.name == self.pipeline_name and p.version == str(self.version)
        ]
        return matches[-1] if matches else None

    # -- endpoint ----------------------------------------------------------------------------------
    def _add_to_endpoint(self, workspace: Any, pipeline_id: str) -> tuple[str | None, str | None]:
        """Create the endpoint with this pipeline, or add it as a new version; no change if listed."""
        if not self.pipeline_endpoint_name:
            return None, None
        from azureml.pipeline.core import PipelineEndpoint, PublishedPipeline

        try:
            endpoint = self.hook.get_pipeline_endpoint(name=self.pipeline_endpoint_name)
        except AzureMLNotFoundError:
            published = PublishedPipeline.get(workspace, pipeline_id)
            created = PipelineEndpoint.publish(
                workspace,
                name=self.pipeline_endpoint_name,
                pipeline=published,
                description=self.pipeline_endpoint_description or "",
            )
            self.log.info("Created pipeline endpoint %s (%s)", self.pipeline_endpoint_name, created.id)
            return created.id, self._version_of(created.id, pipeline_id)
        listed = [v.version for v in endpoint.versions if v.pipeline_id == pipeline_id]
        if listed:
            self.log.info("Endpoint %s already lists the pipeline as version %s", endpoint.name, listed[0])
            return endpoint.id, listed[0]
        sdk_endpoint = PipelineEndpoint.get(workspace, id=endpoint.id)
        published = PublishedPipeline.get(workspace, pipeline_id)
        if self.set_as_default:
            sdk_endpoint.add_default(published)
        else:
            sdk_endpoint.add(published)
        version = self._version_of(endpoint.id, pipeline_id)
        self.log.info(
            "Added the pipeline to endpoint %s as version %s%s",
            endpoint.name,
            version,
            " (now the default)" if self.set_as_default else "",
        )
        return endpoint.id, version

    def _version_of(self, endpoint_id: str, pipeline_id: str) -> str:
        endpoint = self.hook.get_pipeline_endpoint(endpoint_id=endpoint_id)
        for entry in endpoint.versions:
            if entry.pipeline_id == pipeline_id:
                return entry.version
        raise AirflowException(
            f"endpoint {endpoint.name!r} does not list pipeline {pipeline_id} after adding it"
        )
