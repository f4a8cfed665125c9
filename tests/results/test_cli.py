"""`humanoid-trials db upgrade | db current | demo-data | report | compare` through click, on both backends."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from humanoid_trials.cli.main import cli


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_store_commands(empty_url: str, tmp_path: Path) -> None:
    code, out = _run("--db", empty_url, "db", "upgrade")
    assert code == 0 and "→ 0002" in out
    code, out = _run("db", "current", "--json", "--db", empty_url)
    assert json.loads(out)["current"] == "0002"
    code, out = _run("--db", empty_url, "demo-data", "--sites", "2", "--trials", "2", "--attempts-per-trial", "40")
    assert code == 0, out
    code, out = _run("--db", empty_url, "compare", "--json")
    data = json.loads(out)
    assert code == 0 and [row["rank"] for row in data["rows"]] == [1, 2]
    site = data["rows"][0]["site_id"]
    code, out = _run("report", "--site", site, "--format", "csv", "--db", empty_url)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows and {r["site_id"] for r in rows} == {site}
    assert sum(int(r["attempts"]) for r in rows) > 0
    # the same seed writes the same events again: nothing new
    _run("--db", empty_url, "demo-data", "--sites", "2", "--trials", "2", "--attempts-per-trial", "40")
    code, again = _run("--db", empty_url, "compare", "--json")
    assert [r["attempts"] for r in json.loads(again)["rows"]] == [r["attempts"] for r in data["rows"]]


def test_html_and_table_reports(tmp_path: Path) -> None:
    env = {"HUMANOID_TRIALS_DB": f"sqlite:///{tmp_path / 'demo.db'}"}
    assert _run("demo-data", "--sites", "4", "--trials", "2", "--attempts-per-trial", "60", env=env)[0] == 0
    site = json.loads(_run("compare", "--json", env=env)[1])["rows"][0]["site_id"]
    page = tmp_path / "out" / "report.html"
    code, out = _run("report", "--site", site, "--format", "html", "-o", str(page), env=env)
    assert code == 0 and "wrote html" in out
    text = page.read_text()
    assert text.count("data:image/png;base64,") == 3 and "<script" not in text and "Safety" in text
    code, out = _run("report", "--site", site, env=env)
    assert code == 0 and "success rate (Wilson 95 %)" in out and "per operating hour" in out
    code, out = _run("compare", "--format", "html", "-o", str(tmp_path / "cmp.html"), env=env)
    assert code == 0 and (tmp_path / "cmp.html").read_text().count("data:image/png;base64,") == 2
    code, out = _run("compare", "--format", "csv", "--task-type", "press,inspect", env=env)
    assert code == 0 and out.startswith("rank,site_id")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report", "--site", "atlantis"), "unknown site 'atlantis'"),
        (("compare", "--sites", "atlantis"), "unknown site(s) atlantis"),
        (("report", "--site", "x", "--since", "yesterday"), "Invalid value for '--since'"),
    ],
)
def test_user_errors_exit_2_without_traceback(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    env = {"HUMANOID_TRIALS_DB": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_default_database_lives_in_results_dir(tmp_path: Path) -> None:
    env = {"HUMANOID_TRIALS_RESULTS": str(tmp_path / "res"), "HUMANOID_TRIALS_DB": ""}
    code, out = _run("db", "current", "--json", env=env)
    assert code == 0
    assert json.loads(out)["url"] == f"sqlite:///{tmp_path / 'res' / 'trials.db'}"
