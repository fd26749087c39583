"""Training pipeline: one PythonScriptStep running ``scripts/train.py``.

Exposes the pipeline parameter ``avg_rate`` (default 0.5), passed to the script as ``--input``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from azureml_pipelines._common import DEFAULT_COMPUTE_TARGET, default_environment, source_directory_or_default

if TYPE_CHECKING:
    from azureml.core import Environment, Workspace
    from azureml.data.azure_storage_datastore import AbstractAzureStorageDatastore
    from azureml.pipeline.core import Pipeline

AVG_RATE_DEFAULT = 0.5


def build_training_pipeline(
    workspace: Workspace,
    *,
    compute_target: str = DEFAULT_COMPUTE_TARGET,
    environment: Environment | None = None,
    source_directory: str | os.PathLike[str] | None = None,
    default_datastore: AbstractAzureStorageDatastore | None = None,
    _workflow_provider: Any = None,
) -> Pipeline:
    """Build (not submit) the training pipeline.

    ``compute_target`` is an AmlCompute cluster name; it is passed as a ``(name, "AmlCompute")``
    tuple so building the graph makes no compute lookup. ``default_datastore`` and
    ``_workflow_provider`` default to the workspace's own; tests pass offline ones.
    """
    from azureml.core.runconfig import RunConfiguration
    from azureml.pipeline.core import Pipeline, PipelineData, PipelineParameter
    from azureml.pipeline.steps import PythonScriptStep

    avg_rate_param = PipelineParameter(name="avg_rate", default_value=AVG_RATE_DEFAULT)
    model_dir = PipelineData("model", datastore=default_datastore)
    runconfig = RunConfiguration()
    runconfig.environment = environment if environment is not None else default_environment()

    train = PythonScriptStep(
        name="train",
        script_name="train.py",
        arguments=["--input", avg_rate_param, "--model-dir", model_dir],
        outputs=[model_dir],
        source_directory=source_directory_or_default(source_directory),
        compute_target=(compute_target, "AmlCompute"),
        runconfig=runconfig,
        allow_reuse=False,
    )
    return Pipeline(
        workspace,
        steps=[train],
        description="Train a small logistic regression; avg_rate is the gradient step size",
        default_datastore=default_datastore,
        _workflow_provider=_workflow_provider,
    )
