"""The wall clock the emulator reads, replaceable so tests decide when time passes."""

from __future__ import annotations

import threading
import time


class ManualClock:
    """A wall clock that moves only when told: ``run_emulator(clock=ManualClock())``.

    Every run lifecycle reads the emulator's time off it, so a test advances it by the seconds a phase
    lasts instead of sleeping through them: a one-hour run then takes no time at all, and what the test
    sees does not depend on the machine's speed. It starts at the current epoch time, so timestamps look
    real. Thread-safe: the emulator's server thread reads it while the test advances it.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move ``seconds`` ahead (never back) and return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock does not go back: advance({seconds})")
        with self._lock:
            self._now += seconds
            return self._now
