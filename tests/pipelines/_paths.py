"""Where the reference pipelines live, relative to this file (no machine paths)."""

from __future__ import annotations

from pathlib import Path

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
PACKAGE_DIR = DAGS_DIR / "azureml_pipelines"
SCRIPTS_DIR = PACKAGE_DIR / "scripts"
