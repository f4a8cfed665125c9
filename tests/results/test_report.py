"""Site report and coalition comparison against numbers worked out by hand from results_builders' fixture."""

from __future__ import annotations

import math

import numpy as np
import pytest
from results_builders import TRIAL_1, TRIAL_2, at, attempt, fill_fixture, started

from humanoid_trials.model.events import SafetyEvent, Severity
from humanoid_trials.results import queries
from humanoid_trials.results.compare import build_comparison
from humanoid_trials.results.errors import ReportError
from humanoid_trials.results.report import build_site_report
from humanoid_trials.results.store import Store


def test_site_report_numbers(store: Store) -> None:
    fill_fixture(store)
    r = build_site_report(store, "s1")
    a, b = r.groups
    assert (a.task_type, a.robot_model, b.robot_model) == ("pick_place", "model-a", "model-b")
    # model-a: 26 attempts, 25 decided (1 cancelled), 20 successes -> 0.8; Wilson 20/25 = (0.6087, 0.9114)
    assert (a.attempts, a.successes, a.failures) == (26, 20, 5)
    assert a.success_rate == pytest.approx(0.8)
    assert (a.success_low, a.success_high) == (pytest.approx(0.6087, abs=1e-4), pytest.approx(0.9114, abs=1e-4))
    # cycles 1..20 s: mean 10.5, p50 10.5, p95 = 19 + 0.05 * (20 - 19) = 19.05, max 20; takt 10 s
    assert (a.cycle_mean_s, a.cycle_p50_s, a.cycle_p95_s, a.cycle_max_s) == pytest.approx((10.5, 10.5, 19.05, 20.0))
    assert a.p95_over_takt == pytest.approx(1.905)
    # busy time 210 + 5 × 3 + 2 = 227 s over 5 failures
    assert a.mtbf_h == pytest.approx(227 / 3600 / 5)
    # latest validations: s1-scenario r1 passes (9.0 s), s1-other r1 fails -> 1 of 2, predicted 9.0 s
    assert a.validation_pass_rate == pytest.approx(0.5)
    assert a.predicted_cycle_s == pytest.approx(9.0)
    assert a.measured_field_cycle_s == pytest.approx(10.5)
    assert a.measured_over_predicted == pytest.approx(10.5 / 9.0)
    # model-b: cycles 2, 4, 6, 8: p50 5, p95 = 6 + 0.85 * 2 = 7.7; one timeout of 10 s
    assert (b.attempts, b.successes, b.failures) == (5, 4, 1)
    assert (b.cycle_p50_s, b.cycle_p95_s, b.cycle_max_s) == pytest.approx((5.0, 7.7, 8.0))
    assert b.mtbf_h == pytest.approx(30 / 3600)
    assert b.validation_pass_rate == 0.0
    assert b.predicted_cycle_s is None
    # site: 1 trial of 1 h with 2 robots; 31 attempts, 24 of 30 decided succeed
    assert (r.trials, r.attempts, r.successes, r.failures) == (1, 31, 24, 6)
    assert (r.operating_h, r.robot_h) == pytest.approx((1.0, 2.0))
    assert r.success_rate == pytest.approx(0.8)
    # all 24 successful cycles sorted: index 21 = 18, 22 = 19; (23 × 95) // 100 = 21, fraction 0.85 -> 18.85
    assert r.cycle_p95_s == pytest.approx(18.85)
    assert r.mtbf_h == pytest.approx(257 / 3600 / 6)
    # interventions: the stop and the lost robot in 1 h; downtime 30 s + 60 s over 7200 robot-s
    assert r.interventions == 2
    assert r.mtbi_h == pytest.approx(0.5)
    assert r.availability == pytest.approx(1 - 90 / 7200)
    assert (r.validations, r.validation_pass_rate) == (2, pytest.approx(0.5))


def test_safety_section(store: Store) -> None:
    fill_fixture(store)
    s = build_site_report(store, "s1").safety
    assert (s.total, s.per_hour, s.near_misses, s.critical) == (4, pytest.approx(4.0), 3, 1)
    rates = {(x.type, x.severity): (x.count, x.per_hour) for x in s.rates}
    assert rates == {("separation", "warning"): (3, pytest.approx(3.0)),
                     ("contact_force", "critical"): (1, pytest.approx(1.0))}
    assert (s.stops, s.stop_mean_s, s.stop_max_s) == (1, pytest.approx(30.0), pytest.approx(30.0))
    assert [e[1] for e in s.timeline] == ["separation", "separation", "separation", "contact_force"]


