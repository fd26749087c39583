"""Airflow timetables reproducing Azure ML v1 schedules."""

from __future__ import annotations

from airflow_provider_azureml.timetables._recurrence import InvalidRecurrence
from airflow_provider_azureml.timetables.recurrence import AzureMLRecurrenceTimetable

__all__ = ["AzureMLRecurrenceTimetable", "InvalidRecurrence"]
