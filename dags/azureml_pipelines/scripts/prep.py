"""Prep step: write one JSON file per item to score, the input of the ParallelRunStep.

One file per item makes a FileDataset whose mini batches are groups of files (23 items in
batches of 5 give 5 batches, the last one partial). ``--corrupt id1,id2`` writes those items
as truncated JSON, so a run can exercise the scoring step's ``error_threshold``; an empty value
(the pipeline parameter's default) corrupts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_INPUT = HERE / "data" / "score_input.csv"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="folder that receives <id>.json files")
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="CSV with id,x1,x2,x3 columns")
    parser.add_argument(
        "--corrupt",
        type=lambda text: {part.strip() for part in text.split(",") if part.strip()},
        nargs="?",  # a runner may drop an empty parameter value, leaving the bare flag
        const=set(),
        default=set(),
        metavar="ID[,ID...]",
        help="write these items as unreadable JSON (for error_threshold tests)",
    )
    return parser.parse_args(argv)


def read_items(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        if not columns or columns[0] != "id" or len(columns) < 2:
            raise ValueError(f"{path}: expected an 'id' column followed by feature columns")
        return [{"id": row["id"], "features": [float(row[c]) for c in columns[1:]]} for row in reader]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        items = read_items(args.input)
    except (OSError, ValueError) as e:
        print(f"prep.py: cannot read items: {e}", file=sys.stderr)
        return 1
    unknown = args.corrupt - {item["id"] for item in items}
    if unknown:
        print(f"prep.py: --corrupt names unknown items: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 1
    args.output.mkdir(parents=True, exist_ok=True)
    for item in items:
        text = json.dumps(item)
        if item["id"] in args.corrupt:
            text = text[: len(text) // 2]
        (args.output / f"{item['id']}.json").write_text(text + "\n")
    print(f"wrote {len(items)} item files to {args.output} ({len(args.corrupt)} corrupt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
