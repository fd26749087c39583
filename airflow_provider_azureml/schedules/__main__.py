"""``python -m airflow_provider_azureml.schedules export --conn-id ID --out DIR [--disable-after]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from airflow_provider_azureml.schedules.export import Exported, export_schedules


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m airflow_provider_azureml.schedules",
        description="Move Azure ML pipeline schedules to Airflow DAGs.",
    )
    commands = p.add_subparsers(dest="command", required=True)
    export = commands.add_parser(
        "export",
        help="write one DAG file per active schedule of the connection's workspace",
        description="Write one DAG file per active Azure ML schedule: a recurrence becomes an "
        "AzureMLRecurrenceTimetable, a datastore schedule an asset-driven DAG; each submits the same "
        "pipeline or endpoint with the same parameters. Exits 1 if any schedule could not be exported.",
    )
    export.add_argument(
        "--conn-id", default="azureml_default", help="the azureml connection (default: %(default)s)"
    )
    export.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder to write the DAG files to"
    )
    export.add_argument(
        "--disable-after",
        action="store_true",
        help="disable each Azure ML schedule once its DAG file is written and parses",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from airflow_provider_azureml.hooks.azureml import AzureMLHook

    def report(exported: Exported) -> None:
        print(exported.line(), flush=True)

    results = export_schedules(
        AzureMLHook(args.conn_id),
        args.out,
        conn_id=args.conn_id,
        disable_after=args.disable_after,
        report=report,
    )
    failed = [result for result in results if result.problem]
    print(f"{len(results) - len(failed)} of {len(results)} active schedules exported to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
