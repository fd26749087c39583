"""Concurrent callers asking for the same key share one call: the discovery of a workspace's hosts.

When a triggerer starts a thousand triggers of one connection together, each finds the process-wide host
cache empty. Without this, each would make its own ARM and discovery requests; with it, one does and the
others wait for its answer (or its error, so a failing service is asked once, not once per waiter).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class ThreadSingleFlight(Generic[T]):
    """Blocking callers: one lock per key, so a caller arriving during a call waits for it to end.

    ``call`` is expected to look at its cache first: after the wait it then finds what the first caller
    stored instead of calling again.
    """

    def __init__(self) -> None:
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def do(self, key: Hashable, call: Callable[[], T]) -> T:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            return call()


class AsyncSingleFlight(Generic[T]):
    """Coroutines of one event loop: the first caller's call runs as a task every caller awaits.

    The task is shielded, so a caller being cancelled (its trigger removed) does not cancel the call
    others are waiting on. Once it ends, the key is free again: a failure is not remembered.
    """

    def __init__(self) -> None:
        self._flights: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, asyncio.Task[T]]]
        self._flights = weakref.WeakKeyDictionary()

    async def do(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        flights = self._flights.setdefault(asyncio.get_running_loop(), {})
        task = flights.get(key)
        if task is None:
            task = flights[key] = asyncio.ensure_future(call())
            task.add_done_callback(lambda done: _finished(flights, key, done))
        return await asyncio.shield(task)


def _finished(flights: dict[Hashable, asyncio.Task[T]], key: Hashable, task: asyncio.Task[T]) -> None:
    """Free the key; mark the outcome as retrieved, in case every waiter was cancelled meanwhile."""
    if flights.get(key) is task:
        del flights[key]
    if not task.cancelled():
        task.exception()
