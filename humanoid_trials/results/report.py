"""Per-site trial report: KPIs per task type and robot model, reliability, safety and validation, built by SQL
aggregation (see `queries`). Times in s unless a name ends in _h (hours); rates are fractions 0..1.

Definitions:
- success rate: successes / decided attempts (cancelled attempts excluded), with a Wilson 95 % interval;
- cycle time: of successful attempts; p50/p95 by linear interpolation; compared with the site's takt time;
- MTBF: attempt (working) time per failed, timed-out or lost attempt (h);
- MTBI: operating time (Σ trial durations) per intervention (protective/emergency stop, robot lost) (h);
- availability: 1 − robot downtime (stop→resume, lost→recovered) / robot time (Σ trial duration × robots);
- validation pass rate: passed scenario validations / validations; per group: robot verdicts that did not fail;
- predicted vs measured: mean estimated cycle of the latest validation vs mean measured cycle in field trials.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from humanoid_trials.results import queries
from humanoid_trials.results.db import display_url, reason
from humanoid_trials.results.errors import ReportError
from humanoid_trials.results.queries import Scope, SiteInfo
from humanoid_trials.results.stats import ratio, wilson_interval
from humanoid_trials.results.store import Store


@dataclass(frozen=True)
class GroupKpis:
    """KPIs of one task type done by one robot model."""

    task_type: str
    robot_model: str
    attempts: int
    successes: int
    success_rate: float | None
    success_low: float
    success_high: float
    cycle_mean_s: float | None
    cycle_p50_s: float | None
    cycle_p95_s: float | None
    cycle_max_s: float | None
    takt_time_s: float | None
    p95_over_takt: float | None
    failures: int
    mtbf_h: float | None
    validation_pass_rate: float | None
    predicted_cycle_s: float | None
    measured_field_cycle_s: float | None
    measured_over_predicted: float | None


@dataclass(frozen=True)
class SafetyRate:
    type: str
    severity: str
    count: int
    per_hour: float | None


NEAR_MISS_TYPES = ("separation",)
"""Event types that are near misses when not critical (a person inside the protective separation distance without
contact)."""


@dataclass(frozen=True)
class SafetySection:
    """Safety part of a site report: events per operating hour by type and severity, near misses (non-critical
    separation events), critical events, stops (stop→resume intervals: count, mean and longest time held, s), time
    to standstill of protective/emergency stops against their budget, and the event timeline for the plot.

    Built by `safety_section`; the safety monitoring work extends it there (one place).
    """

    operating_h: float
    total: int
    per_hour: float | None
    rates: tuple[SafetyRate, ...]
    near_misses: int
    critical: int
    stops: int
    stop_mean_s: float | None
    stop_max_s: float | None
    standstill: queries.StopTimes
    timeline: tuple[tuple[datetime, str, str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class SiteReport:
    site: SiteInfo
    scope: Scope
    generated_at: datetime
    trials: int
    operating_h: float
    robot_h: float
    attempts: int
    successes: int
    success_rate: float | None
    success_low: float
    success_high: float
    cycle_p95_s: float | None
    failures: int
    mtbf_h: float | None
    interventions: int
    mtbi_h: float | None
    downtime_h: float
    availability: float | None
    validations: int
    validation_pass_rate: float | None
    groups: tuple[GroupKpis, ...]
    safety: SafetySection
    histogram_bin_s: float = 0.0
    histograms: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (times as ISO 8601 UTC strings)."""
        return _jsonable(self)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {name: _jsonable(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def safety_section(conn: Connection, scope: Scope, operating_s: float, down: queries.Downtime) -> SafetySection:
    """The safety section of a site report; `down` holds the stop→resume intervals of the same scope.

    """
    hours = operating_s / 3600.0
    counts = queries.safety_counts(conn, scope)
    rates = tuple(SafetyRate(kind, severity, n, ratio(n, hours)) for _site, kind, severity, n in counts)
    total = sum(r.count for r in rates)
    return SafetySection(
        operating_h=hours,
        total=total,
        per_hour=ratio(total, hours),
        rates=rates,
        near_misses=sum(r.count for r in rates if r.type in NEAR_MISS_TYPES and r.severity != "critical"),
        critical=sum(r.count for r in rates if r.severity == "critical"),
        stops=down.stops,
        stop_mean_s=ratio(down.stop_total_s, down.stops),
        stop_max_s=down.stop_max_s if down.stops else None,
        standstill=queries.stop_times(conn, scope),
        timeline=tuple(queries.safety_timeline(conn, scope)),
    )


def build_site_report(store: Store, site_id: str, trial_id: uuid.UUID | None = None,
                      since: datetime | None = None) -> SiteReport:
    """The report of one site, optionally one trial or trials since a UTC time. Raises ReportError for an unknown
    site or a trial of another site."""
    scope = Scope(site_ids=(site_id,), trial_id=trial_id, since=since)
    try:
        with store.engine.connect() as conn:
            return _build(conn, scope, site_id, trial_id)
    except SQLAlchemyError as exc:
        raise ReportError(f"report of site {site_id!r} from {display_url(store.url)} failed: {reason(exc)}") from exc


def _build(conn: Connection, scope: Scope, site_id: str, trial_id: uuid.UUID | None) -> SiteReport:
    found = queries.sites(conn, (site_id,))
    if not found:
        known = ", ".join(s.id for s in queries.sites(conn)) or "none"
        raise ReportError(f"unknown site {site_id!r} (sites in the store: {known})")
    site = found[0]
    if trial_id is not None and queries.trial_site(conn, trial_id) != site_id:
        raise ReportError(f"trial {trial_id} is not a trial of site {site_id!r}")
    by = ("task_type", "robot_model")
    summary = queries.attempt_summary(conn, scope, by)
    overall_summary = queries.attempt_summary(conn, scope, ()).get(())
    overall = overall_summary.cycles if overall_summary else None
    counts = {key: value.counts for key, value in summary.items()}
    cycles = {key: value.cycles for key, value in summary.items() if value.cycles is not None}
    validation = queries.validation_by_group(conn, scope)
    measured = queries.field_cycle_means(conn, scope)
    time = queries.trial_time(conn, scope).get(site_id, queries.TrialTime(0, 0.0, 0.0))
    n_interventions = queries.interventions(conn, scope).get(site_id, 0)
    down = queries.downtime(conn, scope).get(site_id, queries.Downtime(0.0, 0, 0.0, 0.0))
    validations, passed = queries.validation_rates(conn, scope).get(site_id, (0, 0))
    bin_s, histograms = queries.cycle_histogram(conn, scope, overall.max_s if overall else None)
    takt = site.takt_time_s
    groups = []
    for key in sorted(set(counts) | set(validation)):
        c = counts.get(key, queries.AttemptCounts(0, 0, 0, 0, 0.0))
        cy = cycles.get(key, queries.CycleStats(0, None, None, None, None))
        v_total, v_ok, predicted = validation.get(key, (0, 0, None))
        low, high = wilson_interval(c.successes, c.decided)
        field_mean = measured.get(key)
        groups.append(GroupKpis(
            task_type=key[0], robot_model=key[1], attempts=c.attempts, successes=c.successes,
            success_rate=ratio(c.successes, c.decided), success_low=low, success_high=high,
            cycle_mean_s=cy.mean_s, cycle_p50_s=cy.p50_s, cycle_p95_s=cy.p95_s, cycle_max_s=cy.max_s,
            takt_time_s=takt, p95_over_takt=ratio(cy.p95_s, takt) if cy.p95_s is not None and takt else None,
            failures=c.failures, mtbf_h=ratio(c.busy_s / 3600.0, c.failures),
            validation_pass_rate=ratio(v_ok, v_total), predicted_cycle_s=predicted,
            measured_field_cycle_s=field_mean,
            measured_over_predicted=ratio(field_mean, predicted) if field_mean is not None and predicted else None,
        ))
    attempts = sum(g.attempts for g in groups)
    successes = sum(g.successes for g in groups)
    decided = sum(c.decided for c in counts.values())
    failures = sum(c.failures for c in counts.values())
    busy_h = sum(c.busy_s for c in counts.values()) / 3600.0
    low, high = wilson_interval(successes, decided)
    return SiteReport(
        site=site, scope=scope, generated_at=datetime.now(UTC), trials=time.trials,
        operating_h=time.operating_s / 3600.0, robot_h=time.robot_s / 3600.0, attempts=attempts,
        successes=successes, success_rate=ratio(successes, decided), success_low=low, success_high=high,
        cycle_p95_s=overall.p95_s if overall else None, failures=failures, mtbf_h=ratio(busy_h, failures),
        interventions=n_interventions, mtbi_h=ratio(time.operating_s / 3600.0, n_interventions),
        downtime_h=down.robot_s / 3600.0,
        availability=max(0.0, 1.0 - down.robot_s / time.robot_s) if time.robot_s else None,
        validations=validations, validation_pass_rate=ratio(passed, validations), groups=tuple(groups),
        safety=safety_section(conn, scope, time.operating_s, down),
        histogram_bin_s=bin_s, histograms=histograms,
    )
