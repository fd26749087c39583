"""Azure clouds, and the rule deciding which hosts may receive the bearer token.

The token is an ARM-audience token: whoever receives it can act on the whole subscription. It is only
attached to https hosts of the configured cloud's Azure ML and ARM domains, or to the exact origin of the
endpoint override set on the connection (the local emulator, a private proxy). Discovery answers and
user-given REST URLs are checked by the same rule, so a tampered discovery document cannot redirect it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from airflow_provider_azureml.client.errors import AzureMLConfigError, AzureMLHostNotAllowedError
from airflow_provider_azureml.client.url_gate import CheckedURL, check_url


@dataclass(frozen=True)
class Cloud:
    name: str
    sdk_name: str  # the azureml-core cloud name
    arm_endpoint: str
    authority_host: str  # azure.identity.AzureAuthorityHosts value
    arm_scope: str
    studio_url: str
    token_hosts: tuple[str, ...]  # exact host names, or "*.suffix" for any subdomain
    #: Resources the SDK may ask a token for: ARM (azureml-core's and ours) and Azure ML's own.
    token_audiences: tuple[str, ...]


CLOUDS: dict[str, Cloud] = {
    "public": Cloud(
        name="public",
        sdk_name="AzureCloud",
        arm_endpoint="https://management.azure.com",
        authority_host="login.microsoftonline.com",
        arm_scope="https://management.azure.com/.default",
        studio_url="https://ml.azure.com",
        token_audiences=(
            "https://management.core.windows.net/",
            "https://management.azure.com/",
            "https://ml.azure.com",
        ),
        token_hosts=(
            "management.azure.com",
            "api.azureml.ms",
            "*.api.azureml.ms",  # regional and private-link {wsid}.workspace.{region}.api.azureml.ms
            "experiments.azureml.net",
            "*.experiments.azureml.net",
            "ml.azure.com",
        ),
    ),
    "china": Cloud(
        name="china",
        sdk_name="AzureChinaCloud",
        arm_endpoint="https://management.chinacloudapi.cn",
        authority_host="login.chinacloudapi.cn",
        arm_scope="https://management.chinacloudapi.cn/.default",
        studio_url="https://studio.ml.azure.cn",
        token_audiences=(
            "https://management.core.chinacloudapi.cn/",
            "https://management.chinacloudapi.cn/",
            "https://ml.azure.cn",
        ),
        token_hosts=(
            "management.chinacloudapi.cn",
            "api.ml.azure.cn",
            "*.api.ml.azure.cn",
            "experiments.ml.azure.cn",
            "*.experiments.ml.azure.cn",
            "ml.azure.cn",
        ),
    ),
    "usgov": Cloud(
        name="usgov",
        sdk_name="AzureUSGovernment",
        arm_endpoint="https://management.usgovcloudapi.net",
        authority_host="login.microsoftonline.us",
        arm_scope="https://management.usgovcloudapi.net/.default",
        studio_url="https://ml.azure.us",
        token_audiences=(
            "https://management.core.usgovcloudapi.net/",
            "https://management.usgovcloudapi.net/",
            "https://ml.azure.us",
        ),
        token_hosts=(
            "management.usgovcloudapi.net",
            "api.ml.azure.us",
            "*.api.ml.azure.us",
            "experiments.ml.azure.us",
            "*.experiments.ml.azure.us",
            "ml.azure.us",
        ),
    ),
}


def get_cloud(name: str) -> Cloud:
    try:
        return CLOUDS[name]
    except KeyError:
        raise AzureMLConfigError(f"cloud: unknown cloud {name!r}; allowed: {', '.join(CLOUDS)}") from None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


@dataclass(frozen=True)
class HostPolicy:
    """Which URLs may receive the token: the cloud's https hosts plus the endpoint override's origin."""

    cloud: Cloud
    endpoint: str | None = None

    def check(self, url: object) -> CheckedURL:
        """The checked URL to send the request to; ``AzureMLHostNotAllowedError`` unless the token may go
        there. Callers must send to the returned ``.url``, never to the string they passed in."""
        checked = check_url(url)
        if self.endpoint and checked.origin == check_url(self.endpoint).origin:
            return checked
        if checked.scheme == "https" and any(_matches(checked.host, p) for p in self.cloud.token_hosts):
            return checked
        allowed = f"https hosts {', '.join(self.cloud.token_hosts)} (cloud {self.cloud.name!r})"
        if self.endpoint:
            allowed += f" and the endpoint override {self.endpoint}"
        raise AzureMLHostNotAllowedError(
            f"refusing to send the Azure AD token to {checked.origin}; allowed: {allowed}"
        )

    def allows_audience(self, resource: str) -> bool:
        """Whether the SDK may be handed a token for ``resource`` (an ADAL resource or a scope)."""
        wanted = resource.removesuffix("/.default").rstrip("/")
        return any(wanted == audience.rstrip("/") for audience in self.cloud.token_audiences)
