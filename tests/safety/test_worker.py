"""Simulated workers of the human_enters_zone perturbation."""

from __future__ import annotations

import pytest

from humanoid_trials.model.scenario import HumanEntersZone, PartSlip
from humanoid_trials.model.site import Site
from humanoid_trials.safety.worker import SimulatedWorker, people_at, simulated_workers, zone_centroid

PATH = ((0.0, 6.5), (6.0, 6.5), (6.0, 8.5))  # 6 m along +x, then 2 m along +y: 8 m


def test_walks_the_path_at_its_speed_from_its_start_time() -> None:
    worker = SimulatedWorker("w", PATH, speed_m_s=1.0, start_s=30.0)
    assert worker.length_m == pytest.approx(8.0)
    assert worker.arrive_s == pytest.approx(38.0)
    assert worker.at(29.9) is None
    first = worker.at(33.0)
    assert first is not None
    assert first.position_m == pytest.approx((3.0, 6.5))
    assert first.velocity_m_s == pytest.approx((1.0, 0.0))
    corner = worker.at(37.0)  # 7 m walked: 1 m up the second leg
    assert corner is not None
    assert corner.position_m == pytest.approx((6.0, 7.5))
    assert corner.velocity_m_s == pytest.approx((0.0, 1.0))
    # dwell 0 (default): gone after reaching the end
    assert worker.at(38.5) is None


def test_dwell_and_staying() -> None:
    stays = SimulatedWorker("w", PATH, speed_m_s=2.0, start_s=0.0, dwell_s=None)
    end = stays.at(1000.0)
    assert end is not None
    assert end.position_m == (6.0, 8.5)
    assert end.velocity_m_s == (0.0, 0.0)
    dwells = SimulatedWorker("w", PATH, speed_m_s=2.0, start_s=0.0, dwell_s=3.0)  # arrives at 4 s, leaves at 7 s
    assert dwells.at(6.9) is not None
    assert dwells.at(7.1) is None
    assert [p.id for p in people_at([stays, dwells], 7.1)] == ["w"]


def test_bad_worker_values_are_refused() -> None:
    with pytest.raises(ValueError, match="speed_m_s must be > 0"):
        SimulatedWorker("w", PATH, speed_m_s=0.0, start_s=0.0)
    with pytest.raises(ValueError, match="at least one point"):
        SimulatedWorker("w", (), speed_m_s=1.0, start_s=0.0)


def _site() -> Site:
    return Site.model_validate(
        {
            "id": "s",
            "name": "S",
            "company": "C",
            "industry": "other",
            "location": {"city": "Ulsan", "country": "KR"},
            "takt_time_s": 60.0,
            "layout": {"floor_m": (10.0, 10.0), "stations": ({"id": "st", "pose": {"x_m": 1.0, "y_m": 1.0}},)},
            "human_zones": ({"id": "walkway", "polygon_m": ((0.0, 6.0), (4.0, 6.0), (4.0, 8.0), (0.0, 8.0))},),
            "robots": ({"id": "r1", "profile": "p", "home_station": "st"},),
        }
    )


def test_workers_from_scenario_perturbations() -> None:
    site = _site()
    assert zone_centroid(site.zone("walkway")) == pytest.approx((2.0, 7.0))
    walk = HumanEntersZone(type="human_enters_zone", zone="walkway", at_s=30.0, speed_m_s=1.2, path_m=PATH)
    stand = HumanEntersZone(type="human_enters_zone", zone="walkway", at_s=5.0)
    slip = PartSlip(type="part_slip", task="t", at_s=1.0)
    first, second = simulated_workers((walk, slip, stand), site)
    assert (first.id, first.path_m, first.zone) == ("worker-1", PATH, "walkway")
    assert (first.speed_m_s, first.start_s) == (1.2, 30.0)
    # no path: stands at the zone centroid
    assert second.id == "worker-2"
    assert len(second.path_m) == 1
    assert second.path_m[0] == pytest.approx((2.0, 7.0))
    person = second.at(5.0)
    assert person is not None
    assert person.position_m == pytest.approx((2.0, 7.0))
