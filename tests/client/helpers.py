"""Shared test doubles: the workspace a scripted server pretends to be, and a counting fake credential."""

from __future__ import annotations

import threading
import time
from typing import Any

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.config import AzureMLConnectionConfig
from airflow_provider_azureml.client.credentials import AccessToken
from tests.client.scripted_server import Reply, ScriptedServer

SUBSCRIPTION, RESOURCE_GROUP, WORKSPACE = "sub-0001", "rg-ml", "ws-main"
SCOPE_PARAMS = {
    "subscription_id": SUBSCRIPTION,
    "resource_group": RESOURCE_GROUP,
    "workspace_name": WORKSPACE,
}
WORKSPACE_ID = "0000aaaa-1111-2222-3333-444455556666"
CLIENT_SECRET = "s3cr3t-Value~that-must-never-leak"


def path(route: routes.Route, **params: Any) -> str:
    return route.path(**SCOPE_PARAMS, **params)


def script_workspace(server: ScriptedServer, *, api: str | None = None) -> None:
    """ARM workspace answer and discovery document, both pointing back at the server."""
    server.script(
        "GET",
        path(routes.ARM_WORKSPACE),
        Reply(
            200,
            {
                "name": WORKSPACE,
                "properties": {"discoveryUrl": f"{server.base_url}/discovery", "workspaceId": WORKSPACE_ID},
            },
        ),
    )
    base = server.base_url
    server.script("GET", "/discovery", Reply(200, {"api": api or base, "history": base, "studio": base}))


def make_config(server: ScriptedServer, **fields: Any) -> AzureMLConnectionConfig:
    raw = {
        "conn_id": "azureml_test",
        "tenant_id": "tenant-0001",
        "subscription_id": SUBSCRIPTION,
        "resource_group": RESOURCE_GROUP,
        "workspace_name": WORKSPACE,
        "auth_method": "managed_identity",
        "endpoint": server.base_url,
        **fields,
    }
    return AzureMLConnectionConfig.parse(raw)


class FakeCredential:
    """Stands in for Azure AD only: hands out numbered tokens and counts the acquisitions."""

    def __init__(self, lifetime: float = 3600, clock: Any = time.time) -> None:
        self.calls = 0
        self.scopes: list[str] = []
        self.threads: list[str] = []
        self.lifetime = lifetime
        self.clock = clock

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        self.scopes.extend(scopes)
        self.threads.append(threading.current_thread().name)
        return AccessToken(f"eyJ0eXAi.fake-token-{self.calls}.sig", int(self.clock() + self.lifetime))

    @property
    def last_token(self) -> str:
        return f"eyJ0eXAi.fake-token-{self.calls}.sig"


class Sleeps(list):
    """Records requested waits instead of sleeping, so retry tests are fast and assert the waits."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class AsyncSleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
