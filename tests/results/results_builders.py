"""Small hand-made trials for the results tests; the expected numbers are worked out in test_report.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from humanoid_trials.model.events import Attempt, EventKind, Outcome, SafetyEvent, Severity, TrialEvent, TrialInfo
from humanoid_trials.model.validation import RobotVerdict, TaskVerdict, ValidationReport, Verdict
from humanoid_trials.results.store import Store

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
TRIAL_1 = uuid.UUID("00000000-0000-4000-8000-000000000001")
TRIAL_2 = uuid.UUID("00000000-0000-4000-8000-000000000002")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def started(trial_id: uuid.UUID, site_id: str, robots: dict[str, str], start_s: float = 0.0,
            mode: str = "field") -> TrialEvent:
    return TrialInfo(trial_id, site_id, f"{site_id}-scenario", "ab" * 32, mode, "0.1.0", "tester", robots,
                     at(start_s)).to_event()


def finished(trial_id: uuid.UUID, end_s: float) -> TrialEvent:
    return TrialEvent(trial_id, EventKind.TRIAL_FINISHED, {}, at(end_s))


def attempt(trial_id: uuid.UUID, task_type: str, robot_id: str, model: str, start_s: float, cycle_s: float,
            outcome: Outcome = Outcome.SUCCESS) -> TrialEvent:
    return Attempt(trial_id, f"{task_type}_task", task_type, robot_id, model, 1, at(start_s),
                   at(start_s + cycle_s), outcome).to_event()


def safety(trial_id: uuid.UUID, site_id: str, kind: str, severity: Severity, robot_id: str, t_s: float) -> TrialEvent:
    return SafetyEvent(site_id, kind, severity, robot_id, 0.4, 0.6, "m", (1.0, 2.0, 0.0), {"k": 1}, trial_id,
                       at(t_s)).to_event()


def marker(trial_id: uuid.UUID, kind: EventKind, robot_id: str, t_s: float) -> TrialEvent:
    return TrialEvent(trial_id, kind, {"robot_id": robot_id}, at(t_s))


def site_one_events() -> list[TrialEvent]:
    """Site s1 (takt 10 s), trial 1 (field, 0–3600 s, robots r1 model-a and r2 model-b).

    model-a pick_place: successes with cycles 1..20 s, 5 failures of 3 s, 1 cancelled of 2 s.
    model-b pick_place: successes 2, 4, 6, 8 s and one timeout of 10 s.
    Safety: 3 separation warnings, 1 contact_force critical. r1 stopped 100→130 s; r2 lost 200→260 s.
    """
    events = [started(TRIAL_1, "s1", {"r1": "model-a", "r2": "model-b"})]
    clock = 10.0
    for cycle in range(1, 21):
        events.append(attempt(TRIAL_1, "pick_place", "r1", "model-a", clock, float(cycle)))
        clock += 30
    for _ in range(5):
        events.append(attempt(TRIAL_1, "pick_place", "r1", "model-a", clock, 3.0, Outcome.FAILED))
        clock += 30
    events.append(attempt(TRIAL_1, "pick_place", "r1", "model-a", clock, 2.0, Outcome.CANCELLED))
    for cycle in (2.0, 4.0, 6.0, 8.0):
        events.append(attempt(TRIAL_1, "pick_place", "r2", "model-b", clock, cycle))
        clock += 30
    events.append(attempt(TRIAL_1, "pick_place", "r2", "model-b", clock, 10.0, Outcome.TIMEOUT))
    for t_s in (50.0, 150.0, 250.0):
        events.append(safety(TRIAL_1, "s1", "separation", Severity.WARNING, "r1", t_s))
    events.append(safety(TRIAL_1, "s1", "contact_force", Severity.CRITICAL, "r2", 300.0))
    events += [marker(TRIAL_1, EventKind.STOP, "r1", 100.0), marker(TRIAL_1, EventKind.RESUME, "r1", 130.0),
               marker(TRIAL_1, EventKind.ROBOT_LOST, "r2", 200.0),
               marker(TRIAL_1, EventKind.ROBOT_RECOVERED, "r2", 260.0)]
    events.append(finished(TRIAL_1, 3600.0))
    return events


def site_two_events() -> list[TrialEvent]:
    """Site s2 (takt 20 s), trial 2 (field, 0–7200 s, robot r1 model-a): kitting 9 × 10 s successes, 1 failure of
    5 s; no safety events."""
    events = [started(TRIAL_2, "s2", {"r1": "model-a"})]
    for i in range(9):
        events.append(attempt(TRIAL_2, "kitting", "r1", "model-a", 20.0 * i, 10.0))
    events.append(attempt(TRIAL_2, "kitting", "r1", "model-a", 500.0, 5.0, Outcome.FAILED))
    events.append(finished(TRIAL_2, 7200.0))
    return events


def validation(scenario_id: str, site_id: str, created_s: float, fail_scenario: bool = False) -> ValidationReport:
    """pick_place task: r1 (model-a) passes with 9.0 s, r2 (model-b) fails; `fail_scenario` makes both fail."""
    r1 = RobotVerdict("r1", "model-a", Verdict.FAIL if fail_scenario else Verdict.PASS, estimated_cycle_s=9.0)
    r2 = RobotVerdict("r2", "model-b", Verdict.FAIL, estimated_cycle_s=0.0)
    task = TaskVerdict.combine("pick_place_task", "pick_place", 10.0, (r1, r2))
    return ValidationReport(scenario_id, site_id, "cd" * 32, task.verdict, (task,), "0.1.0", "3.2.7",
                            created_at=at(created_s).isoformat())


def fill_fixture(store: Store) -> None:
    """Both sites, their trials and two validations of s1 (one passes with a warning, one fails)."""
    store.save_site("s1", name="Site one", takt_time_s=10.0, robots={"r1": "model-a", "r2": "model-b"})
    store.save_site("s2", name="Site two", takt_time_s=20.0, robots={"r1": "model-a"})
    store.record_events(site_one_events() + site_two_events())
    store.save_validation(validation("s1-scenario", "s1", -100.0))
    store.save_validation(validation("s1-other", "s1", -50.0, fail_scenario=True))
