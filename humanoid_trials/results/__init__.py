"""Results store (SQLAlchemy 2.0, Alembic), per-site reports and the coalition comparison."""

from humanoid_trials.results.errors import EventError, MigrationError, ReportError, ResultsError, StoreError
from humanoid_trials.results.store import Store

__all__ = ["EventError", "MigrationError", "ReportError", "ResultsError", "Store", "StoreError"]
