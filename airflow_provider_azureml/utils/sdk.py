"""The Azure ML SDK v1 is an optional extra: only building and publishing pipelines need it."""

from __future__ import annotations

import importlib.util

from airflow.sdk.exceptions import AirflowFailException

SDK_EXTRA = "airflow-provider-azureml[sdk]"
SDK_MODULES = ("azureml.pipeline.core", "azureml.pipeline.steps")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def require_sdk(feature: str) -> None:
    """Fail ``feature`` with how to install the SDK, rather than with an ImportError deep in a task."""
    missing = [module for module in SDK_MODULES if not _installed(module)]
    if missing:
        raise AirflowFailException(
            f"{feature} needs the Azure ML SDK v1 ({', '.join(missing)} is not installed): "
            f"pip install '{SDK_EXTRA}' on Python 3.11 (azureml-pipeline-steps does not install on 3.12 or "
            "later). Submitting, invoking, waiting for and cancelling runs need no SDK."
        )
