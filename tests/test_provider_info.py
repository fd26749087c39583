from __future__ import annotations

from importlib.metadata import distribution

from airflow.providers_manager import _create_provider_info_schema_validator

from airflow_provider_azureml.get_provider_info import AUTH_METHODS, get_provider_info


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
