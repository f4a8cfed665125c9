"""Store writes on SQLite and PostgreSQL: event → rows, idempotent replays, batching, validations, schema checks."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from results_builders import TRIAL_1, at, attempt, finished, site_one_events, started, validation
from sqlalchemy import func, select

from humanoid_trials.model.events import Attempt, EventKind, Outcome, TrialEvent
from humanoid_trials.results import db
from humanoid_trials.results import store as store_module
from humanoid_trials.results.errors import EventError, MigrationError
from humanoid_trials.results.models import AttemptRow, RobotRow, SafetyEventRow, TrialEventRow, TrialRow
from humanoid_trials.results.store import Store


def _count(store: Store, model: type) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_events_become_rows(store: Store) -> None:
    events = site_one_events()
    assert store.record_events(events) == len(events)
    assert _count(store, TrialEventRow) == len(events)
    assert _count(store, AttemptRow) == 31
    assert _count(store, SafetyEventRow) == 4
    with store.engine.connect() as conn:
        trial = conn.execute(select(TrialRow)).one()
        robots = {row[0]: row[1] for row in conn.execute(select(RobotRow.id, RobotRow.model))}
        first = conn.execute(select(AttemptRow).where(AttemptRow.cycle_time_s == 20.0)).one()
        by_kind = select(TrialEventRow.kind, func.count()).group_by(TrialEventRow.kind)
        kinds = {row[0]: row[1] for row in conn.execute(by_kind)}
    assert (trial.site_id, trial.mode, trial.status, trial.robot_count) == ("s1", "field", "finished", 2)
    assert trial.started_at == at(0) and trial.finished_at == at(3600)
    assert trial.duration_s == pytest.approx(3600.0)
    assert robots == {"r1": "model-a", "r2": "model-b"}
    assert (first.site_id, first.task_type, first.robot_model, first.outcome) == ("s1", "pick_place", "model-a",
                                                                                  "success")
    assert (first.started_at, first.finished_at) == (at(580), at(600))
    assert kinds[EventKind.ATTEMPT_FINISHED.value] == 31
    assert kinds[EventKind.STOP.value] == kinds[EventKind.RESUME.value] == 1


def test_times_round_trip_exactly(store: Store) -> None:
    kst = timezone(timedelta(hours=9))
    begin = at(0.5).astimezone(kst)  # non-UTC offset and microseconds
    event = Attempt(TRIAL_1, "t", "press", "r1", "m", 1, begin, at(1), Outcome.SUCCESS).to_event()
    store.record_events([started(TRIAL_1, "s1", {}), event])
    with store.engine.connect() as conn:
        row = conn.execute(select(AttemptRow.started_at, AttemptRow.finished_at, AttemptRow.cycle_time_s)).one()
        since = conn.execute(select(func.count()).where(AttemptRow.finished_at >= at(1))).scalar_one()
    assert row == (at(0.5), at(1), 0.5)
    assert since == 1


def test_replay_is_idempotent(store: Store) -> None:
    events = site_one_events()
    store.record_events(events)
    store.record_events(reversed(events))
    store.record_events(events[:10])
    assert _count(store, TrialEventRow) == len(events)
    assert _count(store, AttemptRow) == 31
    assert _count(store, SafetyEventRow) == 4
    assert _count(store, TrialRow) == 1


def test_batches_and_out_of_order_attempts(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "BATCH_SIZE", 4)
    events = site_one_events()
    start, rest = events[0], events[1:]
    store.record_events(rest)  # attempts before their trial_started (a recorder replaying out of order)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(AttemptRow.site_id.is_(None))).scalar_one() == 31
    store.record_events([start])
    with store.engine.connect() as conn:
        sites = conn.execute(select(AttemptRow.site_id).distinct()).scalars().all()
    assert sites == ["s1"]
    assert _count(store, TrialEventRow) == len(events)


def test_bad_payload_names_the_event(store: Store) -> None:
    bad = TrialEvent(TRIAL_1, EventKind.ATTEMPT_FINISHED, {"task_id": "x"}, at(5))
    with pytest.raises(EventError, match=rf"event {bad.event_id} \(attempt_finished.*'started_at'"):
        store.record_events([started(TRIAL_1, "s1", {}), bad])
    assert _count(store, TrialEventRow) == 0  # the batch is one unit of work


def test_naive_time_is_refused(store: Store) -> None:
    event = TrialEvent(TRIAL_1, EventKind.STOP, {}, datetime(2026, 1, 1), uuid.uuid4())
    with pytest.raises(EventError, match=f"event {event.event_id} \\(stop.*naive datetime"):
        store.record_events([event])


def test_trial_end_for_unknown_trial_is_kept_as_event(store: Store) -> None:
    store.record_events([finished(uuid.uuid4(), 10.0), attempt(TRIAL_1, "press", "r1", "m", 0, 1.0, Outcome.FAILED)])
    assert _count(store, TrialEventRow) == 2
    assert _count(store, TrialRow) == 0


def test_validation_round_trip(store: Store) -> None:
    older = validation("sc", "s1", 0.0)
    newer = validation("sc", "s1", 60.0, fail_scenario=True)
    assert store.latest_validation("sc") is None
    first_id = store.save_validation(older)
    assert store.save_validation(older) == first_id  # saved once
    store.save_validation(newer)
    latest = store.latest_validation("sc")
    assert latest == newer
    assert latest is not None and not latest.passed
    assert store.latest_validation("other") is None


def test_new_sqlite_file_is_migrated(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'new.db'}"
    with Store(url) as opened:
        assert db.current_revision(opened.engine) == db.head_revision()


def test_database_behind_head_is_refused(empty_url: str) -> None:
    engine = db.make_engine(empty_url)
    db.upgrade(engine, "0001")
    engine.dispose()
    with pytest.raises(MigrationError, match=r"at revision 0001.*needs 0002.*db upgrade"):
        Store(empty_url)


def test_empty_postgres_needs_upgrade(empty_url: str) -> None:
    if not empty_url.startswith("postgresql"):
        Store(empty_url).close()  # SQLite: migrated on open instead
        return
    with pytest.raises(MigrationError, match="not initialised"):
        Store(empty_url)
