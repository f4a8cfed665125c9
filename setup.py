"""ament_python package `humanoid_trials`: works with `colcon build` on a ROS 2 install and with plain pip."""

from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "humanoid_trials"
ROOT = Path(__file__).resolve().parent
SHARE = f"share/{PACKAGE}"


def tree(folder: str, patterns: tuple[str, ...] = ("*",)) -> list[tuple[str, list[str]]]:
    """data_files entries that install `folder` (relative to this file) under share/humanoid_trials/."""
    groups: dict[str, list[str]] = {}
    for pattern in patterns:
        for path in sorted((ROOT / folder).rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.relative_to(ROOT)
                groups.setdefault(f"{SHARE}/{rel.parent.as_posix()}", []).append(rel.as_posix())
    return sorted(groups.items())


NODES = ["trial_dispatcher", "robot_node", "trial_recorder", "safety_monitor"]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=[PACKAGE, f"{PACKAGE}.*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (SHARE, ["package.xml"]),
        (f"lib/{PACKAGE}", [f"ros_launch/nodes/{node}" for node in NODES]),
        *tree("ros_launch", ("*.launch.py", "*.yaml")),
        *tree("sim"),
        *tree("sites", ("*.yaml",)),
        *tree("tasks", ("*.yaml",)),
        *tree("results", ("alembic.ini", "*.py", "*.mako", "README.md")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="humanoid-trials developers",
    maintainer_email="dev@humanoid-trials.local",
    description="Humanoid-robot field trials: ROS 2 dispatch, PyBullet pre-validation, results store and reports.",
    license="Apache-2.0",
    python_requires=">=3.11",
    entry_points={"console_scripts": ["humanoid-trials = humanoid_trials.cli.main:main"]},
)
