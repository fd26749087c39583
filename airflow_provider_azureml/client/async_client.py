"""The non-blocking client for triggers: ``httpx.AsyncClient`` and tenacity ``AsyncRetrying``.

Same operations, URL building, token cache, host check and retry policy as the sync client; tokens are
acquired in a worker thread so a credential's blocking call never stalls the triggerer's event loop. All
clients of one event loop share one connection pool and one TLS context (``transport``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying

from airflow_provider_azureml.client.base import ASYNC_DISCOVERIES, ClientCore, PreparedRequest
from airflow_provider_azureml.client.config import AzureMLConnectionConfig
from airflow_provider_azureml.client.credentials import TokenProvider
from airflow_provider_azureml.client.errors import (
    AzureMLAuthError,
    AzureMLConnectionError,
    AzureMLCredentialRefusedError,
    AzureMLError,
)
from airflow_provider_azureml.client.operations import Call, Operation, ServiceHosts
from airflow_provider_azureml.client.retry import RawResponse, RetrySettings
from airflow_provider_azureml.client.transport import acquire_pool, release_pool

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
    """Async twin of :class:`~airflow_provider_azureml.client.sync_client.AzureMLClient`: the same
    operations, with the same signatures, each returning a coroutine of its result.

    Cheap to create: requests go through the event loop's shared connection pool (see ``transport``),
    taken on the first request. Use as ``async with client: ...`` so the pool is given back.
    """

    def __init__(
        self,
        config: AzureMLConnectionConfig,
        *,
        settings: RetrySettings | None = None,
        tokens: TokenProvider | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        reread_config: Callable[[], Awaitable[AzureMLConnectionConfig]] | None = None,
    ) -> None:
        """``reread_config`` reads the connection again after a 401, to pick up a rotated secret."""
        super().__init__(config, settings=settings, tokens=tokens)
        self._sleep = sleep
        self._reread_config = reread_config
        self._timeout = httpx.Timeout(self.settings.request_timeout, connect=self.connect_timeout)
        self._pool: httpx.AsyncClient | None = None

    async def __aenter__(self) -> AsyncAzureMLClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Give the shared pool back (the loop's last client closes it); the client may be used again."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await release_pool(pool)

    def _http(self) -> httpx.AsyncClient:
        if self._pool is None:
            self._pool = acquire_pool()
        return self._pool

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
        """Carry out ``call``; after a 401 once more with a new token (and the connection re-read)."""
        try:
            return await self._request_once(call)
        except AzureMLCredentialRefusedError:
            raise
        except AzureMLAuthError as error:
            if error.status_code != 401:
                raise self._refused(error, renewed=False) from None
            self._renew_credentials(await self._reread_config() if self._reread_config else None)
        try:
            return await self._request_once(call)
        except AzureMLCredentialRefusedError:
            raise
        except AzureMLAuthError as error:
            raise self._refused(error, renewed=True) from None

    async def _request_once(self, call: Call) -> Any:
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
        self._sent_token = await self.tokens.aget_token(self.token_scope)
        headers = request.with_token(self._sent_token)
        try:
            response = await self._http().request(
                request.method,
                request.url,
                content=request.content,
                headers=headers,
                timeout=self._timeout,
                follow_redirects=False,
            )
        except httpx.TransportError as error:
            # Not chained: the httpx error holds the request, headers included.
            raise _connection_error(error, request) from None
        return RawResponse(
            response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content
        )

    async def hosts(self) -> ServiceHosts:
        """The workspace's service hosts, discovered once per process; clients asking meanwhile share it."""
        return self._known_hosts() or await ASYNC_DISCOVERIES.do(self._hosts_key, self._discover_once)

    async def _discover_once(self) -> ServiceHosts:
        """Discover unless a flight that ended just before this one has filled the cache."""
        return self._known_hosts() or self._remember_hosts(await self.run(self.discovery()))
