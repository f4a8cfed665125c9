"""Alembic migrations on SQLite and PostgreSQL: an empty database, and one at the previous revision with data."""

from __future__ import annotations

import uuid

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from results_builders import T0
from sqlalchemy import inspect, text

from humanoid_trials.results import db
from humanoid_trials.results.models import Base
from humanoid_trials.results.report import build_site_report
from humanoid_trials.results.store import Store


def test_upgrade_empty_database_matches_models(empty_url: str) -> None:
    engine = db.make_engine(empty_url)
    try:
        assert db.current_revision(engine) is None
        assert db.upgrade(engine) == db.head_revision()
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert set(Base.metadata.tables) <= tables
        assert diff == []
    finally:
        engine.dispose()


def test_upgrade_from_previous_revision_keeps_and_backfills_data(empty_url: str) -> None:
    engine = db.make_engine(empty_url)
    trial, attempt = uuid.uuid4(), uuid.uuid4()
    naive = T0.replace(tzinfo=None)
    try:
        db.upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO site (id, name, company, industry, city, country, takt_time_s) "
                              "VALUES ('old', 'Old site', '', '', '', '', 30.0)"))
            conn.execute(text("INSERT INTO trial (id, site_id, scenario_id, scenario_hash, mode, software_version, "
                              "operator, robot_count, started_at, finished_at, duration_s, status) VALUES (:id, 'old', "
                              "'sc', '', 'field', '0.0.9', 'op', 1, :t, :t, 3600.0, 'finished')"),
                         {"id": _uuid_param(engine, trial), "t": naive})
            conn.execute(text("INSERT INTO attempt (id, trial_id, task_id, task_type, robot_id, robot_model, "
                              "attempt_no, started_at, finished_at, cycle_time_s, outcome, reason) "
                              "VALUES (:id, :trial, 't', 'press', 'r1', 'm', 1, :t, :t, 12.5, 'success', '')"),
                         {"id": _uuid_param(engine, attempt), "trial": _uuid_param(engine, trial), "t": naive})
        assert db.upgrade(engine) == "0002"
        with engine.connect() as conn:
            assert conn.execute(text("SELECT site_id, mode FROM attempt")).one() == ("old", "field")
            indexes = {ix["name"] for ix in inspect(conn).get_indexes("attempt")}
        assert "ix_attempt_report" in indexes
    finally:
        engine.dispose()
    with Store(empty_url) as store:
        report = build_site_report(store, "old")
    assert (report.attempts, report.successes, report.cycle_p95_s) == (1, 1, 12.5)


def _uuid_param(engine: object, value: uuid.UUID) -> object:
    """How sa.Uuid stores a UUID: native uuid on PostgreSQL, 32 hex characters on SQLite."""
    return value if engine.dialect.name == "postgresql" else value.hex
