"""The ``azureml`` connection, parsed and checked once, before any request is made.

Every field can come from the UI, ``AIRFLOW_CONN_*`` JSON or a URI: ``login`` is the client id,
``password`` the client secret, ``host`` (plus ``port`` in URI form) the endpoint override, and the rest are
extras, also accepted with the old ``extra__azureml__`` prefix. Error messages name the field and what is
allowed, never the value: a value may be a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from airflow_provider_azureml.client.clouds import CLOUDS, Cloud, HostPolicy, get_cloud, is_loopback
from airflow_provider_azureml.client.errors import AzureMLConfigError
from airflow_provider_azureml.client.routes import SCOPE
from airflow_provider_azureml.get_provider_info import AUTH_METHODS

EXTRA_PREFIX = "extra__azureml__"
#: Methods that cannot work without a tenant id and a client id.
_NEEDS_TENANT_AND_CLIENT = ("service_principal_secret", "service_principal_certificate")


def normalize_endpoint(host: str, port: int | None, *, auth_method: str) -> str:
    """Reduce the endpoint override to ``scheme://host[:port]``; reject anything else."""
    parts = urlsplit(host if "://" in host else f"//{host}")
    try:
        explicit_port = parts.port
    except ValueError:
        raise ValueError("host (endpoint override) has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "host (endpoint override) must be a base URL such as https://x.example or http://127.0.0.1:8089"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(
            "host (endpoint override) must be scheme://host[:port] only: no path, query or credentials"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname) and auth_method != "emulator":
        raise ValueError(
            "host (endpoint override): plain http is only allowed for loopback hosts (127.0.0.0/8, ::1, "
            "localhost) or with auth_method 'emulator'; use https"
        )
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if port and explicit_port is None:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}"


class AzureMLConnectionConfig(BaseModel):
    """What the client needs from the connection; secrets are ``SecretStr`` so ``repr`` never shows them."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    conn_id: str = "azureml_default"
    tenant_id: str | None = None
    subscription_id: str = Field(min_length=1)
    resource_group: str = Field(min_length=1)
    workspace_name: str = Field(min_length=1)
    auth_method: str = "default"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    certificate_path: str | None = None
    certificate_password: SecretStr | None = None
    cloud: str = "public"
    endpoint: str | None = None
    max_retries: int | None = Field(default=None, ge=0)
    timeout: float | None = Field(default=None, gt=0)

    @field_validator("auth_method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value not in AUTH_METHODS:
            raise ValueError(f"unknown auth method; allowed: {', '.join(AUTH_METHODS)}")
        return value

    @field_validator("cloud")
    @classmethod
    def _known_cloud(cls, value: str) -> str:
        if value not in CLOUDS:
            raise ValueError(f"unknown cloud; allowed: {', '.join(CLOUDS)}")
        return value

    @model_validator(mode="after")
    def _method_requirements(self) -> AzureMLConnectionConfig:
        method = self.auth_method
        if method in _NEEDS_TENANT_AND_CLIENT and not self.tenant_id:
            raise ValueError(f"tenant_id is required for auth_method {method!r}")
        if method in _NEEDS_TENANT_AND_CLIENT and not self.client_id:
            raise ValueError(f"login (client id) is required for auth_method {method!r}")
        if method == "service_principal_secret" and not self.client_secret:
            raise ValueError(
                "password (client secret) is required for auth_method 'service_principal_secret'"
            )
        if method == "service_principal_certificate" and not self.certificate_path:
            raise ValueError("certificate_path is required for auth_method 'service_principal_certificate'")
        if method == "emulator" and not self.endpoint:
            raise ValueError(
                "auth_method 'emulator' requires host (endpoint override): its token is not secret"
            )
        return self

    @classmethod
    def from_connection(cls, conn: Any) -> AzureMLConnectionConfig:
        """Parse an Airflow ``Connection`` (anything with its attributes) into a checked config."""
        extras = _extras(getattr(conn, "extra_dejson", None) or {})
        raw: dict[str, Any] = {
            **extras,
            "conn_id": getattr(conn, "conn_id", None) or "azureml_default",
            "client_id": conn.login or None,
            "client_secret": conn.password or None,
        }
        conn_id = raw["conn_id"]
        if conn.host:
            try:
                raw["endpoint"] = normalize_endpoint(
                    conn.host, conn.port, auth_method=str(extras.get("auth_method", "default"))
                )
            except ValueError as e:
                raise AzureMLConfigError(f"connection {conn_id!r}: {e}") from None
        return cls.parse(raw)

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> AzureMLConnectionConfig:
        """Validate, turning pydantic's error (which quotes input values) into one naming only fields."""
        try:
            return cls.model_validate(raw)
        except ValidationError as e:
            problems = "; ".join(_describe(err) for err in e.errors())
            raise AzureMLConfigError(f"connection {raw.get('conn_id')!r}: {problems}") from None

    @property
    def cloud_info(self) -> Cloud:
        return get_cloud(self.cloud)

    @property
    def arm_endpoint(self) -> str:
        """ARM base URL; with an endpoint override, the override serves the ARM workspace route too."""
        return self.endpoint or self.cloud_info.arm_endpoint

    @property
    def host_policy(self) -> HostPolicy:
        return HostPolicy(self.cloud_info, self.endpoint)

    @property
    def scope_params(self) -> dict[str, str]:
        return {
            "subscription_id": self.subscription_id,
            "resource_group": self.resource_group,
            "workspace_name": self.workspace_name,
        }

    @property
    def workspace_scope(self) -> str:
        return SCOPE.format(**self.scope_params)


def _extras(extra: Mapping[str, Any]) -> dict[str, Any]:
    """Strip the old ``extra__azureml__`` prefix; drop empty strings the UI stores for unset fields."""
    cleaned: dict[str, Any] = {}
    for key, value in extra.items():
        name = key.removeprefix(EXTRA_PREFIX)
        if value is None or value == "" or name in ("client_id", "client_secret", "endpoint", "conn_id"):
            continue
        cleaned[name] = value
    return cleaned


def _describe(err: Any) -> str:
    field = ".".join(str(p) for p in err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        return f"{field} is required (set it in the connection extras)"
    return f"{field}: {message}" if field else message
