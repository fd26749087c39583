"""Benchmarks for a platform team sizing Airflow for many Azure ML waits: ``make bench``.

Each figure is measured side by side with the alternative (an ``EmptyOperator`` DAG, the azureml SDK)
in the same run and reported as a ratio. Timings live here, never in the test suite. See BENCHMARKS.md.
"""
