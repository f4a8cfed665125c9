"""The catalog commands, as a user calls them: exit codes, JSON output, no tracebacks for user errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from humanoid_trials import __version__
from humanoid_trials.cli.main import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and __version__ in out


def test_lists_as_json() -> None:
    code, out, _ = run("scenarios", "--json")
    assert code == 0
    ids = {row["id"] for row in json.loads(out)}
    assert "ulsan-door-bolts" in ids
    code, out, _ = run("sites", "list", "--json")
    assert code == 0 and len(json.loads(out)) >= 4
    code, out, _ = run("robots", "--json")
    assert code == 0 and {r["id"] for r in json.loads(out)} >= {"rby1-class", "biped-class"}


def test_show_includes_content_hash() -> None:
    code, out, _ = run("scenarios", "show", "ulsan-door-bolts", "--json")
    assert code == 0
    assert len(json.loads(out)["content_hash"]) == 64


def test_unknown_id_is_a_usage_error() -> None:
    code, _, err = run("sites", "show", "ulsan")
    assert code == 2
    assert "unknown site 'ulsan'" in err and "Traceback" not in err


def test_check_reports_problems_with_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nsite: ulsan-door-assembly\ndescription: x\ntasks:\n  - {id: a, type: carry, params: {}}\n")
    code, _, err = run("check", str(bad))
    assert code == 1
    assert f"{bad}:5:34: tasks[0].params.tote: required field is missing" in err.replace("\n", "")


def test_check_bundled_data_is_clean(share: Path) -> None:
    code, out, _ = run("check", str(share / "sites"), str(share / "tasks/scenarios"), str(share / "sim/robots"))
    assert code == 0 and "no problems" in out


def test_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: [unclosed\n")
    proc = subprocess.run(
        [sys.executable, "-m", "humanoid_trials", "check", str(bad)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert "YAML syntax error" in proc.stderr and "Traceback" not in proc.stderr


def test_usage_error_exit_code() -> None:
    code, _, _ = run("check")
    assert code == 2
