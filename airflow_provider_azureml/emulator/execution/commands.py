"""What a published step runs on this machine: its command line, environment, data folders and time limit.

Pure resolution of the graph ``Pipeline.publish()`` sent, no processes. A module node names its
``Script``; ``Arguments`` "USE_STRUCTURED_ARGUMENTS" means the module's
``StructuredInterface.Arguments``, a list of (kind, value): ``Literal`` verbatim (``$AZUREML_DATAREFERENCE_x``
inside it becomes the folder of data reference ``x``), ``Parameter`` a module parameter, ``Input`` and
``Output`` a port's folder. A module parameter takes its value from the node's ``ModuleParameters``:
``ValueType "1"`` names the pipeline parameter (the submission's value, else its default), ``"0"`` is a
literal; without a node entry the module's default applies.

Data lives under the emulator's data directory (:class:`DataLayout`): a datastore is the folder
``datastores/<name>/``, so ``azureml://datastores/<name>/paths/<p>`` is ``datastores/<name>/<p>``; a
PipelineData output is ``azureml/<step run id>/<output name>`` on its datastore, as on Azure, and a
downstream input is the producer's folder. A ParallelRunStep (module type ``BatchInferencing``) names the
service's driver ``driver/amlbi_main.py``, which the SDK does not ship: the emulator runs its own,
:mod:`.prs_driver`, with the same arguments.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

STRUCTURED_ARGUMENTS = "USE_STRUCTURED_ARGUMENTS"
PRS_MODULE_TYPE = "BatchInferencing"
PRS_DRIVER = Path(__file__).with_name("prs_driver.py")
DEFAULT_DATASTORE = "workspaceblobstore"
DRIVER_LOG = "azureml-logs/70_driver_log.txt"
#: ``ModuleParameters[].ValueType``: a literal, or the name of a pipeline parameter.
LITERAL, GRAPH_PARAMETER = "0", "1"
_DATA_REFERENCE = re.compile(r"\$AZUREML_DATAREFERENCE_(\w+)")
_DATASTORE_URI = re.compile(r"^azureml://datastores/(?P<name>[^/]+)/paths/(?P<path>.*)$")


class StepSetupError(ValueError):
    """The step cannot run as published; the message becomes the step's error."""


def safe_relative(path: str) -> PurePosixPath:
    """``path`` as a relative path that cannot climb out of the folder it is joined to."""
    relative = PurePosixPath(path.replace("\\", "/").lstrip("/"))
    if not relative.parts or any(part in ("..", ".", "") for part in relative.parts):
        raise StepSetupError(f"'{path}' is not a relative path inside its folder.")
    return relative


@dataclass(frozen=True)
class DataLayout:
    """Where executed runs keep their files, under the emulator's data directory."""

    root: Path

    @property
    def datastores(self) -> Path:
        return self.root / "datastores"

    def datastore(self, name: str) -> Path:
        return self.datastores / safe_relative(name)

    def pipeline_data(self, datastore: str, step_run_id: str, output: str) -> Path:
        """A PipelineData output: ``azureml/<step run id>/<output name>`` on its datastore, as on Azure."""
        return self.datastore(datastore) / "azureml" / step_run_id / safe_relative(output)

    def step_dir(self, run_id: str, step_run_id: str) -> Path:
        """The step's own folder: ``snapshot/`` (its working directory) and its driver log."""
        return self.root / "runs" / run_id / step_run_id

    def step_log(self, run_id: str, step_run_id: str) -> Path:
        return self.step_dir(run_id, step_run_id) / DRIVER_LOG

    def local_path(self, uri: str) -> Path:
        """The local file or folder of ``azureml://datastores/<name>/paths/<path>``."""
        match = _DATASTORE_URI.match(uri)
        if match is None:
            raise ValueError(f"'{uri}' is not an azureml://datastores/<name>/paths/<path> URI")
        path = match["path"].strip("/")
        return self.datastore(match["name"]) / safe_relative(path) if path else self.datastore(match["name"])


@dataclass(frozen=True)
class StepCommand:
    """A resolved step: run ``argv`` in the snapshot folder with ``env`` added to the emulator's own."""

    argv: tuple[str, ...]
    env: dict[str, str]
    outputs: dict[str, Path]  # output port -> folder, made before the step starts
    timeout: float | None  # seconds; None: no limit

    def display(self) -> str:
        return shlex.join(("python", *self.argv[1:]))


@dataclass(frozen=True)
class StepContext:
    """Everything resolving one module node needs."""

    node: Mapping[str, Any]
    module: Mapping[str, Any]  # the ModuleCreationInfo
    parameters: Mapping[str, str]  # the run's resolved pipeline parameters
    inputs: Mapping[str, Path]  # input port -> folder (or file)
    outputs: Mapping[str, Path]  # output port -> folder
    default_timeout: float | None = None


