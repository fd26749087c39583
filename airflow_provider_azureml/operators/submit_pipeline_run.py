"""Run a published pipeline, or a pipeline endpoint's default or pinned version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_azureml.client.errors import AzureMLConfigError
from airflow_provider_azureml.operators.arguments import SubmitArguments
from airflow_provider_azureml.operators.base import AzureMLPipelineRunOperatorBase
from airflow_provider_azureml.utils.parameters import validate_parameters

if TYPE_CHECKING:
    from airflow_provider_azureml.client.models import PipelineRun


class AzureMLSubmitPipelineRunOperator(AzureMLPipelineRunOperatorBase):
    """
    Submit a run of a published pipeline (``published_pipeline_id``) or of a pipeline endpoint
    (``pipeline_endpoint_name`` or ``pipeline_endpoint_id``, optionally ``pipeline_version``), then wait.

    Pushes ``azureml_run_id`` and ``azureml_studio_url`` to XCom right after submission and returns a
    summary (run id, status, Studio URL, parameters sent). See the base class for the wait options.
    """

    template_fields: Sequence[str] = (
        *AzureMLPipelineRunOperatorBase.template_fields,
        "published_pipeline_id",
        "pipeline_endpoint_name",
        "pipeline_endpoint_id",
        "pipeline_version",
    )
    arguments = SubmitArguments

    def __init__(
        self,
        *,
        published_pipeline_id: str | None = None,
        pipeline_endpoint_name: str | None = None,
        pipeline_endpoint_id: str | None = None,
        pipeline_version: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.published_pipeline_id = published_pipeline_id
        self.pipeline_endpoint_name = pipeline_endpoint_name
        self.pipeline_endpoint_id = pipeline_endpoint_id
        self.pipeline_version = pipeline_version
        self._endpoint_id: str | None = None

    def _check_target(self) -> None:
        """Resolve the endpoint version to its pipeline, refuse disabled targets, check parameters."""
        pipeline_id = self.published_pipeline_id
        if not pipeline_id:
            endpoint = self.hook.get_pipeline_endpoint(
                endpoint_id=self.pipeline_endpoint_id or None, name=self.pipeline_endpoint_name or None
            )
            if endpoint.status not in (None, "Active"):
                raise AzureMLConfigError(
                    f"pipeline endpoint {endpoint.name!r} is {endpoint.status}, not Active"
                )
            self._endpoint_id = endpoint.id
            pipeline_id = endpoint.pipeline_id_for(self._version)
        pipeline = self.hook.get_published_pipeline(pipeline_id)
        if pipeline.status not in (None, "Active"):
            raise AzureMLConfigError(
                f"published pipeline {pipeline.name!r} ({pipeline.id}) is {pipeline.status}"
            )
        if self.validate_parameters and self.pipeline_parameters:
            validate_parameters(self.pipeline_parameters, self.hook.get_pipeline_parameters(pipeline_id))

    @property
    def _version(self) -> str | None:
        return None if self.pipeline_version in (None, "") else str(self.pipeline_version)

    def _submit(self, tags: dict[str, str]) -> PipelineRun:
        options = self._submission_options(tags)
        if self.published_pipeline_id:
            return self.hook.submit_pipeline_run(
                self.published_pipeline_id, experiment_name=self.experiment_name, **options
            )
        return self.hook.submit_pipeline_endpoint_run(
            self._endpoint_id or self._resolve_endpoint_id(),
            experiment_name=self.experiment_name,
            pipeline_version=self._version,
            **options,
        )

    def _resolve_endpoint_id(self) -> str:
        if self.pipeline_endpoint_id:
            return self.pipeline_endpoint_id
        self._endpoint_id = self.hook.get_pipeline_endpoint(name=self.pipeline_endpoint_name).id
        return self._endpoint_id

    def _describe_target(self) -> dict[str, Any]:
        if self.published_pipeline_id:
            return {"published_pipeline_id": self.published_pipeline_id}
        return {
            "pipeline_endpoint_id": self._endpoint_id or self.pipeline_endpoint_id,
            "pipeline_endpoint_name": self.pipeline_endpoint_name,
            "pipeline_version": self._version,
        }
