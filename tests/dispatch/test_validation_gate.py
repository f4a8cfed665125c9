"""The validation gate: field mode refuses failed, stale or missing validations; sim mode and overrides pass."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from dispatch_builders import TRIAL_ID, at

from humanoid_trials.dispatch.errors import GateError
from humanoid_trials.dispatch.gate import GateDecision, Override, TrialMode, ValidationLike, check_gate
from humanoid_trials.model.events import EventKind, TrialEvent
from humanoid_trials.model.validation import ValidationReport, Verdict

CURRENT = "c0ffee" + "1" * 58
OLD = "0ddba11" + "2" * 57


@dataclass(frozen=True)
class Latest:
    verdict: str
    content_hash: str


def report(verdict: Verdict, content_hash: str) -> ValidationReport:
    return ValidationReport(scenario_id="s", site_id="site", content_hash=content_hash, verdict=verdict, tasks=(),
                            software_version="test", pybullet_version="3.2.7")


def gate(mode: str, latest: ValidationLike | None, override: Override | None = None) -> GateDecision:
    return check_gate(mode, CURRENT, latest, override, trial_id=TRIAL_ID, now=at(0))


def test_sim_mode_is_always_allowed() -> None:
    for latest in (None, report(Verdict.FAIL, OLD)):
        decision = gate("sim", latest)
        assert decision.allowed and decision.event is None


@pytest.mark.parametrize("verdict", [Verdict.PASS, Verdict.WARN])
def test_field_mode_allows_a_current_pass_or_warn(verdict: Verdict) -> None:
    decision = gate(TrialMode.FIELD, report(verdict, CURRENT))
    assert decision.allowed
    assert decision.reason == f"latest validation of content c0ffee111111: {verdict.value}"


def test_field_mode_refuses_failed_validation() -> None:
    decision = gate("field", report(Verdict.FAIL, CURRENT))
    assert not decision.allowed
    assert decision.reason == "refused: latest validation of content c0ffee111111 failed; fix the scenario and " \
        "validate again"


def test_field_mode_refuses_stale_validation_naming_both_hashes() -> None:
    decision = gate("field", report(Verdict.PASS, OLD))
    assert not decision.allowed
    assert "0ddba1122222" in decision.reason and "c0ffee111111" in decision.reason
    assert CURRENT not in decision.reason  # shortened


def test_field_mode_refuses_missing_validation() -> None:
    decision = gate("field", None)
    assert not decision.allowed
    assert "never been validated" in decision.reason


def test_plain_protocol_values_work() -> None:
    assert gate("field", Latest("pass", CURRENT)).allowed
    assert not gate("field", Latest("fail", CURRENT)).allowed


def test_override_allows_and_is_recorded() -> None:
    decision = gate("field", report(Verdict.FAIL, OLD), Override(who="kim.j", why="supervised first run"))
    assert decision.allowed
    assert decision.reason.startswith("overridden by kim.j (supervised first run)")
    event = decision.event
    assert event is not None
    assert (event.kind, event.trial_id, event.stamp) == (EventKind.VALIDATION_OVERRIDE, TRIAL_ID, at(0))
    assert event.payload["who"] == "kim.j" and event.payload["why"] == "supervised first run"
    assert event.payload["content_hash"] == CURRENT and event.payload["validated_hash"] == OLD
    assert event.payload["validated_verdict"] == "fail"
    assert TrialEvent.from_json(event.to_json()) == event
    # an override where none is needed records nothing
    assert gate("field", report(Verdict.PASS, CURRENT), Override("kim.j", "x")).event is None


def test_bad_gate_input() -> None:
    with pytest.raises(GateError, match="unknown trial mode 'lab'"):
        gate("lab", None)
    with pytest.raises(GateError, match="who"):
        gate("field", None, Override(who=" ", why="because"))
