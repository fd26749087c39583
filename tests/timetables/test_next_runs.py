"""The timetable's runs, asked of ``next_dagrun_info`` the way the scheduler asks, with "now" injected."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction

from airflow_provider_azureml.timetables import AzureMLRecurrenceTimetable
from tests.timetables.cases import CASES, Case
from tests.timetables.reference import reference_runs

NO_LIMITS = TimeRestriction(earliest=None, latest=None, catchup=False)


def at(now: datetime, **kwargs) -> AzureMLRecurrenceTimetable:
    timetable = AzureMLRecurrenceTimetable(**kwargs)
    timetable.clock = lambda: now  # type: ignore[method-assign]
    return timetable


def scheduled(timetable: AzureMLRecurrenceTimetable, count: int, restriction=NO_LIMITS) -> list[DagRunInfo]:
    """``count`` runs in a row, each asked with the previous run's data interval, as the scheduler does."""
    runs: list[DagRunInfo] = []
    last: DataInterval | None = None
    for _ in range(count):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        assert info is not None
        runs.append(info)
        last = info.data_interval
    return runs


def test_there_are_at_least_twenty_cases_covering_every_frequency() -> None:
    assert len(CASES) >= 20
    assert {case.kwargs["frequency"] for case in CASES} == {"Minute", "Hour", "Day", "Week", "Month"}
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_table_agrees_with_the_reference(case: Case) -> None:
    assert reference_runs(case.kwargs, case.now_utc, len(case.expected)) == case.expected_instants


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_next_runs_are_the_expected_instants(case: Case) -> None:
    runs = scheduled(at(case.now_utc, **case.kwargs), len(case.expected))
    assert [run.run_after for run in runs] == case.expected_instants
    assert [run.data_interval.end for run in runs] == case.expected_instants
    assert [run.data_interval.start for run in runs[1:]] == case.expected_instants[:-1]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_catchup_changes_nothing(case: Case) -> None:
    catchup = TimeRestriction(
        earliest=datetime.fromisoformat("2000-01-01T00:00:00+00:00"), latest=None, catchup=True
    )
    runs = scheduled(at(case.now_utc, **case.kwargs), 2, catchup)
    assert [run.run_after for run in runs] == case.expected_instants[:2]


HOURLY = dict(
    frequency="Hour", interval=4, start_time="2026-01-01T00:30:00", time_zone="W. Europe Standard Time"
)
NOW = datetime.fromisoformat("2026-02-01T12:00:00+00:00")


def test_runs_missed_while_the_scheduler_was_down_are_skipped() -> None:
    last = DataInterval(
        start=datetime.fromisoformat("2026-02-01T03:30:00+00:00"),
        end=datetime.fromisoformat("2026-02-01T07:30:00+00:00"),
    )
    later = at(NOW + timedelta(hours=9), **HOURLY)
    info = later.next_dagrun_info(last_automated_data_interval=last, restriction=NO_LIMITS)
    assert info is not None
    assert info.run_after == datetime.fromisoformat("2026-02-01T23:30:00+00:00")
    assert info.data_interval.start == datetime.fromisoformat("2026-02-01T19:30:00+00:00")


def test_a_later_start_date_delays_the_first_run_to_the_next_instant() -> None:
    start_date = datetime.fromisoformat("2026-03-10T10:00:00+00:00")
    restriction = TimeRestriction(earliest=start_date, latest=None, catchup=False)
    info = at(NOW, **HOURLY).next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info is not None and info.run_after == datetime.fromisoformat("2026-03-10T11:30:00+00:00")


@pytest.mark.parametrize(
    ("end_date", "runs"), [("2026-02-01T15:29:59+00:00", False), ("2026-02-01T15:30:00+00:00", True)]
)
def test_no_run_after_the_end_date(end_date: str, runs: bool) -> None:
    restriction = TimeRestriction(earliest=None, latest=datetime.fromisoformat(end_date), catchup=False)
    info = at(NOW, **HOURLY).next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert (info is not None) == runs


def test_the_first_run_of_a_pattern_has_a_zero_length_interval() -> None:
    timetable = at(NOW, frequency="Day", interval=1, start_time="2026-02-01T00:00:00", time_of_day="13:00")
    info = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=NO_LIMITS)
    assert info is not None
    assert info.data_interval == DataInterval.exact(datetime.fromisoformat("2026-02-01T13:00:00+00:00"))


@pytest.mark.parametrize(
    ("run_after", "start"),
    [
        ("2026-02-01T13:00:00+00:00", "2026-02-01T11:30:00+00:00"),
        ("2026-02-01T11:30:00+00:00", "2026-02-01T07:30:00+00:00"),
        ("2025-12-31T23:00:00+00:00", "2025-12-31T23:00:00+00:00"),
    ],
    ids=["between-runs", "on-a-run", "before-the-start"],
)
def test_a_manual_run_covers_the_time_since_the_last_instant(run_after: str, start: str) -> None:
    interval = at(NOW, **HOURLY).infer_manual_data_interval(run_after=datetime.fromisoformat(run_after))
    assert interval == DataInterval(
        start=datetime.fromisoformat(start), end=datetime.fromisoformat(run_after)
    )


def test_a_naive_datetime_start_time_is_the_same_as_its_string() -> None:
    as_datetime = dict(HOURLY, start_time=datetime(2026, 1, 1, 0, 30, 0, 999))
    assert AzureMLRecurrenceTimetable(**as_datetime) == AzureMLRecurrenceTimetable(**HOURLY)
