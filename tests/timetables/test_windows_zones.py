from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_azureml.windows_zones import WINDOWS_TO_IANA, iana_zone


def test_every_sdk_time_zone_maps_to_a_zone_zoneinfo_knows() -> None:
    from azureml.pipeline.core.schedule import TimeZone

    assert len(TimeZone) == 131
    assert {member.value for member in TimeZone} == set(WINDOWS_TO_IANA)
    for member in TimeZone:
        ZoneInfo(iana_zone(member.value))


@pytest.mark.parametrize(
    ("windows", "hours"),
    [("UTC-11", -11), ("UTC+12", 12), ("UTC-02", -2), ("UTC", 0), ("India Standard Time", 5.5)],
)
def test_fixed_offsets_have_the_sign_windows_means(windows: str, hours: float) -> None:
    offset = datetime(2026, 1, 15, tzinfo=UTC).astimezone(ZoneInfo(iana_zone(windows))).utcoffset()
    assert offset == timedelta(hours=hours)


def test_an_unknown_name_is_refused_with_examples() -> None:
    with pytest.raises(
        ValueError, match=r"Unknown Azure ML time zone 'Europe/Berlin'.*W\. Europe Standard Time"
    ):
        iana_zone("Europe/Berlin")
