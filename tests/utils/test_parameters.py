"""Parameter checks before submitting: names and scalar types against the pipeline's declaration."""

from __future__ import annotations

import pytest

from airflow_provider_azureml.client.errors import AzureMLConfigError
from airflow_provider_azureml.client.models import PipelineParameterSpec
from airflow_provider_azureml.utils.parameters import check_scalar_values, validate_parameters


def spec(name: str, type_: str) -> PipelineParameterSpec:
    return PipelineParameterSpec.model_validate({"Name": name, "Type": type_})


DECLARED = [spec("epochs", "int"), spec("avg_rate", "float"), spec("shuffle", "bool"), spec("mode", "string")]


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"epochs": 3, "avg_rate": 0.5, "shuffle": True, "mode": "fast"},
        {"epochs": "3", "avg_rate": "1e-3", "shuffle": "false", "mode": 7},
        {"epochs": " -2 ", "avg_rate": 2, "shuffle": "True"},
    ],
)
def test_valid_values_pass(parameters):
    validate_parameters(parameters, DECLARED)


@pytest.mark.parametrize(
    ("parameters", "fragment"),
    [
        ({"epochs": 2.5}, "epochs=2.5 is not a valid int"),
        ({"epochs": "2.5"}, "epochs='2.5' is not a valid int"),
        ({"epochs": True}, "epochs=True is not a valid int"),
        ({"avg_rate": "fast"}, "avg_rate='fast' is not a valid float"),
        ({"avg_rate": False}, "avg_rate=False is not a valid float"),
        ({"shuffle": "yes"}, "shuffle='yes' is not a valid bool"),
        ({"shuffle": 1}, "shuffle=1 is not a valid bool"),
    ],
)
def test_mistyped_values_are_named(parameters, fragment):
    with pytest.raises(AzureMLConfigError) as raised:
        validate_parameters(parameters, DECLARED)
    assert fragment in str(raised.value)


def test_every_mistyped_value_is_reported_with_the_declaration():
    with pytest.raises(AzureMLConfigError) as raised:
        validate_parameters({"epochs": "x", "avg_rate": "y"}, DECLARED)
    message = str(raised.value)
    assert "epochs='x'" in message and "avg_rate='y'" in message
    assert "avg_rate (float), epochs (int), mode (string), shuffle (bool)" in message


def test_unknown_names_list_the_declared_names_and_types():
    with pytest.raises(AzureMLConfigError) as raised:
        validate_parameters({"rate": 1, "epoch": 2}, DECLARED)
    message = str(raised.value)
    assert "unknown name(s) epoch, rate" in message
    assert "avg_rate (float), epochs (int), mode (string), shuffle (bool)" in message


def test_a_pipeline_without_parameters_says_so():
    with pytest.raises(AzureMLConfigError, match="declares: none"):
        validate_parameters({"x": 1}, [])


def test_undeclared_type_accepts_any_scalar():
    validate_parameters({"p": 1, "q": "text"}, [spec("p", "unknown"), spec("q", "unknown")])


@pytest.mark.parametrize("value", [[1], {"a": 1}, None, (1, 2), {1}])
def test_non_scalars_are_rejected_even_without_a_declaration(value):
    with pytest.raises(AzureMLConfigError) as raised:
        check_scalar_values({"p": value})
    assert f"pipeline_parameters['p'] is a {type(value).__name__}" in str(raised.value)
    assert "allowed: str, int, float or bool" in str(raised.value)


def test_parameters_must_be_a_mapping():
    with pytest.raises(AzureMLConfigError, match="must be a mapping"):
        check_scalar_values([("p", 1)])  # type: ignore[arg-type]
