"""What many clients of one process share: the TLS context, the event loop's pool, discovery, tokens.

These are what make a thousand triggers in one triggerer cheap (BENCHMARKS.md, deferred waits); each
test here fails if the sharing is undone.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from typing import Any

import pytest

from airflow_provider_azureml.client import routes, transport
from airflow_provider_azureml.client.async_client import AsyncAzureMLClient
from airflow_provider_azureml.client.credentials import TokenProvider, shared_token_provider
from airflow_provider_azureml.client.errors import AzureMLNotFoundError
from airflow_provider_azureml.client.sync_client import AzureMLClient
from tests.client.helpers import FakeCredential, make_config, path, script_workspace
from tests.client.scripted_server import Reply, ScriptedServer, Sleep

RUN_PATH = path(routes.GET_PIPELINE_RUN, run_id="r1")
ARM_PATH = path(routes.ARM_WORKSPACE)
CLIENTS = 25


def _async_clients(
    server: ScriptedServer, credential: FakeCredential, count: int
) -> list[AsyncAzureMLClient]:
    tokens = TokenProvider(credential, on_token=lambda token: None)
    return [AsyncAzureMLClient(make_config(server), tokens=tokens) for _ in range(count)]


async def _close_all(clients: list[AsyncAzureMLClient]) -> None:
    for client in clients:
        await client.close()


def _slow_workspace(server: ScriptedServer) -> None:
    """ARM answers after 0.2 s, so every concurrent caller arrives while the first one waits."""
    script_workspace(server)
    arm_answer = server._next_action("GET", ARM_PATH)
    assert isinstance(arm_answer, Reply)
    server.script("GET", ARM_PATH, Sleep(0.2, then=arm_answer))
    server.script("GET", RUN_PATH, Reply(200, {"Id": "r1", "Status": {"StatusCode": "1"}}))


def test_tls_context_is_built_once_and_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    transport._ssl_context.cache_clear()
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    built: list[ssl.SSLContext] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)

    contexts = {id(transport.default_ssl_context()) for _ in range(5)}
    pools = [transport._new_pool() for _ in range(5)]  # what each event loop's pool is built with

    assert len(contexts) == 1 and len(built) == 1  # httpx built none of its own either
    context = transport.default_ssl_context()
    assert context is built[0]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    for pool in pools:
        asyncio.run(pool.aclose())


def test_tls_context_follows_ssl_cert_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import trustme

    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    default = transport.default_ssl_context()
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))

    custom = transport.default_ssl_context()

    assert custom is not default and custom is transport.default_ssl_context()
    assert len(custom.get_ca_certs()) == 1


async def test_clients_of_one_loop_share_one_pool_closed_by_the_last(
    server: ScriptedServer, credential: FakeCredential
) -> None:
    server.script("GET", RUN_PATH, Reply(200, {"Id": "r1", "Status": {"StatusCode": "1"}}))
    first, second = _async_clients(server, credential, 2)
    await asyncio.gather(first.get_pipeline_run("r1"), second.get_pipeline_run("r1"))
    pool = first._pool

    assert pool is not None and pool is second._pool
    await first.close()
    assert not pool.is_closed  # the second client still uses it
    await second.close()
    assert pool.is_closed
    await second.get_pipeline_run("r1")  # a closed client may be used again: it takes a new pool
    assert second._pool is not None and second._pool is not pool
    await second.close()


async def test_the_shared_pool_keeps_no_cookies(server: ScriptedServer, credential: FakeCredential) -> None:
    """Clients of different connections share the pool: a cookie set for one must not reach another."""
    server.script(
        "GET", RUN_PATH, Reply(200, {"Id": "r1", "Status": {"StatusCode": "1"}}, {"Set-Cookie": "aff=1"})
    )
    clients = _async_clients(server, credential, 2)
    for client in clients:
        await client.get_pipeline_run("r1")
        await client.get_pipeline_run("r1")
    await _close_all(clients)

    sent = [{key.lower() for key in call.headers} for call in server.calls("GET", RUN_PATH)]
    assert len(sent) == 4 and not any("cookie" in headers for headers in sent)


async def test_concurrent_async_clients_discover_once(credential: FakeCredential) -> None:
    with ScriptedServer() as server:
        _slow_workspace(server)
        clients = _async_clients(server, credential, CLIENTS)

        runs = await asyncio.gather(*(client.get_pipeline_run("r1") for client in clients))
        await _close_all(clients)

        assert len(runs) == CLIENTS
        assert len(server.calls("GET", ARM_PATH)) == 1
        assert len(server.calls("GET", "/discovery")) == 1
        assert len(server.calls("GET", RUN_PATH)) == CLIENTS


async def test_a_failed_discovery_is_shared_then_retried(credential: FakeCredential) -> None:
    """Waiters get the one failure (the service is not asked once per waiter); the next call asks again."""
    with ScriptedServer() as server:
        _slow_workspace(server)
        answer = server._next_action("GET", ARM_PATH)
        server.script("GET", ARM_PATH, Sleep(0.2, then=Reply(404)), answer)
        clients = _async_clients(server, credential, CLIENTS)

        outcomes = await asyncio.gather(
            *(client.get_pipeline_run("r1") for client in clients), return_exceptions=True
        )
        assert all(isinstance(outcome, AzureMLNotFoundError) for outcome in outcomes)
        assert len(server.calls("GET", ARM_PATH)) == 1

        run = await clients[0].get_pipeline_run("r1")
        await _close_all(clients)

        assert run.id == "r1"
        assert len(server.calls("GET", ARM_PATH)) == 2


async def test_a_cancelled_waiter_does_not_cancel_the_shared_discovery(credential: FakeCredential) -> None:
    with ScriptedServer() as server:
        _slow_workspace(server)
        first, second = _async_clients(server, credential, 2)
        leaving = asyncio.create_task(first.get_pipeline_run("r1"))
        staying = asyncio.create_task(second.get_pipeline_run("r1"))
        await asyncio.sleep(0.05)  # both are waiting on the one discovery now
        leaving.cancel()

        run = await staying
        await _close_all([first, second])

        assert leaving.cancelled() and run.id == "r1"
        assert len(server.calls("GET", ARM_PATH)) == 1


def test_concurrent_threads_discover_once(credential: FakeCredential) -> None:
    with ScriptedServer() as server:
        _slow_workspace(server)
        tokens = TokenProvider(credential, on_token=lambda token: None)
        clients = [AzureMLClient(make_config(server), tokens=tokens) for _ in range(8)]
        threads = [threading.Thread(target=client.get_pipeline_run, args=("r1",)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()

        assert len(server.calls("GET", ARM_PATH)) == 1
        assert len(server.calls("GET", "/discovery")) == 1
        assert len(server.calls("GET", RUN_PATH)) == 8


def test_shared_token_provider_is_one_per_connection_config(server: ScriptedServer) -> None:
    config = make_config(server, auth_method="emulator")

    assert shared_token_provider(config) is shared_token_provider(make_config(server, auth_method="emulator"))
    assert shared_token_provider(config) is not shared_token_provider(
        make_config(server, auth_method="emulator", conn_id="other")
    )
