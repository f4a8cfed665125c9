"""Coalition comparison: one row per site, each KPI also normalised to the coalition median, and a ranking.

The normalised factor of a KPI is value / median for KPIs where higher is better and median / value where lower is
better (ARIAC-style efficiency factor), so a factor above 1 is always better than the coalition median. A site's
score is the geometric mean of its factors over the scored KPIs; sites are ranked by score (highest first).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from humanoid_trials.results import queries
from humanoid_trials.results.db import display_url, reason
from humanoid_trials.results.errors import ReportError
from humanoid_trials.results.queries import Scope
from humanoid_trials.results.report import _jsonable
from humanoid_trials.results.stats import ratio, wilson_interval
from humanoid_trials.results.store import Store

KPIS: dict[str, tuple[str, bool, bool]] = {
    "success_rate": ("success rate", True, True),
    "cycle_p50_s": ("cycle p50 (s)", False, False),
    "cycle_p95_s": ("cycle p95 (s)", False, False),
    "p95_over_takt": ("p95 / takt", False, True),
    "throughput_per_h": ("successes per operating hour", True, False),
    "mtbf_h": ("MTBF (h)", True, True),
    "availability": ("availability", True, True),
    "safety_per_h": ("safety events per hour", False, True),
    "validation_pass_rate": ("validation pass rate", True, True),
}
"""KPI name -> (label, higher is better, part of the score). Explicit registry: the comparison's columns, in order.
Absolute cycle times and throughput depend on a site's task mix and takt, so they are shown but not scored."""


@dataclass(frozen=True)
class SiteComparison:
    site_id: str
    name: str
    industry: str
    takt_time_s: float | None
    trials: int
    operating_h: float
    attempts: int
    success_low: float
    success_high: float
    kpis: dict[str, float | None]
    factors: dict[str, float | None]
    score: float | None
    rank: int


@dataclass(frozen=True)
class Comparison:
    scope: Scope
    generated_at: datetime
    medians: dict[str, float | None]
    rows: tuple[SiteComparison, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"kpis": {name: {"label": label, "higher_is_better": up, "scored": scored}
                         for name, (label, up, scored) in KPIS.items()},
                **_jsonable(self)}


def build_comparison(store: Store, site_ids: tuple[str, ...] = (), task_types: tuple[str, ...] = (),
                     robot_models: tuple[str, ...] = (), since: datetime | None = None) -> Comparison:
    """Compare the given sites (default: every site with data) on the KPIs in `KPIS`."""
    scope = Scope(site_ids=site_ids, since=since, task_types=task_types, robot_models=robot_models)
    try:
        with store.engine.connect() as conn:
            known = queries.sites(conn, site_ids)
            missing = sorted(set(site_ids) - {s.id for s in known})
            if missing:
                raise ReportError(f"unknown site(s) {', '.join(missing)} (sites in the store: "
                                  f"{', '.join(s.id for s in queries.sites(conn)) or 'none'})")
            summary = queries.attempt_summary(conn, scope, ("site_id",))
            times = queries.trial_time(conn, scope)
            downs = queries.downtime(conn, scope)
            safety: dict[str, int] = {}
            for site_id, _type, _severity, count in queries.safety_counts(conn, scope):
                safety[site_id] = safety.get(site_id, 0) + count
            validations = queries.validation_rates(conn, scope)
    except SQLAlchemyError as exc:
        raise ReportError(f"coalition comparison from {display_url(store.url)} failed: {reason(exc)}") from exc
    raw = []
    for site in known:
        found = summary.get((site.id,))
        if found is None:
            continue
        c, cy = found.counts, found.cycles
        time = times.get(site.id, queries.TrialTime(0, 0.0, 0.0))
        down = downs.get(site.id)
        hours = time.operating_s / 3600.0
        v_total, v_ok = validations.get(site.id, (0, 0))
        p95 = cy.p95_s if cy else None
        kpis: dict[str, float | None] = {
            "success_rate": ratio(c.successes, c.decided),
            "cycle_p50_s": cy.p50_s if cy else None,
            "cycle_p95_s": p95,
            "p95_over_takt": ratio(p95, site.takt_time_s) if p95 is not None and site.takt_time_s else None,
            "throughput_per_h": ratio(c.successes, hours),
            "mtbf_h": ratio(c.busy_s / 3600.0, c.failures),
            "availability": max(0.0, 1.0 - (down.robot_s if down else 0.0) / time.robot_s) if time.robot_s else None,
            "safety_per_h": ratio(safety.get(site.id, 0), hours),
            "validation_pass_rate": ratio(v_ok, v_total),
        }
        low, high = wilson_interval(c.successes, c.decided)
        raw.append((site, time, c, low, high, kpis))
    if not raw:
        raise ReportError("no attempts to compare for the chosen sites and filters")
    medians = {name: _median([r[5][name] for r in raw]) for name in KPIS}
    scored = []
    for site, time, c, low, high, kpis in raw:
        factors = {name: _factor(kpis[name], medians[name], up) for name, (_label, up, _scored) in KPIS.items()}
        usable = [f for name, f in factors.items() if KPIS[name][2] and f is not None and f > 0]
        score = math.exp(sum(math.log(f) for f in usable) / len(usable)) if usable else None
        scored.append((site, time, c, low, high, kpis, factors, score))
    scored.sort(key=lambda r: (-(r[7] if r[7] is not None else -math.inf), r[0].id))
    rows = tuple(
        SiteComparison(site.id, site.name, site.industry, site.takt_time_s, time.trials, time.operating_s / 3600.0,
                c.attempts, low, high, kpis, factors, score, rank)
        for rank, (site, time, c, low, high, kpis, factors, score) in enumerate(scored, start=1)
    )
    return Comparison(scope, datetime.now(UTC), medians, rows)


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _factor(value: float | None, median: float | None, higher_is_better: bool) -> float | None:
    """value / median (higher is better) or median / value (lower is better); None when undefined."""
    if value is None or median is None:
        return None
    if higher_is_better:
        return ratio(value, median)
    return ratio(median, value)
