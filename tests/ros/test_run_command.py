"""`humanoid-trials run` as a user calls it: a sim trial end to end with a JSON summary, and user errors without a
traceback (exit code 2) before any node is started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import humanoid_trials


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(humanoid_trials.__file__).resolve().parent.parent)}
    return subprocess.run(
        [sys.executable, "-m", "humanoid_trials.cli.main", "run", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_run_prints_a_summary_with_the_trial_id_and_stops_its_nodes(ros_domain: int, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'run.db'}"
    result = _run(
        "ulsan-clip-kitting",
        "--sim",
        "--backend",
        "scripted",
        "--time-scale",
        "50",
        "--db",
        db,
        "--domain-id",
        str(ros_domain),
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "complete"
    assert summary["scenario_id"] == "ulsan-clip-kitting"
    assert summary["counts"] == {"done": summary["repetitions"]}
    assert summary["events_stored"] == summary["events_seen"] > 0
    assert all(entry["mean_cycle_s"] > 0 for entry in summary["tasks"].values())
    logs = Path(summary["run_dir"]) / "logs"
    assert {p.name for p in logs.glob("*.log")} >= {"trial_dispatcher.log", "trial_recorder.log"}
    leftovers = subprocess.run(["pgrep", "-f", f"params-file {summary['run_dir']}"], capture_output=True, text=True)
    assert leftovers.stdout == "", "node processes outlived `run`"


def test_unknown_scenario_is_a_usage_error_without_traceback(tmp_path: Path) -> None:
    result = _run("no-such-scenario", "--sim", cwd=tmp_path)
    assert result.returncode == 2
    assert "no-such-scenario" in result.stderr
    assert "Traceback" not in result.stderr


def test_override_needs_who_and_why(tmp_path: Path) -> None:
    result = _run("ulsan-door-bolts", "--field", "--override-by", "kim", cwd=tmp_path)
    assert result.returncode == 2
    assert "--override-reason" in result.stderr
