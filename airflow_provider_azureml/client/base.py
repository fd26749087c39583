"""What the sync and async clients share: the operations, URL building, the token host check, request
preparation, response decoding and error mapping. Only the transport (requests or httpx) and ``await`` differ.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from airflow_provider_azureml import __version__
from airflow_provider_azureml.client.config import AzureMLConnectionConfig
from airflow_provider_azureml.client.credentials import (
    TokenProvider,
    build_credential,
    shared_token_provider,
)
from airflow_provider_azureml.client.errors import (
    AzureMLAmbiguousSubmitError,
    AzureMLAuthError,
    AzureMLConnectionError,
    AzureMLCredentialRefusedError,
    AzureMLServiceError,
    error_from_response,
    redact_url,
)
from airflow_provider_azureml.client.operations import (
    Call,
    Operations,
    ServiceHosts,
    cached_hosts,
    store_hosts,
)
from airflow_provider_azureml.client.retry import RawResponse, RetrySettings, retry_options
from airflow_provider_azureml.client.singleflight import AsyncSingleFlight, ThreadSingleFlight

log = logging.getLogger(__name__)

USER_AGENT = f"airflow-provider-azureml/{__version__}"
#: Connecting should be quick; a slow answer may be legitimate up to the request timeout.
CONNECT_TIMEOUT_SECONDS = 10.0
#: One discovery at a time per (ARM endpoint, workspace): for threads, and per event loop for coroutines.
SYNC_DISCOVERIES: ThreadSingleFlight[ServiceHosts] = ThreadSingleFlight()
ASYNC_DISCOVERIES: AsyncSingleFlight[ServiceHosts] = AsyncSingleFlight()


@dataclass(frozen=True)
class PreparedRequest:
    """A call with its final URL and headers, minus the bearer token (added per attempt)."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None
    idempotent: bool

    def with_token(self, token: str) -> dict[str, str]:
        return {**self.headers, "Authorization": f"Bearer {token}"}


def _with_params(url: str, params: dict[str, str]) -> str:
    """Append query parameters, keeping any the URL already has (user-given REST URLs may carry some)."""
    if not params:
        return url
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit(parts._replace(query=query))


def _decode_body(raw: RawResponse) -> Any:
    text = raw.content.decode("utf-8", errors="replace")
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


