"""Azure ML v1 ``ScheduleRecurrence`` rules and run-time arithmetic, free of Airflow.

The checks and their messages are those of ``azureml.pipeline.core.schedule.ScheduleRecurrence``
(``__init__`` then ``validate()``), run when the recurrence is built, so a DAG file fails at parse
time instead of at the first ``Schedule.create``. See ``docs/schedules.md`` ("The timetable") for
the firing rules.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from airflow_provider_azureml.windows_zones import WINDOWS_TO_IANA, iana_zone

FREQUENCIES = ("Minute", "Hour", "Day", "Week", "Month")
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
START_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
_TIME_OF_DAY = re.compile("[0-9]{1,2}:[0-9]{2}$")


class InvalidRecurrence(ValueError):
    """A recurrence Azure ML would refuse; ``field`` names the keyword at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Recurrence:
    """A validated recurrence: ``start`` is naive wall-clock time in ``time_zone`` (a Windows ID)."""

    frequency: str
    interval: int
    start: datetime
    time_zone: str
    hours: tuple[int, ...] | None = None
    minutes: tuple[int, ...] | None = None
    week_days: tuple[str, ...] | None = None

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(iana_zone(self.time_zone))

    @property
    def has_pattern(self) -> bool:
        """Hours, minutes or week days given: Azure ML then never fires at ``start`` itself."""
        return self.hours is not None or self.minutes is not None or self.week_days is not None

    @cached_property
    def first(self) -> datetime:
        """``start`` as an aware UTC instant."""
        return self.localize(self.start)

    @cached_property
    def times_of_day(self) -> list[time]:
        """Hours x minutes; a missing list means the hour (minute) of ``start``, as in Azure Logic Apps."""
        hours = self.hours if self.hours is not None else (self.start.hour,)
        minutes = self.minutes if self.minutes is not None else (self.start.minute,)
        return sorted(time(hour, minute) for hour in hours for minute in minutes)

    @cached_property
    def day_offsets(self) -> list[int]:
        """Week days (Monday = 0) of a ``Week`` pattern; the day of ``start`` when none are listed."""
        if self.week_days is None:
            return [self.start.weekday()]
        return sorted(WEEK_DAYS.index(day) for day in self.week_days)

    def localize(self, wall_clock: datetime) -> datetime:
        """Wall-clock time in the zone to UTC: a time skipped by DST moves forward by the gap, a
        repeated time is its first occurrence (``fold=0``)."""
        return wall_clock.replace(tzinfo=self.zone).astimezone(UTC)

    def next_at_or_after(self, instant: datetime, *, inclusive: bool = True) -> datetime:
        """The first run time at (or strictly after) ``instant``."""
        instant = _utc(instant)
        period = max(0, self._period_at(instant) - 1)
        while True:
            for slot in self._slots(period):
                if slot > instant or (inclusive and slot == instant):
                    return slot
            period += 1

    def last_before(self, instant: datetime) -> datetime | None:
        """The last run time strictly before ``instant``, if any."""
        instant = _utc(instant)
        for period in range(self._period_at(instant) + 1, -1, -1):
            earlier = [slot for slot in self._slots(period) if slot < instant]
            if earlier:
                return earlier[-1]
        return None

    def _period_at(self, instant: datetime) -> int:
        """Index of the interval (counted from ``start``) holding ``instant``; may be off by one."""
        if self.frequency in ("Minute", "Hour"):
            return (instant - self.first) // self._step
        local = instant.astimezone(self.zone).replace(tzinfo=None)
        if self.frequency == "Month":
            months = (local.year - self.start.year) * 12 + local.month - self.start.month
            return months // self.interval
        days = (local.date() - self._period_origin).days
        return days // (self.interval * (7 if self.frequency == "Week" else 1))

    @property
    def _step(self) -> timedelta:
        return (
            timedelta(minutes=self.interval) if self.frequency == "Minute" else timedelta(hours=self.interval)
        )

    @property
    def _period_origin(self) -> date:
        """Day 0 of the count: the Monday of the start week for a ``Week`` pattern, else the start day."""
        if self.frequency == "Week" and self.has_pattern:
            return self.start.date() - timedelta(days=self.start.weekday())
        return self.start.date()

    def _slots(self, period: int) -> list[datetime]:
        """Run times of one interval, sorted: one for a plain recurrence, several for a pattern."""
        if period < 0:
            return []
        if self.has_pattern:
            candidates = self._pattern_slots(period)
            return sorted({slot for slot in candidates if slot > self.first})
        return [self._plain_slot(period)]

    def _plain_slot(self, period: int) -> datetime:
        """``start + period x interval``: absolute for Minute/Hour, wall-clock for Day/Week/Month."""
        if self.frequency in ("Minute", "Hour"):
            return self.first + period * self._step
        if self.frequency == "Month":
            return self.localize(add_months(self.start, period * self.interval))
        days = period * self.interval * (7 if self.frequency == "Week" else 1)
        return self.localize(self.start + timedelta(days=days))

    def _pattern_slots(self, period: int) -> Iterable[datetime]:
        if self.frequency == "Week":
            week = self._period_origin + timedelta(weeks=period * self.interval)
            days = [week + timedelta(days=offset) for offset in self.day_offsets]
        else:
            days = [self._period_origin + timedelta(days=period * self.interval)]
        return (self.localize(datetime.combine(day, at)) for day in days for at in self.times_of_day)


