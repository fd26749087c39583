"""Regenerates the small CSVs shipped in ``scripts/data/``.

The step snapshot is only ``scripts/``, so the data lives there; this module stays out of it.
Only ``random.random()`` is used: its sequence is stable across Python versions for a seed,
so ``python -m azureml_pipelines.sample_data`` rewrites the files byte for byte.
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "scripts" / "data"
FEATURES = ("x1", "x2", "x3")
TRUE_WEIGHTS = (2.0, -1.5, 0.5)
TRUE_BIAS = 0.25
TRAINING_ROWS = 200
SCORING_ITEMS = 23


def _features(rng: random.Random) -> list[float]:
    return [round(rng.random() * 2 - 1, 3) for _ in FEATURES]


def true_margin(x: list[float]) -> float:
    """Noise-free logit of the rule the labels follow (tests use it to judge scores)."""
    return sum(w * v for w, v in zip(TRUE_WEIGHTS, x, strict=True)) + TRUE_BIAS


def training_rows(seed: int = 7) -> list[list[str]]:
    """Header plus rows ``x1,x2,x3,label``; the label is the true rule with uniform noise."""
    rng = random.Random(seed)
    rows = [[*FEATURES, "label"]]
    for _ in range(TRAINING_ROWS):
        x = _features(rng)
        noise = rng.random() - 0.5
        rows.append([*(f"{v:.3f}" for v in x), "1" if true_margin(x) + noise > 0 else "0"])
    return rows


def scoring_rows(seed: int = 11) -> list[list[str]]:
    """Header plus rows ``id,x1,x2,x3``: the items the batch scoring pipeline scores."""
    rng = random.Random(seed)
    rows = [["id", *FEATURES]]
    for i in range(1, SCORING_ITEMS + 1):
        rows.append([f"item-{i:03d}", *(f"{v:.3f}" for v in _features(rng))])
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def main() -> int:
    write_csv(DATA_DIR / "train.csv", training_rows())
    write_csv(DATA_DIR / "score_input.csv", scoring_rows())
    print(f"wrote {DATA_DIR / 'train.csv'} and {DATA_DIR / 'score_input.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
