"""Defaults shared by the pipeline factories; azureml is imported only inside functions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azureml.core import Environment

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
DEFAULT_COMPUTE_TARGET = "cpu-cluster"
DEFAULT_ENVIRONMENT_NAME = "prs-env"
CONDA_SPEC = Path(__file__).resolve().parent / "environment.yml"


def default_environment(name: str = DEFAULT_ENVIRONMENT_NAME) -> Environment:
    """An unregistered Environment from ``environment.yml``, built offline.

    A spec file rather than ``CondaDependencies.create()``, which adds pip index options and
    version pins taken from the machine that builds the pipeline.
    """
    from azureml.core import Environment

    return Environment.from_conda_specification(name, os.fspath(CONDA_SPEC))


def source_directory_or_default(source_directory: str | os.PathLike[str] | None) -> str:
    """The SDK snapshots this folder, so it must be the one holding the scripts and their data."""
    return os.fspath(source_directory if source_directory is not None else SCRIPTS_DIR)
