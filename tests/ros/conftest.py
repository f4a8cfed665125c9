"""ROS test fixtures: the catalog, and a private ROS_DOMAIN_ID per test with localhost discovery."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from humanoid_trials.model import Catalog, load_catalog

_DOMAINS = itertools.count()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def ros_domain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> int:
    """A ROS_DOMAIN_ID private to this test (derived from the pid so concurrent runs differ), localhost only."""
    domain = 100 + (os.getpid() * 7 + next(_DOMAINS)) % 130
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain))
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    monkeypatch.setenv("HUMANOID_TRIALS_RESULTS", str(tmp_path / "results"))
    return domain
