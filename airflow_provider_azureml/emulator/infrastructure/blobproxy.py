"""The blob TLS endpoint: an HTTPS CONNECT proxy that serves ``*.blob.core.windows.net`` itself.

The SDK only ever uploads snapshot files to ``https://{account}.blob.{suffix}``
(``azureml._file_utils.upload.upload_blob_from_stream``), so the publishing process sets ``HTTPS_PROXY``
to this proxy and trusts the emulator's CA. For ``CONNECT <account>.blob.core.windows.net:443`` the proxy
answers ``200``, terminates TLS with a certificate from :class:`~.tls.EmulatorCA`, and passes the
decrypted HTTP on to the emulator's own HTTP listener, whose blob routes store the bytes (so counting,
faults and SAS checks apply as for any route). Every other ``CONNECT`` (the SDK's telemetry, say) gets
``403``: nothing leaves the machine through here.

TLS is terminated by a second, private listener that only this proxy connects to: asyncio's ``ssl=``
server support works on every Python we support, where upgrading a running stream does not (3.11+).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import threading

from airflow_provider_azureml.emulator.infrastructure.tls import BLOB_SUFFIX, EmulatorCA

log = logging.getLogger("airflow_provider_azureml.emulator.infrastructure.blobproxy")
_BLOB_HOST = re.compile(r"^[a-z0-9]{3,24}\." + re.escape(BLOB_SUFFIX) + r"$")
_CHUNK = 1 << 16
_MAX_HEAD = 16 * 1024


def is_blob_target(authority: str) -> bool:
    """``CONNECT`` targets the proxy serves: a storage account's blob host on port 443."""
    host, _, port = authority.rpartition(":")
    return port == "443" and bool(_BLOB_HOST.match(host.lower()))


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()


async def _splice(
    a: tuple[asyncio.StreamReader, asyncio.StreamWriter], b: tuple[asyncio.StreamReader, asyncio.StreamWriter]
) -> None:
    """Copy bytes both ways until either side closes, then close both."""
    tasks = [asyncio.ensure_future(_pipe(a[0], b[1])), asyncio.ensure_future(_pipe(b[0], a[1]))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for writer in (a[1], b[1]):
            writer.close()


async def _answer(writer: asyncio.StreamWriter, status: str, reason: str = "") -> None:
    body = reason.encode()
    writer.write(
        f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.close()


class BlobProxy:
    """The proxy and its private TLS listener, served from a background thread's event loop.

    :param ca: signs the blob host's certificate.
    :param upstream: ``(host, port)`` of the emulator's plain HTTP listener.
    :param host: interface for the proxy; ``port`` 0 picks a free one.
    """

    def __init__(self, ca: EmulatorCA, upstream: tuple[str, int], host: str = "127.0.0.1", port: int = 0):
        self.upstream = upstream
        self._context = ca.server_context()
        self._socket = _listening_socket(host, port)
        self._tls_socket = _listening_socket("127.0.0.1", 0)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def start(self, timeout: float = 10.0) -> None:
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(),), name="blob-proxy", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the blob proxy did not start")

    def stop(self) -> None:
        """Stop serving; a second call does nothing."""
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._loop = self._stopping = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._socket.close()
        self._tls_socket.close()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        proxy = await asyncio.start_server(self._on_connect, sock=self._socket)
        tls = await asyncio.start_server(self._on_tls, sock=self._tls_socket, ssl=self._context)
        self._ready.set()
        async with proxy, tls:
            await self._stopping.wait()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection: expect ``CONNECT host:port``, then tunnel or refuse."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        method, _, rest = head[:_MAX_HEAD].decode("latin-1").partition(" ")
        authority = rest.split(" ", 1)[0]
        if method != "CONNECT":
            await _answer(writer, "405 Method Not Allowed", "This proxy only tunnels CONNECT to blob hosts.")
            return
        if not is_blob_target(authority):
            log.info("refused CONNECT %s: only *.%s:443 is served", authority, BLOB_SUFFIX)
            await _answer(
                writer, "403 Forbidden", f"CONNECT {authority} refused: the emulator only serves blobs."
            )
            return
        host, port = self._tls_socket.getsockname()[:2]
        tls_side = await asyncio.open_connection(host, port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await _splice((reader, writer), tls_side)

    async def _on_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Decrypted side of a tunnel: hand the HTTP requests to the emulator app."""
        try:
            app_side = await asyncio.open_connection(*self.upstream)
        except OSError:
            log.exception("the blob proxy could not reach the emulator at %s:%s", *self.upstream)
            writer.close()
            return
        await _splice((reader, writer), app_side)
