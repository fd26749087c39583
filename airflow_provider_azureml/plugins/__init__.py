"""The provider's Airflow plugin: Airflow serializes only the custom timetables a plugin registers."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_azureml.timetables import AzureMLRecurrenceTimetable


class AzureMLPlugin(AirflowPlugin):
    """Registers ``AzureMLRecurrenceTimetable`` (listed under ``plugins`` in the provider info)."""

    name = "azureml"
    timetables = [AzureMLRecurrenceTimetable]
