"""The emulator's ParallelRunStep driver run directly (as the executor runs it), on generated item files,
and the command-line guard of execution mode."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from airflow_provider_azureml.emulator.__main__ import main, parser
from airflow_provider_azureml.emulator.execution.commands import PRS_DRIVER
from airflow_provider_azureml.emulator.testing import run_emulator

ECHO = """
    from pathlib import Path

    def init():
        print("init done", flush=True)

    def run(mini_batch):
        # one row per readable item; an item whose content is "bad" is skipped, as scoring.py does
        texts = [(Path(p).stem, Path(p).read_text()) for p in mini_batch]
        return [f"{name},{text}" for name, text in texts if text != "bad"]
"""


def _items(folder: Path, count: int = 23, bad: tuple[int, ...] = ()) -> Path:
    folder.mkdir(parents=True)
    for i in range(1, count + 1):
        (folder / f"item-{i:03d}.txt").write_text("bad" if i in bad else str(i))
    return folder


def _driver(
    tmp_path: Path, *args: str, entry: str = ECHO, bad: tuple[int, ...] = (), nodes: int = 1
) -> subprocess.CompletedProcess[str]:
    """Run the driver in a snapshot folder holding ``entry.py``, with 23 items as input ``items``."""
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir(parents=True)
    (snapshot / "entry.py").write_text(textwrap.dedent(entry))
    env = {
        **os.environ,
        "AZUREML_DATAREFERENCE_items": str(_items(tmp_path / "items", bad=bad)),
        "AZUREML_NODE_COUNT": str(nodes),
    }
    command = [sys.executable, str(PRS_DRIVER), "--scoring_module_name", "entry.py", "--mini_batch_size", "5"]
    command += ["--output", str(tmp_path / "out"), "--input_fds_0", "items", *args]
    return subprocess.run(command, cwd=snapshot, env=env, capture_output=True, text=True, timeout=120)


def _rows(tmp_path: Path, name: str = "parallel_run_step.txt") -> list[str]:
    return (tmp_path / "out" / name).read_text().splitlines()


def test_files_are_cut_into_mini_batches_and_rows_appended_in_batch_order(tmp_path: Path) -> None:
    done = _driver(tmp_path, "--error_threshold", "0", nodes=4)

    assert done.returncode == 0, done.stderr
    assert _rows(tmp_path) == [f"item-{i:03d},{i}" for i in range(1, 24)]
    assert "23 items in 5 mini batches of up to 5" in done.stdout
    assert "[prs] mini batch 5/5: 3 items, 3 rows." in done.stdout
    assert "Progress: 5/5 batches, 23/23 items, 0 failed" in done.stdout
    assert f"{min(4, os.cpu_count() or 1)} worker processes" in done.stdout
    assert done.stdout.count("init done") == min(4, os.cpu_count() or 1)


def test_append_row_file_name_and_summary_only(tmp_path: Path) -> None:
    named = _driver(tmp_path / "a", "--append_row_file_name", "preds.txt")
    summary = _driver(tmp_path / "b", "--output_action", "summary_only")

    assert named.returncode == 0 and summary.returncode == 0, named.stderr + summary.stderr
    assert len(_rows(tmp_path / "a", "preds.txt")) == 23
    assert not (tmp_path / "b" / "out" / "parallel_run_step.txt").exists()


@pytest.mark.parametrize(("threshold", "ok"), [("3", True), ("2", False), ("-1", True)])
def test_items_without_a_row_count_against_error_threshold(tmp_path: Path, threshold: str, ok: bool) -> None:
    done = _driver(tmp_path, "--error_threshold", threshold, bad=(4, 9, 17))

    assert (done.returncode == 0) is ok, done.stdout + done.stderr
    if ok:
        assert len(_rows(tmp_path)) == 20
        assert "3 failed" in done.stdout
    else:
        assert done.stderr.strip().splitlines()[-1] == (
            "ParallelRunStep failed: 3 items failed, more than error_threshold 2; the step stops."
        )


RAISES_ON_ITEM_7 = """
    from pathlib import Path

    def run(mini_batch):
        if any(p.endswith("item-007.txt") for p in mini_batch):
            raise RuntimeError("cannot score item 7")
        return [Path(p).stem for p in mini_batch]
"""


def test_a_raising_mini_batch_is_tried_run_max_try_times_then_all_its_items_fail(tmp_path: Path) -> None:
    tolerated = _driver(
        tmp_path / "a", "--run_max_try", "2", "--error_threshold", "5", entry=RAISES_ON_ITEM_7
    )
    exceeded = _driver(tmp_path / "b", "--run_max_try", "2", "--error_threshold", "4", entry=RAISES_ON_ITEM_7)

    assert tolerated.returncode == 0, tolerated.stderr
    assert len(_rows(tmp_path / "a")) == 18
    assert "mini batch 2: try 1 of 2 failed: RuntimeError: cannot score item 7; retrying" in tolerated.stdout
    assert "mini batch 2 failed after 2 tries" in tolerated.stderr
    assert exceeded.returncode == 1
    assert "5 items failed, more than error_threshold 4" in exceeded.stderr


FLAKY_AND_SLOW = """
    import time
    from pathlib import Path

    def run(mini_batch):
        # the first try of each batch fails (batch 3 by hanging), the second succeeds
        marker = Path("tries") / Path(mini_batch[0]).stem
        marker.parent.mkdir(exist_ok=True)
        if not marker.exists():
            marker.touch()
            if "item-011.txt" in mini_batch[0]:
                time.sleep(60)
            raise RuntimeError("transient")
        return [Path(p).stem for p in mini_batch]
"""


def test_failed_and_timed_out_tries_are_retried(tmp_path: Path) -> None:
    done = _driver(tmp_path, "--run_invocation_timeout", "1", "--run_max_try", "2", entry=FLAKY_AND_SLOW)

    assert done.returncode == 0, done.stdout + done.stderr
    assert _rows(tmp_path) == [f"item-{i:03d}" for i in range(1, 24)]
    assert (
        "mini batch 3: try 1 of 2 failed: run() exceeded run_invocation_timeout (1 s); retrying"
        in done.stdout
    )
    assert done.stdout.count("RuntimeError: transient; retrying") == 4


def test_a_failing_init_fails_the_step_with_its_exception(tmp_path: Path) -> None:
    done = _driver(
        tmp_path,
        entry="def init():\n    raise FileNotFoundError('model.json')\n\ndef run(b):\n    return b\n",
    )

    assert done.returncode == 1
    assert "init() of entry.py failed" in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "FileNotFoundError: model.json"


def test_execute_refuses_a_non_loopback_address_unless_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--execute", "--host", "0.0.0.0"])
    assert "--allow-remote-execution" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not one"), run_emulator(execute=True, host="0.0.0.0"):
        pass
    text = parser().format_help()
    for option in ("--execute", "--step-timeout", "--allow-remote-execution"):
        assert option in text
