"""Reference Azure ML (SDK v1) pipelines used by the example DAGs.

The factories import azureml only when called, so DAG files can import this package
without paying the SDK's multi-second import at parse time.
"""
