"""Motion plans (pure): step sequences per task type, in the site frame."""

from __future__ import annotations

import pytest

from humanoid_trials.model import Catalog
from humanoid_trials.model.scenario import Scenario
from humanoid_trials.sim.plan import (
    APPROACH_M,
    DOWN,
    Dwell,
    Grasp,
    Home,
    MoveBase,
    Reach,
    Release,
    arm_options,
    plan_task,
)


def test_pick_place_between_stations(catalog: Catalog) -> None:
    site = catalog.site("ulsan-door-assembly")
    task = catalog.scenario("ulsan-door-bolts").task("pick_bolt_kit")
    plan = plan_task(site, task, ("right",))
    kinds = [type(step) for step in plan.steps]
    assert kinds[0] is MoveBase and plan.steps[0].station == "parts_supermarket"
    assert plan.stations == ("parts_supermarket", "door_fixture_cell", "parts_supermarket")  # ends where it began
    assert kinds.index(Grasp) < kinds.index(Release)
    grasp = next(s for s in plan.steps if isinstance(s, Reach) and s.label.startswith("grasp"))
    approach = next(s for s in plan.steps if isinstance(s, Reach) and s.label.startswith("approach"))
    bin_top = site.object("bolt_bin").top_z_m
    assert grasp.targets[0].axis == DOWN
    assert grasp.targets[0].position[2] > bin_top  # fingers close on the part, above the bin
    assert approach.targets[0].position[2] == pytest.approx(grasp.targets[0].position[2] + APPROACH_M)
    assert grasp.targets[0].position[:2] == pytest.approx((3.55, 2.75))


def test_carry_uses_both_hands_on_the_tote_rims(catalog: Catalog) -> None:
    site = catalog.site("icheon-logistics-hub")
    task = catalog.scenario("icheon-tote-shuttle").task("inbound_to_rack")
    (arms,) = arm_options(task, catalog.profile("rby1-class"), site)
    plan = plan_task(site, task, arms)
    grasp = next(s for s in plan.steps if isinstance(s, Grasp))
    assert set(grasp.arms) == {"left", "right"}
    reach = next(s for s in plan.steps if isinstance(s, Reach) and s.label == "grasp the tote")
    right, left = reach.targets
    assert left.position[1] - right.position[1] == pytest.approx(0.30 - 2 * 0.03)  # tote 0.30 m wide
    assert isinstance(plan.steps[-2], Home) and isinstance(plan.steps[-1], MoveBase)


def test_press_pushes_into_the_panel_face(catalog: Catalog) -> None:
    site = catalog.site("ulsan-door-assembly")
    task = catalog.scenario("ulsan-door-bolts").task("acknowledge_andon")
    plan = plan_task(site, task, ("left",))
    hold = next(s for s in plan.steps if isinstance(s, Dwell))
    press = next(s for s in plan.steps if isinstance(s, Reach) and s.label.startswith("press"))
    assert press.targets[0].axis == pytest.approx((1.0, 0.0, 0.0))  # front face of a yaw-0 panel
    assert hold.force_n == pytest.approx((-15.0, 0.0, 0.0))  # the panel pushes back
    assert hold.seconds == 0.5


def test_fasten_dwells_at_every_point_with_the_tool(catalog: Catalog) -> None:
    scenario: Scenario = catalog.scenario("geoje-bracket-fastening")
    task = scenario.task("fasten_brackets")
    plan = plan_task(catalog.site(scenario.site), task, ("right",))
    dwells = [s for s in plan.steps if isinstance(s, Dwell)]
    assert len(dwells) == 3 and all(d.seconds == 3.0 for d in dwells)
    tool = next(s for s in plan.steps if isinstance(s, Grasp))
    assert tool.part.mass_kg == 1.5


def test_arm_preference_follows_the_side_of_the_work(catalog: Catalog) -> None:
    site = catalog.site("ulsan-door-assembly")
    profile = catalog.profile("rby1-class")
    right_side = catalog.scenario("ulsan-door-bolts").task("pick_bolt_kit")  # bolt bin is right of the station
    assert arm_options(right_side, profile, site)[0] == ("right",)
