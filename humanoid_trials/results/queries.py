"""SQL aggregations behind reports and the coalition comparison (portable across SQLite and PostgreSQL).

Every function runs GROUP BY, window-function or index-range queries and returns a few rows per group; no function
loads all attempts into Python. Percentiles use the numpy-default linear interpolation between the two values at
the percentile's rank, read with ORDER BY … LIMIT 2 OFFSET rank from the report indexes (integer rank arithmetic,
so SQLite and PostgreSQL agree). Times in s unless a name says h.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from humanoid_trials.results.models import (
    AttemptRow,
    RobotRow,
    SafetyEventRow,
    SiteRow,
    TrialEventRow,
    TrialRow,
    ValidationRow,
    ValidationTaskRow,
)
from humanoid_trials.results.stats import interpolate, percentile_rank

FAILURE_OUTCOMES = ("failed", "timeout", "robot_lost")
"""Attempt outcomes that count as a failure (MTBF); `cancelled` attempts count neither way."""
INTERVENTION_KINDS = ("stop", "robot_lost")
"""Trial events that needed a person (protective/emergency stops, robots lost)."""
DOWNTIME_PAIRS = (("stop", "resume"), ("robot_lost", "robot_recovered"))
"""(start kind, end kind) of the intervals a robot could not work."""
PERCENTS = (50, 95)

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Scope:
    """The data a report covers: sites (empty = all), one trial, trials/attempts/events since a UTC time, task types
    and robot models (empty = all; they filter attempts and validation verdicts)."""

    site_ids: tuple[str, ...] = ()
    trial_id: uuid.UUID | None = None
    since: datetime | None = None
    task_types: tuple[str, ...] = ()
    robot_models: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttemptCounts:
    attempts: int
    decided: int
    successes: int
    failures: int
    busy_s: float


@dataclass(frozen=True)
class CycleStats:
    """Cycle times of successful attempts (s); percentiles by linear interpolation."""

    count: int
    mean_s: float | None
    p50_s: float | None
    p95_s: float | None
    max_s: float | None


@dataclass(frozen=True)
class TrialTime:
    trials: int
    operating_s: float
    robot_s: float


def _attempt_filter(scope: Scope) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if scope.site_ids:
        conds.append(AttemptRow.site_id.in_(scope.site_ids))
    if scope.trial_id is not None:
        conds.append(AttemptRow.trial_id == scope.trial_id)
    if scope.since is not None:
        conds.append(AttemptRow.started_at >= scope.since)
    if scope.task_types:
        conds.append(AttemptRow.task_type.in_(scope.task_types))
    if scope.robot_models:
        conds.append(AttemptRow.robot_model.in_(scope.robot_models))
    return conds


def _trial_filter(scope: Scope) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if scope.site_ids:
        conds.append(TrialRow.site_id.in_(scope.site_ids))
    if scope.trial_id is not None:
        conds.append(TrialRow.id == scope.trial_id)
    if scope.since is not None:
        conds.append(TrialRow.started_at >= scope.since)
    return conds


def _safety_filter(scope: Scope) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if scope.site_ids:
        conds.append(SafetyEventRow.site_id.in_(scope.site_ids))
    if scope.trial_id is not None:
        conds.append(SafetyEventRow.trial_id == scope.trial_id)
    if scope.since is not None:
        conds.append(SafetyEventRow.stamp >= scope.since)
    return conds


def _columns(names: Sequence[str]) -> list[Any]:
    return [getattr(AttemptRow, name) for name in names]


@dataclass(frozen=True)
class AttemptSummary:
    counts: AttemptCounts
    cycles: CycleStats | None


def attempt_summary(conn: Connection, scope: Scope, by: Sequence[str]) -> dict[Key, AttemptSummary]:
    """Per group of `by` columns: attempt counts and busy time, and the cycle-time statistics of the successes.

    One GROUP BY (…, outcome) pass over a report index gives counts, Σ cycle and max per outcome (folded here,
    a few rows per group); each percentile then reads the (at most) two neighbouring values at its rank with
    ORDER BY cycle_time_s LIMIT 2 OFFSET k, walking the index range from the nearer end. Plain portable SQL.
    """
    cols = _columns(by)
    outcome = AttemptRow.outcome
    query = (select(*cols, outcome, func.count(), func.sum(AttemptRow.cycle_time_s), func.max(AttemptRow.cycle_time_s))
             .where(*_attempt_filter(scope)).group_by(*cols, outcome))
    folded: dict[Key, list[Any]] = {}
    for row in conn.execute(query):
        key = tuple(row[: len(by)])
        kind, count, total, top = row[len(by):]
        acc = folded.setdefault(key, [0, 0, 0, 0, 0.0, 0.0, None])  # attempts decided successes failures busy Σok max
        count, total = int(count), float(total or 0.0)
        acc[0] += count
        acc[4] += total
        if kind != "cancelled":
            acc[1] += count
        if kind == "success":
            acc[2], acc[5], acc[6] = count, total, float(top)
        elif kind in FAILURE_OUTCOMES:
            acc[3] += count
    result: dict[Key, AttemptSummary] = {}
    for key, (attempts, decided, successes, failures, busy, ok_total, top) in folded.items():
        counts = AttemptCounts(attempts, decided, successes, failures, busy)
        cycles = None
        if successes:
            group = [*_attempt_filter(scope), outcome == "success",
                     *(col == value for col, value in zip(cols, key, strict=True))]
            pct = [_percentile(conn, group, successes, p) for p in PERCENTS]
            cycles = CycleStats(successes, ok_total / successes, pct[0], pct[1], top)
        result[key] = AttemptSummary(counts, cycles)
    return result


def _percentile(conn: Connection, conds: list[ColumnElement[bool]], count: int, percent: int) -> float | None:
    """The `percent`-th percentile (linear interpolation) of the cycle times matching `conds` (`count` rows)."""
    index, fraction = percentile_rank(count, percent)
    need = 2 if fraction else 1
    cycle = AttemptRow.cycle_time_s
    if index < count // 2:
        query = select(cycle).where(*conds).order_by(cycle).limit(need).offset(index)
        values = [float(v) for v in conn.execute(query).scalars()]
    else:  # walk from the top end of the index: p95 reads 5 % of the range, not 95 %
        top = index + need - 1
        query = select(cycle).where(*conds).order_by(cycle.desc()).limit(need).offset(count - 1 - top)
        values = [float(v) for v in conn.execute(query).scalars()][::-1]
    return interpolate(values[0] if values else None, values[1] if len(values) > 1 else None, fraction)


def cycle_histogram(conn: Connection, scope: Scope, top: float | None,
                    bins: int = 40) -> tuple[float, dict[str, list[int]]]:
    """Histogram of successful cycle times per task type: (bin width s, task type -> counts of `bins` bins from 0 s
    to `top`, the largest successful cycle time in the scope).

    Bins are computed in SQL (floor of cycle / width; CAST truncates on SQLite, where cycle times are positive).
    """
    conds = [*_attempt_filter(scope), AttemptRow.outcome == "success"]
    if not top:
        return 0.0, {}
    width = float(top) / bins * (1 + 1e-9)
    ratio_ = AttemptRow.cycle_time_s / width
    floor = cast(ratio_, Integer) if conn.dialect.name == "sqlite" else cast(func.floor(ratio_), Integer)
    bucket = floor.label("bucket")
    query = select(AttemptRow.task_type, bucket, func.count()).where(*conds).group_by(AttemptRow.task_type, bucket)
    result: dict[str, list[int]] = {}
    for task_type, index, count in conn.execute(query):
        counts = result.setdefault(task_type, [0] * bins)
        counts[min(int(index), bins - 1)] += int(count)
    return width, result


def trial_time(conn: Connection, scope: Scope) -> dict[str, TrialTime]:
    """Per site: finished trials, operating time (Σ trial duration, s) and robot time (Σ duration × robots, s)."""
    query = (
        select(TrialRow.site_id, func.count(), func.sum(TrialRow.duration_s),
               func.sum(TrialRow.duration_s * TrialRow.robot_count))
        .where(*_trial_filter(scope), TrialRow.duration_s.is_not(None))
        .group_by(TrialRow.site_id)
    )
    return {row[0]: TrialTime(int(row[1]), float(row[2] or 0.0), float(row[3] or 0.0)) for row in conn.execute(query)}


def interventions(conn: Connection, scope: Scope) -> dict[str, int]:
    """Per site: trial events that needed a person (`INTERVENTION_KINDS`)."""
    query = (
        select(TrialRow.site_id, func.count())
        .select_from(TrialEventRow)
        .join(TrialRow, TrialRow.id == TrialEventRow.trial_id)
        .where(*_trial_filter(scope), TrialEventRow.kind.in_(INTERVENTION_KINDS))
        .group_by(TrialRow.site_id)
    )
    return {row[0]: int(row[1]) for row in conn.execute(query)}


@dataclass(frozen=True)
class Downtime:
    """Robot downtime (s) and the protective/emergency stops among it: count, total s, longest s."""

    robot_s: float
    stops: int
    stop_total_s: float
    stop_max_s: float


def downtime(conn: Connection, scope: Scope) -> dict[str, Downtime]:
    """Per site: robot downtime and stop intervals.

    Each `resume` (`robot_recovered`) closes the latest `stop` (`robot_lost`) of the same trial and robot at or
    before it — the dispatcher emits them alternately — found by an index seek per closing event; a site-wide stop
    (no robot id) counts for every robot of the trial.
    """
    result: dict[str, list[float]] = {}
    for start, end in DOWNTIME_PAIRS:
        opening = aliased(TrialEventRow)
        closing = TrialEventRow
        opened_at = (
            select(func.max(opening.t_s))
            .where(opening.kind == start, opening.trial_id == closing.trial_id, opening.robot_id == closing.robot_id,
                   opening.t_s <= closing.t_s)
            .correlate(closing)
            .scalar_subquery()
        )
        seconds = (closing.t_s - opened_at).label("seconds")
        weight = case((closing.robot_id == "", TrialRow.robot_count), else_=1).label("weight")
        pairs = (
            select(TrialRow.site_id.label("site_id"), seconds, weight)
            .select_from(closing)
            .join(TrialRow, TrialRow.id == closing.trial_id)
            .where(*_trial_filter(scope), closing.kind == end)
            .subquery()
        )
        query = select(pairs.c.site_id, func.sum(pairs.c.seconds * pairs.c.weight), func.count(pairs.c.seconds),
                       func.sum(pairs.c.seconds), func.max(pairs.c.seconds)).group_by(pairs.c.site_id)
        for site_id, robot_s, count, total, longest in conn.execute(query):
            acc = result.setdefault(site_id, [0.0, 0, 0.0, 0.0])
            acc[0] += float(robot_s or 0.0)
            if start == "stop":
                acc[1], acc[2], acc[3] = int(count or 0), float(total or 0.0), float(longest or 0.0)
    return {site: Downtime(v[0], int(v[1]), v[2], v[3]) for site, v in result.items()}


def safety_counts(conn: Connection, scope: Scope) -> list[tuple[str, str, str, int]]:
    """(site, type, severity, count) of safety events, most frequent first."""
    query = (
        select(SafetyEventRow.site_id, SafetyEventRow.type, SafetyEventRow.severity, func.count())
        .where(*_safety_filter(scope))
        .group_by(SafetyEventRow.site_id, SafetyEventRow.type, SafetyEventRow.severity)
        .order_by(func.count().desc(), SafetyEventRow.type)
    )
    return [(row[0], row[1], row[2], int(row[3])) for row in conn.execute(query)]


STOP_EVENT_TYPES = ("protective_stop", "emergency_stop")
"""Safety event types whose measured value is the time from the stop request to standstill (s), limit = budget."""


@dataclass(frozen=True)
class StopTimes:
    """Time to standstill of protective/emergency stops (s) and how many exceeded their budget (T_r + T_s)."""

    count: int
    mean_s: float | None
    max_s: float | None
    over_budget: int


def stop_times(conn: Connection, scope: Scope) -> StopTimes:
    """Stops in the scope: count, mean and longest time to standstill (s), stops slower than their budget."""
    query = select(
        func.count(), func.avg(SafetyEventRow.measured), func.max(SafetyEventRow.measured),
        func.sum(case((SafetyEventRow.measured > SafetyEventRow.limit_value, 1), else_=0)),
    ).where(*_safety_filter(scope), SafetyEventRow.type.in_(STOP_EVENT_TYPES))
    count, mean, top, over = conn.execute(query).one()
    return StopTimes(int(count or 0), None if mean is None else float(mean), None if top is None else float(top),
                     int(over or 0))


def safety_timeline(conn: Connection, scope: Scope, limit: int = 5000) -> list[tuple[datetime, str, str, str]]:
    """(time, type, severity, robot) of the latest `limit` safety events, oldest first."""
    query = (
        select(SafetyEventRow.stamp, SafetyEventRow.type, SafetyEventRow.severity, SafetyEventRow.robot_id)
        .where(*_safety_filter(scope))
        .order_by(SafetyEventRow.stamp.desc())
        .limit(limit)
    )
    return [(row[0], row[1], row[2], row[3]) for row in reversed(conn.execute(query).all())]


def _validation_filter(scope: Scope) -> list[ColumnElement[bool]]:
    """Validations of the scope's sites; not limited by `since` (a scenario validated before the trials still
    counts)."""
    conds: list[ColumnElement[bool]] = []
    if scope.site_ids:
        conds.append(ValidationRow.site_id.in_(scope.site_ids))
    return conds


def validation_rates(conn: Connection, scope: Scope) -> dict[str, tuple[int, int]]:
    """Per site: (validations, passed) of scenario validations."""
    query = (
        select(ValidationRow.site_id, func.count(), func.sum(case((ValidationRow.passed, 1), else_=0)))
        .where(*_validation_filter(scope))
        .group_by(ValidationRow.site_id)
    )
    return {row[0]: (int(row[1]), int(row[2] or 0)) for row in conn.execute(query)}


def validation_by_group(conn: Connection, scope: Scope) -> dict[Key, tuple[int, int, float | None]]:
    """Per (task type, robot model): (robot verdicts, not failed, mean predicted cycle s of the not-failed ones),
    from each scenario's latest validation."""
    latest = (
        select(ValidationRow.scenario_id, func.max(ValidationRow.created_at).label("created_at"))
        .where(*_validation_filter(scope))
        .group_by(ValidationRow.scenario_id)
        .subquery()
    )
    vt = ValidationTaskRow
    conds: list[ColumnElement[bool]] = []
    if scope.task_types:
        conds.append(vt.task_type.in_(scope.task_types))
    if scope.robot_models:
        conds.append(vt.robot_model.in_(scope.robot_models))
    ok = vt.verdict != "fail"
    query = (
        select(vt.task_type, vt.robot_model, func.count(), func.sum(case((ok, 1), else_=0)),
               func.avg(case((ok, vt.estimated_cycle_s))))
        .select_from(vt)
        .join(ValidationRow, ValidationRow.id == vt.validation_id)
        .join(latest, and_(latest.c.scenario_id == ValidationRow.scenario_id,
                           latest.c.created_at == ValidationRow.created_at))
        .where(*conds)
        .group_by(vt.task_type, vt.robot_model)
    )
    return {(row[0], row[1]): (int(row[2]), int(row[3] or 0), None if row[4] is None else float(row[4]))
            for row in conn.execute(query)}


