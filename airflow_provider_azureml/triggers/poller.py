"""One status poll for every deferred wait on a workspace: the triggerer reads N runs in a few requests.

Each :class:`~airflow_provider_azureml.triggers.pipeline_run.AzureMLPipelineRunTrigger` used to read its
own run once an interval: 1,000 waits at 10 s are 6,000 reads a minute (12,000 with the step listings),
enough for the service to throttle. Here the waits of one connection (and retry settings) in one event
loop share a :class:`RunStatusPoller`: when any wait is due it reads the status of every wait due within
half its interval, in one ``runs:query`` per experiment and batch of 500 run ids
(:meth:`~airflow_provider_azureml.client.operations.Operations.get_run_statuses`), and hands each trigger
its run's status. Waits read together stay together, so they share every later request too.

What the poller does not decide stays in the trigger: which readings need the steps (a changed status),
which errors end the wait, how far to back off (``next(after=...)``), what to do at the deadline. A
reading is handed over and the poller waits until every trigger has dealt with it before it sleeps, so
simulated time (the waits' ``clock``) never runs ahead of a trigger, and a trigger that backs off does so
from the end of the round.

A batch the service refuses (throttled beyond the client's retries, or any other error) is read run by
run instead, as are runs missing from the answer and runs whose experiment is not known yet; only then
does a trigger see an error. A trigger leaves with :meth:`Watch.close` (its task cancelled, ``on_kill``,
its event fired), which touches no other wait; the last to leave stops the poller.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from airflow_provider_azureml.client.operations import run_id_batches
from airflow_provider_azureml.utils.waiting import WaitClock, next_poll_wait

log = logging.getLogger(__name__)

#: How long a new wait's first read waits for others joining (a triggerer starts deferred tasks in
#: batches), capped at its interval; waits joining while a round is due are read in that round.
JOIN_DELAY = 1.0
#: Runs read one by one at the same time, when their batch failed or they were missing from it.
SINGLE_READS = 8

ClientFactory = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Reading:
    """What a trigger is handed: its run's ``status``, the ``error`` that kept it from being read, or
    ``deadline`` (its ``end_time`` has come: no read was made)."""

    status: str | None = None
    error: Exception | None = None
    experiment_name: str = ""
    deadline: bool = False

    def result(self) -> str:
        """The status, or the read's error raised."""
        if self.error is not None:
            raise self.error
        assert self.status is not None
        return self.status


class Watch:
    """One trigger's place in a poller: its run, when it is next due, and the reading handed to it."""

    def __init__(
        self,
        poller: RunStatusPoller,
        run_id: str,
        experiment_name: str,
        interval: float,
        end_time: float | None,
    ) -> None:
        self.poller = poller
        self.run_id = run_id
        self.experiment_name = experiment_name
        self.interval = interval
        self.end_time = end_time
        self.due = poller.clock.monotonic() + min(JOIN_DELAY, interval)
        self.after: float | None = None
        self._inbox: asyncio.Future[Reading] = asyncio.get_running_loop().create_future()
        self._handled: asyncio.Future[None] | None = None

    async def next(self, after: float | None = None) -> Reading:
        """The next reading, the previous one being dealt with: taken ``after`` seconds from the end of
        that round (a backoff), or by default one interval after the round started."""
        if self._handled is not None:
            self.after = after
            _settle(self._handled)
            self._handled = None
            self._inbox = asyncio.get_running_loop().create_future()
            if self.poller.failure is not None:
                return Reading(error=self.poller.failure)
        return await self._inbox

    def deliver(self, reading: Reading) -> asyncio.Future[None]:
        """Hand ``reading`` over; the future is done when the trigger asks for the next or leaves."""
        self._handled = asyncio.get_running_loop().create_future()
        if not self._inbox.done():
            self._inbox.set_result(reading)
        return self._handled

    def close(self) -> None:
        """Leave the poller; a trigger still waiting on :meth:`next` is cancelled. Idempotent."""
        self.poller.leave(self)
        if self._handled is not None:
            _settle(self._handled)
        self._inbox.cancel()

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()


