"""The client secret and the bearer token never reach an exception, a repr or a log record."""

from __future__ import annotations

import json
import logging

import pytest
from airflow.sdk.log import _secrets_masker

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.credentials import TokenProvider, build_credential
from airflow_provider_azureml.client.errors import (
    AzureMLAuthError,
    AzureMLConnectionError,
    AzureMLServiceError,
)
from airflow_provider_azureml.client.retry import RetrySettings
from airflow_provider_azureml.client.sync_client import AzureMLClient
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from tests.client.helpers import CLIENT_SECRET, SCOPE_PARAMS, FakeCredential, Sleeps, make_config, path
from tests.client.scripted_server import Drop, Reply, ScriptedServer


def test_secret_and_tokens_are_registered_with_the_masker_and_never_shown(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(
        server, auth_method="service_principal_secret", client_id="app-1", client_secret=CLIENT_SECRET
    )
    real = build_credential(config)  # azure-identity object: constructing it makes no request
    assert type(real).__name__ == "ClientSecretCredential"
    credential = FakeCredential()
    run_path = path(routes.GET_PIPELINE_RUN, run_id="r1")
    server.script(
        "GET", run_path, Reply(503), Reply(401, {"Error": {"Code": "InvalidToken", "Message": "expired"}})
    )

    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(AzureMLAuthError) as info,
        AzureMLClient(
            config, settings=RetrySettings(max_retries=2), tokens=TokenProvider(credential), sleep=Sleeps()
        ) as client,
    ):
        shown = [repr(client), repr(client.tokens), repr(config), str(config)]
        client.get_pipeline_run("r1")

    tokens = [f"eyJ0eXAi.fake-token-{n}.sig" for n in range(1, credential.calls + 1)]
    assert credential.calls == 2  # the 401 renewed the token once
    assert server.calls("GET", run_path)[0].headers["Authorization"] == f"Bearer {tokens[0]}"
    texts = [
        str(info.value),
        repr(info.value),
        caplog.text,
        *shown,
        *(r.getMessage() for r in caplog.records),
    ]
    for text in texts:
        assert CLIENT_SECRET not in text and not any(token in text for token in tokens)
    assert "retry 1 of 2" in caplog.text  # the retry was logged, without the token
    masker = _secrets_masker()
    assert masker.redact(f"x {CLIENT_SECRET} y") == "x *** y"
    assert all(masker.redact(f"Bearer {token}") == "Bearer ***" for token in tokens)


def test_a_token_echoed_by_the_server_is_scrubbed_from_errors_and_the_connection_test(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = FakeCredential()
    token = "eyJ0eXAi.fake-token-1.sig"  # the first token the credential hands out
    echoed = {"Error": {"Code": "BadToken", "Message": f"rejected Bearer {token} (echoed)"}}
    server.script("GET", path(routes.GET_PIPELINE_RUN, run_id="r1"), Reply(400, echoed))
    server.script("GET", path(routes.DATA_TYPES), Reply(400, echoed))

    with (
        AzureMLClient(make_config(server), tokens=TokenProvider(credential), sleep=Sleeps()) as client,
        pytest.raises(AzureMLServiceError) as info,
    ):
        client.get_pipeline_run("r1")
    assert token not in str(info.value) and "rejected Bearer *** (echoed)" in str(info.value)

    connection = {"conn_type": "azureml", "host": server.base_url, "extra": make_config(server).model_dump()}
    connection["extra"] = {k: v for k, v in connection["extra"].items() if k in SCOPE_PARAMS}
    connection["extra"]["auth_method"] = "managed_identity"
    monkeypatch.setenv("AIRFLOW_CONN_AZUREML_ECHO", json.dumps(connection))
    hook = AzureMLHook("azureml_echo")
    hook.tokens = TokenProvider(FakeCredential())
    ok, message = hook.test_connection()
    assert not ok and token not in message and "rejected Bearer ***" in message


def test_a_token_at_the_message_cut_is_scrubbed_whole(server: ScriptedServer) -> None:
    credential = FakeCredential()
    token = "eyJ0eXAi.fake-token-1.sig"
    message = "x" * 1990 + f" {token} tail"
    server.script(
        "GET", path(routes.GET_PIPELINE_RUN, run_id="r1"), Reply(400, {"Error": {"Message": message}})
    )
    with (
        AzureMLClient(make_config(server), tokens=TokenProvider(credential), sleep=Sleeps()) as client,
        pytest.raises(AzureMLServiceError) as info,
    ):
        client.get_pipeline_run("r1")
    assert token[:8] not in str(info.value)


def test_a_connection_error_does_not_chain_the_transport_error(server: ScriptedServer) -> None:
    """The requests error holds the URL with its query and the request with its Authorization header."""
    server.script("GET", path(routes.GET_PIPELINE_RUN, run_id="r1"), Drop())
    with (
        AzureMLClient(
            make_config(server), settings=RetrySettings(max_retries=0), tokens=TokenProvider(FakeCredential())
        ) as client,
        pytest.raises(AzureMLConnectionError) as info,
    ):
        client.get_pipeline_run("r1")
    assert info.value.__cause__ is None and info.value.__suppress_context__
