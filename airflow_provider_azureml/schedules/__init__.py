"""Move Azure ML pipeline schedules to Airflow: ``python -m airflow_provider_azureml.schedules export``.

:mod:`.render` writes one schedule as a DAG file; :mod:`.export` exports every active schedule of a
workspace, checks that each file parses and, when asked, disables the Azure ML schedule it replaces.
Guide: ``docs/schedules.md``.
"""
