"""The catalog: every robot profile, site and scenario, loaded together and cross-checked.

Cross-references (sites → profiles, scenarios → sites, stations, objects, robots, zones) are checked here, with the
position of the referring field. The scenario content hash covers the scenario, its site, the robot profiles its site
deploys and their URDF files, and is stable over key order and formatting.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from humanoid_trials import paths
from humanoid_trials.model.errors import ConfigError, Problem, UnknownNameError
from humanoid_trials.model.loader import validate
from humanoid_trials.model.robot import RobotProfile
from humanoid_trials.model.scenario import Scenario
from humanoid_trials.model.site import Site
from humanoid_trials.model.yamlio import Located, load_yaml
from humanoid_trials.tasks import TASK_TYPES

HASH_SCHEMA = "humanoid-trials/content-hash/1"


@dataclass(frozen=True)
class Catalog:
    """Validated profiles, sites and scenarios by id, with the file each came from."""

    profiles: Mapping[str, RobotProfile] = field(default_factory=dict)
    sites: Mapping[str, Site] = field(default_factory=dict)
    scenarios: Mapping[str, Scenario] = field(default_factory=dict)
    files: Mapping[tuple[str, str], Path] = field(default_factory=dict)

    def profile(self, profile_id: str) -> RobotProfile:
        if profile_id not in self.profiles:
            raise UnknownNameError("robot profile", profile_id, list(self.profiles))
        return self.profiles[profile_id]

    def site(self, site_id: str) -> Site:
        if site_id not in self.sites:
            raise UnknownNameError("site", site_id, list(self.sites))
        return self.sites[site_id]

    def scenario(self, scenario_id: str) -> Scenario:
        if scenario_id not in self.scenarios:
            raise UnknownNameError("scenario", scenario_id, list(self.scenarios))
        return self.scenarios[scenario_id]

    def robot_profile(self, site: Site, robot_id: str) -> RobotProfile:
        """Profile of a robot deployed at `site`."""
        return self.profile(site.robot(robot_id).profile)

    def content_hash(self, scenario_id: str) -> str:
        """sha256 (hex) of the scenario, its site, the site's robot profiles and their URDF files."""
        scenario = self.scenario(scenario_id)
        site = self.site(scenario.site)
        profiles = {}
        for profile_id in sorted({robot.profile for robot in site.robots}):
            profile = self.profile(profile_id)
            dumped = profile.model_dump(mode="json")
            dumped["urdf"] = _file_digest(Path(profile.urdf))
            profiles[profile_id] = dumped
        document = {
            "schema": HASH_SCHEMA,
            "scenario": scenario.model_dump(mode="json"),
            "site": site.model_dump(mode="json"),
            "profiles": profiles,
        }
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bundled_files(root: Path | None = None) -> list[Path]:
    """All profile, site and scenario files under a data root (default: the installed share folder)."""
    base = root or paths.share_dir()
    found = sorted((base / "sim" / "robots").glob("*/profile.yaml"))
    found += sorted((base / "sites").glob("*.yaml"))
    found += sorted((base / "tasks" / "scenarios").glob("*.yaml"))
    return found


def load_catalog(root: Path | None = None, extra: Iterable[Path] = ()) -> Catalog:
    """Load and cross-check the bundled data (plus `extra` files). Raises ConfigError with every problem found."""
    return _Builder(root or paths.share_dir()).build([*bundled_files(root), *extra])


def check_files(files: Iterable[Path], root: Path | None = None) -> tuple[Catalog | None, list[Problem]]:
    """Check `files` (and what they refer to in the bundled data). Returns the catalog when there were no problems."""
    try:
        catalog = _Builder(root or paths.share_dir()).build([*bundled_files(root), *files], only=set(files))
    except ConfigError as exc:
        return None, list(exc.problems)
    return catalog, []


