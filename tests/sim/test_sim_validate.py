"""Every bundled scenario validates; verdicts are bit-identical across runs, worker counts and executors."""

from __future__ import annotations

import pytest

from humanoid_trials.model import Catalog
from humanoid_trials.model.validation import ValidationReport, Verdict
from humanoid_trials.sim.executors import batches
from humanoid_trials.sim.validator import validate_scenarios, work_items

SAMPLE = ["ulsan-door-bolts", "icheon-tote-shuttle"]


def test_every_bundled_scenario_validates(catalog: Catalog, bundled_reports: dict[str, ValidationReport]) -> None:
    assert set(bundled_reports) == set(catalog.scenarios)
    for scenario_id, report in bundled_reports.items():
        failed = [
            (t.task_id, [r.message for r in t.reasons() if r.verdict == Verdict.FAIL]) for t in report.failed_tasks()
        ]
        assert report.verdict != Verdict.FAIL, f"{scenario_id}: {failed}"
        assert report.content_hash == catalog.content_hash(scenario_id)
        assert report.pybullet_version == "3.2.7"
        for task in report.tasks:
            assert task.feasible_robots, f"{scenario_id}/{task.task_id}"
            assert 0.0 < task.estimated_cycle_s <= task.takt_time_s
            for robot in task.robots:
                if robot.robot_id in task.feasible_robots:
                    assert robot.ik_residual_mm <= 5.0
                    assert robot.max_torque_ratio <= 1.0


def test_every_task_type_is_covered(bundled_reports: dict[str, ValidationReport]) -> None:
    types = {task.task_type for report in bundled_reports.values() for task in report.tasks}
    assert types == {"pick_place", "kitting", "carry", "machine_tend", "fasten", "inspect", "press"}


def test_same_result_twice_in_one_process(catalog: Catalog, bundled_reports: dict[str, ValidationReport]) -> None:
    again = validate_scenarios(catalog, SAMPLE)
    for report in again:
        assert report.fingerprint() == bundled_reports[report.scenario_id].fingerprint()


def test_same_result_with_two_worker_processes(catalog: Catalog, bundled_reports: dict[str, ValidationReport]) -> None:
    pooled = validate_scenarios(catalog, SAMPLE, executor="local", workers=2)
    for report in pooled:
        assert report.workers == 2
        assert report.fingerprint() == bundled_reports[report.scenario_id].fingerprint()


def test_same_result_on_ray(catalog: Catalog, bundled_reports: dict[str, ValidationReport]) -> None:
    ray = pytest.importorskip("ray")
    try:
        reports = validate_scenarios(catalog, SAMPLE, executor="ray", workers=2)
    finally:
        if ray.is_initialized():
            ray.shutdown()
    for report in reports:
        assert report.executor == "ray"
        assert report.fingerprint() == bundled_reports[report.scenario_id].fingerprint()


def test_batches_keep_one_site_per_batch(catalog: Catalog) -> None:
    items = [item for sid in SAMPLE for item in work_items(catalog, catalog.scenario(sid))]
    cut = batches(items, workers=2)
    assert sorted(i for batch in cut for i in batch) == list(range(len(items)))
    for batch in cut:
        assert len({items[i].site.id for i in batch}) == 1
