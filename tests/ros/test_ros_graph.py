"""The node graph description (pure): one namespaced robot node per deployed robot, params files keyed by node."""

from __future__ import annotations

import py_compile
from pathlib import Path

import yaml

import humanoid_trials.ros
from humanoid_trials import paths
from humanoid_trials.model import Catalog
from humanoid_trials.ros.graph import robot_nodes, trial_nodes, write_params_file
from humanoid_trials.ros.names import robot_namespace, robot_topic


def test_robot_namespace_makes_valid_ros_names() -> None:
    assert robot_namespace("rby1-01") == "rby1_01"
    assert robot_namespace("cell.a-2") == "cell_a_2"
    assert robot_namespace("7-axis") == "r_7_axis"
    assert robot_topic("rby1-01", "execute_task") == "/rby1_01/execute_task"


def test_one_robot_node_per_deployed_robot_in_its_namespace(catalog: Catalog) -> None:
    for site in catalog.sites.values():
        nodes = robot_nodes(site, {"backend": "sim"})
        assert [n.namespace for n in nodes] == [robot_namespace(r.id) for r in site.robots]
        assert [n.parameters["robot_id"] for n in nodes] == [r.id for r in site.robots]
        assert {n.parameters["site"] for n in nodes} == {site.id}
        assert {n.fqn for n in nodes} == {f"/{robot_namespace(r.id)}/robot_node" for r in site.robots}


def test_trial_graph_without_robots_for_field_mode(catalog: Catalog) -> None:
    site = catalog.site("icheon-logistics-hub")
    sim = trial_nodes(site, scenario="icheon-tote-shuttle", mode="sim")
    field = trial_nodes(site, scenario="icheon-tote-shuttle", mode="field", with_robots=False)
    assert sum(n.executable == "robot_node" for n in sim) == len(site.robots)
    assert [n.executable for n in field] == ["trial_recorder", "safety_monitor", "trial_dispatcher"]
    dispatcher = next(n for n in field if n.executable == "trial_dispatcher")
    assert dispatcher.parameters["mode"] == "field"
    assert dispatcher.parameters["scenario"] == "icheon-tote-shuttle"
    waiting = trial_nodes(site, scenario="icheon-tote-shuttle", auto_start=False)
    assert next(n for n in waiting if n.executable == "trial_dispatcher").parameters["scenario"] == ""


def test_params_file_is_keyed_by_fully_qualified_node_name(catalog: Catalog, tmp_path: Path) -> None:
    site = catalog.site("ulsan-door-assembly")
    nodes = trial_nodes(site, scenario="ulsan-door-bolts", time_scale=5.0)
    data = yaml.safe_load(write_params_file(nodes, tmp_path / "p.yaml").read_text())
    assert data["/rby1_01/robot_node"]["ros__parameters"]["robot_id"] == "rby1-01"
    assert data["/trial_dispatcher"]["ros__parameters"]["time_scale"] == 5.0
    assert set(data) == {n.fqn for n in nodes}


def test_launch_files_are_valid_python_and_params_use_wildcard_keys() -> None:
    launch = paths.launch_dir()
    files = sorted(launch.glob("*.launch.py"))
    assert {f.name for f in files} >= {"sim_trial.launch.py", "field_trial.launch.py"}
    launch_support = Path(humanoid_trials.ros.__file__).parent / "launch_support.py"  # imports launch: compile only
    for path in [*files, launch_support]:
        py_compile.compile(str(path), doraise=True)
    for params in sorted(paths.params_dir().glob("*.yaml")):
        data = yaml.safe_load(params.read_text())
        assert data and all(key.startswith("/**/") for key in data), f"{params.name}: keys must be /**/node_name"
        assert all("ros__parameters" in value for value in data.values())
