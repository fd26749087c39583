"""Recurrence cases with their expected firing instants, shared by the timetable and emulator tests.

Each case holds the keywords of ``ScheduleRecurrence`` (as ``AzureMLRecurrenceTimetable`` takes them:
``time_zone`` is a ``TimeZone`` value), a "now" (for the emulator: the schedule's creation time) and
the next instants at or after it, written in the schedule's zone so DST shifts show. The expected
instants are checked against ``reference.reference_runs`` too, so a typo in this table fails.

The rules encoded here (see ``docs/schedules.md``, "The timetable"): runs at ``start_time + k x
interval``, absolute time for Minute/Hour, wall clock for Day/Week/Month; a day 29-31 clamps to the
end of a shorter month; with hours/minutes/week days, every hour:minute of the selected days, never
``start_time`` itself; a wall-clock time skipped by DST moves forward by the gap, a repeated one is
its first occurrence; instants before "now" are skipped (no catch-up); "now" itself is included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

WEST = "W. Europe Standard Time"
PST = "Pacific Standard Time"


@dataclass(frozen=True)
class Case:
    name: str
    kwargs: dict[str, Any]
    now: str
    expected: tuple[str, ...]

    @property
    def now_utc(self) -> datetime:
        return datetime.fromisoformat(self.now)

    @property
    def expected_instants(self) -> list[datetime]:
        return [datetime.fromisoformat(instant) for instant in self.expected]


CASES: tuple[Case, ...] = (
    Case(
        "hour4_berlin_past_start_spring_forward",
        dict(frequency="Hour", interval=4, start_time="2026-01-01T00:30:00", time_zone=WEST),
        now="2026-03-28T20:00:00+00:00",
        expected=(
            "2026-03-29T00:30:00+01:00",
            "2026-03-29T05:30:00+02:00",
            "2026-03-29T09:30:00+02:00",
            "2026-03-29T13:30:00+02:00",
            "2026-03-29T17:30:00+02:00",
        ),
    ),
    Case(
        "hour4_berlin_future_start",
        dict(frequency="Hour", interval=4, start_time="2026-07-01T00:30:00", time_zone=WEST),
        now="2026-06-15T00:00:00+00:00",
        expected=(
            "2026-07-01T00:30:00+02:00",
            "2026-07-01T04:30:00+02:00",
            "2026-07-01T08:30:00+02:00",
            "2026-07-01T12:30:00+02:00",
            "2026-07-01T16:30:00+02:00",
        ),
    ),
    Case(
        "hour1_sdk_example_minute_55",
        dict(frequency="Hour", interval=1, start_time="2020-01-13T12:55:00"),
        now="2026-05-01T10:10:00+00:00",
        expected=(
            "2026-05-01T10:55:00+00:00",
            "2026-05-01T11:55:00+00:00",
            "2026-05-01T12:55:00+00:00",
            "2026-05-01T13:55:00+00:00",
            "2026-05-01T14:55:00+00:00",
        ),
    ),
    Case(
        "hour5_crosses_days",
        dict(frequency="Hour", interval=5, start_time="2026-01-01T00:00:00"),
        now="2026-01-02T12:00:00+00:00",
        expected=(
            "2026-01-02T16:00:00+00:00",
            "2026-01-02T21:00:00+00:00",
            "2026-01-03T02:00:00+00:00",
            "2026-01-03T07:00:00+00:00",
            "2026-01-03T12:00:00+00:00",
        ),
    ),
    Case(
        "hour6_utc_minus_11",
        dict(frequency="Hour", interval=6, start_time="2026-01-01T00:00:00", time_zone="UTC-11"),
        now="2026-01-01T00:00:00+00:00",
        expected=(
            "2026-01-01T00:00:00-11:00",
            "2026-01-01T06:00:00-11:00",
            "2026-01-01T12:00:00-11:00",
            "2026-01-01T18:00:00-11:00",
            "2026-01-02T00:00:00-11:00",
        ),
    ),
    Case(
        "minute30_pacific_fall_back",
        dict(frequency="Minute", interval=30, start_time="2019-05-20T16:00:00", time_zone=PST),
        now="2026-11-01T08:10:00+00:00",
        expected=(
            "2026-11-01T01:30:00-07:00",
            "2026-11-01T01:00:00-08:00",
            "2026-11-01T01:30:00-08:00",
            "2026-11-01T02:00:00-08:00",
            "2026-11-01T02:30:00-08:00",
        ),
    ),
    Case(
        "minute7_not_dividing_the_hour",
        dict(frequency="Minute", interval=7, start_time="2026-01-01T00:00:00"),
        now="2026-01-01T01:00:00+00:00",
        expected=(
            "2026-01-01T01:03:00+00:00",
            "2026-01-01T01:10:00+00:00",
            "2026-01-01T01:17:00+00:00",
            "2026-01-01T01:24:00+00:00",
            "2026-01-01T01:31:00+00:00",
        ),
    ),
    Case(
        "minute15_start_with_seconds",
        dict(frequency="Minute", interval=15, start_time="2026-01-01T00:00:30"),
        now="2026-01-01T00:20:00+00:00",
        expected=(
            "2026-01-01T00:30:30+00:00",
            "2026-01-01T00:45:30+00:00",
            "2026-01-01T01:00:30+00:00",
            "2026-01-01T01:15:30+00:00",
            "2026-01-01T01:30:30+00:00",
        ),
    ),
    Case(
        "now_on_a_run_time_is_included",
        dict(frequency="Hour", interval=2, start_time="2026-01-01T00:00:00"),
        now="2026-01-01T04:00:00+00:00",
        expected=(
            "2026-01-01T04:00:00+00:00",
            "2026-01-01T06:00:00+00:00",
            "2026-01-01T08:00:00+00:00",
            "2026-01-01T10:00:00+00:00",
            "2026-01-01T12:00:00+00:00",
        ),
    ),
    Case(
        "day1_berlin_spring_forward_gap",
        dict(frequency="Day", interval=1, start_time="2026-03-01T02:30:00", time_zone=WEST),
        now="2026-03-27T12:00:00+00:00",
        expected=(
            "2026-03-28T02:30:00+01:00",
            "2026-03-29T03:30:00+02:00",
            "2026-03-30T02:30:00+02:00",
            "2026-03-31T02:30:00+02:00",
            "2026-04-01T02:30:00+02:00",
        ),
    ),
    Case(
        "day1_pacific_fall_back_repeated_hour",
        dict(frequency="Day", interval=1, start_time="2026-10-30T01:30:00", time_zone=PST),
        now="2026-10-30T00:00:00+00:00",
        expected=(
            "2026-10-30T01:30:00-07:00",
            "2026-10-31T01:30:00-07:00",
            "2026-11-01T01:30:00-07:00",
            "2026-11-02T01:30:00-08:00",
            "2026-11-03T01:30:00-08:00",
        ),
    ),
    Case(
        "day2_past_start",
        dict(frequency="Day", interval=2, start_time="2025-12-30T06:00:00", time_zone=WEST),
        now="2026-02-01T12:00:00+00:00",
        expected=(
            "2026-02-02T06:00:00+01:00",
            "2026-02-04T06:00:00+01:00",
            "2026-02-06T06:00:00+01:00",
            "2026-02-08T06:00:00+01:00",
            "2026-02-10T06:00:00+01:00",
        ),
    ),
    Case(
        "day_hours_minutes_pacific_spring_forward",
        dict(
            frequency="Day",
            interval=1,
            start_time="2026-03-07T12:30:00",
            time_zone=PST,
            hours=[10, 12, 14],
            minutes=[30],
        ),
        now="2026-03-01T00:00:00+00:00",
        expected=(
            "2026-03-07T14:30:00-08:00",
            "2026-03-08T10:30:00-07:00",
            "2026-03-08T12:30:00-07:00",
            "2026-03-08T14:30:00-07:00",
            "2026-03-09T10:30:00-07:00",
        ),
    ),
    Case(
        "day3_time_of_day",
        dict(frequency="Day", interval=3, start_time="2026-01-01T00:00:00", time_of_day="7:05"),
        now="2026-01-05T00:00:00+00:00",
        expected=(
            "2026-01-07T07:05:00+00:00",
            "2026-01-10T07:05:00+00:00",
            "2026-01-13T07:05:00+00:00",
            "2026-01-16T07:05:00+00:00",
            "2026-01-19T07:05:00+00:00",
        ),
    ),
    Case(
        "day_minutes_only_take_start_hour",
        dict(frequency="Day", interval=1, start_time="2026-02-10T09:40:00", minutes=[0, 15]),
        now="2026-02-10T00:00:00+00:00",
        expected=(
            "2026-02-11T09:00:00+00:00",
            "2026-02-11T09:15:00+00:00",
            "2026-02-12T09:00:00+00:00",
            "2026-02-12T09:15:00+00:00",
            "2026-02-13T09:00:00+00:00",
        ),
    ),
    Case(
        "day_hours_only_take_start_minute",
        dict(frequency="Day", interval=1, start_time="2026-02-10T09:40:00", hours=[18, 6]),
        now="2026-02-10T00:00:00+00:00",
        expected=(
            "2026-02-10T18:40:00+00:00",
            "2026-02-11T06:40:00+00:00",
            "2026-02-11T18:40:00+00:00",
            "2026-02-12T06:40:00+00:00",
            "2026-02-12T18:40:00+00:00",
        ),
    ),
    Case(
        "day_pattern_in_the_gap_fires_once",
        dict(
            frequency="Day",
            interval=1,
            start_time="2026-03-27T00:00:00",
            time_zone=WEST,
            hours=[2, 3],
            minutes=[30],
        ),
        now="2026-03-28T00:00:00+00:00",
        expected=(
            "2026-03-28T02:30:00+01:00",
            "2026-03-28T03:30:00+01:00",
            "2026-03-29T03:30:00+02:00",
            "2026-03-30T02:30:00+02:00",
            "2026-03-30T03:30:00+02:00",
        ),
    ),
    Case(
        "week2_sdk_example_start_excluded",
        dict(
            frequency="Week",
            interval=2,
            start_time="2026-03-02T18:30:00",
            week_days=["Monday", "Wednesday"],
            time_of_day="18:30",
        ),
        now="2026-03-01T00:00:00+00:00",
        expected=(
            "2026-03-04T18:30:00+00:00",
            "2026-03-16T18:30:00+00:00",
            "2026-03-18T18:30:00+00:00",
            "2026-03-30T18:30:00+00:00",
            "2026-04-01T18:30:00+00:00",
        ),
    ),
    Case(
        "week1_berlin_fall_back_repeated_hour",
        dict(
            frequency="Week",
            interval=1,
            start_time="2026-10-01T00:00:00",
            time_zone=WEST,
            week_days=["Sunday"],
            hours=[2],
            minutes=[30],
        ),
        now="2026-10-10T00:00:00+00:00",
        expected=(
            "2026-10-11T02:30:00+02:00",
            "2026-10-18T02:30:00+02:00",
            "2026-10-25T02:30:00+02:00",
            "2026-11-01T02:30:00+01:00",
            "2026-11-08T02:30:00+01:00",
        ),
    ),
    Case(
        "week1_plain_keeps_wall_clock_over_dst",
        dict(frequency="Week", interval=1, start_time="2026-02-26T08:00:00", time_zone=PST),
        now="2026-02-27T00:00:00+00:00",
        expected=(
            "2026-03-05T08:00:00-08:00",
            "2026-03-12T08:00:00-07:00",
            "2026-03-19T08:00:00-07:00",
            "2026-03-26T08:00:00-07:00",
            "2026-04-02T08:00:00-07:00",
        ),
    ),
    Case(
        "week3_days_and_time_past_start",
        dict(
            frequency="Week",
            interval=3,
            start_time="2025-12-31T10:00:00",
            week_days=["Friday", "Tuesday"],
            time_of_day="23:45",
        ),
        now="2026-06-01T00:00:00+00:00",
        expected=(
            "2026-06-16T23:45:00+00:00",
            "2026-06-19T23:45:00+00:00",
            "2026-07-07T23:45:00+00:00",
            "2026-07-10T23:45:00+00:00",
            "2026-07-28T23:45:00+00:00",
        ),
    ),
    Case(
        "week_days_only_take_start_time",
        dict(
            frequency="Week",
            interval=1,
            start_time="2026-04-01T07:15:00",
            time_zone=WEST,
            week_days=["Saturday"],
        ),
        now="2026-04-01T00:00:00+00:00",
        expected=(
            "2026-04-04T07:15:00+02:00",
            "2026-04-11T07:15:00+02:00",
            "2026-04-18T07:15:00+02:00",
            "2026-04-25T07:15:00+02:00",
            "2026-05-02T07:15:00+02:00",
        ),
    ),
    Case(
        "month1_day31_clamps_to_month_end",
        dict(frequency="Month", interval=1, start_time="2026-01-31T09:00:00"),
        now="2026-01-01T00:00:00+00:00",
        expected=(
            "2026-01-31T09:00:00+00:00",
            "2026-02-28T09:00:00+00:00",
            "2026-03-31T09:00:00+00:00",
            "2026-04-30T09:00:00+00:00",
            "2026-05-31T09:00:00+00:00",
        ),
    ),
    Case(
        "month12_leap_day",
        dict(frequency="Month", interval=12, start_time="2024-02-29T12:00:00"),
        now="2024-03-01T00:00:00+00:00",
        expected=(
            "2025-02-28T12:00:00+00:00",
            "2026-02-28T12:00:00+00:00",
            "2027-02-28T12:00:00+00:00",
            "2028-02-29T12:00:00+00:00",
            "2029-02-28T12:00:00+00:00",
        ),
    ),
    Case(
        "month1_sdk_example_past_start",
        dict(frequency="Month", interval=1, start_time="2019-11-01T09:00:00"),
        now="2026-05-20T00:00:00+00:00",
        expected=(
            "2026-06-01T09:00:00+00:00",
            "2026-07-01T09:00:00+00:00",
            "2026-08-01T09:00:00+00:00",
            "2026-09-01T09:00:00+00:00",
            "2026-10-01T09:00:00+00:00",
        ),
    ),
    Case(
        "month2_berlin_wall_clock_over_dst",
        dict(frequency="Month", interval=2, start_time="2026-01-31T02:30:00", time_zone=WEST),
        now="2026-01-01T00:00:00+00:00",
        expected=(
            "2026-01-31T02:30:00+01:00",
            "2026-03-31T02:30:00+02:00",
            "2026-05-31T02:30:00+02:00",
            "2026-07-31T02:30:00+02:00",
            "2026-09-30T02:30:00+02:00",
        ),
    ),
    Case(
        "month5_crosses_years",
        dict(
            frequency="Month", interval=5, start_time="2025-10-15T18:00:00", time_zone="Tokyo Standard Time"
        ),
        now="2026-01-01T00:00:00+00:00",
        expected=(
            "2026-03-15T18:00:00+09:00",
            "2026-08-15T18:00:00+09:00",
            "2027-01-15T18:00:00+09:00",
            "2027-06-15T18:00:00+09:00",
            "2027-11-15T18:00:00+09:00",
        ),
    ),
    Case(
        "day1_lord_howe_half_hour_gap",
        dict(
            frequency="Day", interval=1, start_time="2026-10-02T02:15:00", time_zone="Lord Howe Standard Time"
        ),
        now="2026-10-01T00:00:00+00:00",
        expected=(
            "2026-10-02T02:15:00+10:30",
            "2026-10-03T02:15:00+10:30",
            "2026-10-04T02:45:00+11:00",
            "2026-10-05T02:15:00+11:00",
            "2026-10-06T02:15:00+11:00",
        ),
    ),
)
