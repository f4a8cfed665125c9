"""Read a robot's URDF and make a vendor file safe to load in PyBullet (pure XML; no pybullet).

What vendor URDFs get wrong, and what happens here (see ../shared/SIM_FACTS.md):
- links without `<inertial>` (PyBullet gives them 1 kg each): they get 1 g and a tiny inertia;
- `package://pkg/...` mesh paths: resolved against folders named `pkg` above the URDF, `$AMENT_PREFIX_PATH/share/pkg`
  and `$ROS_PACKAGE_PATH`; relative mesh paths are made absolute;
- placeholder limits (velocity or effort <= 0 or >= 1e4, revolute joints without position limits): velocity falls back
  to the profile's max joint speed, effort to "unknown" (no torque check for that joint), position to [-pi, pi];
- hundreds of fixed links: loaded with URDF_MERGE_FIXED_LINKS (`merge_fixed`); frames of merged links (TCP, soles)
  are then found through `frame()` as (kept ancestor link, offset).
When nothing needs fixing the original file is loaded as is.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from humanoid_trials.sim.errors import RobotModelError

PLACEHOLDER_LIMIT = 1e4
MERGE_FIXED_ABOVE = 40
"""Load with URDF_MERGE_FIXED_LINKS when a URDF has more fixed joints than this."""
MISSING_MASS_KG = 0.001


@dataclass(frozen=True)
class JointLimits:
    """Limits of one movable joint: position (rad or m), velocity (rad/s or m/s; None = placeholder), effort (N m or
    N; None = placeholder or missing)."""

    lower: float
    upper: float
    velocity: float | None
    effort: float | None


@dataclass(frozen=True)
class UrdfJoint:
    name: str
    kind: str
    parent: str
    child: str
    origin: NDArray[np.float64]
    limits: JointLimits


@dataclass(frozen=True)
class PreparedUrdf:
    """The file to load, whether to merge fixed links, joints by name, and notes on what was fixed."""

    source: Path
    load_path: Path
    merge_fixed: bool
    joints: dict[str, UrdfJoint]
    root_link: str
    notes: tuple[str, ...]
    link_masses: dict[str, float]
    """Mass (kg) of every link as written in the URDF (after filling in missing inertials)."""

    def base_mass(self, kept: set[str]) -> float:
        """Mass (kg) of the root link plus the links merged into it (fixed to it and not in `kept`)."""
        total = self.link_masses.get(self.root_link, 0.0)
        for name, mass in self.link_masses.items():
            if name not in kept and self.frame(name, kept | {self.root_link})[0] == self.root_link:
                total += mass
        return total

    def frame(self, link: str, kept: set[str]) -> tuple[str, NDArray[np.float64]]:
        """(`kept` link that carries `link`, 4x4 transform of `link` in that link's frame)."""
        by_child = {joint.child: joint for joint in self.joints.values()}
        transform = np.eye(4)
        current = link
        while current not in kept:
            joint = by_child.get(current)
            if joint is None or joint.kind != "fixed":
                raise RobotModelError(f"{self.source}: link {link!r} is neither loaded nor fixed to a loaded link")
            transform = joint.origin @ transform
            current = joint.parent
        return current, transform


def _origin(element: ET.Element | None) -> NDArray[np.float64]:
    transform = np.eye(4)
    if element is None:
        return transform
    xyz = [float(v) for v in element.get("xyz", "0 0 0").split()]
    roll, pitch, yaw = (float(v) for v in element.get("rpy", "0 0 0").split())
    cr, sr, cp, sp, cy, sy = (
        math.cos(roll),
        math.sin(roll),
        math.cos(pitch),
        math.sin(pitch),
        math.cos(yaw),
        math.sin(yaw),
    )
    transform[:3, :3] = np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )
    transform[:3, 3] = xyz
    return transform


def _limits(joint: ET.Element, kind: str) -> tuple[JointLimits, list[str]]:
    notes: list[str] = []
    name = joint.get("name", "?")
    limit = joint.find("limit")
    lower = float(limit.get("lower", "0")) if limit is not None else 0.0
    upper = float(limit.get("upper", "0")) if limit is not None else 0.0
    velocity: float | None = float(limit.get("velocity", "0")) if limit is not None else 0.0
    effort: float | None = float(limit.get("effort", "0")) if limit is not None else 0.0
    if kind == "continuous" or (kind == "revolute" and lower >= upper):
        if kind == "revolute":
            notes.append(f"joint {name!r} has no position limits: using [-pi, pi]")
        lower, upper = -math.pi, math.pi
    if velocity is not None and not 0.0 < velocity < PLACEHOLDER_LIMIT:
        notes.append(f"joint {name!r} velocity limit {velocity:g} is a placeholder: using the profile's speed")
        velocity = None
    if effort is not None and not 0.0 < effort < PLACEHOLDER_LIMIT:
        notes.append(f"joint {name!r} effort limit {effort:g} is a placeholder: no torque check for it")
        effort = None
    return JointLimits(lower, upper, velocity, effort), notes


