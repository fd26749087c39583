"""The submission body is built strictly: a wrong type is an error naming the field, never converted."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_azureml.client.errors import AzureMLConfigError
from airflow_provider_azureml.client.models import DataPath, SubmissionRequest

SECRET = "s3cr3t-Value~that-must-never-leak"


def test_body_sends_parameters_as_the_sdk_does_and_defaults_the_description() -> None:
    request = SubmissionRequest.build(
        "exp1",
        parameter_assignments={"epochs": 3, "rate": 0.5, "fast": True, "mode": "x"},
        data_path_assignments={
            "a": {"DataStoreName": "blob", "RelativePath": "in"},
            "b": {"datastore_name": "blob", "relative_path": "out"},
            "c": DataPath(DataStoreName="blob", RelativePath="more"),
        },
        description="",
        tags=None,
    )
    body = request.to_wire()
    assert body["ParameterAssignments"] == {"epochs": "3", "rate": "0.5", "fast": "True", "mode": "x"}
    assert body["DataPathAssignments"]["b"] == {"DataStoreName": "blob", "RelativePath": "out"}
    assert body["Description"] == "exp1"
    assert body["tags"] == {}
    assert "ContinueRunOnStepFailure" not in body


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"parameter_assignments": {"p": [SECRET]}}, "parameter_assignments.p: allowed: str, int, float"),
        ({"parameter_assignments": {"p": None}}, "parameter_assignments.p: allowed"),
        ({"parameter_assignments": {"p": (1, 2)}}, "parameter_assignments.p: allowed"),
        ({"parameter_assignments": {"p": float("inf")}}, "parameter_assignments.p: allowed"),
        ({"parameter_assignments": {None: 1}}, "parameter_assignments key None"),
        ({"parameter_assignments": [("p", 1)]}, "parameter_assignments: Input should be a valid dictionary"),
        (
            {"data_path_assignments": {"a": SECRET}},
            "data_path_assignments.a: Input should be a valid dictionary",
        ),
        ({"data_path_assignments": {"a": {"DataStoreName": "", "RelativePath": "x"}}}, "a.DataStoreName"),
        ({"tags": {"k": 1}}, "tags.k: Input should be a valid string"),
        ({"properties": {"k": SECRET.encode()}}, "properties.k: Input should be a valid string"),
        ({"description": 5}, "description: Input should be a valid string"),
        ({"continue_on_step_failure": "true"}, "continue_on_step_failure: Input should be a valid boolean"),
    ],
)
def test_wrong_types_are_named_never_shown(options: dict[str, Any], named: str) -> None:
    with pytest.raises(AzureMLConfigError) as raised:
        SubmissionRequest.build("exp1", **options)
    assert named in str(raised.value)
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize(
    "name", ["", "-starts-with-dash", "has space", "\u0663abc", "caf\u00e9", "x" * 256, 7]
)
def test_experiment_names_are_what_azure_ml_allows(name: Any) -> None:
    with pytest.raises(AzureMLConfigError, match="experiment_name"):
        SubmissionRequest.build(name)


def test_longest_experiment_name_is_allowed() -> None:
    assert SubmissionRequest.build("A_" + "x" * 253).experiment_name == "A_" + "x" * 253
