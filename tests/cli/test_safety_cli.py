"""`humanoid-trials safety distance`: S_p of a site term by term (hand-computed), and user errors without tracebacks.
(`safety stop` / `safety resume` run against a live trial in tests/ros/test_safety_monitor.py.)"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from humanoid_trials.cli.main import cli


def test_distance_as_json_with_hand_computed_terms() -> None:
    result = CliRunner().invoke(cli, ["safety", "distance", "ulsan-door-assembly", "--robot-speed", "0.8", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (row,) = data["rows"]
    # S_h = 1.6 * (0.1 + 0.3) = 0.64; S_r = 0.8 * 0.1 = 0.08; S_s = 0.8 * 0.3 = 0.24; + 0.2 + 0.05 + 0.02 = 1.23 m
    assert (row["S_h_m"], row["S_r_m"], row["S_s_m"]) == pytest.approx((0.64, 0.08, 0.24))
    assert row["S_p_m"] == pytest.approx(1.23)
    # rby1-class: corner (0.30, 0.25) -> 0.3905 m + reach 0.80 m
    assert data["robot_envelope_radius_m"]["rby1-class"] == pytest.approx(1.1905, abs=1e-4)


def test_distance_table_lists_default_speeds_and_the_robots_top_speeds() -> None:
    result = CliRunner().invoke(cli, ["safety", "distance", "ulsan-door-assembly", "--json"])
    assert result.exit_code == 0, result.output
    speeds = [row["robot_speed_m_s"] for row in json.loads(result.stdout)["rows"]]
    # 0, 0.5, 1.0 plus biped-class walking 0.6 m/s and rby1-class driving 1.5 m/s
    assert speeds == [0.0, 0.5, 0.6, 1.0, 1.5]


def test_unknown_site_is_a_user_error() -> None:
    result = CliRunner().invoke(cli, ["safety", "distance", "ulsan-door"])
    assert result.exit_code == 2
    assert "unknown site 'ulsan-door'" in result.stderr
    assert "Traceback" not in result.output + result.stderr
