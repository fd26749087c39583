"""A network guard for tests that run the azureml SDK: only loopback may be reached or even looked up.

The SDK swallows some network errors (telemetry, optional look-ups), so a refusal alone could pass
unnoticed: attempts are recorded, and the fixture fails the test at teardown if there were any.
A fixture uses it as ``yield from network_guard(monkeypatch)``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def guard_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Refuse any DNS lookup or connect to a non-loopback host; returns the list of attempts."""
    attempts: list[object] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            attempts.append(address)
            raise ConnectionRefusedError(f"test network guard: connect to {address!r} refused")

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            attempts.append(host)
            raise socket.gaierror(f"test network guard: lookup of {host!r} refused")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Body of a guard fixture: ``yield from network_guard(monkeypatch)``; fails at teardown on attempts."""
    attempts = guard_network(monkeypatch)
    yield attempts
    assert not attempts, f"non-loopback network access attempted: {attempts}"
