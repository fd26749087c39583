"""A scripted HTTP server on loopback: queued answers per (method, path), every request recorded.

Actions: :class:`Reply` (status, JSON or raw body, headers), :class:`Drop` (read the request, close the
socket without answering) and :class:`Sleep` (wait, then reply: for client timeouts). The last action of
a route repeats, so ``script("GET", path, Reply(503))`` answers 503 forever.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return (b"" if self.body is None else json.dumps(self.body).encode()), "application/json"


@dataclass(frozen=True)
class Drop:
    """Close the connection after reading the request: the client never gets an answer."""


@dataclass(frozen=True)
class Sleep:
    seconds: float
    then: Reply = field(default_factory=Reply)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[Recorded] = []
        self._scripts: dict[tuple[str, str], deque[Reply | Drop | Sleep]] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, method: str, path: str, *actions: Reply | Drop | Sleep) -> None:
        with self._lock:
            self._scripts[(method, unquote(path))] = deque(actions)

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == unquote(path))
        ]

    def _next_action(self, method: str, path: str) -> Reply | Drop | Sleep:
        with self._lock:
            queue = self._scripts.get((method, path))
            if not queue:
                return Reply(404, {"Error": {"Code": "NoScript", "Message": f"nothing scripted for {path}"}})
            return queue.popleft() if len(queue) > 1 else queue[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else every keep-alive answer waits for a delayed ACK

            def log_message(self, format: str, *args: Any) -> None:
                """Silence the default stderr access log."""

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                path = unquote(parts.path)
                with server._lock:
                    server.requests.append(
                        Recorded(self.command, path, parse_qs(parts.query), dict(self.headers.items()), body)
                    )
                action = server._next_action(self.command, path)
                if isinstance(action, Drop):
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(action, Sleep):
                    time.sleep(action.seconds)
                    action = action.then
                content, content_type = action.payload()
                try:
                    self.send_response(action.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(content)))
                    for key, value in action.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(content)
                except OSError:
                    self.close_connection = True  # the client gave up (timeout) meanwhile

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
