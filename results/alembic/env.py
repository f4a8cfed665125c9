"""Alembic environment of the results store.

The store passes an open connection in `config.attributes["connection"]`; the plain `alembic` command uses
`sqlalchemy.url` from the ini file or the HUMANOID_TRIALS_DB environment variable.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from humanoid_trials.results.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("HUMANOID_TRIALS_DB", "")
    if not url:
        raise SystemExit("no database URL: set sqlalchemy.url in alembic.ini or HUMANOID_TRIALS_DB")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


_main()
