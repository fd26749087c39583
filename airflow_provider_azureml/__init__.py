"""Apache Airflow provider for Azure Machine Learning pipelines (SDK v1)."""

from __future__ import annotations

__version__ = "0.1.0"

#: The oldest Airflow this provider works with (``airflow.sdk`` interfaces of 3.3).
MIN_AIRFLOW_VERSION = "3.3.0"


def _check_airflow_version() -> None:
    """Refuse an older Airflow at import, with the versions, instead of an obscure error later.

    Read from the installed distribution, not by importing Airflow: the emulator runs without importing
    it, and may run where Airflow is not installed at all.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("apache-airflow-core")
    except PackageNotFoundError:
        return
    from packaging.version import Version

    if Version(installed).release < Version(MIN_AIRFLOW_VERSION).release:
        raise RuntimeError(
            f"airflow-provider-azureml {__version__} needs Apache Airflow {MIN_AIRFLOW_VERSION} or later; "
            f"this environment has {installed}. Upgrade Airflow, or install an older provider release."
        )


_check_airflow_version()
