"""Process-wide transport state for the async client: one TLS context, one connection pool per event loop.

A triggerer runs hundreds of triggers in one event loop. If each built its own ``httpx.AsyncClient`` with
the default ``verify=True``, each would load the CA bundle into a fresh ``ssl.SSLContext`` (about 850 KiB
and 24 ms of CPU on the event loop per client, measured in BENCHMARKS.md) and keep its own sockets. Here
the context is built once per process and the ``httpx.AsyncClient`` once per event loop, shared by every
async client in that loop and closed when the last one is closed. TLS verification is always on.
"""

from __future__ import annotations

import asyncio
import functools
import http.cookiejar
import os
import ssl
import threading
import weakref

import httpx

#: Concurrent connections of one event loop's pool; further requests queue for a free one. Enough for
#: the triggers of one triggerer (a poll holds a connection for milliseconds), few enough that a burst of
#: polls does not open a socket per trigger.
MAX_CONNECTIONS = 100


def default_ssl_context() -> ssl.SSLContext:
    """The verifying context every async client shares, built on first use.

    Same trust as httpx's default (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` if set, else certifi's bundle);
    the variables are part of the cache key so a changed setting is honoured, not silently ignored.
    """
    return _ssl_context(os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)


@functools.lru_cache(maxsize=4)
def _ssl_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _no_cookies() -> http.cookiejar.CookieJar:
    """A jar that refuses every cookie: one pool serves several connections, which must not share any.

    Passed to httpx as the bare ``CookieJar``: wrapped in ``httpx.Cookies`` first, it would be copied
    into a jar with the default (accepting) policy.
    """
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _new_pool() -> httpx.AsyncClient:
    """Timeouts and redirects are set per request by each client, so one pool fits every connection."""
    return httpx.AsyncClient(
        verify=default_ssl_context(),
        cookies=_no_cookies(),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS),
        # Plain http (a loopback endpoint override) never goes through a proxy from the environment,
        # which would read the token in clear; https through one is a tunnel (CONNECT).
        mounts={"http://": None},
    )


class _Lease:
    """One event loop's pool and how many open clients use it."""

    def __init__(self) -> None:
        self.pool = _new_pool()
        self.users = 0


_leases: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lease] = weakref.WeakKeyDictionary()
_leases_lock = threading.Lock()  # a process may run several event loops in several threads


def acquire_pool() -> httpx.AsyncClient:
    """The running loop's shared ``httpx.AsyncClient``; pair every call with :func:`release_pool`."""
    loop = asyncio.get_running_loop()
    with _leases_lock:
        lease = _leases.get(loop)
        if lease is None or lease.pool.is_closed:
            lease = _leases[loop] = _Lease()
        lease.users += 1
        return lease.pool


async def release_pool(pool: httpx.AsyncClient) -> None:
    """Give back a pool from :func:`acquire_pool`; the last user of a loop's pool closes it."""
    loop = asyncio.get_running_loop()
    with _leases_lock:
        lease = _leases.get(loop)
        if lease is None or lease.pool is not pool:  # released already, or the loop got a new pool
            return
        lease.users -= 1
        if lease.users > 0:
            return
        del _leases[loop]
    await pool.aclose()
