"""Pure parts: the retry decisions, the token host allowlist and connection parsing."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_azureml.client import retry
from airflow_provider_azureml.client.clouds import CLOUDS, HostPolicy
from airflow_provider_azureml.client.config import AzureMLConnectionConfig
from airflow_provider_azureml.client.errors import (
    AzureMLAmbiguousSubmitError,
    AzureMLConfigError,
    AzureMLConnectionError,
    AzureMLHostNotAllowedError,
)
from airflow_provider_azureml.client.retry import RawResponse


@pytest.mark.parametrize(
    ("status", "idempotent", "expected"),
    [
        (429, True, True),
        (500, True, True),
        (504, True, True),
        (400, True, False),
        (404, True, False),
        (429, False, True),
        (503, False, True),
        (500, False, False),
        (502, False, False),
        (504, False, False),
    ],
)
def test_retryable_statuses(status: int, idempotent: bool, expected: bool) -> None:
    assert retry.is_retryable_response(RawResponse(status, {}, b""), idempotent=idempotent) is expected


def test_retryable_errors_depend_on_whether_the_request_left() -> None:
    before = AzureMLConnectionError("refused", request_sent=False)
    after = AzureMLConnectionError("reset", request_sent=True)
    assert retry.is_retryable_error(before, idempotent=False)
    assert not retry.is_retryable_error(after, idempotent=False)
    assert retry.is_retryable_error(after, idempotent=True)
    assert not retry.is_retryable_error(AzureMLAmbiguousSubmitError("x"), idempotent=False)
    assert not retry.is_retryable_error(ValueError("x"), idempotent=True)


def test_retry_after_forms() -> None:
    assert retry.parse_retry_after("12") == 12.0
    assert retry.parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=lambda: 1445412480.0) == 10.0
    assert retry.parse_retry_after("-3") == 0.0
    assert retry.parse_retry_after("99999") == retry.RETRY_AFTER_MAX_SECONDS
    assert retry.parse_retry_after("soon") is None
    assert retry.parse_retry_after(None) is None


def test_backoff_is_exponential_capped_and_jittered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "add_jitter", lambda seconds: seconds)
    assert [retry.backoff_seconds(n) for n in (1, 2, 3, 10)] == [1.0, 2.0, 4.0, retry.BACKOFF_MAX_SECONDS]
    monkeypatch.undo()
    assert all(2.0 <= retry.backoff_seconds(3) <= 4.0 for _ in range(50))


# Host allowlist -------------------------------------------------------------------------------------

PUBLIC = HostPolicy(CLOUDS["public"])


@pytest.mark.parametrize(
    "url",
    [
        "https://management.azure.com/subscriptions/x",
        "https://westeurope.api.azureml.ms/pipelines/v1.0/x",
        "https://0000aaaa.workspace.westeurope.api.azureml.ms/history/v1.0/x",
        "https://westeurope.experiments.azureml.net/x",
        "https://ml.azure.com/x",
    ],
)
def test_public_cloud_hosts_may_get_the_token(url: str) -> None:
    PUBLIC.check(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/x",
        "https://api.azureml.ms.evil.example/x",
        "https://evilapi.azureml.ms/x",
        "http://westeurope.api.azureml.ms/x",
        "https://westeurope.api.ml.azure.cn/x",
        "http://127.0.0.1:8089/x",
    ],
)
def test_other_hosts_are_refused_naming_host_and_allowed(url: str) -> None:
    with pytest.raises(
        AzureMLHostNotAllowedError, match=re.escape("allowed: https hosts management.azure.com")
    ):
        PUBLIC.check(url)


def test_sovereign_clouds_have_their_own_hosts() -> None:
    HostPolicy(CLOUDS["china"]).check("https://chinaeast2.api.ml.azure.cn/x")
    HostPolicy(CLOUDS["usgov"]).check("https://usgovvirginia.api.ml.azure.us/x")
    with pytest.raises(AzureMLHostNotAllowedError):
        HostPolicy(CLOUDS["china"]).check("https://westeurope.api.azureml.ms/x")


def test_endpoint_override_is_matched_on_scheme_host_and_port() -> None:
    policy = HostPolicy(CLOUDS["public"], "http://127.0.0.1:8089")
    policy.check("http://127.0.0.1:8089/pipelines/v1.0/x")
    for url in ("http://127.0.0.1:8090/x", "https://127.0.0.1:8089/x", "http://localhost:8089/x"):
        with pytest.raises(
            AzureMLHostNotAllowedError, match=re.escape("endpoint override http://127.0.0.1:8089")
        ):
            policy.check(url)
    HostPolicy(CLOUDS["public"], "https://proxy.example").check("https://proxy.example:443/x")


# Connection parsing ---------------------------------------------------------------------------------

SECRET = "s3cr3t-Value~that-must-never-leak"
GOOD_EXTRA = {"tenant_id": "t1", "subscription_id": "s1", "resource_group": "rg", "workspace_name": "ws"}


def connection(extra: dict[str, Any] | None = None, **fields: Any) -> SimpleNamespace:
    defaults = {"conn_id": "azureml_x", "login": None, "password": None, "host": None, "port": None}
    return SimpleNamespace(**{**defaults, **fields}, extra_dejson=GOOD_EXTRA if extra is None else extra)


def test_defaults_old_style_prefix_and_uri_strings() -> None:
    extra = {f"extra__azureml__{k}": v for k, v in GOOD_EXTRA.items()} | {
        "max_retries": "3",
        "timeout": "12.5",
    }
    config = AzureMLConnectionConfig.from_connection(connection(extra, host="http://localhost", port=8089))

    assert (config.auth_method, config.cloud, config.max_retries, config.timeout) == (
        "default",
        "public",
        3,
        12.5,
    )
    assert config.endpoint == "http://localhost:8089"
    assert config.arm_endpoint == "http://localhost:8089"


@pytest.mark.parametrize(
    ("extra", "fields", "named"),
    [
        ({**GOOD_EXTRA, "subscription_id": ""}, {}, "subscription_id is required"),
        ({k: v for k, v in GOOD_EXTRA.items() if k != "resource_group"}, {}, "resource_group is required"),
        ({k: v for k, v in GOOD_EXTRA.items() if k != "workspace_name"}, {}, "workspace_name is required"),
        (
            {**GOOD_EXTRA, "auth_method": "password"},
            {},
            "auth_method: unknown auth method; allowed: service_",
        ),
        ({**GOOD_EXTRA, "cloud": "mars"}, {}, "cloud: unknown cloud; allowed: public, china, usgov"),
        (
            {**GOOD_EXTRA, "auth_method": "service_principal_secret"},
            {"login": "c1"},
            "password (client secret)",
        ),
        (
            {
                **{k: v for k, v in GOOD_EXTRA.items() if k != "tenant_id"},
                "auth_method": "service_principal_secret",
            },
            {"login": "c1", "password": SECRET},
            "tenant_id is required",
        ),
        ({**GOOD_EXTRA, "auth_method": "service_principal_certificate"}, {"login": "c1"}, "certificate_path"),
        ({**GOOD_EXTRA, "auth_method": "emulator"}, {}, "requires host (endpoint override)"),
        (GOOD_EXTRA, {"host": "ftp://x.example"}, "host (endpoint override) must be a base URL"),
        (GOOD_EXTRA, {"host": "https://x.example/api?x=1"}, "no path, query or credentials"),
        (GOOD_EXTRA, {"host": "http://x.example"}, "plain http is only allowed for loopback"),
        ({**GOOD_EXTRA, "max_retries": "many"}, {}, "max_retries"),
        ({**GOOD_EXTRA, "timeout": "-1"}, {}, "timeout"),
    ],
)
def test_bad_connections_name_the_field(extra: dict[str, Any], fields: dict[str, Any], named: str) -> None:
    with pytest.raises(AzureMLConfigError) as info:
        AzureMLConnectionConfig.from_connection(connection(extra, **fields))

    assert named in str(info.value)
    assert "azureml_x" in str(info.value)
    assert SECRET not in str(info.value)


def test_emulator_may_use_http_to_a_compose_service_name() -> None:
    extra = {**GOOD_EXTRA, "auth_method": "emulator"}
    config = AzureMLConnectionConfig.from_connection(connection(extra, host="http://azureml-emulator:8089"))
    config.host_policy.check("http://azureml-emulator:8089/discovery")


def test_secrets_are_hidden_in_repr() -> None:
    extra = {**GOOD_EXTRA, "auth_method": "service_principal_secret"}
    config = AzureMLConnectionConfig.from_connection(connection(extra, login="c1", password=SECRET))
    assert SECRET not in repr(config) and SECRET not in str(config)
    assert config.client_secret is not None and config.client_secret.get_secret_value() == SECRET
