"""Run lifecycle as explicit, time-driven transitions.

A run (or step run) stores a :class:`Timeline`: the statuses it enters and when, as offsets in seconds
from its submission. The status is read off the timeline at the current time, so idle runs cost
nothing and a restarted emulator picks up where the clock is. Every consecutive pair of statuses must
be one of :data:`TRANSITIONS`; a cancellation rewrites the future of the timeline, never its past.

Statuses are AEVA's (``Finished`` for success); :func:`~..wire.statuses.history_status` gives run
history's spelling.

A simulated run gets its whole timeline at submission (:func:`plan_run`). An executed run (``--execute``)
starts as just NotStarted and is extended as its steps really start and end (:meth:`Timeline.then`,
:meth:`Timeline.conclude`); both kinds are read the same way, and both decide which steps may run with
:func:`blocked`.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

from airflow_provider_azureml.emulator.wire.statuses import RunStatus

S = RunStatus
TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (S.NOT_STARTED, S.QUEUED),
        (S.NOT_STARTED, S.RUNNING),
        (S.QUEUED, S.RUNNING),
        (S.RUNNING, S.FINISHED),
        (S.RUNNING, S.FAILED),
        (S.NOT_STARTED, S.FAILED),  # an executed run stopped before it ran (emulator restart)
        (S.QUEUED, S.FAILED),
        (S.NOT_STARTED, S.CANCEL_REQUESTED),
        (S.QUEUED, S.CANCEL_REQUESTED),
        (S.RUNNING, S.CANCEL_REQUESTED),
        (S.CANCEL_REQUESTED, S.CANCELED),
    }
)


@dataclass(frozen=True)
class Durations:
    """Seconds spent in each phase; small defaults so a demo moves, tiny ones in tests."""

    not_started: float = 0.2
    queued: float = 0.3
    step: float = 0.5
    cancel: float = 0.2

    def merged(self, overrides: Mapping[str, float | None]) -> Durations:
        """A copy with the given phases replaced (``None`` keeps the current value)."""
        values = {key: value for key, value in overrides.items() if value is not None}
        return Durations(**{**self.__dict__, **values})


@dataclass(frozen=True)
class SimulatedTime:
    """The emulator's time: the wall clock less the time spent held, standing still while held.

    Runs read their status at this time, so a hold keeps every simulated run where it is (a run submitted
    meanwhile stays NotStarted) for as long as a test needs, whatever the machine's speed; a release lets
    time go on from where it stood, so runs resume rather than jump. Executed runs are real processes and
    go on regardless.
    """

    lag: float = 0.0  # seconds behind the wall clock, from holds already released
    held_at: float | None = None  # the time it stands at while held

    @property
    def held(self) -> bool:
        return self.held_at is not None

    def now(self, wall: float) -> float:
        return self.held_at if self.held_at is not None else wall - self.lag

    def hold(self, wall: float) -> SimulatedTime:
        return self if self.held else SimulatedTime(self.lag, self.now(wall))

    def release(self, wall: float) -> SimulatedTime:
        return SimulatedTime(wall - self.held_at) if self.held_at is not None else self

    def advance(self, seconds: float) -> SimulatedTime:
        """Jump ``seconds`` ahead (held or not): what a test does instead of waiting that long."""
        if self.held_at is not None:
            return SimulatedTime(self.lag, self.held_at + seconds)
        return SimulatedTime(self.lag - seconds)


@dataclass(frozen=True)
class Timeline:
    """Statuses entered at offsets (seconds after submission), in order."""

    entries: tuple[tuple[float, str], ...]

    def __post_init__(self) -> None:
        if not self.entries or self.entries[0][1] != S.NOT_STARTED:
            raise ValueError("a timeline starts NotStarted")
        for (at, before), (at_next, after) in zip(self.entries, self.entries[1:], strict=False):
            if (before, after) not in TRANSITIONS or at_next < at:
                raise ValueError(f"invalid transition {before} -> {after} at {at_next}")

    @classmethod
    def of(cls, *entries: tuple[float, str]) -> Timeline:
        return cls(tuple(entries))

    def status_at(self, offset: float) -> str:
        index = bisect.bisect_right([at for at, _ in self.entries], offset) - 1
        return self.entries[max(index, 0)][1]

    def entered(self, status: str) -> float | None:
        """When the timeline enters ``status``, or None if it never does."""
        return next((at for at, name in self.entries if name == status), None)

    def started_before(self, offset: float) -> bool:
        """Whether the timeline has entered Running by ``offset``."""
        started = self.entered(S.RUNNING)
        return started is not None and started <= offset

    @property
    def final_status(self) -> str:
        return self.entries[-1][1]

    @property
    def ends_at(self) -> float | None:
        """When a terminal status is entered, or None if the timeline never ends."""
        at, status = self.entries[-1]
        return at if status in S.TERMINAL else None

    def then(self, offset: float, status: str) -> Timeline:
        """This timeline extended by ``status`` entered at ``offset`` (never before its last entry)."""
        return Timeline((*self.entries, (max(offset, self.entries[-1][0]), status)))

    def conclude(self, offset: float, outcome: str) -> Timeline:
        """End with ``outcome`` at ``offset``: a cancel request ends Canceled whatever the outcome, and a
        timeline that has already ended stays as it is (a late report after a restart or a cancel)."""
        current = self.final_status
        if current in S.TERMINAL:
            return self
        if current == S.CANCEL_REQUESTED or outcome == S.CANCELED:
            requested = self if current == S.CANCEL_REQUESTED else self.then(offset, S.CANCEL_REQUESTED)
            return requested.then(offset, S.CANCELED)
        return self.then(offset, outcome)

    def cancel(self, offset: float, cancel_duration: float) -> Timeline:
        """Rewrite the future after a cancel request at ``offset``; a terminal run is left as it is."""
        past = tuple(entry for entry in self.entries if entry[0] <= offset)
        if past[-1][1] in S.TERMINAL or past[-1][1] == S.CANCEL_REQUESTED:
            return self
        return Timeline((*past, (offset, S.CANCEL_REQUESTED), (offset + cancel_duration, S.CANCELED)))


@dataclass(frozen=True)
class StepSpec:
    """What the planner needs of a step: its name, node id, dependencies and optional own duration."""

    name: str
    node_id: str
    depends_on: tuple[str, ...] = ()
    duration: float | None = None


@dataclass(frozen=True)
class RunPlan:
    """The whole future of a freshly submitted run."""

    root: Timeline
    steps: dict[str, Timeline]  # by step name
    failed_step: str | None


def blocked(step: StepSpec, any_failed: bool, not_run: Set[str], continue_on_step_failure: bool) -> bool:
    """Whether ``step`` must not run: a step failed (and the run does not continue past failures), or a
    step it depends on did not finish."""
    return (any_failed and not continue_on_step_failure) or not not_run.isdisjoint(step.depends_on)


def plan_run(
    steps: Sequence[StepSpec],
    failures: Mapping[str, str],
    durations: Durations,
    continue_on_step_failure: bool,
) -> RunPlan:
    """Lay out a run: NotStarted, Queued, then the steps one after another, then the outcome.

    A failing step (a key of ``failures``) ends Failed. Later steps do not run unless
    ``continue_on_step_failure`` is set, and even then not if they depend on a step that did not finish.
    """
    running_at = durations.not_started + durations.queued
    clock, failed, not_run = running_at, list[str](), set[str]()
    timelines: dict[str, Timeline] = {}
    for step in steps:
        if blocked(step, bool(failed), not_run, continue_on_step_failure):
            not_run.add(step.name)
            timelines[step.name] = Timeline.of((0.0, S.NOT_STARTED))
            continue
        end = clock + (durations.step if step.duration is None else step.duration)
        outcome = S.FAILED if step.name in failures else S.FINISHED
        timelines[step.name] = Timeline.of((0.0, S.NOT_STARTED), (clock, S.RUNNING), (end, outcome))
        if outcome == S.FAILED:
            failed.append(step.name)
            not_run.add(step.name)
        clock = end
    root = Timeline.of(
        (0.0, S.NOT_STARTED),
        (durations.not_started, S.QUEUED),
        (running_at, S.RUNNING),
        (clock, S.FAILED if failed else S.FINISHED),
    )
    return RunPlan(root=root, steps=timelines, failed_step=failed[0] if failed else None)


def open_plan(steps: Sequence[StepSpec]) -> RunPlan:
    """An executed run's start: everything NotStarted; the executor's reports write the rest."""
    not_started = Timeline.of((0.0, S.NOT_STARTED))
    return RunPlan(root=not_started, steps={step.name: not_started for step in steps}, failed_step=None)
