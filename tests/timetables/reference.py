"""An independent, deliberately naive reference for the firing instants of an Azure ML recurrence.

It steps one interval (or one day) at a time from ``start_time`` with ``zoneinfo``, instead of the
timetable's interval arithmetic, and shares no code with it: only the Windows-to-IANA data.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airflow_provider_azureml.windows_zones import WINDOWS_TO_IANA

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def reference_runs(kwargs: dict[str, Any], now: datetime, count: int) -> list[datetime]:
    """The first ``count`` instants at or after ``now`` (UTC, aware)."""
    zone = ZoneInfo(WINDOWS_TO_IANA[kwargs.get("time_zone") or "UTC"])
    start = datetime.strptime(kwargs["start_time"], "%Y-%m-%dT%H:%M:%S")
    hours, minutes = kwargs.get("hours"), kwargs.get("minutes")
    if kwargs.get("time_of_day"):
        hour, minute = kwargs["time_of_day"].split(":")
        hours, minutes = [int(hour)], [int(minute)]
    if hours is None and minutes is None and kwargs.get("week_days") is None:
        candidates = _plain(kwargs["frequency"], kwargs["interval"], start, zone)
    else:
        candidates = _pattern(kwargs, start, zone, hours, minutes)
    found: list[datetime] = []
    for instant in candidates:
        if instant >= now and instant not in found:
            found.append(instant)
            if len(found) == count:
                return found
    raise AssertionError("unreachable: the candidates never end")


def _utc(wall_clock: datetime, zone: ZoneInfo) -> datetime:
    return wall_clock.replace(tzinfo=zone).astimezone(UTC)


def _plain(frequency: str, interval: int, start: datetime, zone: ZoneInfo):
    """Minute/Hour add real elapsed time; Day/Week/Month move the wall clock of ``start``."""
    if frequency in ("Minute", "Hour"):
        instant = _utc(start, zone)
        step = timedelta(minutes=interval) if frequency == "Minute" else timedelta(hours=interval)
        while True:
            yield instant
            instant += step
    k = 0
    while True:
        if frequency == "Month":
            month_count = start.month - 1 + k * interval
            year, month = start.year + month_count // 12, month_count % 12 + 1
            last_day = calendar.monthrange(year, month)[1]
            wall_clock = start.replace(year=year, month=month, day=min(start.day, last_day))
        else:
            wall_clock = start + timedelta(days=k * interval * (7 if frequency == "Week" else 1))
        yield _utc(wall_clock, zone)
        k += 1


def _pattern(kwargs: dict[str, Any], start: datetime, zone: ZoneInfo, hours, minutes):
    """Every day from the start day; keep the days the pattern selects; never ``start`` itself."""
    first = _utc(start, zone)
    hours = hours if hours is not None else [start.hour]
    minutes = minutes if minutes is not None else [start.minute]
    week_days = kwargs.get("week_days") or [DAYS[start.weekday()]]
    start_monday = start.date() - timedelta(days=start.weekday())
    day = start.date()
    while True:
        elapsed = (day - start.date()).days
        if kwargs["frequency"] == "Day":
            chosen = elapsed % kwargs["interval"] == 0
        else:
            week_number = (day - start_monday).days // 7
            chosen = DAYS[day.weekday()] in week_days and week_number % kwargs["interval"] == 0
        if chosen:
            today = sorted(_utc(datetime.combine(day, time(h, m)), zone) for h in hours for m in minutes)
            yield from (instant for instant in today if instant > first)
        day += timedelta(days=1)
