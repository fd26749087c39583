from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_azureml.client import retry
from airflow_provider_azureml.client.credentials import TokenProvider
from airflow_provider_azureml.client.sync_client import AzureMLClient
from tests.client.helpers import FakeCredential, Sleeps, make_config, script_workspace
from tests.client.scripted_server import ScriptedServer


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "add_jitter", lambda seconds: seconds)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        script_workspace(srv)
        yield srv


@pytest.fixture
def credential() -> FakeCredential:
    return FakeCredential()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(server: ScriptedServer, credential: FakeCredential, sleeps: Sleeps) -> Iterator[AzureMLClient]:
    tokens = TokenProvider(credential, on_token=lambda token: None)
    with AzureMLClient(make_config(server, max_retries=None), tokens=tokens, sleep=sleeps) as c:
        yield c
