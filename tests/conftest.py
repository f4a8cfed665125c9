"""Shared fixtures: the bundled data root and a copy of it that a test may change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from humanoid_trials import paths


@pytest.fixture(scope="session")
def share() -> Path:
    return paths.share_dir()


@pytest.fixture
def data_copy(tmp_path: Path, share: Path) -> Path:
    """A writable copy of the bundled data (sim/robots, sites, tasks/scenarios)."""
    root = tmp_path / "share"
    for folder in ("sim/robots", "sites", "tasks/scenarios"):
        shutil.copytree(share / folder, root / folder)
    (root / "package.xml").write_text((share / "package.xml").read_text())
    return root
