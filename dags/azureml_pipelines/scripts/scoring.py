"""ParallelRunStep entry script: score item files written by ``prep.py``.

``init()`` loads ``model.json`` from, in order: a ``--model`` argument (file or folder), the
folder in ``AZUREML_MODEL_DIR``, or the model shipped in ``data/`` (``train.py --input 0.5``).

``run(mini_batch)`` takes file paths and returns one ``"<item id>,<score>"`` row per file it
could score, as ``output_action="append_row"`` expects. A file that is not valid JSON or lacks
numeric features is skipped with a message on stderr: PRS counts each input without a result
row as a failed item against ``error_threshold``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHIPPED_MODEL = HERE / "data" / "model.json"

_model: dict | None = None


def _model_path() -> Path:
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--model", type=Path)
    args, _ = parser.parse_known_args()
    if args.model is not None:
        path = args.model
    elif os.environ.get("AZUREML_MODEL_DIR"):
        path = Path(os.environ["AZUREML_MODEL_DIR"])
    else:
        return SHIPPED_MODEL
    return path / "model.json" if path.is_dir() else path


def init() -> None:
    global _model
    path = _model_path()
    model = json.loads(path.read_text())
    if len(model["weights"]) != len(model["features"]):
        raise ValueError(f"{path}: {len(model['weights'])} weights for {len(model['features'])} features")
    _model = model
    print(f"scoring.py: loaded {path} (avg_rate={model.get('avg_rate')})")


def score(features: list[float]) -> float:
    """Probability of the positive class."""
    if _model is None:
        raise RuntimeError("init() was not called")
    values = [float(x) for x in features]
    if len(values) != len(_model["weights"]) or not all(map(math.isfinite, values)):
        raise ValueError(f"expected {len(_model['weights'])} finite features, got {features!r}")
    z = sum(w * x for w, x in zip(_model["weights"], values, strict=True)) + _model["bias"]
    # Written so that exp() never overflows, whatever the sign of z.
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def run(mini_batch: list[str]) -> list[str]:
    rows = []
    for name in mini_batch:
        path = Path(name)
        try:
            item = json.loads(path.read_text())
            rows.append(f"{item.get('id', path.stem)},{score(item['features']):.6f}")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            print(f"scoring.py: skipping {path.name}: {type(e).__name__}: {e}", file=sys.stderr)
    return rows
