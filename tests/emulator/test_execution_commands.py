"""Resolving a published module node into a command line, environment, folders and time limit."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_azureml.emulator.execution.commands import (
    PRS_DRIVER,
    DataLayout,
    StepContext,
    StepSetupError,
    node_count,
    resolve,
    step_timeout,
)


def _module(arguments: list[tuple[str, str]], **info: Any) -> dict[str, Any]:
    return {
        "StructuredInterface": {
            "Inputs": [{"Name": "prepped", "DataReferenceName": "prepped"}],
            "Outputs": [{"Name": "scores"}, {"Name": "_run_after_output", "SkipProcessing": True}],
            "Parameters": [
                {
                    "Name": "rate",
                    "DefaultValue": "0.5",
                    "SetEnvironmentVariable": True,
                    "EnvironmentVariableOverride": "AML_PARAMETER_rate",
                },
                {"Name": "NodeCount"},
            ],
            "Arguments": [{"ValueType": kind, "Value": value} for kind, value in arguments],
        },
        **info,
    }


def _node(*parameters: tuple[str, str, str], **extra: Any) -> dict[str, Any]:
    entries = [{"Name": name, "Value": value, "ValueType": kind} for name, kind, value in parameters]
    return {
        "Id": "n1",
        "ModuleParameters": [{"Name": "Script", "Value": "go.py", "ValueType": "0"}, *entries],
        **extra,
    }


def _context(node: dict[str, Any], module: dict[str, Any], tmp_path: Path, **kw: Any) -> StepContext:
    return StepContext(
        node=node,
        module=module,
        parameters={"pipeline_rate": "0.9", "nodes": "3"},
        inputs={"prepped": tmp_path / "in"},
        outputs={"scores": tmp_path / "out"},
        **kw,
    )


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "go.py").write_text("")
    return tmp_path / "snap"


def test_arguments_and_environment_come_from_the_graph_and_the_run(tmp_path: Path, snapshot: Path) -> None:
    module = _module(
        [
            ("Literal", "--rate"),
            ("Parameter", "rate"),
            ("Literal", "--in=$AZUREML_DATAREFERENCE_prepped"),
            ("Literal", "--out"),
            ("Output", "scores"),
            ("Input", "prepped"),
        ]
    )
    node = _node(("rate", "1", "pipeline_rate"), ("NodeCount", "1", "nodes"))

    command = resolve(_context(node, module, tmp_path), snapshot)

    assert command.argv == (
        sys.executable,
        str(snapshot / "go.py"),
        "--rate",
        "0.9",
        f"--in={tmp_path / 'in'}",
        "--out",
        str(tmp_path / "out"),
        str(tmp_path / "in"),
    )
    assert command.env["AML_PARAMETER_rate"] == "0.9"
    assert command.env["AZUREML_DATAREFERENCE_prepped"] == str(tmp_path / "in")
    assert command.env["AZUREML_NODE_COUNT"] == "3"


def test_module_defaults_apply_without_a_node_entry(tmp_path: Path, snapshot: Path) -> None:
    command = resolve(_context(_node(), _module([("Parameter", "rate")]), tmp_path), snapshot)

    assert command.argv[2:] == ("0.5",)
    assert command.env["AZUREML_NODE_COUNT"] == "1"


def test_a_parallel_run_step_runs_the_emulator_driver(tmp_path: Path, snapshot: Path) -> None:
    node = _node(ModuleType="BatchInferencing", Runconfig=json.dumps({"nodeCount": 5}))
    node["ModuleParameters"][0]["Value"] = "driver/amlbi_main.py"

    command = resolve(
        _context(node, _module([("Literal", "--input_fds_0"), ("Literal", "prepped")]), tmp_path), snapshot
    )

    assert command.argv[1:] == (str(PRS_DRIVER), "--input_fds_0", "prepped")
    assert node_count(_context(node, _module([]), tmp_path)) == 5


def test_time_limit_is_the_steps_own_else_the_emulators(tmp_path: Path) -> None:
    own = _node(Runconfig=json.dumps({"maxRunDurationSeconds": 30}))

    assert step_timeout(_context(own, _module([]), tmp_path, default_timeout=600)) == 30
    assert step_timeout(_context(_node(), _module([]), tmp_path, default_timeout=600)) == 600
    assert step_timeout(_context(_node(), _module([]), tmp_path)) is None


@pytest.mark.parametrize(
    ("arguments", "parameters", "message"),
    [
        ([("Parameter", "rate")], [("rate", "1", "missing")], "unknown pipeline parameter 'missing'"),
        ([("Parameter", "rate")], [("rate", "2", "x")], "ValueType 2"),
        ([("Literal", "$AZUREML_DATAREFERENCE_other")], [], "data reference 'other'"),
        ([("Output", "nowhere")], [], "output 'nowhere'"),
        ([("StringInterpolation", "x")], [], "not supported"),
    ],
)
def test_what_cannot_run_is_a_step_error(
    tmp_path: Path,
    snapshot: Path,
    arguments: list[tuple[str, str]],
    parameters: list[tuple[str, str, str]],
    message: str,
) -> None:
    with pytest.raises(StepSetupError, match=message):
        resolve(_context(_node(*parameters), _module(arguments), tmp_path), snapshot)


def test_datastore_uris_map_into_the_data_directory_and_nowhere_else(tmp_path: Path) -> None:
    layout = DataLayout(tmp_path)

    assert layout.local_path("azureml://datastores/workspaceblobstore/paths/azureml/r1/scores/x.txt") == (
        tmp_path / "datastores" / "workspaceblobstore" / "azureml" / "r1" / "scores" / "x.txt"
    )
    with pytest.raises(StepSetupError):
        layout.local_path("azureml://datastores/workspaceblobstore/paths/../../etc/passwd")
    with pytest.raises(ValueError, match="not an azureml://"):
        layout.local_path("https://example.invalid/x")
