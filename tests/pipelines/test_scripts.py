"""The step scripts, run the way a compute node runs them: as processes, or imported by a driver."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.pipelines._paths import SCRIPTS_DIR

ITEMS = 23


@pytest.fixture(autouse=True)
def _no_model_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """scoring.py reads AZUREML_MODEL_DIR: start every test from the shipped model."""
    monkeypatch.delenv("AZUREML_MODEL_DIR", raising=False)


def run_script(name: str, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS_DIR / name), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def train(tmp_path: Path, avg_rate: str) -> dict:
    out = tmp_path / f"model-{avg_rate}"
    proc = run_script("train.py", "--input", avg_rate, "--model-dir", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "accuracy=" in proc.stdout
    return json.loads((out / "model.json").read_text())


def load_scoring(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of scoring.py, imported from its path as the PRS driver does."""
    monkeypatch.setattr(sys, "argv", ["driver"])
    spec = importlib.util.spec_from_file_location("scoring_under_test", SCRIPTS_DIR / "scoring.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prep(tmp_path: Path, *extra: str) -> list[Path]:
    out = tmp_path / "prepped"
    proc = run_script("prep.py", "--output", out, *extra, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return sorted(out.iterdir())


def test_train_writes_a_model_that_depends_on_avg_rate(tmp_path: Path) -> None:
    slow, fast = train(tmp_path, "0.1"), train(tmp_path, "0.9")

    assert (slow["avg_rate"], fast["avg_rate"]) == (0.1, 0.9)
    assert slow["training_rows"] == fast["training_rows"] == 200
    assert slow["features"] == ["x1", "x2", "x3"]
    assert slow["weights"] != pytest.approx(fast["weights"], rel=1e-3)
    # Both start from zero and run the same epochs: larger steps move the weights much further.
    assert math.hypot(*fast["weights"]) > 2 * math.hypot(*slow["weights"])
    # Same number of epochs, larger steps: the faster rate gets further down the loss.
    assert fast["metrics"]["log_loss"] < slow["metrics"]["log_loss"]
    assert fast["metrics"]["accuracy"] > 0.85


@pytest.mark.parametrize("bad", ["0", "-0.5", "1.01", "nan", "fast"])
def test_train_rejects_avg_rate_out_of_range(tmp_path: Path, bad: str) -> None:
    proc = run_script("train.py", "--input", bad, "--model-dir", tmp_path / "m", cwd=tmp_path)

    assert proc.returncode != 0
    assert "avg_rate" in proc.stderr
    assert not (tmp_path / "m").exists()


def test_train_accepts_the_upper_bound(tmp_path: Path) -> None:
    assert train(tmp_path, "1")["avg_rate"] == 1.0


def test_shipped_model_is_what_train_produces_at_the_default_rate(tmp_path: Path) -> None:
    shipped = json.loads((SCRIPTS_DIR / "data" / "model.json").read_text())
    fresh = train(tmp_path, "0.5")

    assert shipped["avg_rate"] == 0.5
    assert shipped["weights"] == pytest.approx(fresh["weights"], rel=1e-6)
    assert shipped["bias"] == pytest.approx(fresh["bias"], rel=1e-6)


def test_shipped_data_is_regenerated_byte_for_byte(tmp_path: Path) -> None:
    from azureml_pipelines import sample_data

    for name, rows in [
        ("train.csv", sample_data.training_rows()),
        ("score_input.csv", sample_data.scoring_rows()),
    ]:
        sample_data.write_csv(tmp_path / name, rows)
        assert (tmp_path / name).read_bytes() == (SCRIPTS_DIR / "data" / name).read_bytes(), name


def test_prep_writes_one_file_per_item(tmp_path: Path) -> None:
    files = prep(tmp_path)

    assert len(files) == ITEMS
    assert files[0].name == "item-001.json"
    first = json.loads(files[0].read_text())
    assert first["id"] == "item-001" and len(first["features"]) == 3


@pytest.mark.parametrize("corrupt", [["--corrupt", ""], ["--corrupt"], ["--corrupt", " , "]])
def test_prep_empty_corrupt_list_corrupts_nothing(tmp_path: Path, corrupt: list[str]) -> None:
    files = prep(tmp_path, *corrupt)

    assert len(files) == ITEMS
    assert all(json.loads(f.read_text())["features"] for f in files)


def test_prep_rejects_unknown_corrupt_ids(tmp_path: Path) -> None:
    proc = run_script("prep.py", "--output", tmp_path / "out", "--corrupt", "item-999", cwd=tmp_path)

    assert proc.returncode != 0
    assert "item-999" in proc.stderr


def test_scoring_returns_one_row_per_file_in_mini_batches_of_five(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azureml_pipelines.sample_data import true_margin

    files = prep(tmp_path)
    scoring = load_scoring(monkeypatch)
    scoring.init()

    batches = [files[i : i + 5] for i in range(0, len(files), 5)]
    results = [scoring.run([str(f) for f in batch]) for batch in batches]

    assert [len(r) for r in results] == [5, 5, 5, 5, 3]
    rows = [row.split(",") for r in results for row in r]
    assert [item_id for item_id, _ in rows] == [f.stem for f in files]
    scores = {item_id: float(value) for item_id, value in rows}
    assert all(0.0 < s < 1.0 for s in scores.values())
    # The shipped model learnt the rule the data follows: it agrees with it on most items.
    features = {f.stem: json.loads(f.read_text())["features"] for f in files}
    agree = sum((scores[i] > 0.5) == (true_margin(features[i]) > 0) for i in scores)
    assert agree >= 0.8 * ITEMS


def test_scoring_skips_corrupt_files_so_prs_counts_them_as_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = prep(tmp_path, "--corrupt", "item-002,item-004")
    scoring = load_scoring(monkeypatch)
    scoring.init()

    rows = scoring.run([str(f) for f in files[:5]])

    assert [row.split(",")[0] for row in rows] == ["item-001", "item-003", "item-005"]
    assert "skipping item-002.json" in capsys.readouterr().err


def test_scoring_skips_items_it_cannot_score(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = {
        "wrong-count": {"id": "a", "features": [1.0, 2.0]},
        "not-numeric": {"id": "b", "features": [1.0, "x", 2.0]},
        "not-finite": {"id": "c", "features": [1.0, float("nan"), 2.0]},
        "not-an-object": [1.0, 2.0, 3.0],
    }
    for name, content in bad.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(content))
    (tmp_path / "huge.json").write_text(json.dumps({"id": "d", "features": [-1e6, 1e6, -1e6]}))
    scoring = load_scoring(monkeypatch)
    scoring.init()

    rows = scoring.run([str(tmp_path / f"{name}.json") for name in [*bad, "huge", "missing"]])

    assert rows == ["d,0.000000"]


def test_scoring_loads_the_model_named_by_azureml_model_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = tmp_path / "model-0.1"
    train(tmp_path, "0.1")
    files = prep(tmp_path)

    shipped = load_scoring(monkeypatch)
    shipped.init()
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model_dir))
    custom = load_scoring(monkeypatch)
    custom.init()

    batch = [str(f) for f in files[:5]]
    assert custom.run(batch) != shipped.run(batch)


def test_scoring_loads_the_model_named_by_the_model_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train(tmp_path, "0.1")
    scoring = load_scoring(monkeypatch)
    monkeypatch.setattr(
        sys, "argv", ["driver", "--mini_batch_size", "5", "--model", str(tmp_path / "model-0.1")]
    )
    scoring.init()

    assert scoring._model["avg_rate"] == 0.1


def test_scoring_run_before_init_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = prep(tmp_path)
    scoring = load_scoring(monkeypatch)

    with pytest.raises(RuntimeError, match="init"):
        scoring.run([str(files[0])])