class ClientCore(Operations):
    """State and pure steps common to :class:`AzureMLClient` and :class:`AsyncAzureMLClient`; each carries
    out the :class:`Operations` with its own ``run``."""

    def __init__(
        self,
        config: AzureMLConnectionConfig,
        *,
        settings: RetrySettings | None = None,
        tokens: TokenProvider | None = None,
    ) -> None:
        self.config = config
        self.settings = settings or RetrySettings()
        self.tokens = tokens or TokenProvider(build_credential(config))
        self._hosts: ServiceHosts | None = None
        self._sent_token: str | None = None  # the token of the last attempt, to forget if refused

    def __repr__(self) -> str:
        config = self.config
        return f"{type(self).__name__}(conn_id={config.conn_id!r}, workspace={config.workspace_name!r})"

    @property
    def scope_params(self) -> dict[str, str]:
        return self.config.scope_params

    @property
    def token_scope(self) -> str:
        return self.config.cloud_info.arm_scope

    @property
    def connect_timeout(self) -> float:
        return min(CONNECT_TIMEOUT_SECONDS, self.settings.request_timeout)

    @property
    def _hosts_key(self) -> tuple[str, str, str]:
        """What the discovered hosts, as checked by the cloud's policy, depend on; they are cached and
        single-flighted per this key."""
        return (self.config.cloud, self.config.arm_endpoint, self.config.workspace_scope)

    def _known_hosts(self) -> ServiceHosts | None:
        if self._hosts is None:
            self._hosts = cached_hosts(self._hosts_key)
        return self._hosts

    def _remember_hosts(self, hosts: ServiceHosts) -> ServiceHosts:
        """Keep a discovery answer whose every service URL passed the token host policy."""
        hosts = hosts.checked(self.config.host_policy)
        self._hosts = hosts
        store_hosts(self._hosts_key, hosts)
        return hosts

    def _renew_credentials(self, reread: AzureMLConnectionConfig | None) -> None:
        """After a 401: forget the refused token and, if the connection re-read since differs (a rotated
        secret), use its credential from now on. The next attempt then carries a new token."""
        if reread is not None and reread != self.config:
            log.info("Connection %r changed since this client was built: using it", reread.conn_id)
            self.config = reread
            self.tokens = shared_token_provider(reread)
            self._hosts = None
        elif self._sent_token is not None:
            self.tokens.forget(self.token_scope, self._sent_token)

    def _refused(self, error: AzureMLAuthError, *, renewed: bool) -> AzureMLCredentialRefusedError:
        """The permanent error for a refused credential: what was refused and what to check, no secret."""
        config = self.config
        what = "a new token was refused too" if renewed else "the credential was refused"
        advice = (
            f"{what} for connection {config.conn_id!r} (auth_method {config.auth_method!r}): check that its "
            f"identity has a role on workspace {config.workspace_name!r} (for example AzureML Data "
            "Scientist), that its client secret or certificate has not expired, and that tenant_id is the "
            "workspace's tenant"
        )
        return AzureMLCredentialRefusedError(
            f"{error.message}; {advice}",
            status_code=error.status_code,
            code=error.code,
            target=error.target,
            correlation_id=error.correlation_id,
            method=error.method,
            url=error.url,
        )

    def _url(self, call: Call, hosts: ServiceHosts | None) -> str:
        if call.service == "url":
            return call.path
        if call.service == "arm":
            return self.config.arm_endpoint + call.path
        if hosts is None:
            raise ValueError(f"{call.service} call needs the discovered hosts")
        return hosts.base(call.service) + call.path

    def _prepare(self, call: Call, hosts: ServiceHosts | None) -> PreparedRequest:
        """Build the request and refuse a URL the token may not go to, before anything is sent."""
        # The gate sees the URL as given and again with the query added; the request goes to what it rebuilt.
        policy = self.config.host_policy
        url = policy.check(_with_params(policy.check(self._url(call, hosts)).url, call.params)).url
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "x-ms-client-request-id": str(uuid.uuid4()),
        }
        content = None
        if call.body is not None:
            content = json.dumps(call.body).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        return PreparedRequest(call.method, url, headers, content, call.is_idempotent)

    def _retry_options(self, request: PreparedRequest) -> dict[str, Any]:
        return retry_options(
            self.settings, method=request.method, url=request.url, idempotent=request.idempotent
        )

    @staticmethod
    def _decode(call: Call, request: PreparedRequest, raw: RawResponse) -> Any:
        """The JSON (or text) of a 2xx answer; any other status becomes the matching ``AzureMLError``."""
        log.debug("Azure ML %s %s -> HTTP %d", request.method, redact_url(request.url), raw.status)
        if not 200 <= raw.status < 300:
            raise error_from_response(
                raw.status, _decode_body(raw), dict(raw.headers), method=request.method, url=request.url
            )
        if call.text:
            return raw.content.decode("utf-8", errors="replace")
        body = _decode_body(raw)
        if isinstance(body, str):
            raise AzureMLServiceError(
                "the service answered with a body that is not JSON",
                status_code=raw.status,
                method=request.method,
                url=request.url,
            )
        return body

    @staticmethod
    def _ambiguous(
        request: PreparedRequest, error: AzureMLConnectionError
    ) -> AzureMLAmbiguousSubmitError | None:
        """For a non-idempotent request that may have arrived, the error telling the caller to look first."""
        if request.idempotent or not error.request_sent:
            return None
        return AzureMLAmbiguousSubmitError(
            f"no answer after the request was sent ({error.message}); a run may have been created: "
            "look it up by its tags before submitting again",
            method=request.method,
            url=request.url,
        )
