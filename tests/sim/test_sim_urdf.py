"""Vendor-URDF robustness: missing inertials, package:// meshes, placeholder limits, many fixed links."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanoid_trials.sim.errors import RobotModelError
from humanoid_trials.sim.urdf import MERGE_FIXED_ABOVE, prepare_urdf

MESH = "v 0 0 0\nv 0.1 0 0\nv 0 0.1 0\nv 0 0 0.1\nf 1 2 3\nf 1 2 4\nf 1 3 4\nf 2 3 4\n"


def _vendor_urdf(root: Path, fixed_links: int = 0) -> Path:
    package = root / "acme_description"
    (package / "meshes").mkdir(parents=True)
    (package / "meshes" / "hand.obj").write_text(MESH)
    urdf_dir = package / "urdf"
    urdf_dir.mkdir()
    extra = "".join(
        f'<link name="frame{i}"/><joint name="fix{i}" type="fixed"><parent link="hand"/><child link="frame{i}"/>'
        f"</joint>"
        for i in range(fixed_links)
    )
    text = f"""<?xml version="1.0"?>
<robot name="acme">
  <link name="base"><inertial><mass value="10"/><inertia ixx="0.1" ixy="0" ixz="0" iyy="0.1" iyz="0" izz="0.1"/>
  </inertial><collision><geometry><box size="0.3 0.3 0.3"/></geometry></collision></link>
  <link name="hand"><collision><geometry><mesh filename="package://acme_description/meshes/hand.obj"/></geometry>
  </collision></link>
  <joint name="j1" type="revolute"><parent link="base"/><child link="hand"/><origin xyz="0 0 0.5"/>
    <axis xyz="0 1 0"/><limit lower="-1" upper="1" velocity="50000" effort="0"/></joint>
  <joint name="j2" type="revolute"><parent link="base"/><child link="tool"/><axis xyz="0 0 1"/>
    <limit velocity="2" effort="20"/></joint>
  <link name="tool"/>
  {extra}
</robot>"""
    path = urdf_dir / "acme.urdf"
    path.write_text(text)
    return path


def test_missing_inertials_get_a_gram(tmp_path: Path) -> None:
    prepared = prepare_urdf(_vendor_urdf(tmp_path))
    assert prepared.link_masses["hand"] == pytest.approx(0.001)
    assert prepared.link_masses["base"] == pytest.approx(10.0)
    assert any("2 link(s) without <inertial>" in note for note in prepared.notes)
    assert prepared.load_path != prepared.source  # a fixed copy is loaded


def test_package_mesh_paths_resolve_to_files(tmp_path: Path) -> None:
    prepared = prepare_urdf(_vendor_urdf(tmp_path))
    text = prepared.load_path.read_text()
    assert "package://" not in text
    assert str(tmp_path / "acme_description" / "meshes" / "hand.obj") in text


def test_placeholder_limits_fall_back(tmp_path: Path) -> None:
    prepared = prepare_urdf(_vendor_urdf(tmp_path))
    j1 = prepared.joints["j1"].limits
    assert j1.velocity is None and j1.effort is None
    j2 = prepared.joints["j2"].limits  # revolute without position limits
    assert (j2.lower, j2.upper) == pytest.approx((-3.14159265, 3.14159265))
    assert j2.effort == 20.0


def test_unresolvable_package_is_reported(tmp_path: Path) -> None:
    path = _vendor_urdf(tmp_path)
    path.write_text(path.read_text().replace("package://acme_description", "package://missing_pkg"))
    with pytest.raises(RobotModelError, match="missing_pkg"):
        prepare_urdf(path)


def test_many_fixed_links_are_merged_and_frames_found(tmp_path: Path) -> None:
    prepared = prepare_urdf(_vendor_urdf(tmp_path, fixed_links=MERGE_FIXED_ABOVE + 1))
    assert prepared.merge_fixed
    parent, transform = prepared.frame("frame3", {"base", "hand", "tool"})
    assert parent == "hand" and transform.shape == (4, 4)


def test_not_xml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.urdf"
    path.write_text("<robot")
    with pytest.raises(RobotModelError, match=r"broken\.urdf"):
        prepare_urdf(path)
