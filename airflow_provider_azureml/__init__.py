"""Apache Airflow provider for Azure Machine Learning pipelines (SDK v1)."""

__version__ = "0.1.0"