def test_report_filters(store: Store) -> None:
    fill_fixture(store)
    assert build_site_report(store, "s1", trial_id=TRIAL_1).attempts == 31
    assert build_site_report(store, "s1", since=at(100_000)).attempts == 0
    with pytest.raises(ReportError, match="not a trial of site 's1'"):
        build_site_report(store, "s1", trial_id=TRIAL_2)
    with pytest.raises(ReportError, match=r"unknown site 'nowhere'.*s1, s2"):
        build_site_report(store, "nowhere")


def test_percentiles_match_numpy(store: Store) -> None:
    rng = np.random.default_rng(3)
    cycles = rng.lognormal(3.0, 0.4, 257)
    store.save_site("s3", takt_time_s=30.0)
    events = [started(TRIAL_1, "s3", {"r1": "m"})]
    events += [attempt(TRIAL_1, "inspect", "r1", "m", 100.0 * i, round(float(c), 6)) for i, c in enumerate(cycles)]
    store.record_events(events)
    with store.engine.connect() as conn:
        stats = queries.attempt_summary(conn, queries.Scope(site_ids=("s3",)), ("task_type",))[("inspect",)].cycles
    assert stats is not None
    rounded = np.round(cycles, 6)
    assert stats.count == 257
    assert stats.p50_s == pytest.approx(float(np.percentile(rounded, 50)), abs=1e-5)
    assert stats.p95_s == pytest.approx(float(np.percentile(rounded, 95)), abs=1e-5)
    assert stats.mean_s == pytest.approx(float(rounded.mean()), abs=1e-5)


def test_comparison(store: Store) -> None:
    fill_fixture(store)
    c = build_comparison(store)
    first, second = c.rows
    assert (first.site_id, first.rank, second.site_id, second.rank) == ("s2", 1, "s1", 2)
    # s1: 0.8, p95/takt 18.85/10; s2: 0.9, 10/20; medians of two sites are their means
    assert c.medians["success_rate"] == pytest.approx(0.85)
    assert c.medians["p95_over_takt"] == pytest.approx((1.885 + 0.5) / 2)
    assert first.factors["success_rate"] == pytest.approx(0.9 / 0.85)
    assert first.factors["p95_over_takt"] == pytest.approx(1.1925 / 0.5)
    assert second.factors["safety_per_h"] == pytest.approx(2.0 / 4.0)
    assert first.factors["safety_per_h"] is None  # no events: median / 0 is undefined
    assert first.kpis["throughput_per_h"] == pytest.approx(9 / 2)
    assert first.kpis["mtbf_h"] == pytest.approx(95 / 3600)
    assert first.kpis["validation_pass_rate"] is None
    scored = [first.factors[k] for k in ("success_rate", "p95_over_takt", "mtbf_h", "availability")]
    assert first.score == pytest.approx(math.prod(scored) ** (1 / 4))  # type: ignore[arg-type]


def test_comparison_filters(store: Store) -> None:
    fill_fixture(store)
    assert [r.site_id for r in build_comparison(store, task_types=("kitting",)).rows] == ["s2"]
    assert [r.site_id for r in build_comparison(store, site_ids=("s1",)).rows] == ["s1"]
    with pytest.raises(ReportError, match="unknown site"):
        build_comparison(store, site_ids=("s9",))
    with pytest.raises(ReportError, match="no attempts"):
        build_comparison(store, robot_models=("model-z",))


def test_time_to_standstill(store: Store) -> None:
    fill_fixture(store)
    stops = [SafetyEvent("s1", kind, Severity.INFO, "r1", measured, 0.4, "s", trial_id=TRIAL_1, stamp=at(t_s))
             for kind, measured, t_s in (("protective_stop", 0.3, 500), ("emergency_stop", 0.5, 600))]
    store.record_events([event.to_event() for event in stops])
    s = build_site_report(store, "s1").safety
    # two stops of 0.3 s and 0.5 s against a 0.4 s budget; separation warnings stay the only near misses
    assert (s.standstill.count, s.standstill.over_budget) == (2, 1)
    assert (s.standstill.mean_s, s.standstill.max_s) == (pytest.approx(0.4), pytest.approx(0.5))
    assert (s.total, s.near_misses) == (6, 3)
