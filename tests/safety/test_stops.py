"""Emergency and protective stops: time until the robot reported stopped, explicit and recorded resume."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from humanoid_trials.model.events import EventKind, Severity
from humanoid_trials.model.site import SafetyParams
from humanoid_trials.safety.errors import ResumeRefusedError, StopError
from humanoid_trials.safety.stops import SITE, StopKind, StopLedger

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
TRIAL = uuid.UUID("00000000-0000-4000-8000-000000000001")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ledger() -> StopLedger:
    # budget T_r + T_s = 0.1 + 0.3 = 0.4 s; confirm timeout 2.0 s
    return StopLedger("site-a", ("r1", "r2"), SafetyParams())


def test_protective_stop_event_carries_time_until_robot_reported_stopped() -> None:
    book = ledger()
    records, immediate = book.stop(StopKind.PROTECTIVE, "separation 0.90 m < 0.91 m", at(0.0), robot_id="r1")
    assert immediate == []
    assert [r.robot_id for r in records] == ["r1"]
    assert book.stopped("r1") and not book.stopped("r2")
    assert book.robot_reported("r2", True, at(0.1)) == []  # r2 was not asked to stop
    (event,) = book.robot_reported("r1", True, at(0.25), trial_id=TRIAL)
    # time to stop = 0.25 s <= budget 0.4 s: info
    assert (event.type, event.robot_id, event.unit, event.severity) == ("protective_stop", "r1", "s", Severity.INFO)
    assert (event.measured, event.limit) == pytest.approx((0.25, 0.4))
    assert event.evidence["cause"] == "separation 0.90 m < 0.91 m"
    assert event.evidence["confirmed"] is True
    assert event.trial_id == TRIAL
    assert event.stamp == at(0.25)
    # a repeated "stopped" report does not repeat the event
    assert book.robot_reported("r1", True, at(0.35)) == []


def test_site_emergency_stop_books_every_robot_and_flags_a_slow_one() -> None:
    book = ledger()
    records, _ = book.stop(StopKind.EMERGENCY, "e-stop button line 3", at(0.0), requested_by="operator kim")
    assert sorted(r.robot_id for r in records) == ["r1", "r2"]
    (fast,) = book.robot_reported("r1", True, at(0.3))
    (slow,) = book.robot_reported("r2", True, at(0.55))
    assert (fast.type, fast.measured, fast.severity) == ("emergency_stop", 0.3, Severity.WARNING)
    # 0.55 s > 0.4 s: the stop took longer than S_p assumes
    assert (slow.measured, slow.severity) == (0.55, Severity.CRITICAL)
    assert slow.evidence["scope"] == "site"
    assert slow.evidence["requested_by"] == "operator kim"


def test_unconfirmed_stop_becomes_critical_after_the_timeout_once() -> None:
    book = ledger()
    book.stop(StopKind.PROTECTIVE, "test", at(0.0), robot_id="r2")
    assert book.tick(at(1.9)) == []
    (event,) = book.tick(at(2.5))
    assert (event.measured, event.severity, event.evidence["confirmed"]) == (2.5, Severity.CRITICAL, False)
    assert book.tick(at(3.0)) == []
    assert book.robot_reported("r2", True, at(3.2)) == []


def test_stopping_a_robot_that_already_stands_still_is_immediate() -> None:
    book = ledger()
    book.robot_reported("r1", True, at(0.0))
    _, (event,) = book.stop(StopKind.PROTECTIVE, "test", at(1.0), robot_id="r1")
    assert event.measured == 0.0
    book.robot_reported("r1", False, at(2.0))  # moving again
    _, immediate = book.stop(StopKind.PROTECTIVE, "again", at(3.0), robot_id="r1")
    assert immediate == []


def test_resume_is_explicit_scoped_and_recorded() -> None:
    book = ledger()
    book.stop(StopKind.EMERGENCY, "site e-stop", at(0.0))
    book.stop(StopKind.PROTECTIVE, "separation", at(1.0), robot_id="r1")
    book.robot_reported("r1", True, at(1.2))
    with pytest.raises(ResumeRefusedError, match="who requests it and why"):
        book.resume(at(5.0), requested_by="", reason="clear")
    with pytest.raises(ResumeRefusedError, match=r"site-wide stop.*resume the site first"):
        book.resume(at(5.0), robot_id="r1", requested_by="kim", reason="area clear")
    site = book.resume(at(5.0), requested_by="kim", reason="area clear")
    assert sorted(r.robot_id for r in site) == ["r1", "r2"]
    r2 = next(r for r in site if r.robot_id == "r2")
    assert (r2.held_for_s, r2.confirmed) == (5.0, False)  # r2 never reported stopped
    assert not book.stopped("r2")
    assert book.stopped("r1")  # its own protective stop is still active
    (own,) = book.resume(at(6.0), robot_id="r1", requested_by="kim", reason="worker left")
    assert (own.held_for_s, own.confirmed) == (5.0, True)
    event = own.to_event("site-a", TRIAL)
    assert event.kind is EventKind.RESUME
    assert event.payload["robot_id"] == "r1"
    assert event.payload["requested_by"] == "kim"
    assert event.payload["reason"] == "worker left"
    assert event.payload["held_for_s"] == 5.0
    with pytest.raises(ResumeRefusedError, match="nothing to resume"):
        book.resume(at(7.0), robot_id="r1", requested_by="kim", reason="again")
    with pytest.raises(ResumeRefusedError, match="nothing to resume: site"):
        book.resume(at(7.0), robot_id=SITE, requested_by="kim", reason="again")


def test_unknown_robot_and_empty_site_are_errors() -> None:
    with pytest.raises(StopError, match="no robot 'r7'; robots: r1, r2"):
        ledger().stop(StopKind.PROTECTIVE, "x", at(0.0), robot_id="r7")
    with pytest.raises(StopError, match="no robots"):
        StopLedger("site-a", (), SafetyParams())