def _package_roots(urdf: Path, package: str) -> list[Path]:
    roots = [parent / package for parent in urdf.resolve().parents]
    roots += [parent for parent in urdf.resolve().parents if parent.name == package]
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix:
            roots.append(Path(prefix) / "share" / package)
    for folder in os.environ.get("ROS_PACKAGE_PATH", "").split(os.pathsep):
        if folder:
            roots += [Path(folder) / package, Path(folder)]
    return roots


def _resolve_mesh(urdf: Path, filename: str) -> str:
    if filename.startswith("package://"):
        package, _, rest = filename[len("package://") :].partition("/")
        for root in _package_roots(urdf, package):
            candidate = root / rest
            if candidate.is_file():
                return str(candidate)
        raise RobotModelError(
            f"{urdf}: mesh {filename!r} not found: looked for a folder {package!r} above the URDF, in "
            "$AMENT_PREFIX_PATH/share and $ROS_PACKAGE_PATH"
        )
    if filename.startswith("file://"):
        filename = filename[len("file://") :]
    path = Path(filename)
    return str(path if path.is_absolute() else (urdf.parent / path).resolve())


def prepare_urdf(urdf: Path) -> PreparedUrdf:
    """Parse `urdf` and, when it needs fixing, write a fixed copy to a cache folder (keyed by its bytes and place)."""
    try:
        data = urdf.read_bytes()
        robot = ET.fromstring(data)
    except OSError as exc:
        raise RobotModelError(f"{urdf}: cannot read the URDF: {exc}") from exc
    except ET.ParseError as exc:
        raise RobotModelError(f"{urdf}: not valid XML: {exc}") from exc
    tree = ET.ElementTree(robot)
    if robot.tag != "robot":
        raise RobotModelError(f"{urdf}: root element is <{robot.tag}>, expected <robot>")
    notes: list[str] = []
    changed = False
    missing = 0
    for link in robot.findall("link"):
        if link.find("inertial") is None:
            missing += 1
            inertial = ET.SubElement(link, "inertial")
            ET.SubElement(inertial, "mass", value=str(MISSING_MASS_KG))
            ET.SubElement(inertial, "inertia", ixx="1e-7", ixy="0", ixz="0", iyy="1e-7", iyz="0", izz="1e-7")
            changed = True
    if missing:
        notes.append(f"{missing} link(s) without <inertial> got {MISSING_MASS_KG * 1000:g} g each")
    for mesh in robot.iter("mesh"):
        filename = mesh.get("filename", "")
        resolved = _resolve_mesh(urdf, filename)
        if resolved != filename:
            mesh.set("filename", resolved)
            changed = True
    joints: dict[str, UrdfJoint] = {}
    children: set[str] = set()
    for joint in robot.findall("joint"):
        kind = joint.get("type", "")
        name = joint.get("name", "")
        parent = joint.find("parent")
        child = joint.find("child")
        if parent is None or child is None:
            raise RobotModelError(f"{urdf}: joint {name!r} lacks <parent> or <child>")
        limits, limit_notes = _limits(joint, kind)
        notes += limit_notes
        joints[name] = UrdfJoint(
            name, kind, parent.get("link", ""), child.get("link", ""), _origin(joint.find("origin")), limits
        )
        children.add(child.get("link", ""))
    roots = [link.get("name", "") for link in robot.findall("link") if link.get("name") not in children]
    if len(roots) != 1:
        raise RobotModelError(f"{urdf}: expected one root link, found {len(roots)}: {roots[:5]}")
    fixed = sum(1 for joint in joints.values() if joint.kind == "fixed")
    merge = fixed > MERGE_FIXED_ABOVE
    if merge:
        notes.append(f"{fixed} fixed joints: links merged (URDF_MERGE_FIXED_LINKS)")
    load_path = urdf
    if changed:
        digest = hashlib.sha256(data + str(urdf.resolve()).encode()).hexdigest()[:16]  # meshes resolve per place
        folder = Path(tempfile.gettempdir()) / "humanoid_trials_urdf" / digest
        folder.mkdir(parents=True, exist_ok=True)
        load_path = folder / urdf.name
        if not load_path.is_file():
            partial = folder / f".{urdf.name}.{os.getpid()}"
            tree.write(partial, encoding="utf-8", xml_declaration=True)
            partial.replace(load_path)
    masses: dict[str, float] = {}
    for link in robot.findall("link"):
        mass = link.find("inertial/mass")
        masses[link.get("name", "")] = float(mass.get("value", "0")) if mass is not None else 0.0
    return PreparedUrdf(urdf, load_path, merge, joints, roots[0], tuple(notes), masses)
