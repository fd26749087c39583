"""Helpers shared by the trigger, sensor and operator tests: start a run, drive a trigger, simulate time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from airflow_provider_azureml.emulator.testing import ManualClock, RunningEmulator
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger
from airflow_provider_azureml.utils.waiting import WaitClock

TRAINING_V1 = "3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e01"
FAILING_RATE = 0.99  # the seeded training pipeline fails its `train` step for this value
EXPERIMENT = "wait-tests"
PATIENCE = 60.0  # a safety net for a broken test, never a timing assumption


def submit_run(avg_rate: float = 0.5, experiment: str = EXPERIMENT) -> str:
    """Start a run of the seeded training pipeline straight through the hook (no operator involved)."""
    run = AzureMLHook().submit_pipeline_run(
        TRAINING_V1, experiment_name=experiment, parameter_assignments={"avg_rate": avg_rate}
    )
    return run.id


def remote_status(run_id: str) -> str:
    return AzureMLHook().get_pipeline_run(run_id).status


def requests_to(emulator: RunningEmulator, route: str) -> int:
    """How many requests the emulator has served on ``route`` (e.g. ``"POST QUERY_RUNS"``)."""
    return int(emulator.requests.snapshot()["routes"].get(route, 0))


def run_reads(emulator: RunningEmulator) -> int:
    """How often a run was read alone (``GET_PIPELINE_RUN``): final looks, reads the batch could not
    give, and the tests' own reads."""
    return requests_to(emulator, "GET GET_PIPELINE_RUN")


async def first_event(trigger: AzureMLPipelineRunTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("the trigger ended without an event")


def run_trigger(trigger: AzureMLPipelineRunTrigger) -> dict[str, Any]:
    """The event, from synchronous code (a task resumed after deferral)."""
    return asyncio.run(first_event(trigger))


class SimulatedTime(WaitClock):
    """The waits' clock in tests: the emulator's :class:`ManualClock`, which their sleeps move on at once.

    A wait of hours then takes as long as its requests, and what a test asserts (which polls, which
    waits, when the deadline is met) does not depend on the machine's speed. ``sleeps`` records every
    sleep asked for. :meth:`pause` stops time for a test that acts mid-wait: a sleep then blocks until
    :meth:`resume`, so the wait stands between two polls, and no run moves, while the test acts.
    The first-poll jitter is fixed (``jitter``), so the poll times are known.
    """

    def __init__(self, clock: ManualClock, jitter: float = 0.5) -> None:
        self.clock = clock
        self._jitter = jitter
        self.sleeps: list[float] = []
        self._running = threading.Event()
        self._running.set()
        self._allowed: int | None = None  # sleeps still allowed before time stops (None: no limit)

    def now(self) -> float:
        return self.clock()

    def monotonic(self) -> float:
        return self.clock()

    def jitter(self) -> float:
        return self._jitter

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if not self._running.wait(PATIENCE):
            raise AssertionError("time stayed paused")
        self._advance(seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await until(self._running.is_set, "time stayed paused")
        self._advance(seconds)
        await asyncio.sleep(0)  # let the test's own coroutines run, as a real sleep would

    def _advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        if self._allowed is not None:
            self._allowed -= 1
            if self._allowed <= 0:
                self._running.clear()

    def pause(self, after: int = 0) -> None:
        """Stop time now, or at the sleep after the next ``after`` ones."""
        self._allowed = after or None
        if not after:
            self._running.clear()

    def resume(self) -> None:
        self._allowed = None
        self._running.set()


async def until(condition: Callable[[], object], failure: str = "condition not reached") -> None:
    """Wait (on the event loop, in real time) for what another task or thread is doing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not condition():
        assert loop.time() < deadline, failure
        await asyncio.sleep(0.001)


def wait_until(condition: Callable[[], object], failure: str = "condition not reached") -> None:
    """:func:`until` from synchronous code (a wait running in a thread)."""
    asyncio.run(until(condition, failure))