def kind_of(data: Any) -> str | None:
    """Which kind of file a parsed YAML mapping is: 'robot profile', 'site', 'scenario' or None."""
    if not isinstance(data, dict):
        return None
    if "tasks" in data:
        return "scenario"
    if "layout" in data or "takt_time_s" in data:
        return "site"
    if "urdf" in data or "arms" in data:
        return "robot profile"
    if "regions" in data:
        return "body-region limit table"
    return None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class _Builder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.located: dict[tuple[str, str], Located] = {}
        self.files: dict[tuple[str, str], Path] = {}
        self.profiles: dict[str, RobotProfile] = {}
        self.sites: dict[str, Site] = {}
        self.scenarios: dict[str, Scenario] = {}

    def build(self, files: list[Path], only: set[Path] | None = None) -> Catalog:
        seen: set[Path] = set()
        for path in files:
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            self._load(path)
        for key, located in self.located.items():
            kind, ident = key
            if kind == "robot profile":
                self._check_profile(self.profiles[ident], located)
            elif kind == "site":
                self._check_site(self.sites[ident], located)
            else:
                self._check_scenario(self.scenarios[ident], located)
        if only is not None:
            wanted = {_display(p) for p in only}
            self.problems = [p for p in self.problems if p.file in wanted] or self.problems
        if self.problems:
            raise ConfigError(self.problems)
        return Catalog(self.profiles, self.sites, self.scenarios, self.files)

    def _load(self, path: Path) -> None:
        name = _display(path)
        try:
            located = load_yaml(path, display=name)
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            return
        kind = kind_of(located.data)
        if kind is None:
            self.problems.append(
                located.problem(
                    (),
                    "not a site, robot profile, scenario or body-region limit file: expected the fields of one "
                    "of them (a scenario has 'tasks', a site 'layout', a robot profile 'urdf', a limit table "
                    "'regions')",
                )
            )
            return
        try:
            obj: Any
            if kind == "body-region limit table":
                from humanoid_trials.safety.force import BodyRegionTable  # safety builds on the model: import late

                validate(located, BodyRegionTable)
                return
            if kind == "robot profile":
                obj = validate(located, RobotProfile)
                urdf = (path.parent / obj.urdf).resolve()
                obj = obj.model_copy(update={"urdf": str(urdf)})
                registry: dict[str, Any] = self.profiles
            elif kind == "site":
                obj = validate(located, Site)
                registry = self.sites
            else:
                obj = validate(located, Scenario)
                obj = obj.model_copy(update={"source_path": str(path.resolve())})
                registry = self.scenarios
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            return
        key = (kind, obj.id)
        if obj.id in registry:
            self.problems.append(
                located.problem(("id",), f"{kind} id {obj.id!r} is already used by {_display(self.files[key])}")
            )
            return
        registry[obj.id] = obj
        self.located[key] = located
        self.files[key] = path

    # -- robot profiles -------------------------------------------------------------------------------------------
    def _check_profile(self, profile: RobotProfile, located: Located) -> None:
        for i, capability in enumerate(profile.capabilities):
            if capability not in TASK_TYPES:
                self._unknown(located, ("capabilities", i), "task type", capability, TASK_TYPES)
        urdf = Path(profile.urdf)
        if not urdf.is_file():
            self.problems.append(located.problem(("urdf",), f"URDF file not found: {urdf}"))
            return
        try:
            tree = ET.parse(urdf)
        except ET.ParseError as exc:
            self.problems.append(located.problem(("urdf",), f"URDF file {urdf.name} is not valid XML: {exc}"))
            return
        links = {el.get("name", "") for el in tree.getroot().iter("link")}
        joints = {el.get("name", ""): el.get("type", "") for el in tree.getroot().iter("joint")}
        if profile.base_link not in links:
            self._unknown(located, ("base_link",), f"link in {urdf.name}", profile.base_link, links)
        for a, arm in enumerate(profile.arms):
            for j, joint in enumerate(arm.joints):
                if joint not in joints:
                    self._unknown(located, ("arms", a, "joints", j), f"joint in {urdf.name}", joint, joints)
                elif joints[joint] == "fixed":
                    self.problems.append(
                        located.problem(
                            ("arms", a, "joints", j),
                            f"joint {joint!r} is fixed in {urdf.name}; expected a revolute or prismatic joint",
                        )
                    )
            if arm.end_effector_link not in links:
                self._unknown(
                    located, ("arms", a, "end_effector_link"), f"link in {urdf.name}", arm.end_effector_link, links
                )
        for f, foot in enumerate(profile.support.feet):
            if foot not in links:
                self._unknown(located, ("support", "feet", f), f"link in {urdf.name}", foot, links)

    # -- sites ----------------------------------------------------------------------------------------------------
    def _check_site(self, site: Site, located: Located) -> None:
        self._duplicates(located, ("layout", "stations"), [s.id for s in site.layout.stations], "station")
        self._duplicates(located, ("layout", "objects"), [o.id for o in site.layout.objects], "object")
        self._duplicates(located, ("human_zones",), [z.id for z in site.human_zones], "human zone")
        self._duplicates(located, ("robots",), [r.id for r in site.robots], "robot")
        stations = {s.id for s in site.layout.stations}
        width, depth = site.layout.floor_m
        for i, station in enumerate(site.layout.stations):
            if not (0 <= station.pose.x_m <= width and 0 <= station.pose.y_m <= depth):
                self.problems.append(
                    located.problem(
                        ("layout", "stations", i, "pose"),
                        f"station {station.id!r} at ({station.pose.x_m}, {station.pose.y_m}) m is outside the floor "
                        f"(0..{width} × 0..{depth} m)",
                    )
                )
        for i, obj in enumerate(site.layout.objects):
            if obj.station not in stations:
                self._unknown(located, ("layout", "objects", i, "station"), "station", obj.station, stations)
            if not (0 <= obj.pose.x_m <= width and 0 <= obj.pose.y_m <= depth):
                self.problems.append(
                    located.problem(
                        ("layout", "objects", i, "pose"),
                        f"object {obj.id!r} at ({obj.pose.x_m}, {obj.pose.y_m}) m is outside the floor "
                        f"(0..{width} × 0..{depth} m)",
                    )
                )
        for i, robot in enumerate(site.robots):
            if robot.profile not in self.profiles:
                self._unknown(located, ("robots", i, "profile"), "robot profile", robot.profile, self.profiles)
            if robot.home_station not in stations:
                self._unknown(located, ("robots", i, "home_station"), "station", robot.home_station, stations)
        table = self.root / "sites" / "safety" / f"{site.safety.body_region_limits}.yaml"
        if not table.is_file():
            known = [p.stem for p in (self.root / "sites" / "safety").glob("*.yaml")]
            self._unknown(
                located,
                ("safety", "body_region_limits"),
                "body-region limit table",
                site.safety.body_region_limits,
                known,
            )

    # -- scenarios ------------------------------------------------------------------------------------------------
    def _check_scenario(self, scenario: Scenario, located: Located) -> None:
        task_ids = [t.id for t in scenario.tasks]
        self._duplicates(located, ("tasks",), task_ids, "task")
        known_tasks = set(task_ids)
        for i, task in enumerate(scenario.tasks):
            for d, dep in enumerate(task.depends_on):
                if dep == task.id:
                    self.problems.append(
                        located.problem(("tasks", i, "depends_on", d), f"task {task.id!r} depends on itself")
                    )
                elif dep not in known_tasks:
                    self._unknown(located, ("tasks", i, "depends_on", d), "task", dep, known_tasks)
        self._check_cycles(scenario, located)
        site = self.sites.get(scenario.site)
        if site is None:
            self._unknown(located, ("site",), "site", scenario.site, self.sites)
            return
        stations = {s.id for s in site.layout.stations}
        objects = {o.id for o in site.layout.objects}
        robots = {r.id: r for r in site.robots}
        zones = {z.id for z in site.human_zones}
        for i, task in enumerate(scenario.tasks):
            for sub, ident in task.params.object_refs():
                if ident not in objects:
                    self._unknown(
                        located, ("tasks", i, "params", *sub), "object", ident, objects, scope=f" at site {site.id!r}"
                    )
            for sub, ident in task.params.station_refs():
                if ident not in stations:
                    self._unknown(
                        located, ("tasks", i, "params", *sub), "station", ident, stations, scope=f" at site {site.id!r}"
                    )
            for r, robot_id in enumerate(task.robots):
                if robot_id not in robots:
                    self._unknown(
                        located, ("tasks", i, "robots", r), "robot", robot_id, robots, scope=f" at site {site.id!r}"
                    )
            self._check_capable(site, task, i, located)
        for i, perturbation in enumerate(scenario.perturbations):
            perturbed_robot: str | None = getattr(perturbation, "robot", None)
            if perturbed_robot is not None and perturbed_robot not in robots:
                self._unknown(
                    located,
                    ("perturbations", i, "robot"),
                    "robot",
                    perturbed_robot,
                    robots,
                    scope=f" at site {site.id!r}",
                )
            zone_id = getattr(perturbation, "zone", None)
            if zone_id is not None and zone_id not in zones:
                self._unknown(
                    located, ("perturbations", i, "zone"), "human zone", zone_id, zones, scope=f" at site {site.id!r}"
                )
            task_id = getattr(perturbation, "task", None)
            if task_id is not None and task_id not in known_tasks:
                self._unknown(located, ("perturbations", i, "task"), "task", task_id, known_tasks)

    def _check_capable(self, site: Site, task: Any, index: int, located: Located) -> None:
        deployed = {r.id for r in site.robots}
        if any(robot_id not in deployed for robot_id in task.robots):
            return  # the unknown robot is reported on its own
        allowed = [r for r in site.robots if not task.robots or r.id in task.robots]
        profiled = [(r, self.profiles[r.profile]) for r in allowed if r.profile in self.profiles]
        if len(profiled) != len(allowed):
            return  # an unknown profile is reported on the site
        capable = [(r, p) for r, p in profiled if task.type in p.capabilities]
        where = ("tasks", index, "type")
        if not capable:
            listing = "; ".join(f"{r.id} ({p.id}: {', '.join(p.capabilities)})" for r, p in profiled)
            self.problems.append(
                located.problem(
                    where, f"no deployed robot can do {task.type!r}: allowed robots at {site.id!r} are {listing}"
                )
            )
            return
        need = task.params.payload_kg()
        two_handed = type(task.params).two_handed

        def limit(profile: RobotProfile) -> float:
            return profile.payload_kg.total if two_handed else profile.payload_kg.per_arm

        best_robot, best = max(capable, key=lambda rp: limit(rp[1]))
        if need > limit(best):
            kind = "both arms" if two_handed else "one arm"
            self.problems.append(
                located.problem(
                    ("tasks", index, "params"),
                    f"needs a payload of {need:g} kg ({kind}); the largest on site is {limit(best):g} kg "
                    f"({best_robot.id}, {best.id})",
                )
            )

    def _check_cycles(self, scenario: Scenario, located: Located) -> None:
        graph = {t.id: [d for d in t.depends_on if d != t.id] for t in scenario.tasks}
        index = {t.id: i for i, t in enumerate(scenario.tasks)}
        state: dict[str, int] = {}
        reported: set[frozenset[str]] = set()

        def visit(node: str, stack: list[str]) -> None:
            state[node] = 1
            stack.append(node)
            for dep in graph.get(node, []):
                if dep not in graph:
                    continue
                if state.get(dep) == 1:
                    cycle = [*stack[stack.index(dep) :], dep]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        self.problems.append(
                            located.problem(
                                ("tasks", index[dep], "depends_on"), "dependency cycle: " + " -> ".join(cycle)
                            )
                        )
                elif state.get(dep) is None:
                    visit(dep, stack)
            stack.pop()
            state[node] = 2

        for task_id in graph:
            if task_id not in state:
                visit(task_id, [])

    # -- helpers --------------------------------------------------------------------------------------------------
    def _duplicates(self, located: Located, path: tuple[str | int, ...], ids: list[str], what: str) -> None:
        first: dict[str, int] = {}
        for i, ident in enumerate(ids):
            if ident in first:
                line = located.position((*path, first[ident]))[0]
                self.problems.append(
                    located.problem((*path, i, "id"), f"{what} id {ident!r} is used twice (first on line {line})")
                )
            else:
                first[ident] = i

    def _unknown(
        self,
        located: Located,
        path: tuple[str | int, ...],
        what: str,
        name: str,
        known: Iterable[str] | Mapping[str, Any],
        scope: str = "",
    ) -> None:
        from difflib import get_close_matches

        names = sorted(known)
        close = get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listing = ", ".join(names[:12]) + (", …" if len(names) > 12 else "") if names else "none"
        self.problems.append(located.problem(path, f"unknown {what} {name!r}{scope}{hint}; expected one of: {listing}"))
