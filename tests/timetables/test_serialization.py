"""Airflow stores the DAG serialized: the timetable must survive it, and the UI reads its summary."""

from __future__ import annotations

import pytest
from airflow.sdk import DAG
from airflow.serialization.serialized_objects import DagSerialization

from airflow_provider_azureml.timetables import AzureMLRecurrenceTimetable
from tests.timetables.cases import CASES, Case


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_dag_round_trips_through_airflow_serialization(case: Case) -> None:
    timetable = AzureMLRecurrenceTimetable(**case.kwargs)
    with DAG(dag_id=f"roundtrip_{case.name}", schedule=timetable) as dag:
        pass
    stored = DagSerialization.to_dict(dag)
    assert (
        stored["dag"]["timetable"]["__type"]
        == "airflow_provider_azureml.timetables.recurrence.AzureMLRecurrenceTimetable"
    )
    restored = DagSerialization.from_dict(stored).timetable
    assert restored == timetable
    assert restored.summary == timetable.summary
    assert restored.description == timetable.description


def test_time_of_day_is_stored_as_hours_and_minutes_like_the_wire() -> None:
    timetable = AzureMLRecurrenceTimetable("Day", 1, start_time="2026-01-01T00:00:00", time_of_day="7:05")
    assert timetable.serialize() == {
        "frequency": "Day",
        "interval": 1,
        "start_time": "2026-01-01T00:00:00",
        "time_zone": "UTC",
        "hours": [7],
        "minutes": [5],
        "week_days": None,
    }


@pytest.mark.parametrize(
    ("kwargs", "summary"),
    [
        (
            dict(
                frequency="Hour",
                interval=4,
                start_time="2026-01-01T00:30:00",
                time_zone="W. Europe Standard Time",
            ),
            "every 4 hours from 00:30 W. Europe Standard Time",
        ),
        (
            dict(frequency="Minute", interval=1, start_time="2026-01-01T00:00:30"),
            "every minute from 00:00:30 UTC",
        ),
        (dict(frequency="Day", interval=2, start_time="2026-01-01T06:00:00"), "every 2 days at 06:00 UTC"),
        (
            dict(
                frequency="Day",
                interval=1,
                start_time="2026-01-01T00:00:00",
                time_zone="Pacific Standard Time",
                hours=[14, 10],
                minutes=[30],
            ),
            "every day at 10:30, 14:30 Pacific Standard Time",
        ),
        (
            dict(
                frequency="Week",
                interval=2,
                start_time="2026-03-02T00:00:00",
                week_days=["Wednesday", "Monday"],
                time_of_day="18:30",
            ),
            "every 2 weeks on Monday, Wednesday at 18:30 UTC",
        ),
        (
            dict(frequency="Week", interval=1, start_time="2026-03-05T08:00:00"),
            "every week on Thursday at 08:00 UTC",
        ),
        (
            dict(frequency="Month", interval=3, start_time="2026-01-31T09:00:00"),
            "every 3 months on day 31 at 09:00 UTC",
        ),
    ],
)
def test_summary(kwargs: dict, summary: str) -> None:
    assert AzureMLRecurrenceTimetable(**kwargs).summary == summary


def test_description_names_the_start_and_the_iana_zone() -> None:
    timetable = AzureMLRecurrenceTimetable("Hour", 4, start_time="2026-01-01T00:30:00", time_zone="UTC-11")
    assert timetable.description == (
        "Azure ML recurrence: every 4 hours from 00:30 UTC-11, counted from 2026-01-01 00:30:00 (Etc/GMT+11);"
        " missed runs are skipped"
    )
