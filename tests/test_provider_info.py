from __future__ import annotations

import importlib
import importlib.metadata
from importlib.metadata import distribution, entry_points

import pytest
from airflow.providers_manager import ProvidersManager, _create_provider_info_schema_validator
from airflow.sdk.module_loading import import_string

import airflow_provider_azureml
from airflow_provider_azureml.get_provider_info import AUTH_METHODS, get_provider_info
from airflow_provider_azureml.hooks.azureml import AzureMLHook


def test_provider_info_matches_airflow_schema() -> None:
    _create_provider_info_schema_validator().validate(get_provider_info())


def test_package_name_is_the_distribution_name() -> None:
    info = get_provider_info()
    dist = distribution(info["package-name"])
    assert dist.metadata["Name"] == info["package-name"]
    assert dist.version in info["versions"]


def test_connection_type_names_the_hook_and_every_auth_method() -> None:
    (conn,) = get_provider_info()["connection-types"]
    assert conn["hook-class-name"] == "airflow_provider_azureml.hooks.azureml.AzureMLHook"
    assert conn["conn-fields"]["auth_method"]["schema"]["enum"] == list(AUTH_METHODS)
    assert "emulator" in AUTH_METHODS


def test_every_listed_module_and_link_imports_and_exists() -> None:
    info = get_provider_info()
    for section in ("hooks", "operators", "sensors", "triggers"):
        (entry,) = info[section]
        assert entry["integration-name"] == info["integrations"][0]["integration-name"]
        for module in entry["python-modules"]:
            importlib.import_module(module)
    for link in info["extra-links"]:
        assert import_string(link).name


def test_airflow_lists_our_hook_link_and_trigger() -> None:
    manager = ProvidersManager()
    assert "airflow_provider_azureml.links.studio.AzureMLPipelineRunLink" in manager.extra_links_class_names
    triggers = [t for t in manager.trigger if t.package_name == "airflow-provider-azureml"]
    assert [t.trigger_class_name for t in triggers] == ["airflow_provider_azureml.triggers.pipeline_run"]
    (conn,) = get_provider_info()["connection-types"]
    assert conn["hook-name"] == AzureMLHook.hook_name


def test_one_version_source() -> None:
    assert distribution("airflow-provider-azureml").version == airflow_provider_azureml.__version__


@pytest.mark.parametrize(("installed", "refused"), [("3.2.1", True), ("3.3.0rc1", False), ("3.4.0", False)])
def test_an_older_airflow_is_refused_at_import(monkeypatch, installed: str, refused: bool) -> None:
    """An older Airflow cannot be installed beside this one, so its reported version is substituted."""
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: installed if name == "apache-airflow-core" else real(name)
    )
    if refused:
        with pytest.raises(
            RuntimeError, match=f"needs Apache Airflow 3.3.0 or later; this environment has {installed}"
        ):
            airflow_provider_azureml._check_airflow_version()
    else:
        airflow_provider_azureml._check_airflow_version()


def test_the_plugin_entry_point_registers_the_timetable() -> None:
    from airflow.plugins_manager import AirflowPlugin

    from airflow_provider_azureml.timetables import AzureMLRecurrenceTimetable

    (entry_point,) = entry_points(group="airflow.plugins", name="azureml")
    plugin_class = entry_point.load()
    assert issubclass(plugin_class, AirflowPlugin)
    assert plugin_class.timetables == [AzureMLRecurrenceTimetable]


def test_airflow_finds_the_timetable_with_default_settings() -> None:
    """Through the ``airflow.plugins`` entry point, whatever ``lazy_discover_providers`` says."""
    from airflow import plugins_manager

    timetable = "airflow_provider_azureml.timetables.recurrence.AzureMLRecurrenceTimetable"
    assert timetable in plugins_manager.get_timetables_plugins()
