"""Training step: fit a small logistic regression with numpy and write ``model.json``.

``--input`` carries the pipeline parameter ``avg_rate``: the step size applied to the averaged
(full-batch) gradient. The number of epochs is fixed, so two rates give two different models.
Needs only numpy, so it runs the same on Azure ML compute, in the local emulator, or by hand.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / "data" / "train.csv"
EPOCHS = 200
THRESHOLD = 0.5


def avg_rate(text: str) -> float:
    """Parse and range-check avg_rate; argparse turns the ValueError into a usage error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"avg_rate must be a number, got {text!r}") from None
    if not (0.0 < value <= 1.0) or math.isnan(value):
        raise argparse.ArgumentTypeError(f"avg_rate must be in (0, 1], got {text}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", dest="avg_rate", type=avg_rate, required=True, help="avg_rate in (0, 1]")
    parser.add_argument("--model-dir", type=Path, required=True, help="folder that receives model.json")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CSV with x1,x2,x3,label columns")
    return parser.parse_args(argv)


def load_training_data(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [row for row in reader if row]
    if not header or header[-1] != "label" or not rows:
        raise ValueError(f"{path}: expected a header ending in 'label' and at least one row")
    data = np.asarray(rows, dtype=float)
    return header[:-1], data[:, :-1], data[:, -1]


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def fit(x: np.ndarray, y: np.ndarray, rate: float) -> tuple[np.ndarray, float]:
    """Full-batch gradient descent on the log loss, starting from zero."""
    weights = np.zeros(x.shape[1])
    bias = 0.0
    for _ in range(EPOCHS):
        error = sigmoid(x @ weights + bias) - y
        weights -= rate * (x.T @ error) / len(y)
        bias -= rate * float(error.mean())
    return weights, bias


def metrics(x: np.ndarray, y: np.ndarray, weights: np.ndarray, bias: float) -> dict[str, float]:
    p = np.clip(sigmoid(x @ weights + bias), 1e-12, 1 - 1e-12)
    log_loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    accuracy = float(np.mean((p >= THRESHOLD) == (y == 1)))
    return {"accuracy": round(accuracy, 6), "log_loss": round(log_loss, 6)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        features, x, y = load_training_data(args.data)
    except (OSError, ValueError) as e:
        print(f"train.py: cannot read training data: {e}", file=sys.stderr)
        return 1
    weights, bias = fit(x, y, args.avg_rate)
    model = {
        "kind": "logistic_regression",
        "features": features,
        "weights": [round(float(w), 8) for w in weights],
        "bias": round(bias, 8),
        "threshold": THRESHOLD,
        "avg_rate": args.avg_rate,
        "epochs": EPOCHS,
        "training_rows": len(y),
        "metrics": metrics(x, y, weights, bias),
    }
    args.model_dir.mkdir(parents=True, exist_ok=True)
    out = args.model_dir / "model.json"
    out.write_text(json.dumps(model, indent=2) + "\n")
    summary = " ".join(f"{k}={v}" for k, v in model["metrics"].items())
    print(f"avg_rate={args.avg_rate} rows={len(y)} {summary}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