def _utc(moment: datetime) -> datetime:
    """An aware instant as a plain ``datetime`` in UTC: ``pendulum`` arithmetic rejects ``timedelta``."""
    utc = moment.astimezone(UTC)
    return datetime(*utc.timetuple()[:6], utc.microsecond, tzinfo=UTC)


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later; a day past the end of the target month becomes its last day."""
    year, month_index = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month_index + 1)[1])
    return moment.replace(year=year, month=month_index + 1, day=day)


def parse_recurrence(
    frequency: Any,
    interval: Any,
    start_time: Any = None,
    time_zone: Any = None,
    hours: Any = None,
    minutes: Any = None,
    week_days: Any = None,
    time_of_day: Any = None,
) -> Recurrence:
    """Check the keywords of ``ScheduleRecurrence`` with the SDK's rules and messages, in its order."""
    start = _start(start_time)
    if time_of_day is not None:
        if hours is not None or minutes is not None:
            raise InvalidRecurrence("time_of_day", "Can not specify time_of_day and hours or minutes.")
        hours, minutes = _split_time_of_day(time_of_day)
    _check_frequency_and_interval(frequency, interval)
    _check_pattern_fields(
        frequency, hours, minutes, week_days, hours_field="time_of_day" if time_of_day else "hours"
    )
    zone = _windows_zone(time_zone)
    return Recurrence(
        frequency=frequency,
        interval=interval,
        start=start,
        time_zone=zone,
        hours=_sorted_unique(hours),
        minutes=_sorted_unique(minutes),
        week_days=None if week_days is None else tuple(sorted(set(week_days), key=WEEK_DAYS.index)),
    )


def _start(start_time: Any) -> datetime:
    """A static timetable needs the anchor the service would take from the creation time."""
    if start_time is None:
        raise InvalidRecurrence(
            "start_time",
            "AzureMLRecurrenceTimetable needs a start_time: without one Azure ML fires at creation"
            " and counts from there, an instant a DAG file does not know. Use the schedule's start"
            " time, or the time of its first run.",
        )
    if isinstance(start_time, datetime):
        if start_time.tzinfo is not None:
            raise InvalidRecurrence(
                "start_time", "Can not specify tzinfo for start_time, use time_zone instead."
            )
        return start_time.replace(microsecond=0)
    try:
        return datetime.strptime(start_time, START_TIME_FORMAT)
    except (TypeError, ValueError):
        raise InvalidRecurrence(
            "start_time", f"expected a naive datetime or a 'YYYY-MM-DDThh:mm:ss' string, got {start_time!r}."
        ) from None


def _split_time_of_day(time_of_day: Any) -> tuple[list[int], list[int]]:
    if not isinstance(time_of_day, str) or _TIME_OF_DAY.match(time_of_day) is None:
        raise InvalidRecurrence("time_of_day", "time_of_day should be in the format hh:mm.")
    hour, minute = (int(part) for part in time_of_day.split(":"))
    if hour > 23:
        raise InvalidRecurrence("time_of_day", "Time of day hour value must be between 0 and 23.")
    if minute > 59:
        raise InvalidRecurrence("time_of_day", "Time of day minute value must be between 0 and 59.")
    return [hour], [minute]


def _check_frequency_and_interval(frequency: Any, interval: Any) -> None:
    if frequency not in FREQUENCIES:
        raise InvalidRecurrence(
            "frequency", "Invalid value for frequency, only one of Minute, Hour, Day, Week, or Month accepted"
        )
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise InvalidRecurrence("interval", "Interval must be an integer greater than 0.")


def _check_pattern_fields(
    frequency: str, hours: Any, minutes: Any, week_days: Any, *, hours_field: str
) -> None:
    if frequency not in ("Day", "Week") and hours is not None:
        raise InvalidRecurrence(hours_field, "Can only specify hours if frequency is Week or Day.")
    if frequency not in ("Day", "Week") and minutes is not None:
        raise InvalidRecurrence("minutes", "Can only specify minutes if frequency is Week or Day.")
    if frequency != "Week" and week_days is not None:
        raise InvalidRecurrence("week_days", "Can only specify week days if frequency is Week.")
    _check_numbers("hours", hours, 23, "Hours must be between 0 and 23.")
    _check_numbers("minutes", minutes, 59, "Minutes must be between 0 and 59.")
    if week_days is not None and (
        isinstance(week_days, str) or not week_days or any(day not in WEEK_DAYS for day in week_days)
    ):
        raise InvalidRecurrence(
            "week_days",
            "Week days must be a list of str, accepted values: Monday, Tuesday, Wednesday, "
            "Thursday, Friday, Saturday, Sunday.",
        )


def _check_numbers(field: str, values: Any, highest: int, message: str) -> None:
    """Also refuses an empty list, which the SDK passes on but which names no time to fire at."""
    if values is None:
        return
    if not isinstance(values, (list, tuple)) or not values:
        raise InvalidRecurrence(field, f"{message} Expected a non-empty list of int, got {values!r}.")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= highest:
            raise InvalidRecurrence(field, message)


def _windows_zone(time_zone: Any) -> str:
    """A ``TimeZone`` value such as ``"UTC"``; a ``TimeZone`` member is taken by its value. UTC if None."""
    name = "UTC" if time_zone is None else getattr(time_zone, "value", time_zone)
    if not isinstance(name, str) or name not in WINDOWS_TO_IANA:
        raise InvalidRecurrence(
            "time_zone",
            f"Time zone is not a valid TimeZone enum. {name!r} is not a Windows zone name of"
            " azureml.pipeline.core.schedule.TimeZone, such as 'UTC' or 'W. Europe Standard Time'.",
        )
    return name


def _sorted_unique(values: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if values is None else tuple(sorted(set(values)))
