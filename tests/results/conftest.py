"""Fixtures of the results-store tests: a fresh, empty database per test on SQLite and on the real PostgreSQL server.

PostgreSQL: HUMANOID_TRIALS_TEST_PG_URL (set by .ci/run), default postgresql+psycopg://postgres@127.0.0.1:5432/test.
Each test gets its own schema (search_path), dropped afterwards, so parallel runs do not collide. A server that is
down fails the tests (no skip).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from humanoid_trials.results import db
from humanoid_trials.results.store import Store

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def pg_base_url() -> str:
    return os.environ.get("HUMANOID_TRIALS_TEST_PG_URL") or PG_DEFAULT


def _with_schema(base: str, schema: str) -> str:
    url = make_url(base)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'trials.db'}"
        return
    base = pg_base_url()
    schema = f"ht_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield _with_schema(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(empty_url: str) -> Iterator[Store]:
    """A store at the head revision on each backend."""
    engine = db.make_engine(empty_url)
    db.upgrade(engine)
    engine.dispose()
    with Store(empty_url) as opened:
        yield opened
