"""Parameter checks before submitting: names and scalar types against the pipeline's declaration."""

from __future__ import annotations

import pytest

from airflow_provider_azureml.client.errors import AzureMLConfigError
from airflow_provider_azureml.client.models import PipelineParameterSpec, parameter_type
from airflow_provider_azureml.utils.parameters import validate_parameters


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
        ({"epochs": 2.5}, "epochs is not a valid int"),
        ({"epochs": "2.5"}, "epochs is not a valid int"),
        ({"epochs": True}, "epochs is not a valid int"),
        ({"avg_rate": "fast"}, "avg_rate is not a valid float"),
        ({"avg_rate": False}, "avg_rate is not a valid float"),
        ({"shuffle": "yes"}, "shuffle is not a valid bool"),
        ({"shuffle": 1}, "shuffle is not a valid bool"),
    ],
)
def test_mistyped_values_are_named_not_shown(parameters, fragment):
    with pytest.raises(AzureMLConfigError) as raised:
        validate_parameters(parameters, DECLARED)
    assert fragment in str(raised.value)
    assert repr(next(iter(parameters.values()))) not in str(raised.value).replace(fragment, "")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("epochs", "\u0663"),  # Arabic-Indic 3: a regex \d and int() take it, the service does not
        ("epochs", "\uff13"),  # fullwidth 3
        ("epochs", "\u20033"),  # an em space before 3: str.strip() would remove it
        ("avg_rate", "\u0661.\u0665"),  # Arabic-Indic 1.5: float() takes it
        ("avg_rate", "inf"),
        ("avg_rate", "nan"),
        ("avg_rate", "1_000"),
        ("shuffle", "fal\u017fe"),  # a long s: matches "false" case-insensitively outside ASCII
    ],
)
def test_numbers_and_bools_as_text_are_ascii_only(name, text):
    with pytest.raises(AzureMLConfigError, match=f"{name} is not a valid"):
        validate_parameters({name: text}, DECLARED)


def test_every_mistyped_value_is_reported_with_the_declaration():
    with pytest.raises(AzureMLConfigError) as raised:
        validate_parameters({"epochs": "x", "avg_rate": "y"}, DECLARED)
    message = str(raised.value)
    assert "epochs is not a valid int" in message and "avg_rate is not a valid float" in message
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


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "bool"),  # a bool is never taken for an int
        (0, "int"),
        (0.5, "float"),
        ("x", "string"),
        (float("nan"), None),
        (float("-inf"), None),
        (None, None),
        ([1], None),
        (b"1", None),
    ],
)
def test_one_rule_says_what_a_parameter_value_is(value, expected):
    assert parameter_type(value) == expected


@pytest.mark.parametrize("value", [float("nan"), None, [1], {"a": 1}])
def test_no_declared_type_takes_what_is_no_parameter_value(value):
    for declared in [*DECLARED, spec("any", "unknown")]:
        with pytest.raises(AzureMLConfigError, match=f"{declared.name} is not a valid"):
            validate_parameters({declared.name: value}, [*DECLARED, spec("any", "unknown")])
