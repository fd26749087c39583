"""Azure AD credentials built from the connection, and the token cache in front of them.

azure-identity is imported inside :func:`build_credential` only: DAG files importing the hook must not pay
for it. :class:`TokenProvider` makes one token acquisition per token lifetime (some credentials, like the
Azure CLI one, spawn a process per call), is shared by the sync and async clients, and hands every
secret and token to Airflow's secrets masker.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_provider_azureml.client.redaction import remember_secret

if TYPE_CHECKING:
    from airflow_provider_azureml.client.config import AzureMLConnectionConfig

#: Refresh a cached token when fewer seconds than this remain.
REFRESH_MARGIN_SECONDS = 300
EMULATOR_TOKEN = "emulator-token"
#: Distinct connection configurations whose token cache :func:`shared_token_provider` keeps.
SHARED_PROVIDERS_MAX = 32


class AccessToken(NamedTuple):
    """Same shape as ``azure.core.credentials.AccessToken``, without importing azure.core."""

    token: str
    expires_on: int


class EmulatorCredential:
    """A fixed, non-secret token for the local emulator (allowed only with an endpoint override)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(EMULATOR_TOKEN, int(time.time()) + 3600)

    def close(self) -> None:
        """Nothing to release; present because azure-identity credentials have it."""


def register_secret(value: str | None) -> None:
    """Tell Airflow's secrets masker about ``value`` so no log line can show it, and scrub it from every
    error text this process builds (``redaction``)."""
    if value:
        from airflow.sdk.log import mask_secret

        mask_secret(value)
        remember_secret(value)


def build_credential(config: AzureMLConnectionConfig) -> Any:
    """The azure-identity credential for ``config.auth_method`` (a ``TokenCredential``)."""
    method = config.auth_method
    if method == "emulator":
        return EmulatorCredential()
    from azure import identity

    secret = config.client_secret.get_secret_value() if config.client_secret else None
    password = config.certificate_password.get_secret_value() if config.certificate_password else None
    register_secret(secret)
    register_secret(password)
    authority = config.cloud_info.authority_host
    # The config guarantees tenant and client ids for both service principal methods.
    tenant_id, client_id = config.tenant_id or "", config.client_id or ""
    if method == "service_principal_secret":
        return identity.ClientSecretCredential(tenant_id, client_id, secret or "", authority=authority)
    if method == "service_principal_certificate":
        return identity.CertificateCredential(
            tenant_id, client_id, config.certificate_path, password=password, authority=authority
        )
    if method == "managed_identity":
        return identity.ManagedIdentityCredential(client_id=config.client_id)
    if method == "workload_identity":
        return identity.WorkloadIdentityCredential(
            tenant_id=config.tenant_id, client_id=config.client_id, authority=authority
        )
    if method == "azure_cli":
        return identity.AzureCliCredential(tenant_id=config.tenant_id or "")
    return identity.DefaultAzureCredential(
        authority=authority,
        managed_identity_client_id=config.client_id,
        workload_identity_client_id=config.client_id,
        workload_identity_tenant_id=config.tenant_id,
    )


class TokenProvider:
    """Thread-safe per-scope token cache over a ``TokenCredential``; refreshes shortly before expiry."""

    def __init__(
        self,
        credential: Any,
        *,
        on_token: Callable[[str], None] = register_secret,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credential = credential
        self._on_token = on_token
        self._clock = clock
        self._tokens: dict[str, AccessToken] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.credential).__name__})"

    def _cached(self, scope: str) -> str | None:
        token = self._tokens.get(scope)
        if token and token.expires_on - self._clock() > REFRESH_MARGIN_SECONDS:
            return token.token
        return None

    def get_token(self, scope: str) -> str:
        """The bearer token for ``scope``, acquired at most once per lifetime across threads."""
        with self._lock:
            cached = self._cached(scope)
            if cached:
                return cached
            acquired = self.credential.get_token(scope)
            self._on_token(acquired.token)
            self._tokens[scope] = AccessToken(acquired.token, int(acquired.expires_on))
            return acquired.token

    def forget(self, scope: str, token: str) -> None:
        """Drop ``token`` the service refused, so the next request acquires a new one.

        Only if it is still the cached one: among many clients sharing this cache that were refused the
        same token, the first to come back acquires a new token and the others use it.
        """
        with self._lock:
            cached = self._tokens.get(scope)
            if cached is not None and cached.token == token:
                del self._tokens[scope]

    async def aget_token(self, scope: str) -> str:
        """Same cache; an acquisition (possibly a blocking HTTP call or subprocess) runs in a thread."""
        cached = self._cached(scope)
        if cached:
            return cached
        return await asyncio.to_thread(self.get_token, scope)

    def close(self) -> None:
        close = getattr(self.credential, "close", None)
        if close:
            close()


_shared_providers: dict[AzureMLConnectionConfig, TokenProvider] = {}
_shared_lock = threading.Lock()


def shared_token_provider(config: AzureMLConnectionConfig) -> TokenProvider:
    """The process's token cache for ``config``: one credential and one acquisition per token lifetime
    however many triggers of that connection the triggerer runs.

    Keyed by the whole configuration (a rotated secret is a new key); the oldest of more than
    ``SHARED_PROVIDERS_MAX`` is forgotten, which only costs a new acquisition if it is used again.
    """
    with _shared_lock:
        provider = _shared_providers.get(config)
        if provider is None:
            provider = _shared_providers[config] = TokenProvider(build_credential(config))
            while len(_shared_providers) > SHARED_PROVIDERS_MAX:
                del _shared_providers[next(iter(_shared_providers))]
        return provider
