"""A 401 renews the token (re-reading the connection) and retries once; a second 401 or a 403 is final.

Over HTTP to a scripted server; Azure AD is the only stand-in (a credential handing out counted tokens).
"""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.async_client import AsyncAzureMLClient
from airflow_provider_azureml.client.credentials import TokenProvider
from airflow_provider_azureml.client.errors import AzureMLCredentialRefusedError
from airflow_provider_azureml.client.sync_client import AzureMLClient
from tests.client.helpers import CLIENT_SECRET, FakeCredential, Sleeps, make_config, path
from tests.client.scripted_server import Reply, ScriptedServer

RUN = {"Id": "r1", "Status": {"StatusCode": "Running"}}
EXPIRED = Reply(401, {"error": {"code": "InvalidAuthenticationToken", "message": "The token expired."}})
FORBIDDEN = Reply(403, {"error": {"code": "AuthorizationFailed", "message": "No role on the workspace."}})
RUN_PATH = path(routes.GET_PIPELINE_RUN, run_id="r1")


def bearer(server: ScriptedServer) -> list[str]:
    return [r.headers["Authorization"] for r in server.calls("GET", RUN_PATH)]


def test_a_401_renews_the_token_once_and_the_call_succeeds(server: ScriptedServer) -> None:
    credential = FakeCredential()
    server.script("GET", RUN_PATH, EXPIRED, Reply(200, RUN))
    with AzureMLClient(make_config(server), tokens=TokenProvider(credential), sleep=Sleeps()) as client:
        assert client.get_pipeline_run("r1").status == "Running"
    assert credential.calls == 2  # the first token, then one renewal
    first, second = bearer(server)
    assert first != second and second == f"Bearer {credential.last_token}"


def test_a_second_401_is_final_and_says_what_to_check(server: ScriptedServer) -> None:
    credential = FakeCredential()
    server.script("GET", RUN_PATH, EXPIRED)
    config = make_config(
        server, auth_method="service_principal_secret", client_id="app", client_secret=CLIENT_SECRET
    )
    with (
        AzureMLClient(config, tokens=TokenProvider(credential), sleep=Sleeps()) as client,
        pytest.raises(AzureMLCredentialRefusedError) as info,
    ):
        client.get_pipeline_run("r1")
    message = str(info.value)
    assert "a new token was refused too" in message
    assert "connection 'azureml_test' (auth_method 'service_principal_secret')" in message
    assert "role on workspace 'ws-main'" in message and "tenant_id" in message
    assert CLIENT_SECRET not in message and credential.last_token not in message
    assert len(bearer(server)) == 2 and credential.calls == 2


def test_a_403_is_final_at_once(server: ScriptedServer) -> None:
    credential = FakeCredential()
    server.script("GET", RUN_PATH, FORBIDDEN)
    with (
        AzureMLClient(make_config(server), tokens=TokenProvider(credential), sleep=Sleeps()) as client,
        pytest.raises(AzureMLCredentialRefusedError, match="the credential was refused for connection"),
    ):
        client.get_pipeline_run("r1")
    assert len(bearer(server)) == 1


def test_a_rotated_secret_is_read_again_after_a_401(server: ScriptedServer, monkeypatch) -> None:
    """The connection read again after the 401 has another secret: its credential is used from then on."""
    rotated = make_config(server, auth_method="managed_identity", client_id="rotated-identity")
    old, new = FakeCredential(), FakeCredential()
    monkeypatch.setattr(
        "airflow_provider_azureml.client.credentials.build_credential",
        lambda config: new if config == rotated else old,
    )
    server.script("GET", RUN_PATH, EXPIRED, Reply(200, RUN))
    rereads: list[str] = []

    async def reread():
        rereads.append("async")
        return rotated

    async def read() -> str:
        client = AsyncAzureMLClient(
            make_config(server), tokens=TokenProvider(old), sleep=asyncio.sleep, reread_config=reread
        )
        async with client:
            return (await client.get_pipeline_run("r1")).status

    assert asyncio.run(read()) == "Running"
    assert rereads == ["async"]
    assert bearer(server)[-1] == f"Bearer {new.last_token}"
    assert (old.calls, new.calls) == (1, 1)


def test_clients_sharing_a_token_cache_renew_it_once() -> None:
    """Many waits refused the same token: the first renews it, the others use the new one."""
    credential = FakeCredential()
    tokens = TokenProvider(credential)
    refused = tokens.get_token("scope")
    tokens.forget("scope", refused)
    renewed = tokens.get_token("scope")
    for _ in range(5):
        tokens.forget("scope", refused)  # the others, coming back with the old token
        assert tokens.get_token("scope") == renewed
    assert credential.calls == 2
