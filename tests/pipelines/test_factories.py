"""The pipeline factories, built and published offline against the SDK's DryRunServiceCaller.

Publishing to the dry-run caller yields the same graph and module entities the real service
would receive, so these tests check what the emulator and Azure ML will see on the wire.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.pipelines._paths import SCRIPTS_DIR

# The SDK's vendored ruamel.yaml warns on every Environment it (de)serialises.
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


@dataclass
class Published:
    """The stored entities of one published pipeline, keyed by step name."""

    graph: Any
    nodes: dict[str, Any]
    modules: dict[str, Any]
    interface: dict[str, str]

    def node_params(self, step: str) -> dict[str, Any]:
        """Module and metadata parameters of a node (BatchInferencingMetaData is the latter)."""
        node = self.nodes[step]
        return {p.name: p.value for p in [*node.module_parameters, *node.module_metadata_parameters]}

    def arguments(self, step: str) -> list[tuple[str, str]]:
        return [(a.value_type, a.value) for a in self.modules[step].structured_interface.arguments]


def publish(pipeline: Any, provider: Any, name: str) -> Published:
    caller = provider._service_caller
    entity = caller.get_pipeline_async(pipeline.publish(name=name, description=name).id)
    graph = caller.get_graph_async(entity.graph_id)
    modules = {n.id: caller._module_entities[n.module_id] for n in graph.module_nodes}
    names = {node_id: module.name for node_id, module in modules.items()}
    interface = caller.get_graph_interface_async(entity.graph_id)
    return Published(
        graph=graph,
        nodes={names[n.id]: n for n in graph.module_nodes},
        modules={names[node_id]: m for node_id, m in modules.items()},
        interface={p.name: str(p.default_value) for p in interface.parameters},
    )


@pytest.fixture
def training(offline_workspace: Any, offline_datastore: Any, dryrun_provider: Any) -> Any:
    from azureml_pipelines.training import build_training_pipeline

    return build_training_pipeline(
        offline_workspace, default_datastore=offline_datastore, _workflow_provider=dryrun_provider
    )


@pytest.fixture
def batch_scoring(offline_workspace: Any, offline_datastore: Any, dryrun_provider: Any) -> Any:
    from azureml_pipelines.batch_scoring import build_batch_scoring_pipeline

    return build_batch_scoring_pipeline(
        offline_workspace, default_datastore=offline_datastore, _workflow_provider=dryrun_provider
    )


def test_training_pipeline_graph(training: Any) -> None:
    assert training.validate() == []
    graph = training.graph

    assert [n.name for n in graph.nodes] == ["train"]
    assert {name: p.default_value for name, p in graph.params.items()} == {"avg_rate": 0.5}
    (train,) = graph.nodes
    assert train.get_param("Script").value == "train.py"
    assert train.get_param("Target").value == "cpu-cluster"
    assert train.get_param("MLCComputeType").value == "AmlCompute"
    assert [p.name for p in train.outputs if not p.name.startswith("_")] == ["model"]


def test_training_pipeline_on_the_wire(training: Any, dryrun_provider: Any, uploader: Any) -> None:
    published = publish(training, dryrun_provider, "training")

    assert published.interface == {"avg_rate": "0.5"}
    assert published.arguments("train") == [
        ("Literal", "--input"),
        ("Parameter", "avg_rate"),
        ("Literal", "--model-dir"),
        ("Output", "model"),
    ]
    params = published.node_params("train")
    assert params["Arguments"] == "USE_STRUCTURED_ARGUMENTS"
    assert params["avg_rate"] == "avg_rate"  # bound to the pipeline parameter of that name
    runconfig = json.loads(published.nodes["train"].runconfig)
    assert runconfig["environment"]["name"] == "prs-env"
    pip = runconfig["environment"]["python"]["condaDependencies"]["dependencies"][-1]["pip"]
    assert any(p.startswith("numpy") for p in pip)
    assert not published.nodes["train"].use_graph_default_compute
    assert uploader.directories == [SCRIPTS_DIR]
    assert {"train.csv", "model.json"} <= {p.name for p in (SCRIPTS_DIR / "data").iterdir()}


def test_training_pipeline_arguments(
    offline_workspace: Any, offline_datastore: Any, dryrun_provider: Any, uploader: Any, tmp_path: Path
) -> None:
    from azureml.core import Environment
    from azureml_pipelines.training import build_training_pipeline

    (tmp_path / "train.py").write_text("print('other')\n")
    pipeline = build_training_pipeline(
        offline_workspace,
        compute_target="gpu-cluster",
        environment=Environment(name="custom-env"),
        source_directory=tmp_path,
        default_datastore=offline_datastore,
        _workflow_provider=dryrun_provider,
    )
    published = publish(pipeline, dryrun_provider, "training-custom")

    assert published.node_params("train")["Target"] == "gpu-cluster"
    assert json.loads(published.nodes["train"].runconfig)["environment"]["name"] == "custom-env"
    assert uploader.directories == [tmp_path.resolve()]


def test_batch_scoring_pipeline_graph(batch_scoring: Any) -> None:
    assert batch_scoring.validate() == []
    graph = batch_scoring.graph

    assert sorted(n.name for n in graph.nodes) == ["prep", "score"]
    assert {name: p.default_value for name, p in graph.params.items()} == {
        "mini_batch_size": "5",
        "corrupt_items": "",
    }
    nodes = {n.name: n for n in graph.nodes}
    assert nodes["prep"].get_param("Script").value == "prep.py"
    assert nodes["score"].get_param("Script").value == "driver/amlbi_main.py"
    assert [(e.source_port.node.name, e.source_port.name, e.dest_port.node.name) for e in graph.edges] == [
        ("prep", "prepped", "score")
    ]


def test_batch_scoring_pipeline_on_the_wire(batch_scoring: Any, dryrun_provider: Any, uploader: Any) -> None:
    published = publish(batch_scoring, dryrun_provider, "batch-scoring")

    assert published.interface == {"mini_batch_size": "5", "corrupt_items": ""}
    assert published.arguments("prep") == [
        ("Literal", "--output"),
        ("Literal", "$AZUREML_DATAREFERENCE_prepped"),
        ("Literal", "--corrupt"),
        ("Parameter", "corrupt_items"),
    ]
    score_module = published.modules["score"]
    assert score_module.step_type == "ParallelRunStep"
    assert [i.name for i in score_module.structured_interface.inputs] == ["prepped"]
    args = published.arguments("score")
    pairs = {args[i][1]: args[i + 1] for i in range(len(args) - 1) if args[i][1].startswith("--")}
    assert pairs["--scoring_module_name"] == ("Literal", "scoring.py")
    assert pairs["--mini_batch_size"] == ("Parameter", "mini_batch_size")
    assert pairs["--error_threshold"] == ("Literal", "4")
    assert pairs["--output_action"] == ("Literal", "append_row")
    assert pairs["--output"] == ("Output", "scores")
    assert pairs["--input_fds_0"] == ("Literal", "prepped")

    params = published.node_params("score")
    meta = json.loads(params["BatchInferencingMetaData"])
    assert meta["EntryScript"] == "scoring.py"
    assert int(meta["MiniBatchSize"]) == 5
    assert meta["ErrorThreshold"] == 4
    assert meta["OutputAction"] == "append_row"
    assert meta["NodeCount"] == 5
    assert meta["ComputeName"] == "cpu-cluster"
    assert meta["EnvironmentName"] == "prs-env"
    assert json.loads(published.nodes["score"].runconfig)["nodeCount"] == 5
    edges = [
        (e.source_output_port.port_name, e.destination_input_port.port_name) for e in published.graph.edges
    ]
    assert edges == [("prepped", "prepped")]
    # Both steps snapshot the scripts folder, which carries the data prep and scoring read.
    assert set(uploader.directories) == {SCRIPTS_DIR}
    assert {"score_input.csv", "model.json"} <= {p.name for p in (SCRIPTS_DIR / "data").iterdir()}


def test_batch_scoring_node_count_is_configurable(
    offline_workspace: Any, offline_datastore: Any, dryrun_provider: Any
) -> None:
    from azureml_pipelines.batch_scoring import build_batch_scoring_pipeline

    pipeline = build_batch_scoring_pipeline(
        offline_workspace,
        compute_target="big-cluster",
        node_count=2,
        default_datastore=offline_datastore,
        _workflow_provider=dryrun_provider,
    )
    published = publish(pipeline, dryrun_provider, "batch-scoring-2")

    meta = json.loads(published.node_params("score")["BatchInferencingMetaData"])
    assert (meta["NodeCount"], meta["ComputeName"]) == (2, "big-cluster")
    assert published.node_params("prep")["Target"] == "big-cluster"


def test_offline_build_talks_only_to_loopback_discovery(
    batch_scoring: Any, training: Any, discovery_server: Any
) -> None:
    """The autouse network guard fails the test on any other host; here: nothing but discovery."""
    assert batch_scoring.validate() == [] and training.validate() == []
    assert set(discovery_server.paths) <= {"/discovery"}
