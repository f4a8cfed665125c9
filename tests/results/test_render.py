"""Renderers carry the fixture's numbers into CSV, JSON, the rich table and the HTML page."""

from __future__ import annotations

import csv
import io
import json

import pytest
from results_builders import fill_fixture
from rich.console import Console

from humanoid_trials.results.compare import build_comparison
from humanoid_trials.results.errors import ReportError
from humanoid_trials.results.render import render_comparison, render_site
from humanoid_trials.results.report import build_site_report
from humanoid_trials.results.store import Store


def _text(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=200, force_terminal=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_site_formats(store: Store) -> None:
    fill_fixture(store)
    report = build_site_report(store, "s1")
    rows = list(csv.DictReader(io.StringIO(str(render_site(report, "csv")))))
    assert [(r["robot_model"], float(r["success_rate"]), float(r["cycle_p95_s"])) for r in rows] == [
        ("model-a", pytest.approx(0.8), pytest.approx(19.05)),
        ("model-b", pytest.approx(0.8), pytest.approx(7.7)),
    ]
    data = json.loads(str(render_site(report, "json")))
    assert data["safety"]["total"] == 4 and data["groups"][0]["cycle_p50_s"] == pytest.approx(10.5)
    table = _text(render_site(report, "table"))
    # site: 24 of 30, Wilson (0.627, 0.905); model-a: 20 of 25, (0.609, 0.911), p95/takt 1.905
    assert "80.0 % (62.7–90.5 %)" in table and "60.9–91.1 %" in table and "1.91" in table
    page = str(render_site(report, "html"))
    assert page.startswith("<!DOCTYPE html>") and "19.1" in page and page.count("data:image/png;base64,") == 3
    with pytest.raises(ReportError, match="unknown format 'pdf'"):
        render_site(report, "pdf")


def test_comparison_formats(store: Store) -> None:
    fill_fixture(store)
    comparison = build_comparison(store)
    rows = list(csv.DictReader(io.StringIO(str(render_comparison(comparison, "csv")))))
    assert [(r["rank"], r["site_id"]) for r in rows] == [("1", "s2"), ("2", "s1")]
    assert float(rows[0]["success_rate_factor"]) == pytest.approx(0.9 / 0.85)
    assert json.loads(str(render_comparison(comparison, "json")))["kpis"]["mtbf_h"]["higher_is_better"] is True
    assert "#1 s2" in _text(render_comparison(comparison, "table"))
