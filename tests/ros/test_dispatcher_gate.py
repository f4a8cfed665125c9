"""The validation gate as the dispatcher node applies it: field mode refuses failed, stale or missing validations;
an override is accepted and recorded as an event; sim mode is not gated."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import rclpy
from rclpy.context import Context
from rclpy.parameter import Parameter

from humanoid_trials.dispatch.gate import Override
from humanoid_trials.model import Catalog
from humanoid_trials.model.events import EventKind
from humanoid_trials.model.validation import ValidationReport, Verdict
from humanoid_trials.results import Store
from humanoid_trials.ros.trial_dispatcher import TrialDispatcher

SCENARIO = "ulsan-door-bolts"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gate.db'}"


@pytest.fixture
def dispatcher(ros_domain: int, db_url: str) -> Iterator[TrialDispatcher]:
    context = Context()
    rclpy.init(context=context, domain_id=ros_domain)
    node = TrialDispatcher(context=context, parameter_overrides=[Parameter("db", value=db_url)])
    try:
        yield node
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=context)


def _save(db_url: str, catalog: Catalog, verdict: Verdict, content_hash: str | None = None) -> None:
    scenario = catalog.scenario(SCENARIO)
    report = ValidationReport(
        scenario_id=SCENARIO,
        site_id=scenario.site,
        content_hash=content_hash or catalog.content_hash(SCENARIO),
        verdict=verdict,
        tasks=(),
        software_version="test",
        pybullet_version="3.2.7",
        created_at=datetime.now(UTC).isoformat(),
    )
    with Store(db_url) as store:
        store.save_validation(report)


def test_field_trial_of_a_never_validated_scenario_is_refused(dispatcher: TrialDispatcher) -> None:
    accepted, reason, trial_id = dispatcher.request_start("", SCENARIO, "field", None)
    assert not accepted and trial_id == ""
    assert "never been validated" in reason
    assert dispatcher.trial is None


def test_field_trial_of_a_failed_scenario_is_refused(
    dispatcher: TrialDispatcher, db_url: str, catalog: Catalog
) -> None:
    _save(db_url, catalog, Verdict.FAIL)
    accepted, reason, _ = dispatcher.request_start("", SCENARIO, "field", None)
    assert not accepted
    assert "failed" in reason


def test_field_trial_of_a_stale_validation_is_refused(
    dispatcher: TrialDispatcher, db_url: str, catalog: Catalog
) -> None:
    _save(db_url, catalog, Verdict.PASS, content_hash="0" * 64)
    accepted, reason, _ = dispatcher.request_start("", SCENARIO, "field", None)
    assert not accepted
    assert "validate again" in reason


def test_field_trial_of_a_passed_scenario_is_accepted(
    dispatcher: TrialDispatcher, db_url: str, catalog: Catalog
) -> None:
    _save(db_url, catalog, Verdict.PASS)
    accepted, reason, trial_id = dispatcher.request_start("", SCENARIO, "field", None)
    assert accepted, reason
    assert dispatcher.trial is not None and str(dispatcher.trial.machine.trial_id) == trial_id
    assert dispatcher.trial.clock.time_scale == 1.0  # field trials run on the wall clock


def test_override_starts_a_refused_field_trial_and_is_recorded(
    dispatcher: TrialDispatcher, db_url: str, catalog: Catalog
) -> None:
    _save(db_url, catalog, Verdict.FAIL)
    accepted, reason, trial_id = dispatcher.request_start("", SCENARIO, "field", Override("kim", "line trial"))
    assert accepted, reason
    assert dispatcher.trial is not None
    [event] = dispatcher.trial.extra_events
    assert event.kind is EventKind.VALIDATION_OVERRIDE
    assert str(event.trial_id) == trial_id
    assert event.payload["who"] == "kim" and event.payload["why"] == "line trial"


def test_sim_trial_is_not_gated_and_a_second_start_is_refused(dispatcher: TrialDispatcher) -> None:
    accepted, reason, _ = dispatcher.request_start("", SCENARIO, "sim", None)
    assert accepted, reason
    again, why, _ = dispatcher.request_start("", SCENARIO, "sim", None)
    assert not again
    assert "still running" in why


def test_unknown_scenario_mode_and_site_are_refused_with_reasons(dispatcher: TrialDispatcher) -> None:
    assert "no-such-scenario" in dispatcher.request_start("", "no-such-scenario", "sim", None)[1]
    assert "mode 'moon'" in dispatcher.request_start("", SCENARIO, "moon", None)[1]
    assert "written for site" in dispatcher.request_start("geoje-hull-block", SCENARIO, "sim", None)[1]
