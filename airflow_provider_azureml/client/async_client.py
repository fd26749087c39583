"""The non-blocking client for triggers: ``httpx.AsyncClient`` and tenacity ``AsyncRetrying``.

Same operations, URL building, token cache, host check and retry policy as the sync client; tokens are
acquired in a worker thread so a credential's blocking call never stalls the triggerer's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying

from airflow_provider_azureml.client.base import ClientCore, PreparedRequest
from airflow_provider_azureml.client.config import AzureMLConnectionConfig
from airflow_provider_azureml.client.credentials import TokenProvider
from airflow_provider_azureml.client.errors import AzureMLConnectionError, AzureMLError
from airflow_provider_azureml.client.models import PipelineRun, PublishedPipeline, Run
from airflow_provider_azureml.client.operations import Call, Operation, ServiceHosts
from airflow_provider_azureml.client.retry import RawResponse, RetrySettings

T = TypeVar("T")
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _connection_error(error: httpx.TransportError, request: PreparedRequest) -> AzureMLConnectionError:
    """Classify an httpx failure; only a failure to connect proves the request was never sent."""
    kind = "timed out" if isinstance(error, httpx.TimeoutException) else "connection failed"
    return AzureMLConnectionError(
        f"{kind} ({type(error).__name__})",
        request_sent=not isinstance(error, _NOT_SENT),
        method=request.method,
        url=request.url,
    )


class AsyncAzureMLClient(ClientCore):
    """Async twin of :class:`~airflow_provider_azureml.client.sync_client.AzureMLClient` (same names).

    Use as ``async with client: ...`` so the connection pool is closed.
    """

    def __init__(
        self,
        config: AzureMLConnectionConfig,
        *,
        settings: RetrySettings | None = None,
        tokens: TokenProvider | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(config, settings=settings, tokens=tokens)
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.request_timeout, connect=self.connect_timeout),
            follow_redirects=False,
        )

    async def __aenter__(self) -> AsyncAzureMLClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def run(self, operation: Operation[T]) -> T:
        """Drive an operation: carry out each call it yields, feed back the answer or the error."""
        try:
            call = next(operation)
            while True:
                try:
                    answer = await self.request(call)
                except AzureMLError as error:
                    call = operation.throw(error)
                else:
                    call = operation.send(answer)
        except StopIteration as stop:
            return stop.value

    async def request(self, call: Call) -> Any:
        hosts = await self.hosts() if call.service in ("api", "history") else None
        request = self._prepare(call, hosts)
        try:
            raw: RawResponse = await AsyncRetrying(sleep=self._sleep, **self._retry_options(request))(
                self._send, request
            )
        except AzureMLConnectionError as error:
            if ambiguous := self._ambiguous(request, error):
                raise ambiguous from error
            raise
        return self._decode(call, request, raw)

    async def _send(self, request: PreparedRequest) -> RawResponse:
        headers = request.with_token(await self.tokens.aget_token(self.token_scope))
        try:
            response = await self._http.request(
                request.method, request.url, content=request.content, headers=headers
            )
        except httpx.TransportError as error:
            raise _connection_error(error, request) from error
        return RawResponse(
            response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content
        )

    async def hosts(self) -> ServiceHosts:
        """The workspace's service hosts, discovered once per process."""
        return self._known_hosts() or self._remember_hosts(await self.run(self.ops.discover()))

    async def get_published_pipeline(self, pipeline_id: str) -> PublishedPipeline:
        return await self.run(self.ops.get_published_pipeline(pipeline_id))

    async def get_pipeline_run(self, run_id: str) -> PipelineRun:
        return await self.run(self.ops.get_pipeline_run(run_id))

    async def cancel_pipeline_run(self, run_id: str) -> None:
        await self.run(self.ops.cancel_pipeline_run(run_id))

    async def get_run(self, experiment_name: str, run_id: str) -> Run:
        return await self.run(self.ops.get_run(experiment_name, run_id))

    async def get_run_details(self, experiment_name: str, run_id: str) -> Run:
        return await self.run(self.ops.get_run_details(experiment_name, run_id))

    async def list_step_runs(self, experiment_name: str, run_id: str) -> list[Run]:
        return await self.run(self.ops.list_step_runs(experiment_name, run_id))

    async def find_runs_by_tags(
        self,
        experiment_name: str,
        tags: dict[str, str],
        *,
        status: str | None = None,
        created_after: datetime | None = None,
    ) -> list[Run]:
        operation = self.ops.find_runs_by_tags(
            experiment_name, tags, status=status, created_after=created_after
        )
        return await self.run(operation)

    async def get_step_log_tail(self, run: Run, lines: int = 50) -> str:
        return await self.run(self.ops.get_step_log_tail(run, lines))
