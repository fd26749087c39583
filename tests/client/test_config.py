"""Connection fields are type-checked strictly; errors name the field and what it allows, never the value."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from airflow.sdk import Connection

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.config import EXTRA_FIELDS, EXTRA_PREFIX, AzureMLConnectionConfig
from airflow_provider_azureml.client.errors import AzureMLConfigError
from airflow_provider_azureml.get_provider_info import get_provider_info

SECRET = "s3cr3t-Value~that-must-never-leak"
GOOD_EXTRA = {"tenant_id": "t1", "subscription_id": "s1", "resource_group": "rg", "workspace_name": "ws"}


def connection(extra: dict[str, Any], **fields: Any) -> SimpleNamespace:
    defaults = {"conn_id": "azureml_x", "login": None, "password": None, "host": None, "port": None}
    return SimpleNamespace(**{**defaults, **fields}, extra_dejson=extra)


def refused(conn: Any) -> str:
    with pytest.raises(AzureMLConfigError) as raised:
        AzureMLConnectionConfig.from_connection(conn)
    message = str(raised.value)
    assert SECRET not in message
    return message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3), ("3", 3), (" 3 ", 3), (0, 0)],
)
def test_max_retries_is_a_whole_number_or_its_text(value: Any, expected: int) -> None:
    config = AzureMLConnectionConfig.from_connection(connection({**GOOD_EXTRA, "max_retries": value}))
    assert config.max_retries == expected


@pytest.mark.parametrize("value", [True, False, 2.5, 3.0, "2.5", "3.0", "\u0663", "3_000", "+3", -1, SECRET])
def test_max_retries_refuses_bools_floats_and_other_text(value: Any) -> None:
    assert "max_retries: Input should be" in refused(connection({**GOOD_EXTRA, "max_retries": value}))


@pytest.mark.parametrize(("value", "expected"), [(12, 12.0), (12.5, 12.5), ("12.5", 12.5), ("12", 12.0)])
def test_timeout_is_a_positive_number_or_its_text(value: Any, expected: float) -> None:
    config = AzureMLConnectionConfig.from_connection(connection({**GOOD_EXTRA, "timeout": value}))
    assert config.timeout == expected


@pytest.mark.parametrize(
    "value",
    ["inf", "nan", "Infinity", float("inf"), float("nan"), True, 0, "0", "-1", "1e3", "\u0661\u0662", SECRET],
)
def test_timeout_refuses_infinite_zero_bool_and_other_text(value: Any) -> None:
    assert "timeout: Input should be" in refused(connection({**GOOD_EXTRA, "timeout": value}))


@pytest.mark.parametrize("field", ["tenant_id", "subscription_id", "workspace_name", "certificate_path"])
def test_text_fields_refuse_other_types(field: str) -> None:
    assert f"{field}: Input should be a valid string" in refused(connection({**GOOD_EXTRA, field: 5}))


@pytest.mark.parametrize("prefix", ["", EXTRA_PREFIX])
def test_a_misspelled_extra_is_named_with_the_closest_known_one(prefix: str) -> None:
    message = refused(connection({**GOOD_EXTRA, f"{prefix}auth_methd": SECRET}))
    assert "connection 'azureml_x': unknown extra 'auth_methd' (did you mean 'auth_method'?)" in message
    assert f"allowed: {', '.join(EXTRA_FIELDS)}" in message


def test_an_unknown_extra_without_a_close_one_lists_the_allowed() -> None:
    message = refused(connection({**GOOD_EXTRA, "zzz": SECRET}))
    assert "unknown extra 'zzz'; allowed: tenant_id, subscription_id" in message


@pytest.mark.parametrize(
    ("key", "where"), [("client_secret", "password"), ("client_id", "login"), ("endpoint", "host")]
)
def test_standard_fields_put_in_extras_say_where_they_belong(key: str, where: str) -> None:
    assert f"extra {key!r} is not read from extras: set {where}" in refused(
        connection({**GOOD_EXTRA, key: SECRET})
    )


def test_empty_values_the_ui_stores_for_unset_fields_are_ignored_even_for_unknown_keys() -> None:
    extra = {**GOOD_EXTRA, "timeout": "", "cloud": None, f"{EXTRA_PREFIX}retired_field": ""}
    config = AzureMLConnectionConfig.from_connection(connection(extra))
    assert (config.timeout, config.cloud) == (None, "public")


def test_the_extras_read_are_the_ui_form_fields() -> None:
    (conn_type,) = get_provider_info()["connection-types"]
    assert set(conn_type["conn-fields"]) == set(EXTRA_FIELDS)


@pytest.mark.parametrize("prefix", ["", EXTRA_PREFIX])
def test_every_form_field_is_accepted(prefix: str) -> None:
    form = {
        **GOOD_EXTRA,
        "auth_method": "service_principal_certificate",
        "certificate_path": "/certs/sp.pem",
        "certificate_password": SECRET,
        "cloud": "usgov",
        "max_retries": 2,
        "timeout": 30.5,
    }
    config = AzureMLConnectionConfig.from_connection(
        connection({f"{prefix}{k}": v for k, v in form.items()}, login="c1")
    )
    assert (config.cloud, config.max_retries, config.timeout) == ("usgov", 2, 30.5)


@pytest.mark.parametrize("port", [70000, 0, -1, True])
def test_port_must_be_1_to_65535(port: Any) -> None:
    assert "port" in refused(connection(GOOD_EXTRA, host="http://127.0.0.1", port=port))


def test_port_of_a_json_connection_is_checked() -> None:
    raw = {"conn_type": "azureml", "host": "http://127.0.0.1", "port": 70000, "extra": GOOD_EXTRA}
    assert "port" in refused(Connection.from_json(json.dumps(raw), conn_id="azureml_x"))


def test_numbers_of_a_uri_connection_are_read_from_their_text() -> None:
    query = "tenant_id=t1&subscription_id=s1&resource_group=rg&workspace_name=ws&max_retries=3&timeout=12.5"
    config = AzureMLConnectionConfig.from_connection(
        Connection(conn_id="azureml_x", uri=f"azureml://?{query}")
    )
    assert (config.max_retries, config.timeout) == (3, 12.5)


def test_studio_run_url_is_the_studio_route_with_the_workspace_in_its_query() -> None:
    config = AzureMLConnectionConfig.from_connection(connection(GOOD_EXTRA))

    url = config.studio_run_url("run 1/2")

    wsid = "/subscriptions/s1/resourcegroups/rg/workspaces/ws"
    assert url == f"https://ml.azure.com{routes.STUDIO_RUN.path(run_id='run 1/2')}?wsid={wsid}&tid=t1"
    assert "/runs/run%201%2F2?" in url
    assert routes.STUDIO_RUN.match(urlsplit(url).path) == {"run_id": "run 1/2"}
