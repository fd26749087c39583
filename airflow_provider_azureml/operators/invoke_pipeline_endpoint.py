"""Start a run the way an external service does: POST to a published pipeline's REST endpoint URL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.errors import AzureMLHostNotAllowedError
from airflow_provider_azureml.operators.arguments import InvokeArguments
from airflow_provider_azureml.operators.base import AzureMLPipelineRunOperatorBase
from airflow_provider_azureml.utils.parameters import validate_parameters

if TYPE_CHECKING:
    from airflow_provider_azureml.client.models import PipelineRun


class AzureMLInvokePipelineEndpointOperator(AzureMLPipelineRunOperatorBase):
    """
    POST ``{"ExperimentName", "ParameterAssignments", ...}`` to ``endpoint_url``, the ``Url`` of a published
    pipeline (``.../PipelineRuns/PipelineSubmit/{id}``) or pipeline endpoint
    (``.../PipelineEndpointSubmit/Id/{id}``), with a bearer token from the connection's credential.

    The token is only sent to an Azure ML host of the connection's cloud or to its endpoint override.
    When the URL names a pipeline or endpoint, its declared parameters are checked first.
    """

    template_fields: Sequence[str] = (*AzureMLPipelineRunOperatorBase.template_fields, "endpoint_url")
    arguments = InvokeArguments

    def __init__(self, *, endpoint_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.endpoint_url = endpoint_url

    def _check_fields(self) -> None:
        try:
            # From here on the URL is the one the gate rebuilt: the host checked is the host contacted.
            self.endpoint_url = self.hook.check_token_host(self.endpoint_url)
        except AzureMLHostNotAllowedError as error:
            # Not echoed: a hostile URL reads as another host to a lenient parser, and may carry a SAS.
            raise AzureMLHostNotAllowedError(f"endpoint_url is not allowed: {error.message}") from error

    def _check_target(self) -> None:
        if not (self.validate_parameters and self.pipeline_parameters):
            return
        pipeline_id = self._pipeline_id_from_url()
        if pipeline_id is None:
            self.log.info("endpoint_url names no pipeline or endpoint id; parameters are not checked")
            return
        validate_parameters(self.pipeline_parameters, self.hook.get_pipeline_parameters(pipeline_id))

    def _pipeline_id_from_url(self) -> str | None:
        """The published pipeline the URL submits: named in its path, or through the endpoint it names."""
        found = routes.match_route(urlsplit(self.endpoint_url).path, routes.SUBMIT_ROUTES)
        if found is None:
            return None
        route, params = found
        if route == routes.SUBMIT_PIPELINE:
            return params["pipeline_id"]
        endpoint = self.hook.get_pipeline_endpoint(endpoint_id=params["endpoint_id"])
        return endpoint.pipeline_id_for(params.get("pipeline_version") or self._query_version())

    def _query_version(self) -> str | None:
        """A version pinned as ``?pipelineVersion=`` (the service accepts it without a path segment)."""
        values = parse_qs(urlsplit(self.endpoint_url).query).get("pipelineVersion")
        return values[0] if values else None

    def _submit(self, tags: dict[str, str]) -> PipelineRun:
        return self.hook.invoke_rest_endpoint(
            self.endpoint_url, experiment_name=self.experiment_name, **self._submission_options(tags)
        )

    def _describe_target(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint_url}
