"""Serve an :class:`~.app.EmulatorApp` with uvicorn, in the foreground (CLI) or in a thread (tests).

The listening socket is bound here (``SO_REUSEADDR``) so port 0 yields a free port we can report and
a restart can bind the same port again. The server also gives the app its way to drop a connection:
abort the transport of the request's connection, so the client gets no HTTP response at all.

Beside uvicorn it runs the blob proxy (:mod:`.blobproxy`) on ``blob_proxy_port``, passing decrypted
blob requests back to the app's own listener; the app learns the port through ``services``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn
from starlette.types import Scope

from airflow_provider_azureml.emulator.infrastructure.app import EmulatorApp
from airflow_provider_azureml.emulator.infrastructure.blobproxy import BlobProxy

#: Where the proxy reaches the app when the app listens on every interface.
_LOOPBACK_FOR = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


class EmulatorServer:
    def __init__(
        self,
        app: EmulatorApp,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        blob_proxy_port: int | None = None,
    ):
        self.app = app
        self.socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.socket.listen(2048)  # connections wait in the backlog from now on, even before uvicorn serves
        self.blob_proxy = self._blob_proxy(
            host, app.services.config.blob_proxy_port if blob_proxy_port is None else blob_proxy_port
        )
        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=log_level in ("debug", "trace"),
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        app.abort_connection = self._abort_connection

    def _blob_proxy(self, host: str, port: int) -> BlobProxy | None:
        ca = self.app.services.ca
        if ca is None:
            return None
        app_port = self.socket.getsockname()[1]
        proxy = BlobProxy(ca, (_LOOPBACK_FOR.get(host, host), app_port), host, port)
        self.app.services.blob_proxy_port = proxy.port
        return proxy

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def run(self) -> None:
        """Serve in the foreground until SIGINT/SIGTERM; the app's lifespan writes the state file."""
        if self.blob_proxy is not None:
            self.blob_proxy.start()
        try:
            self.server.run(sockets=[self.socket])
        finally:
            if self.blob_proxy is not None:
                self.blob_proxy.stop()

    def start(self, timeout: float = 10.0) -> None:
        """Serve from a background thread; returns once the server accepts connections."""
        if self.blob_proxy is not None:
            self.blob_proxy.start()
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, name="azureml-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop the background server and write the state file."""
        self.server.should_exit = True
        if self.blob_proxy is not None:
            self.blob_proxy.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.socket.close()
        self.app.services.backend.close()

    async def _abort_connection(self, scope: Scope) -> None:
        for connection in list(self.server.server_state.connections):
            if getattr(connection, "client", None) == scope.get("client"):
                connection.transport.abort()
        # Let the protocol see the loss, so uvicorn knows there is no response to send.
        for _ in range(3):
            await asyncio.sleep(0)
