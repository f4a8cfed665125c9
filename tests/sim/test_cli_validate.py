"""`humanoid-trials validate`: table and JSON output, exit codes, saving to the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from humanoid_trials.cli.main import cli
from humanoid_trials.results import Store


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUMANOID_TRIALS_RESULTS", str(tmp_path))
    monkeypatch.delenv("HUMANOID_TRIALS_DB", raising=False)
    return tmp_path


def test_passing_scenario_is_saved_and_exits_0(results: Path) -> None:
    outcome = CliRunner().invoke(cli, ["validate", "icheon-order-kitting", "--json"])
    assert outcome.exit_code == 0, outcome.output
    (report,) = json.loads(outcome.stdout)
    assert report["scenario_id"] == "icheon-order-kitting" and report["verdict"] in ("pass", "warn")
    with Store(f"sqlite:///{results / 'trials.db'}") as store:
        latest = store.latest_validation("icheon-order-kitting")
    assert latest is not None and latest.content_hash == report["content_hash"]


def test_failing_scenario_file_exits_1_with_its_reason(results: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "too-far.yaml"
    scenario.write_text(
        "id: too-far\nsite: ulsan-door-assembly\ndescription: a viewpoint beyond reach\ntasks:\n"
        "  - {id: look, type: inspect, robots: [rby1-01],\n"
        "     params: {object: gauge_table, viewpoints_m: [[1.5, 0.0, 0.3]], dwell_s: 1.0}}\n"
    )
    outcome = CliRunner().invoke(cli, ["validate", str(scenario), "--no-save"], env={"COLUMNS": "200"})
    assert outcome.exit_code == 1, outcome.output
    assert "too-far — FAIL" in outcome.stdout
    assert "hand misses 'viewpoint 1' by" in outcome.stdout


def test_unknown_scenario_is_a_usage_error(results: Path) -> None:
    outcome = CliRunner().invoke(cli, ["validate", "no-such-scenario", "--no-save"])
    assert outcome.exit_code == 2
    assert "no-such-scenario" in outcome.output


def test_address_needs_ray(results: Path) -> None:
    outcome = CliRunner().invoke(cli, ["validate", "icheon-order-kitting", "--address", "auto", "--no-save"])
    assert outcome.exit_code == 2
    assert "--address is only used with --executor ray" in outcome.output
