"""``AzureMLRecurrenceTimetable``: Airflow runs on the instants of an Azure ML v1 recurrence schedule.

Built from the keywords of ``azureml.pipeline.core.schedule.ScheduleRecurrence``, so a
``Schedule.create(ws, ..., recurrence=ScheduleRecurrence(...))`` moves to a DAG by copying its
arguments. Registered through the provider's plugin (``airflow_provider_azureml.plugins``) so that
Airflow can serialize it. Rules and choices: ``docs/schedules.md``, "The timetable".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, time
from typing import Any

import pendulum
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction, Timetable
from pendulum import DateTime

from airflow_provider_azureml.timetables._recurrence import (
    START_TIME_FORMAT,
    WEEK_DAYS,
    Recurrence,
    parse_recurrence,
)
from airflow_provider_azureml.windows_zones import iana_zone


def _utcnow() -> datetime:
    return pendulum.now("UTC")


class AzureMLRecurrenceTimetable(Timetable):
    """Fire at ``start_time + k x interval`` (or on the hours/minutes/week days pattern), never catching up.

    ``start_time`` is required: without it Azure ML counts from the schedule's creation, which a
    DAG file cannot know. The first run is the next computed instant at or after now (and the DAG's
    ``start_date``); ``catchup=True`` changes nothing, since Azure ML discards missed instants too.
    """

    #: Where "now" comes from; a seam for tests and simulations, not serialized.
    clock: Callable[[], datetime] = staticmethod(_utcnow)

    def __init__(
        self,
        frequency: str,
        interval: int,
        start_time: datetime | str | None = None,
        time_zone: str | None = None,
        hours: Sequence[int] | None = None,
        minutes: Sequence[int] | None = None,
        week_days: Sequence[str] | None = None,
        time_of_day: str | None = None,
    ) -> None:
        self.recurrence: Recurrence = parse_recurrence(
            frequency, interval, start_time, time_zone, hours, minutes, week_days, time_of_day
        )
        self.description = self._describe()

    def serialize(self) -> dict[str, Any]:
        """The SDK's wire form: ``time_of_day`` is already folded into ``hours`` and ``minutes``."""
        recurrence = self.recurrence
        return {
            "frequency": recurrence.frequency,
            "interval": recurrence.interval,
            "start_time": recurrence.start.strftime(START_TIME_FORMAT),
            "time_zone": recurrence.time_zone,
            "hours": _as_list(recurrence.hours),
            "minutes": _as_list(recurrence.minutes),
            "week_days": _as_list(recurrence.week_days),
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> AzureMLRecurrenceTimetable:
        return cls(**data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AzureMLRecurrenceTimetable):
            return NotImplemented
        return self.recurrence == other.recurrence

    def __hash__(self) -> int:
        return hash(self.recurrence)

    @property
    def summary(self) -> str:
        """For the UI, e.g. ``every 4 hours from 00:30 W. Europe Standard Time``."""
        recurrence = self.recurrence
        unit = recurrence.frequency.lower()
        every = f"every {unit}" if recurrence.interval == 1 else f"every {recurrence.interval} {unit}s"
        start = recurrence.start
        if recurrence.frequency in ("Minute", "Hour"):
            when = f"from {_clock(start)}"
        elif recurrence.frequency == "Month":
            when = f"on day {start.day} at {_clock(start)}"
        else:
            times = (
                ", ".join(_clock(at) for at in recurrence.times_of_day)
                if recurrence.has_pattern
                else _clock(start)
            )
            days = (
                f"on {', '.join(WEEK_DAYS[offset] for offset in recurrence.day_offsets)} "
                if recurrence.frequency == "Week"
                else ""
            )
            when = f"{days}at {times}"
        return f"{every} {when} {recurrence.time_zone}"

    def _describe(self) -> str:
        recurrence = self.recurrence
        return (
            f"Azure ML recurrence: {self.summary}, counted from {recurrence.start.isoformat(sep=' ')}"
            f" ({iana_zone(recurrence.time_zone)}); missed runs are skipped"
        )

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        """From the last scheduled instant before ``run_after`` (or ``run_after`` itself) to ``run_after``."""
        previous = self.recurrence.last_before(run_after)
        return DataInterval(start=_pendulum(previous) if previous else run_after, end=run_after)

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        """The next instant at or after now and ``start_date``, strictly after the last scheduled run.

        ``restriction.catchup`` is ignored: like Azure ML, missed instants are dropped, never replayed.
        """
        after, inclusive = self.clock(), True
        if restriction.earliest is not None and restriction.earliest > after:
            after = restriction.earliest
        if last_automated_data_interval is not None and last_automated_data_interval.end >= after:
            after, inclusive = last_automated_data_interval.end, False
        run_at = self.recurrence.next_at_or_after(after, inclusive=inclusive)
        if restriction.latest is not None and run_at > restriction.latest:
            return None
        previous = self.recurrence.last_before(run_at)
        return DagRunInfo.interval(start=_pendulum(previous or run_at), end=_pendulum(run_at))


def _as_list(values: Sequence[Any] | None) -> list[Any] | None:
    return None if values is None else list(values)


def _clock(moment: datetime | time) -> str:
    """``HH:MM``, with seconds only when there are some."""
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def _pendulum(moment: datetime) -> DateTime:
    return pendulum.instance(moment, tz="UTC").in_timezone("UTC")
