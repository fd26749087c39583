"""A recurrence Azure ML refuses fails when the DAG file is parsed, with the SDK's own message.

The expected messages come from the installed SDK: ``ScheduleRecurrence(...)`` then ``validate()``,
as ``Schedule.create`` runs them, so a changed SDK message fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from airflow_provider_azureml.timetables import AzureMLRecurrenceTimetable, InvalidRecurrence

BASE = {"start_time": "2026-01-01T00:00:00"}


def sdk_message(kwargs: dict[str, Any]) -> str:
    from azureml.pipeline.core.schedule import ScheduleRecurrence, TimeZone

    sdk_kwargs = dict(kwargs)
    if isinstance(sdk_kwargs.get("time_zone"), str):
        sdk_kwargs["time_zone"] = TimeZone(sdk_kwargs["time_zone"])
    with pytest.raises(ValueError) as refused:
        ScheduleRecurrence(**sdk_kwargs).validate()
    return str(refused.value)


SDK_REFUSED = [
    ("frequency", dict(frequency="Hourly", interval=4)),
    ("frequency", dict(frequency="hour", interval=4)),
    ("interval", dict(frequency="Hour", interval=0)),
    ("hours", dict(frequency="Hour", interval=1, hours=[3])),
    ("minutes", dict(frequency="Month", interval=1, minutes=[3])),
    ("time_of_day", dict(frequency="Minute", interval=1, time_of_day="10:30")),
    ("week_days", dict(frequency="Day", interval=1, week_days=["Monday"])),
    ("hours", dict(frequency="Day", interval=1, hours=[24])),
    ("minutes", dict(frequency="Week", interval=1, minutes=[-1])),
    ("week_days", dict(frequency="Week", interval=1, week_days=["monday"])),
    ("time_of_day", dict(frequency="Day", interval=1, time_of_day="7:5")),
    ("time_of_day", dict(frequency="Day", interval=1, time_of_day="24:00")),
    ("time_of_day", dict(frequency="Day", interval=1, time_of_day="23:60")),
    ("time_of_day", dict(frequency="Day", interval=1, time_of_day="10:00", hours=[10])),
    ("start_time", dict(frequency="Day", interval=1, start_time=datetime(2026, 1, 1, tzinfo=UTC))),
]


@pytest.mark.parametrize(
    ("field", "kwargs"), SDK_REFUSED, ids=[f"{f}-{i}" for i, (f, _) in enumerate(SDK_REFUSED)]
)
def test_the_sdk_message_and_the_field(field: str, kwargs: dict[str, Any]) -> None:
    kwargs = {**BASE, **kwargs}
    with pytest.raises(InvalidRecurrence) as refused:
        AzureMLRecurrenceTimetable(**kwargs)
    assert refused.value.field == field
    assert str(refused.value) == f"{field}: {sdk_message(kwargs)}"


OUR_RULES = [
    ("start_time", dict(frequency="Hour", interval=4, start_time=None), "needs a start_time"),
    ("start_time", dict(frequency="Hour", interval=4, start_time="tomorrow"), "'YYYY-MM-DDThh:mm:ss'"),
    ("interval", dict(frequency="Hour", interval="4"), "Interval must be an integer greater than 0."),
    ("interval", dict(frequency="Hour", interval=True), "Interval must be an integer greater than 0."),
    ("time_zone", dict(frequency="Hour", interval=4, time_zone="Europe/Berlin"), "not a valid TimeZone enum"),
    ("hours", dict(frequency="Day", interval=1, hours=[]), "non-empty list of int"),
    ("week_days", dict(frequency="Week", interval=1, week_days="Monday"), "Week days must be a list of str"),
]


@pytest.mark.parametrize(("field", "kwargs", "message"), OUR_RULES, ids=[r[0] + r[2][:12] for r in OUR_RULES])
def test_what_the_sdk_leaves_to_the_service_is_refused_too(
    field: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidRecurrence, match=f"^{field}: .*{message}") as refused:
        AzureMLRecurrenceTimetable(**{**BASE, **kwargs})
    assert refused.value.field == field


def test_a_time_zone_member_of_the_sdk_is_taken_by_its_value() -> None:
    from azureml.pipeline.core.schedule import TimeZone

    member = AzureMLRecurrenceTimetable("Hour", 4, **BASE, time_zone=TimeZone.PacificStandardTime)
    assert member == AzureMLRecurrenceTimetable("Hour", 4, **BASE, time_zone="Pacific Standard Time")
