"""The blocking client: one keep-alive ``requests.Session``, tenacity ``Retrying`` over the shared policy."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from tenacity import Retrying
from urllib3.exceptions import ConnectTimeoutError

from airflow_provider_azureml.client.base import SYNC_DISCOVERIES, ClientCore, PreparedRequest
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

T = TypeVar("T")
#: Plain http goes only to a loopback endpoint override: never through a proxy named in the environment
#: (``HTTP_PROXY``, ``ALL_PROXY``), which would read the token in clear. ``None`` masks the variable.
_DIRECT: dict[str, Any] = {"http": None, "all": None}  # types-requests wants str values


def _connection_error(error: requests.RequestException, request: PreparedRequest) -> AzureMLConnectionError:
    """Classify a requests failure; only a failure to connect proves the request was never sent."""
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)  # urllib3 MaxRetryError wraps the real cause
    not_sent = isinstance(error, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError)
    kind = "timed out" if isinstance(error, requests.Timeout) else "connection failed"
    return AzureMLConnectionError(
        f"{kind} ({type(reason or error).__name__})",
        request_sent=not not_sent,
        method=request.method,
        url=request.url,
    )


class AzureMLClient(ClientCore):
    """Synchronous Azure ML client: each operation (see ``operations``) returns its result."""

    def __init__(
        self,
        config: AzureMLConnectionConfig,
        *,
        settings: RetrySettings | None = None,
        tokens: TokenProvider | None = None,
        sleep: Callable[[float], None] = time.sleep,
        reread_config: Callable[[], AzureMLConnectionConfig] | None = None,
    ) -> None:
        """``reread_config`` reads the connection again after a 401, to pick up a rotated secret."""
        super().__init__(config, settings=settings, tokens=tokens)
        self._sleep = sleep
        self._reread_config = reread_config
        self._session = requests.Session()

    def __enter__(self) -> AzureMLClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def run(self, operation: Operation[T]) -> T:
        """Drive an operation: carry out each call it yields, feed back the answer or the error."""
        try:
            call = next(operation)
            while True:
                try:
                    answer = self.request(call)
                except AzureMLError as error:
                    call = operation.throw(error)
                else:
                    call = operation.send(answer)
        except StopIteration as stop:
            return stop.value

    def request(self, call: Call) -> Any:
        """Carry out ``call``; after a 401 once more with a new token (and the connection re-read)."""
        try:
            return self._request_once(call)
        except AzureMLCredentialRefusedError:
            raise
        except AzureMLAuthError as error:
            if error.status_code != 401:
                raise self._refused(error, renewed=False) from None
            self._renew_credentials(self._reread_config() if self._reread_config else None)
        try:
            return self._request_once(call)
        except AzureMLCredentialRefusedError:
            raise
        except AzureMLAuthError as error:
            raise self._refused(error, renewed=True) from None

    def _request_once(self, call: Call) -> Any:
        hosts = self.hosts() if call.service in ("api", "history") else None
        request = self._prepare(call, hosts)
        try:
            raw = Retrying(sleep=self._sleep, **self._retry_options(request))(self._send, request)
        except AzureMLConnectionError as error:
            if ambiguous := self._ambiguous(request, error):
                raise ambiguous from error
            raise
        return self._decode(call, request, raw)

    def _send(self, request: PreparedRequest) -> RawResponse:
        self._sent_token = self.tokens.get_token(self.token_scope)
        headers = request.with_token(self._sent_token)
        try:
            response = self._session.request(
                request.method,
                request.url,
                data=request.content,
                headers=headers,
                timeout=(self.connect_timeout, self.settings.request_timeout),
                allow_redirects=False,
                proxies=_DIRECT if request.url.startswith("http://") else None,
            )
        except requests.RequestException as error:
            # Not chained: the requests error holds the URL with its query and the request's headers.
            raise _connection_error(error, request) from None
        return RawResponse(
            response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content
        )

    def hosts(self) -> ServiceHosts:
        """The workspace's service hosts, discovered once per process (threads arriving meanwhile wait)."""
        return self._known_hosts() or SYNC_DISCOVERIES.do(
            self._hosts_key, lambda: self._known_hosts() or self.discover()
        )

    def discover(self) -> ServiceHosts:
        """ARM workspace, then discovery, bypassing the cache (which it refreshes)."""
        return self._remember_hosts(self.run(self.discovery()))
