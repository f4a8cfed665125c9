"""Fixtures of the simulation tests: the bundled catalog, the fixture cell and its failing scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanoid_trials.model import Catalog, load_catalog
from humanoid_trials.model.loader import validate as validate_model
from humanoid_trials.model.scenario import Scenario
from humanoid_trials.model.validation import RobotVerdict, ValidationReport
from humanoid_trials.model.yamlio import load_yaml
from humanoid_trials.sim.validator import validate, validate_scenarios, work_items

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def fixture_catalog() -> Catalog:
    """Bundled data plus the fixture cell site."""
    return load_catalog(extra=[FIXTURES / "fixture-cell.yaml"])


@pytest.fixture(scope="session")
def failing_scenario() -> Scenario:
    """One task per failing check; loaded without the catalog's cross-checks (its overload task would be refused)."""
    return validate_model(load_yaml(FIXTURES / "fixture-failures.yaml"), Scenario)


@pytest.fixture(scope="session")
def fixture_verdicts(fixture_catalog: Catalog, failing_scenario: Scenario) -> dict[str, RobotVerdict]:
    items = work_items(fixture_catalog, failing_scenario)
    return {item.task.id: verdict for item, verdict in zip(items, validate(items), strict=True)}


@pytest.fixture(scope="session")
def bundled_reports(catalog: Catalog) -> dict[str, ValidationReport]:
    """Every bundled scenario, validated once in this process."""
    reports = validate_scenarios(catalog, sorted(catalog.scenarios))
    return {report.scenario_id: report for report in reports}