def _interface(module: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    return list((module.get("StructuredInterface") or {}).get(key) or [])


def _node_parameter(node: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    return next((p for p in node.get("ModuleParameters") or [] if p.get("Name") == name), None)


def module_parameter(ctx: StepContext, name: str) -> str | None:
    """The value of module parameter ``name`` for this node and run; None when it has none."""
    entry = _node_parameter(ctx.node, name)
    if entry is not None and entry.get("Value") is not None:
        kind, value = str(entry.get("ValueType", LITERAL)), str(entry["Value"])
        if kind == GRAPH_PARAMETER:
            if value not in ctx.parameters:
                raise StepSetupError(f"Module parameter '{name}' names unknown pipeline parameter '{value}'.")
            return ctx.parameters[value]
        if kind != LITERAL:
            raise StepSetupError(
                f"Module parameter '{name}' has ValueType {kind}, which the emulator cannot run."
            )
        return value
    default = next(
        (p.get("DefaultValue") for p in _interface(ctx.module, "Parameters") if p.get("Name") == name), None
    )
    return None if default is None else str(default)


def runconfig(node: Mapping[str, Any]) -> dict[str, Any]:
    """The node's ``Runconfig`` (a JSON string on the wire); empty when absent or unreadable."""
    raw = node.get("Runconfig")
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _number(ctx: StepContext, parameter: str, runconfig_key: str) -> float | None:
    text = module_parameter(ctx, parameter)
    value = text if text not in (None, "") else runconfig(ctx.node).get(runconfig_key)
    if value in (None, ""):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StepSetupError(f"{parameter} must be a number, got {value!r}.") from None


def node_count(ctx: StepContext) -> int:
    """``NodeCount`` (possibly a pipeline parameter), else the runconfig's ``nodeCount``, else 1."""
    return max(1, int(_number(ctx, "NodeCount", "nodeCount") or 1))


def step_timeout(ctx: StepContext) -> float | None:
    """``MaxRunDurationSeconds`` of the step when set, else the emulator-wide limit."""
    own = _number(ctx, "MaxRunDurationSeconds", "maxRunDurationSeconds")
    return own if own else ctx.default_timeout


def is_parallel_run(node: Mapping[str, Any], module: Mapping[str, Any]) -> bool:
    return PRS_MODULE_TYPE in (node.get("ModuleType"), module.get("ModuleType"))


def _data_references(ctx: StepContext) -> dict[str, Path]:
    """Data reference name -> folder, for every input and output port of the node."""
    found: dict[str, Path] = {}
    for key, folders in (("Inputs", ctx.inputs), ("Outputs", ctx.outputs)):
        for port in _interface(ctx.module, key):
            name = str(port.get("Name"))
            if name in folders:
                found[str(port.get("DataReferenceName") or name)] = folders[name]
    return found


def _substitute(text: str, references: Mapping[str, Path]) -> str:
    def folder(match: re.Match[str]) -> str:
        if match[1] not in references:
            raise StepSetupError(
                f"Argument '{text}' names data reference '{match[1]}', which the step lacks."
            )
        return str(references[match[1]])

    return _DATA_REFERENCE.sub(folder, text)


def _argument(ctx: StepContext, kind: str, value: str, references: Mapping[str, Path]) -> str:
    if kind == "Literal":
        return _substitute(value, references)
    if kind == "Parameter":
        return module_parameter(ctx, value) or ""
    ports = ctx.inputs if kind == "Input" else ctx.outputs if kind == "Output" else None
    if ports is None:
        raise StepSetupError(f"Argument kind '{kind}' ({value}) is not supported by the emulator.")
    if value not in ports:
        raise StepSetupError(f"Argument names {kind.lower()} '{value}', which is not connected.")
    return str(ports[value])


def arguments(ctx: StepContext, references: Mapping[str, Path]) -> list[str]:
    """The node's command-line arguments with parameters and folders filled in."""
    given = module_parameter(ctx, "Arguments")
    if given not in (None, "", STRUCTURED_ARGUMENTS):
        raise StepSetupError(
            f"Arguments given as {given!r} are not supported; expected {STRUCTURED_ARGUMENTS}."
        )
    return [
        _argument(ctx, str(a.get("ValueType")), str(a.get("Value", "")), references)
        for a in _interface(ctx.module, "Arguments")
    ]


def _runconfig_variables(node: Mapping[str, Any]) -> dict[str, str]:
    """The runconfig's environment variables (its own, then its environment's), as the service sets them."""
    config = runconfig(node)
    found: dict[str, str] = {}
    for source in (
        (config.get("environment") or {}).get("environmentVariables"),
        config.get("environmentVariables"),
    ):
        if isinstance(source, dict):
            found.update({str(k): str(v) for k, v in source.items() if v is not None})
    return found


def environment(ctx: StepContext, references: Mapping[str, Path]) -> dict[str, str]:
    """The runconfig's variables, ``AML_PARAMETER_<name>`` per parameter that asks for it,
    ``AZUREML_DATAREFERENCE_<name>`` per port, and ``AZUREML_NODE_COUNT``."""
    env = _runconfig_variables(ctx.node)
    env.update({f"AZUREML_DATAREFERENCE_{name}": str(path) for name, path in references.items()})
    for parameter in _interface(ctx.module, "Parameters"):
        variable = parameter.get("EnvironmentVariableOverride")
        if parameter.get("SetEnvironmentVariable") and variable:
            value = module_parameter(ctx, str(parameter["Name"]))
            if value is not None:
                env[str(variable)] = value
    env["AZUREML_NODE_COUNT"] = str(node_count(ctx))
    return env


def resolve(ctx: StepContext, snapshot_dir: Path) -> StepCommand:
    """The command of a PythonScriptStep (its script) or a ParallelRunStep (the emulator's driver)."""
    references = _data_references(ctx)
    if is_parallel_run(ctx.node, ctx.module):
        program = str(PRS_DRIVER)
    else:
        script = module_parameter(ctx, "Script")
        if not script:
            raise StepSetupError("The step names no Script.")
        program = str(snapshot_dir / safe_relative(script))
        if not Path(program).is_file():
            raise StepSetupError(f"Script '{script}' is not in the step's snapshot.")
    return StepCommand(
        argv=(sys.executable, program, *arguments(ctx, references)),
        env=environment(ctx, references),
        outputs=dict(ctx.outputs),
        timeout=step_timeout(ctx),
    )


# -- ports and folders ----------------------------------------------------------------------------------
def output_folders(
    node: Mapping[str, Any], module: Mapping[str, Any], layout: DataLayout, step_run_id: str
) -> dict[str, Path]:
    """Output port -> its PipelineData folder; ports the SDK marks ``SkipProcessing`` carry no data."""
    settings = {str(s.get("Name")): s for s in node.get("ModuleOutputSettings") or []}
    folders = {}
    for port in _interface(module, "Outputs"):
        name = str(port.get("Name"))
        if port.get("SkipProcessing"):
            continue
        datastore = (settings.get(name) or {}).get("DataStoreName") or port.get("DataStoreName")
        folders[name] = layout.pipeline_data(str(datastore or DEFAULT_DATASTORE), step_run_id, name)
    return folders


DataSourceLookup = Callable[[str], Mapping[str, Any]]


def input_folders(
    graph: Mapping[str, Any],
    node_id: str,
    produced: Mapping[tuple[str, str], Path],
    data_source: DataSourceLookup,
    layout: DataLayout,
) -> dict[str, Path]:
    """Input port -> the folder its edge brings: an upstream output, or a datastore path (DataReference)."""
    datasets = {str(n.get("Id")): n for n in graph.get("DatasetNodes") or []}
    folders = {}
    for edge in graph.get("Edges") or []:
        target, source = edge.get("DestinationInputPort") or {}, edge.get("SourceOutputPort") or {}
        if str(target.get("NodeId")) != node_id:
            continue
        key = (str(source.get("NodeId")), str(source.get("PortName")))
        port = str(target.get("PortName"))
        if key in produced:
            folders[port] = produced[key]
        elif key[0] in datasets:
            folders[port] = _dataset_folder(datasets[key[0]], data_source, layout)
        else:
            raise StepSetupError(f"Input '{port}' comes from {key[0]}.{key[1]}, which produces nothing.")
    return folders


def _dataset_folder(dataset: Mapping[str, Any], data_source: DataSourceLookup, layout: DataLayout) -> Path:
    """A ``DataReference`` node: its data source's datastore path. Saved datasets are not emulated."""
    if not dataset.get("DatasetId"):
        raise StepSetupError(
            f"Dataset node {dataset.get('Id')} is a registered or saved dataset; the emulator executes only "
            "PipelineData and DataReference inputs."
        )
    info = data_source(str(dataset["DatasetId"]))
    path = str(info.get("PathOnDataStore") or "").strip("/")
    folder = layout.datastore(str(info.get("DataStoreName") or DEFAULT_DATASTORE))
    return folder / safe_relative(path) if path else folder
