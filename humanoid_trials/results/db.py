"""Database URLs, engines and Alembic migrations of the results store.

Default database: SQLite file `results/trials.db` (see `humanoid_trials.paths.results_dir()`); any SQLAlchemy URL
through `--db` or the HUMANOID_TRIALS_DB environment variable (PostgreSQL via `postgresql+psycopg://…`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from humanoid_trials.paths import results_dir, share_dir
from humanoid_trials.results.errors import MigrationError, StoreError

ENV_DB = "HUMANOID_TRIALS_DB"
DEFAULT_DB_FILE = "trials.db"

log = logging.getLogger(__name__)


def default_url() -> str:
    """HUMANOID_TRIALS_DB if set, else the SQLite file `trials.db` in the results folder."""
    return os.environ.get(ENV_DB) or f"sqlite:///{results_dir() / DEFAULT_DB_FILE}"


def reason(exc: BaseException) -> str:
    """The driver's own message of a database error (without SQLAlchemy's statement dump and help link)."""
    original = getattr(exc, "orig", None)
    return " ".join(str(original if original is not None else exc).split())


def display_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL mode and foreign keys, and their folder is created."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"bad database URL {url!r}: expected e.g. sqlite:///results/trials.db or "
                         f"postgresql+psycopg://user@host:5432/db") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, json_serializer=_compact_json)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(parsed, pool_pre_ping=True, json_serializer=_compact_json)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"cannot use database {display_url(url)}: {reason(exc)}") from exc


def alembic_dir() -> Path:
    """The Alembic environment (`results/alembic`, installed under share/humanoid_trials/results/)."""
    return share_dir() / "results" / "alembic"


def alembic_config() -> Config:
    ini = alembic_dir().parent / "alembic.ini"
    if not ini.is_file():
        raise MigrationError(f"Alembic configuration not found at {ini}: is the package installed with its data?")
    config = Config(str(ini))
    config.set_main_option("script_location", str(alembic_dir()))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError(f"no migrations found in {alembic_dir()}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database, None for a database without the store's tables."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the schema revision of {display_url(str(engine.url))}: {reason(exc)}") from exc


def is_empty(engine: Engine) -> bool:
    """True when the database has no tables at all (a new file or a fresh schema)."""
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot inspect {display_url(str(engine.url))}: {reason(exc)}") from exc


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Migrate the database to `revision` (default: head); returns the revision it is at afterwards."""
    config = alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise MigrationError(f"migrating {display_url(str(engine.url))} to {revision} failed: {reason(exc)}") from exc
    now = current_revision(engine)
    log.info("database %s at revision %s", display_url(str(engine.url)), now)
    return now or ""
