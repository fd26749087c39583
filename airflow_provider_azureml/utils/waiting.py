"""Time for the three waits (synchronous, sensor, deferred): one clock to read, one rule for pacing polls.

The waits read and spend time only through a :class:`WaitClock`, a class attribute ``clock`` of the
trigger, the sensor and the submitting operators: tests put one there that moves the emulator's clock
on instead of sleeping, so a run of hours is watched in milliseconds. An attribute, not an argument,
because a trigger is rebuilt from its ``serialize()`` keyword arguments, which must stay JSON.

The synchronous wait and the trigger pace their polls with :class:`Pacing` and :func:`sleep_before_poll`,
so both poll as often, back off as far and stop at the deadline alike.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, replace

MAX_BACKOFF_SECONDS = 300.0


class WaitClock:
    """Real time; tests substitute a subclass on simulated time."""

    def now(self) -> float:
        """Epoch seconds: deadlines that outlive the process (a trigger's ``end_time``)."""
        return time.time()

    def monotonic(self) -> float:
        """Seconds for durations within one process (a poll's, a synchronous wait's deadline)."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def jitter(self) -> float:
        """A random fraction in [0, 1) of the first wait, so that waits started together spread out."""
        return random.random()


REAL_CLOCK = WaitClock()


def next_backoff(delay: float) -> float:
    """The wait after another failed poll: doubled, capped (on top of the client's own retries)."""
    return min(delay * 2, MAX_BACKOFF_SECONDS)


def next_poll_wait(interval: float, poll_took: float, *, fraction: float = 1.0) -> float:
    """The sleep after a successful poll, so that polls start ``fraction`` of an interval apart.

    The time the poll itself took is deducted: a slow answer does not stretch the period, so an end is
    seen at most one interval (plus one answer) after it happened. At most half the interval is deducted,
    so an overloaded service still gets a rest between polls rather than back-to-back requests.
    """
    return max(0.0, interval * fraction - min(poll_took, interval / 2))


@dataclass(frozen=True)
class Pacing:
    """Where a poll loop stands in the backoff rule; each outcome gives the next wait and the next pacing.

    After a successful poll: one interval, less the poll's duration. The first such wait is only
    ``fraction`` of it (a random one, :meth:`WaitClock.jitter`): waits started together, such as the
    triggers of a restarted triggerer, then spread their polls over the interval instead of polling in
    one burst forever; it only shortens a wait, so it adds no lag. After a transient error: double the
    previous wait (the interval at first), up to :data:`MAX_BACKOFF_SECONDS`, until a poll succeeds.
    """

    interval: float
    fraction: float = 1.0
    backoff: float | None = None

    def after_poll(self, took: float) -> tuple[float, Pacing]:
        return next_poll_wait(self.interval, took, fraction=self.fraction), Pacing(self.interval)

    def after_transient_error(self) -> tuple[float, Pacing]:
        delay = next_backoff(self.interval if self.backoff is None else self.backoff)
        return delay, replace(self, backoff=delay)


def sleep_before_poll(wait: float, deadline: float | None, now: float) -> float | None:
    """The sleep before the next poll, never past the deadline; None once it is reached.

    Cut short at the deadline, the last sleep ends at it rather than up to a whole wait later; reaching
    it, the loop reads the run once more (a run that ended meanwhile is no timeout) and stops.
    """
    if deadline is None:
        return wait
    if now >= deadline:
        return None
    return min(wait, deadline - now)
