"""Synthetic but realistic trials for trying reports: `humanoid-trials demo-data --sites 4 --trials N`.

Sites, robots and scenarios come from the bundled catalog when it loads (`humanoid_trials.model.load_catalog()`);
otherwise a built-in set of four sites is used. Every trial is written through `Store.record_events` as the
recorder would: trial_started, attempt_finished per attempt, safety events with protective stops and resumes,
robots lost and recovered, trial_finished; plus one validation report per scenario. Deterministic for a seed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from humanoid_trials import __version__
from humanoid_trials.model.events import (
    Attempt,
    EventKind,
    Outcome,
    SafetyEvent,
    Severity,
    TrialEvent,
    TrialInfo,
)
from humanoid_trials.model.validation import Check, Reason, RobotVerdict, TaskVerdict, ValidationReport, Verdict
from humanoid_trials.results.errors import ReportError
from humanoid_trials.results.store import Store

log = logging.getLogger(__name__)

BASE_CYCLE_S = {
    "pick_place": 26.0, "kitting": 52.0, "carry": 68.0, "machine_tend": 47.0, "fasten": 61.0, "inspect": 21.0,
    "press": 9.0,
}
"""Typical cycle time of one repetition per task type (s) for a wheeled dual-arm humanoid."""
MODEL_FACTOR = {"biped": 1.25, "wheeled": 1.0}
FAILURE_REASONS = ("grasp_slip", "ik_no_solution", "part_not_found", "collision_abort")
SAFETY_TYPES = (
    # type, severity, unit, typical measured, limit
    ("separation", Severity.WARNING, "m", 0.9, 1.1),
    ("protective_stop", Severity.INFO, "s", 0.35, 0.5),
    ("contact_force", Severity.CRITICAL, "N", 160.0, 140.0),
    ("tilt", Severity.CRITICAL, "deg", 12.0, 10.0),
)
SAFETY_WEIGHTS = (0.55, 0.35, 0.06, 0.04)
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoSite:
    """What the generator needs of a site: takt (s), robots (id -> (model, kind)), tasks (id, type, scenario)."""

    id: str
    name: str
    company: str
    industry: str
    city: str
    takt_time_s: float
    robots: dict[str, tuple[str, str]]
    tasks: tuple[tuple[str, str, str], ...]
    scenario_hashes: dict[str, str]
    skill: float  # > 1: faster and more reliable than the coalition average


_BUILTIN = (
    DemoSite("demo-ulsan-doors", "Door module line (demo)", "Demo Motors", "automotive", "Ulsan", 72.0,
             {"rby1-01": ("rby1-class", "wheeled"), "rby1-02": ("rby1-class", "wheeled")},
             (("pick_bolts", "pick_place", "demo-doors"), ("fasten_hinge", "fasten", "demo-doors"),
              ("gauge", "inspect", "demo-doors")), {"demo-doors": "0" * 64}, 1.1),
    DemoSite("demo-geoje-hull", "Hull block bay (demo)", "Demo Heavy", "shipbuilding", "Geoje", 180.0,
             {"biped-01": ("biped-class", "biped"), "rby1-01": ("rby1-class", "wheeled")},
             (("carry_consumables", "carry", "demo-hull"), ("fasten_brackets", "fasten", "demo-hull")),
             {"demo-hull": "1" * 64}, 0.9),
    DemoSite("demo-cheongju-battery", "Battery module line (demo)", "Demo Cells", "battery", "Cheongju", 45.0,
             {"rby1-01": ("rby1-class", "wheeled"), "rby1-02": ("rby1-class", "wheeled")},
             (("kit_parts", "kitting", "demo-cells"), ("tend_tester", "machine_tend", "demo-cells"),
              ("start_tester", "press", "demo-cells")), {"demo-cells": "2" * 64}, 1.0),
    DemoSite("demo-icheon-hub", "Logistics hub (demo)", "Demo Logistics", "logistics", "Icheon", 60.0,
             {"rby1-01": ("rby1-class", "wheeled"), "biped-01": ("biped-class", "biped")},
             (("tote_shuttle", "carry", "demo-totes"), ("put_away", "pick_place", "demo-totes")),
             {"demo-totes": "3" * 64}, 0.95),
)


def catalog_sites(store: Store) -> list[DemoSite]:
    """Demo sites from the bundled catalog (registered in the store with their scenarios); [] if it does not load."""
    try:
        from humanoid_trials.model import ConfigError, load_catalog

        catalog = load_catalog()
    except (ImportError, ConfigError) as exc:
        log.warning("bundled catalog not usable for demo data (%s); using built-in demo sites", exc)
        return []
    store.register_catalog(catalog)
    skills = (1.1, 0.9, 1.0, 0.95, 1.05, 0.85)
    result = []
    for index, site in enumerate(sorted(catalog.sites.values(), key=lambda s: s.id)):
        robots = {r.id: (r.profile, str(catalog.profiles[r.profile].kind)) for r in site.robots}
        scenarios = sorted((s for s in catalog.scenarios.values() if s.site == site.id), key=lambda s: s.id)
        tasks = tuple((t.id, str(t.type), s.id) for s in scenarios for t in s.tasks)
        if not tasks:
            continue
        result.append(DemoSite(site.id, site.name, site.company, str(site.industry), site.location.city,
                               float(site.takt_time_s), robots, tasks,
                               {s.id: catalog.content_hash(s.id) for s in scenarios}, skills[index % len(skills)]))
    return result


def _register_builtin(store: Store, site: DemoSite) -> None:
    store.save_site(site.id, name=site.name, company=site.company, industry=site.industry, city=site.city,
                    country="KR", takt_time_s=site.takt_time_s, robots={k: v[0] for k, v in site.robots.items()})
    for scenario_id, content_hash in site.scenario_hashes.items():
        store.register_scenario(scenario_id, site.id, content_hash, f"# demo scenario {scenario_id}\n",
                                "synthetic demo scenario")


def choose_sites(store: Store, count: int) -> list[DemoSite]:
    """`count` demo sites: bundled catalog sites first, then built-in ones."""
    if count < 1:
        raise ReportError(f"demo data needs at least one site, got --sites {count}")
    chosen = catalog_sites(store)[:count]
    for site in _BUILTIN:
        if len(chosen) >= count:
            break
        _register_builtin(store, site)
        chosen.append(site)
    if len(chosen) < count:
        raise ReportError(f"only {len(chosen)} demo sites available, asked for --sites {count}")
    return chosen


def _uid(rng: np.random.Generator) -> uuid.UUID:
    return uuid.UUID(bytes=rng.bytes(16))


def _cycle_mean(site: DemoSite, task_type: str, kind: str) -> float:
    base = BASE_CYCLE_S.get(task_type, 30.0) * MODEL_FACTOR.get(kind, 1.1)
    return base * (site.takt_time_s / 72.0) ** 0.5 / site.skill


_TOO_CLOSE = Reason(Check.HUMAN_ZONE, Verdict.FAIL, "motion passes 0.15 m inside the operator walkway",
                    (("min_human_separation_m", -0.15), ("min_clearance_m", 0.10)))


def validation_reports(site: DemoSite, stamp: datetime, rng: np.random.Generator) -> list[ValidationReport]:
    """One passing validation per scenario of the site (sim prediction ≈ 8 % faster than the field), and for a weak
    site an earlier failed run per scenario (motion too close to a human zone before the layout was fixed)."""
    reports = []
    for scenario_id, content_hash in site.scenario_hashes.items():
        verdicts = []
        for task_id, task_type, owner in site.tasks:
            if owner != scenario_id:
                continue
            robots = []
            for robot_id, (model, kind) in site.robots.items():
                cycle = _cycle_mean(site, task_type, kind) * 0.92 * float(rng.uniform(0.95, 1.05))
                robots.append(RobotVerdict(robot_id, model, Verdict.PASS, estimated_cycle_s=round(cycle, 2)))
            verdicts.append(TaskVerdict.combine(task_id, task_type, site.takt_time_s, robots))
        overall = Verdict.worst(t.verdict for t in verdicts)
        reports.append(ValidationReport(scenario_id, site.id, content_hash, overall, tuple(verdicts), __version__,
                                        "3.2.7", created_at=stamp.isoformat(), wall_time_s=4.2))
        if site.skill <= 0.9:  # a weak site also has an earlier run that failed before its layout was fixed
            failed = tuple(TaskVerdict.combine(t.task_id, t.task_type, t.takt_time_s,
                                               [replace(r, verdict=Verdict.FAIL, reasons=(_TOO_CLOSE,))
                                                for r in t.robots]) for t in verdicts)
            reports.append(ValidationReport(scenario_id, site.id, "f" * 64, Verdict.FAIL, failed, __version__, "3.2.7",
                                            created_at=(stamp - timedelta(days=3)).isoformat(), wall_time_s=4.0))
    return reports


def trial_events(site: DemoSite, trial_no: int, attempts: int, rng: np.random.Generator) -> Iterator[TrialEvent]:
    """The events of one synthetic trial with about `attempts` attempts, spread over the site's robots."""
    trial_id = _uid(rng)
    start = START + timedelta(days=trial_no // 2, hours=8 * (trial_no % 2))
    mode = "sim" if trial_no % 5 == 4 else "field"
    info = TrialInfo(trial_id, site.id, site.tasks[0][2], site.scenario_hashes.get(site.tasks[0][2], ""), mode,
                     __version__, f"operator-{trial_no % 3 + 1}", {k: v[0] for k, v in site.robots.items()}, start)
    yield info.to_event()
    robot_ids = list(site.robots)
    per_robot = max(1, attempts // len(robot_ids))
    end = start
    fail_p = min(0.4, 0.06 / site.skill ** 3)
    safety_per_s = 1.5 / 3600.0 / site.skill ** 2
    for robot_id in robot_ids:
        model, kind = site.robots[robot_id]
        clock = start
        picks = rng.integers(0, len(site.tasks), per_robot)
        noise = rng.lognormal(0.0, 0.18, per_robot)
        outcome_draw = rng.random(per_robot)
        gaps = rng.exponential(4.0, per_robot)
        for i in range(per_robot):
            task_id, task_type, _scenario = site.tasks[int(picks[i])]
            cycle = _cycle_mean(site, task_type, kind) * float(noise[i])
            draw = float(outcome_draw[i])
            if draw < fail_p * 0.03:
                outcome, reason = Outcome.ROBOT_LOST, "heartbeat lost"
            elif draw < fail_p * 0.15:
                outcome, reason = Outcome.TIMEOUT, "no result within timeout"
            elif draw < fail_p:
                outcome, reason = Outcome.FAILED, FAILURE_REASONS[int(draw * 1e6) % len(FAILURE_REASONS)]
            elif draw > 0.998:
                outcome, reason = Outcome.CANCELLED, "trial stopped"
            else:
                outcome, reason = Outcome.SUCCESS, ""
            finished = clock + timedelta(seconds=cycle)
            yield Attempt(trial_id, task_id, task_type, robot_id, model, 1, clock, finished, outcome, reason,
                          _uid(rng)).to_event()
            clock = finished + timedelta(seconds=float(gaps[i]))
            if outcome is Outcome.ROBOT_LOST:
                yield TrialEvent(trial_id, EventKind.ROBOT_LOST, {"robot_id": robot_id}, finished, _uid(rng))
                clock += timedelta(seconds=float(rng.uniform(60, 300)))
                yield TrialEvent(trial_id, EventKind.ROBOT_RECOVERED, {"robot_id": robot_id}, clock, _uid(rng))
            if rng.random() < safety_per_s * cycle:
                yield from _safety(site, trial_id, robot_id, finished, rng)
                clock += timedelta(seconds=30)
        end = max(end, clock)
    yield TrialEvent(trial_id, EventKind.TRIAL_FINISHED, {"status": "finished"}, end, _uid(rng))


def _safety(site: DemoSite, trial_id: uuid.UUID, robot_id: str, stamp: datetime,
            rng: np.random.Generator) -> Iterator[TrialEvent]:
    index = int(rng.choice(len(SAFETY_TYPES), p=SAFETY_WEIGHTS))
    kind, severity, unit, typical, limit = SAFETY_TYPES[index]
    measured = round(typical * float(rng.uniform(0.85, 1.15)), 3)
    event = SafetyEvent(site.id, kind, severity, robot_id, measured, limit, unit,
                        (float(rng.uniform(0, 20)), float(rng.uniform(0, 12)), 0.0),
                        {"source": "demo"}, trial_id, stamp, _uid(rng))
    yield event.to_event()
    yield TrialEvent(trial_id, EventKind.STOP, {"robot_id": robot_id, "cause": kind}, stamp, _uid(rng))
    yield TrialEvent(trial_id, EventKind.RESUME, {"robot_id": robot_id, "by": "operator"},
                     stamp + timedelta(seconds=float(rng.uniform(5, 40))), _uid(rng))


def fill(store: Store, sites: int = 4, trials: int = 10, attempts_per_trial: int = 200, seed: int = 7) -> int:
    """Write `trials` synthetic trials per site for `sites` sites; returns the number of events written."""
    if trials < 1 or attempts_per_trial < 1:
        raise ReportError(f"demo data needs --trials ≥ 1 and --attempts-per-trial ≥ 1, got {trials}, "
                          f"{attempts_per_trial}")
    rng = np.random.default_rng(seed)
    chosen = choose_sites(store, sites)
    for site in chosen:
        for report in validation_reports(site, START - timedelta(days=1), rng):
            store.save_validation(report)

    def events() -> Iterator[TrialEvent]:
        for site in chosen:
            for trial_no in range(trials):
                yield from trial_events(site, trial_no, attempts_per_trial, rng)

    return store.record_events(events())
