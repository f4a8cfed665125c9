"""The bundled catalog and the scenario content hash."""

from __future__ import annotations

from pathlib import Path

import yaml

from humanoid_trials.model import load_catalog
from humanoid_trials.tasks import TASK_TYPES


def test_bundled_data_is_complete_and_valid() -> None:
    catalog = load_catalog()
    assert {"rby1-class", "biped-class"} <= set(catalog.profiles)
    assert {p.kind for p in catalog.profiles.values()} == {"biped", "wheeled"}
    assert len(catalog.sites) >= 4
    assert {"automotive", "shipbuilding", "battery", "logistics"} <= {s.industry for s in catalog.sites.values()}
    assert len(catalog.scenarios) >= 8
    used = {task.type for scenario in catalog.scenarios.values() for task in scenario.tasks}
    assert used == set(TASK_TYPES)


def test_arms_have_seven_joints() -> None:
    for profile in load_catalog().profiles.values():
        assert [len(arm.joints) for arm in profile.arms] == [7, 7], profile.id


def test_hash_is_stable_over_key_order_and_formatting(data_copy: Path) -> None:
    before = load_catalog(data_copy).content_hash("ulsan-door-bolts")
    path = data_copy / "tasks/scenarios/ulsan-door-bolts.yaml"
    data = yaml.safe_load(path.read_text())
    reordered = dict(reversed(list(data.items())))
    path.write_text("# reformatted\n" + yaml.safe_dump(reordered, default_flow_style=True, width=60))
    assert load_catalog(data_copy).content_hash("ulsan-door-bolts") == before


def test_hash_changes_with_scenario_site_profile_and_urdf(data_copy: Path) -> None:
    def digest() -> str:
        return load_catalog(data_copy).content_hash("ulsan-door-bolts")

    seen = {digest()}
    edits = [
        ("tasks/scenarios/ulsan-door-bolts.yaml", "dwell_s: 2.5", "dwell_s: 2.6"),
        ("sites/ulsan-door-assembly.yaml", "takt_time_s: 72", "takt_time_s: 70"),
        ("sim/robots/biped-class/profile.yaml", "grasp_time_s:", "grasp_time_s: 0.7\n#"),
    ]
    for rel, old, new in edits:
        path = data_copy / rel
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
        seen.add(digest())
    urdf = data_copy / "sim/robots/rby1-class/rby1_class.urdf"
    urdf.write_text(urdf.read_text().replace("</robot>", "<!-- changed -->\n</robot>"))
    seen.add(digest())
    assert len(seen) == 5


def test_hash_ignores_unrelated_files(data_copy: Path) -> None:
    before = load_catalog(data_copy).content_hash("ulsan-door-bolts")
    other = data_copy / "sites/icheon-logistics-hub.yaml"
    other.write_text(other.read_text().replace("takt_time_s: 60", "takt_time_s: 61"))
    assert load_catalog(data_copy).content_hash("ulsan-door-bolts") == before
