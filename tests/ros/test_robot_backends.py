"""Robot backends (no ROS): phases played in scaled time, progress, cancel, protective stop, faults, registry."""

from __future__ import annotations

import threading

import pytest

from humanoid_trials.model import Catalog
from humanoid_trials.model.events import Outcome
from humanoid_trials.ros.backends import (
    BACKENDS,
    BackendContext,
    Progress,
    ScriptedBackend,
    TaskRequest,
    make_backend,
    parse_options,
    station_path,
)
from humanoid_trials.ros.errors import NodeConfigError

SITE = "ulsan-door-assembly"


def _context(
    catalog: Catalog, robot_id: str = "rby1-01", scenario: str | None = None, **options: str
) -> BackendContext:
    site = catalog.site(SITE)
    return BackendContext(
        robot_id,
        catalog.robot_profile(site, robot_id),
        site,
        catalog.scenario(scenario) if scenario else None,
        1.0,
        dict(options),
    )


def _request(catalog: Catalog, task_index: int = 0, attempt: int = 1, time_scale: float = 1000.0) -> TaskRequest:
    task = catalog.scenario("ulsan-door-bolts").tasks[task_index]
    return TaskRequest("trial", task, 1, attempt, time_scale)


def test_scripted_task_travels_to_its_stations_and_succeeds(catalog: Catalog) -> None:
    backend = ScriptedBackend(_context(catalog, work_s="3"))
    request = _request(catalog)
    progress: list[Progress] = []
    outcome = backend.execute(request, progress.append, lambda: False)
    stations = station_path(catalog.site(SITE), request.task)
    assert outcome.outcome is Outcome.SUCCESS
    assert outcome.cycle_time_s > 3.0  # travel from the home station plus 3 s of work (simulated s)
    assert backend.status().pose == stations[-1]
    assert [p.progress for p in progress] == sorted(p.progress for p in progress)
    assert {p.phase for p in progress} == {"travel", "work"}
    assert backend.status().battery_fraction < 1.0


def test_scripted_failure_is_reported_for_the_named_attempt_only(catalog: Catalog) -> None:
    task_id = catalog.scenario("ulsan-door-bolts").tasks[0].id
    backend = ScriptedBackend(_context(catalog, work_s="0.5", fail=f"{task_id}:1"))
    first = backend.execute(_request(catalog, attempt=1), lambda _p: None, lambda: False)
    second = backend.execute(_request(catalog, attempt=2), lambda _p: None, lambda: False)
    assert (first.outcome, first.reason) == (Outcome.FAILED, "scripted failure")
    assert second.outcome is Outcome.SUCCESS


def test_cancel_ends_the_attempt_as_cancelled(catalog: Catalog) -> None:
    backend = ScriptedBackend(_context(catalog, work_s="100000"))
    seen = threading.Event()

    def progress(_p: Progress) -> None:
        seen.set()

    outcome = backend.execute(_request(catalog, time_scale=10.0), progress, seen.is_set)
    assert outcome.outcome is Outcome.CANCELLED


def test_protective_stop_holds_the_clock_until_resume(catalog: Catalog) -> None:
    backend = ScriptedBackend(_context(catalog, work_s="2"))
    backend.stop("person in zone")
    elapsed: list[float] = []
    done = threading.Event()
    result: list[object] = []

    def run() -> None:
        result.append(
            backend.execute(
                _request(catalog, task_index=3, time_scale=1000.0), lambda p: elapsed.append(p.elapsed_s), lambda: False
            )
        )
        done.set()

    worker = threading.Thread(target=run)
    worker.start()
    assert not done.wait(0.5), "the attempt finished during a protective stop"
    assert all(value == 0.0 for value in elapsed)
    backend.resume()
    worker.join(timeout=30)
    assert done.is_set()
    assert result[0].outcome is Outcome.SUCCESS  # type: ignore[attr-defined]


def test_malfunction_perturbation_faults_the_robot(catalog: Catalog) -> None:
    scenario = catalog.scenario("cheongju-busbar-kitting")
    malfunction = next(p for p in scenario.perturbations if p.type == "robot_malfunction")
    site = catalog.site(scenario.site)
    context = BackendContext(
        malfunction.robot,
        catalog.robot_profile(site, malfunction.robot),
        site,
        scenario,
        1.0,
        {"work_s": str(malfunction.at_s * 2)},
    )
    backend = ScriptedBackend(context)
    outcome = backend.execute(TaskRequest("trial", scenario.tasks[0], 1, 1, 1000.0), lambda _p: None, lambda: False)
    assert outcome.outcome is Outcome.FAILED
    assert "malfunction" in outcome.reason
    assert backend.status().fault
    again = backend.execute(TaskRequest("trial", scenario.tasks[0], 2, 1, 1000.0), lambda _p: None, lambda: False)
    assert again.outcome is Outcome.FAILED and again.cycle_time_s == 0.0


def test_registry_and_options(catalog: Catalog) -> None:
    assert set(BACKENDS) == {"sim", "scripted"}
    assert isinstance(make_backend("scripted", _context(catalog)), ScriptedBackend)
    with pytest.raises(NodeConfigError, match="unknown backend 'vendor-x'; known: sim, scripted"):
        make_backend("vendor-x", _context(catalog))
    assert parse_options("work_s=2; fail=a:1,b:2") == {"work_s": "2", "fail": "a:1,b:2"}
    with pytest.raises(NodeConfigError, match="not key=value"):
        parse_options("work_s")
    with pytest.raises(NodeConfigError, match="work_s='soon' is not a number"):
        ScriptedBackend(_context(catalog, work_s="soon"))
