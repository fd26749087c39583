"""The ``azureml`` connection, parsed and checked once, before any request is made.

Every field can come from the UI, ``AIRFLOW_CONN_*`` JSON or a URI: ``login`` is the client id,
``password`` the client secret, ``host`` (plus ``port`` in URI form) the endpoint override, and the rest are
extras, also accepted with the old ``extra__azureml__`` prefix; any other extra is refused, naming the closest
known one. Types are strict (numbers may be given as their text). Error messages name the field and what is
allowed, never the value: a value may be a secret.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from airflow_provider_azureml.client.clouds import CLOUDS, Cloud, HostPolicy, get_cloud, is_loopback
from airflow_provider_azureml.client.errors import AzureMLConfigError, AzureMLHostNotAllowedError
from airflow_provider_azureml.client.routes import SCOPE, STUDIO_RUN
from airflow_provider_azureml.client.url_gate import check_url
from airflow_provider_azureml.client.validation import PositiveSeconds, RetryCount, problem
from airflow_provider_azureml.get_provider_info import AUTH_METHODS

EXTRA_PREFIX = "extra__azureml__"
#: Methods that cannot work without a tenant id and a client id.
_NEEDS_TENANT_AND_CLIENT = ("service_principal_secret", "service_principal_certificate")
#: Config fields read from the connection's standard fields, never from extras: field -> where to set it.
_STANDARD_FIELDS = {
    "conn_id": "the connection id",
    "client_id": "login",
    "client_secret": "password",
    "endpoint": "host",
}
#: A number as the URI form (or a hand-written extra) stores it: plain ASCII digits, optionally a fraction.
_NUMBER_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
#: An authority that ends in ``:digits`` names its own port (``[::1]`` alone does not).
_NAMES_PORT = re.compile(r"^[^/?#]*://[^/?#]*:[0-9]+(?:[/?#]|$)", re.ASCII)


def normalize_endpoint(host: str, port: int | None, *, auth_method: str) -> str:
    """Reduce the endpoint override to ``scheme://host[:port]`` through the URL gate; reject anything else.

    ``port`` is the URI form's separate port, used when ``host`` names none.
    """
    try:
        checked = check_url(host)
    except AzureMLHostNotAllowedError as error:
        raise ValueError(
            f"host (endpoint override) must be a base URL such as https://x.example or "
            f"http://127.0.0.1:8089 ({error.message})"
        ) from None
    if checked.path != "/" or checked.query:
        raise ValueError(
            "host (endpoint override) must be scheme://host[:port] only: no path, query or credentials"
        )
    if port is not None:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError("port (endpoint override) must be a number from 1 to 65535")
        if not _NAMES_PORT.search(host):
            checked = replace(checked, port=port)
    if checked.scheme == "http" and not is_loopback(checked.host) and auth_method != "emulator":
        raise ValueError(
            "host (endpoint override): plain http is only allowed for loopback hosts (127.0.0.0/8, ::1, "
            "localhost) or with auth_method 'emulator'; use https"
        )
    return checked.base


class AzureMLConnectionConfig(BaseModel):
    """What the client needs from the connection; secrets are ``SecretStr`` so ``repr`` never shows them."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

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
    max_retries: RetryCount | None = None
    timeout: PositiveSeconds | None = None

    @field_validator("max_retries", "timeout", mode="before")
    @classmethod
    def _number_from_text(cls, value: Any) -> Any:
        """Read numbers stored as text; bools, other floats and other text meet the strict check."""
        if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
            return float(value) if "." in value else int(value)
        return value

    @field_validator("auth_method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value not in AUTH_METHODS:
            raise ValueError(f"unknown auth method; allowed: {', '.join(AUTH_METHODS)}")
        return value

    @field_validator("endpoint")
    @classmethod
    def _normalized_endpoint(cls, value: str | None, info: ValidationInfo) -> str | None:
        """However the config is built, the endpoint the token may go to passed the URL gate."""
        if value is None:
            return None
        return normalize_endpoint(value, None, auth_method=str(info.data.get("auth_method", "default")))

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
        conn_id = getattr(conn, "conn_id", None) or "azureml_default"
        try:
            extras = _extras(getattr(conn, "extra_dejson", None) or {})
        except ValueError as e:
            raise AzureMLConfigError(f"connection {conn_id!r}: {e}") from None
        raw: dict[str, Any] = {
            **extras,
            "conn_id": conn_id,
            "client_id": conn.login or None,
            "client_secret": conn.password or None,
        }
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

    def studio_run_url(self, run_id: str) -> str:
        """Azure ML Studio's page of a run (``STUDIO_RUN``), computed without any request.

        With an endpoint override (the emulator) the same path and query go to the override's origin.
        """
        wsid = (
            f"/subscriptions/{self.subscription_id}/resourcegroups/{self.resource_group}"
            f"/workspaces/{self.workspace_name}"
        )
        query = f"wsid={quote(wsid, safe='/')}"
        if self.tenant_id:
            query += f"&tid={quote(self.tenant_id, safe='')}"
        base = self.endpoint or self.cloud_info.studio_url
        return f"{base}{STUDIO_RUN.path(run_id=run_id)}?{query}"


#: The extras the connection reads: the UI form's fields (``conn-fields`` in get_provider_info.py).
EXTRA_FIELDS = tuple(name for name in AzureMLConnectionConfig.model_fields if name not in _STANDARD_FIELDS)


def _extras(extra: Mapping[str, Any]) -> dict[str, Any]:
    """Strip the old ``extra__azureml__`` prefix and drop the empty values the UI stores for unset fields.

    Any other key is refused: a misspelled one (``auth_methd``) would otherwise leave its field at the
    default, silently, which for ``auth_method`` means another credential.
    """
    cleaned: dict[str, Any] = {}
    for key, value in extra.items():
        name = str(key).removeprefix(EXTRA_PREFIX)
        if value is None or value == "":
            continue
        if name not in EXTRA_FIELDS:
            raise ValueError(_unknown_extra(name))
        cleaned[name] = value
    return cleaned


def _unknown_extra(name: str) -> str:
    if name in _STANDARD_FIELDS:
        return f"extra {name!r} is not read from extras: set {_STANDARD_FIELDS[name]}"
    close = difflib.get_close_matches(name, EXTRA_FIELDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown extra {name!r}{hint}; allowed: {', '.join(EXTRA_FIELDS)}"


def _describe(err: Any) -> str:
    if err["type"] == "missing":
        return f"{problem(err)} (set it in the connection extras)"
    return problem(err)
