"""Batch scoring pipeline: ``prep`` writes one file per item, a ParallelRunStep ``score`` scores them.

Pipeline parameters: ``mini_batch_size`` (default "5": 23 items make 5 mini batches) and
``corrupt_items`` (default "": a comma-separated list of item ids that ``prep`` writes unreadable,
to exercise ``error_threshold`` = 4). ``error_threshold`` cannot be a PipelineParameter in SDK v1.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from azureml_pipelines._common import DEFAULT_COMPUTE_TARGET, default_environment, source_directory_or_default

if TYPE_CHECKING:
    from azureml.core import Environment, Workspace
    from azureml.data.azure_storage_datastore import AbstractAzureStorageDatastore
    from azureml.pipeline.core import Pipeline

MINI_BATCH_SIZE_DEFAULT = "5"
ERROR_THRESHOLD = 4
NODE_COUNT = 5


def build_batch_scoring_pipeline(
    workspace: Workspace,
    *,
    compute_target: str = DEFAULT_COMPUTE_TARGET,
    environment: Environment | None = None,
    source_directory: str | os.PathLike[str] | None = None,
    default_datastore: AbstractAzureStorageDatastore | None = None,
    node_count: int = NODE_COUNT,
    _workflow_provider: Any = None,
) -> Pipeline:
    """Build (not submit) the batch scoring pipeline.

    The prep output is a ``PipelineData(...).as_dataset()`` so the graph needs no dataset
    service calls; ``ParallelRunConfig`` takes ``compute_target`` as a plain name (a tuple
    breaks its metadata). ``default_datastore`` and ``_workflow_provider`` default to the
    workspace's own; tests pass offline ones.
    """
    from azureml.core.runconfig import RunConfiguration
    from azureml.pipeline.core import Pipeline, PipelineData, PipelineParameter
    from azureml.pipeline.steps import ParallelRunConfig, ParallelRunStep, PythonScriptStep

    env = environment if environment is not None else default_environment()
    scripts = source_directory_or_default(source_directory)
    mini_batch_size = PipelineParameter(name="mini_batch_size", default_value=MINI_BATCH_SIZE_DEFAULT)
    corrupt_items = PipelineParameter(name="corrupt_items", default_value="")
    prepped = PipelineData("prepped", datastore=default_datastore).as_dataset()
    scores = PipelineData("scores", datastore=default_datastore)

    prep_runconfig = RunConfiguration()
    prep_runconfig.environment = env
    prep = PythonScriptStep(
        name="prep",
        script_name="prep.py",
        arguments=["--output", prepped, "--corrupt", corrupt_items],
        outputs=[prepped],
        source_directory=scripts,
        compute_target=(compute_target, "AmlCompute"),
        runconfig=prep_runconfig,
        allow_reuse=True,
    )
    score = ParallelRunStep(
        name="score",
        parallel_run_config=ParallelRunConfig(
            source_directory=scripts,
            entry_script="scoring.py",
            mini_batch_size=mini_batch_size,
            error_threshold=ERROR_THRESHOLD,
            output_action="append_row",
            environment=env,
            compute_target=compute_target,
            node_count=node_count,
        ),
        inputs=[prepped.as_named_input("prepped")],
        output=scores,
        allow_reuse=True,
    )
    return Pipeline(
        workspace,
        steps=[prep, score],
        description="Score the shipped items in parallel with the shipped model",
        default_datastore=default_datastore,
        _workflow_provider=_workflow_provider,
    )