def field_cycle_means(conn: Connection, scope: Scope) -> dict[Key, float]:
    """Per (task type, robot model): mean measured cycle time (s) of successful attempts in field trials."""
    query = (
        select(AttemptRow.task_type, AttemptRow.robot_model, func.avg(AttemptRow.cycle_time_s))
        .where(*_attempt_filter(scope), AttemptRow.outcome == "success", AttemptRow.mode == "field")
        .group_by(AttemptRow.task_type, AttemptRow.robot_model)
    )
    return {(row[0], row[1]): float(row[2]) for row in conn.execute(query)}


@dataclass(frozen=True)
class SiteInfo:
    id: str
    name: str
    company: str
    industry: str
    city: str
    country: str
    takt_time_s: float | None


def sites(conn: Connection, site_ids: Sequence[str] = ()) -> list[SiteInfo]:
    """The stored sites (all, or the given ones), by id."""
    t = SiteRow
    query = select(t.id, t.name, t.company, t.industry, t.city, t.country, t.takt_time_s).order_by(t.id)
    if site_ids:
        query = query.where(t.id.in_(site_ids))
    return [SiteInfo(*row) for row in conn.execute(query)]


def robot_models(conn: Connection, site_id: str) -> dict[str, str]:
    """Robot id -> robot model at a site."""
    query = select(RobotRow.id, RobotRow.model).where(RobotRow.site_id == site_id)
    return {row[0]: row[1] for row in conn.execute(query)}


def trial_site(conn: Connection, trial_id: uuid.UUID) -> str | None:
    return conn.execute(select(TrialRow.site_id).where(TrialRow.id == trial_id)).scalar_one_or_none()