class RunStatusPoller:
    """The status reads of every :class:`Watch` of one connection in one event loop (see the module)."""

    def __init__(
        self, clock: WaitClock, client_factory: ClientFactory, on_idle: Callable[[], object]
    ) -> None:
        self.clock = clock
        self._client_factory = client_factory
        self._on_idle = on_idle
        self._watches: dict[Watch, None] = {}  # in joining order
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._waking_at: float | None = None
        self.failure: Exception | None = None  # what stopped the poller, if anything did

    def watch(self, run_id: str, experiment_name: str, interval: float, end_time: float | None) -> Watch:
        """Add a wait; its first read comes within ``JOIN_DELAY`` (or with the next round)."""
        joined = Watch(self, run_id, experiment_name, interval, end_time)
        self._watches[joined] = None
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="azureml-status-poller")
        elif self._waking_at is None or joined.due < self._waking_at:
            self._wake.set()
        return joined

    def leave(self, watch: Watch) -> None:
        self._watches.pop(watch, None)
        if not self._watches and self._task is not None:
            self._task.cancel()
            self._task = None
            self._on_idle()

    async def _run(self) -> None:
        try:
            while self._watches:
                wait = self._next_wake()
                if wait > 0:
                    await self._sleep(wait)
                else:
                    await self._round()
        except Exception as error:  # a bug here must end the waits with an error, not leave them hanging
            log.exception("Azure ML status poller failed")
            self.failure = error
            self._on_idle()  # waits starting from now on get a new poller
            for watch in list(self._watches):
                watch.deliver(Reading(error=error))
        finally:
            client, self._client = self._client, None
            if client is not None:
                await asyncio.shield(client.close())

    def _next_wake(self) -> float:
        """Seconds until a wait is due or meets its deadline (<= 0: now)."""
        mono, now = self.clock.monotonic(), self.clock.now()
        dues = (watch.due - mono for watch in self._watches)
        deadlines = (watch.end_time - now for watch in self._watches if watch.end_time is not None)
        return min(*dues, *deadlines, float("inf"))

    async def _sleep(self, seconds: float) -> None:
        """Sleep on the clock, cut short when a wait joins that is due sooner."""
        self._waking_at = self.clock.monotonic() + seconds
        self._wake.clear()
        sleeping = asyncio.ensure_future(self.clock.asleep(seconds))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait((sleeping, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            woken.cancel()
            self._waking_at = None

    async def _round(self) -> None:
        """Tell the waits whose deadline has come, read every due wait, then let each deal with it."""
        started, now = self.clock.monotonic(), self.clock.now()
        ending = [w for w in self._watches if w.end_time is not None and now >= w.end_time]
        handled = [watch.deliver(Reading(deadline=True)) for watch in ending]
        others = [watch for watch in self._watches if watch not in ending]
        due = []
        if any(watch.due <= started for watch in others):  # then all due within half an interval come too
            due = [watch for watch in others if watch.due <= started + watch.interval / 2]
        readings = await self._read(due)
        handled += [watch.deliver(readings[watch]) for watch in due if watch in self._watches]
        await asyncio.gather(*handled)
        ended = self.clock.monotonic()
        for watch in due:
            pause = next_poll_wait(watch.interval, ended - started) if watch.after is None else watch.after
            watch.due, watch.after = ended + pause, None

    async def _read(self, watches: list[Watch]) -> dict[Watch, Reading]:
        """A reading for each of ``watches``: batched by experiment, then one by one for the rest."""
        if not watches:
            return {}
        try:
            client = await self._get_client()
        except Exception as error:
            return {watch: Reading(error=error) for watch in watches}
        by_experiment: dict[str, list[Watch]] = {}
        for watch in watches:
            if watch.experiment_name:
                by_experiment.setdefault(watch.experiment_name, []).append(watch)
        batches = [
            (experiment, batch)
            for experiment, members in by_experiment.items()
            for batch in run_id_batches(watch.run_id for watch in members)
        ]
        answers = await asyncio.gather(*(self._read_batch(client, *batch) for batch in batches))
        statuses = {
            (experiment, run_id): status
            for (experiment, _), answer in zip(batches, answers, strict=True)
            for run_id, status in answer.items()
        }
        readings = {
            watch: Reading(status, experiment_name=watch.experiment_name)
            for watch in watches
            if (status := statuses.get((watch.experiment_name, watch.run_id))) is not None
        }
        rest = [watch for watch in watches if watch not in readings]
        singles = asyncio.Semaphore(SINGLE_READS)
        alone = await asyncio.gather(*(self._read_one(client, watch, singles) for watch in rest))
        return {**readings, **dict(zip(rest, alone, strict=True))}

    @staticmethod
    async def _read_batch(client: Any, experiment: str, run_ids: list[str]) -> dict[str, str]:
        """{run id: status} from one ``runs:query``; on any error none (they are then read one by one)."""
        try:
            return dict(await client.get_run_statuses(experiment, run_ids))
        except Exception as error:
            log.warning(
                "Reading the status of %d Azure ML runs in one request failed, reading them one by one: %s",
                len(run_ids),
                error,
            )
            return {}

    @staticmethod
    async def _read_one(client: Any, watch: Watch, slots: asyncio.Semaphore) -> Reading:
        """The run read alone, which also tells its experiment when the trigger was not given one."""
        async with slots:
            try:
                run = await client.get_pipeline_run(watch.run_id)
            except Exception as error:
                return Reading(error=error, experiment_name=watch.experiment_name)
        watch.experiment_name = watch.experiment_name or run.experiment_name or ""
        return Reading(run.status, experiment_name=watch.experiment_name)

    async def _get_client(self) -> Any:
        if self._client is None:
            self._client = await self._client_factory()
        return self._client


_pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, RunStatusPoller]] = (
    weakref.WeakKeyDictionary()
)


def shared_poller(key: Hashable, clock: WaitClock, client_factory: ClientFactory) -> RunStatusPoller:
    """The running event loop's poller for ``key`` (and ``clock``), made on first use, dropped when idle."""
    pollers = _pollers.setdefault(asyncio.get_running_loop(), {})
    full_key = (key, clock)
    found = pollers.get(full_key)
    if found is not None:
        return found
    poller = RunStatusPoller(clock, client_factory, lambda: _forget(pollers, full_key, poller))
    pollers[full_key] = poller
    return poller


def _forget(pollers: dict[Hashable, RunStatusPoller], key: Hashable, poller: RunStatusPoller) -> None:
    if pollers.get(key) is poller:
        del pollers[key]


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
