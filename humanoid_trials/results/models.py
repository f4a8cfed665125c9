"""SQLAlchemy 2.0 ORM models of the results store (schema at the Alembic head revision).

Portable types only (Uuid, JSON, UTC datetimes stored naive in UTC), so one schema serves SQLite and PostgreSQL.
Times are UTC; durations are seconds (s); locations are metres (m) in the site frame.
Rows that come from trial events (trial_event, attempt, safety_event) use the event UUID as primary key, so that
replayed events are ignored (INSERT … ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, Dialect, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime, stored as a naive UTC timestamp (portable across SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the results store only accepts timezone-aware times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        """On SQLite, format straight to SQLAlchemy's SQLite DATETIME text (one step instead of two: ingest speed)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is not UTC:
                if value.tzinfo is None:
                    raise ValueError(f"naive datetime {value!r}: the results store only accepts timezone-aware times")
                value = value.astimezone(UTC)
            return value.isoformat(" ", "microseconds")[:26]  # drop "+00:00"

        return process


# Shared annotated column types.
EventId = Annotated[uuid.UUID, mapped_column(Uuid, primary_key=True)]
Ident = Annotated[str, mapped_column(String(80))]
Label = Annotated[str, mapped_column(String(200), default="")]
Hash = Annotated[str, mapped_column(String(64))]
UtcTime = Annotated[datetime, mapped_column(UtcDateTime)]
Seconds = Annotated[float, mapped_column(Float)]
JsonDoc = Annotated[dict[str, Any], mapped_column(JSON)]


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        uuid.UUID: Uuid,
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        str: String(200),
        float: Float,
        int: Integer,
        bool: Boolean,
    }


class SiteRow(Base):
    """A test site (from sites/<id>.yaml). Takt time in s."""

    __tablename__ = "site"

    id: Mapped[Ident] = mapped_column(primary_key=True)
    name: Mapped[Label]
    company: Mapped[Label]
    industry: Mapped[Label]
    city: Mapped[Label]
    country: Mapped[Label]
    takt_time_s: Mapped[Seconds | None]


class RobotRow(Base):
    """A robot deployed at a site; `model` is the robot profile id (robot model)."""

    __tablename__ = "robot"

    site_id: Mapped[Ident] = mapped_column(ForeignKey("site.id"), primary_key=True)
    id: Mapped[Ident] = mapped_column(primary_key=True)
    model: Mapped[Ident]
    kind: Mapped[Label]


class ScenarioRow(Base):
    """One version of a scenario file, identified by its content hash (sha256 hex)."""

    __tablename__ = "scenario"
    __table_args__ = (Index("ux_scenario_hash", "scenario_id", "content_hash", unique=True),)

    pk: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    scenario_id: Mapped[Ident]
    content_hash: Mapped[Hash]
    site_id: Mapped[Ident]
    description: Mapped[str] = mapped_column(Text, default="")
    file_text: Mapped[str] = mapped_column(Text, default="")
    registered_at: Mapped[UtcTime]


class ValidationRow(Base):
    """One pre-validation run of a scenario version; `verdict` pass | warn | fail; `report` is the full
    `ValidationReport.to_dict()`."""

    __tablename__ = "validation"
    __table_args__ = (Index("ix_validation_scenario", "scenario_id", "created_at"),)

    id: Mapped[EventId]
    scenario_id: Mapped[Ident]
    content_hash: Mapped[Hash]
    site_id: Mapped[Ident]
    verdict: Mapped[Ident]
    passed: Mapped[bool]
    software_version: Mapped[Label]
    created_at: Mapped[UtcTime]
    report: Mapped[JsonDoc]


class ValidationTaskRow(Base):
    """The verdict of one task for one robot in one validation run; estimated cycle time of one repetition in s."""

    __tablename__ = "validation_task"

    validation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("validation.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[Ident] = mapped_column(primary_key=True)
    robot_id: Mapped[Ident] = mapped_column(primary_key=True)
    task_type: Mapped[Ident]
    robot_model: Mapped[Ident]
    verdict: Mapped[Ident]
    estimated_cycle_s: Mapped[Seconds]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class TrialRow(Base):
    """One trial run at a site. `mode` is sim | field; `robot_count` robots took part; duration in s once finished."""

    __tablename__ = "trial"
    __table_args__ = (Index("ix_trial_site", "site_id", "started_at"),)

    id: Mapped[EventId]
    site_id: Mapped[Ident] = mapped_column(ForeignKey("site.id"))
    scenario_id: Mapped[Ident]
    scenario_hash: Mapped[Label]
    mode: Mapped[Ident]
    software_version: Mapped[Label]
    operator: Mapped[Label]
    robot_count: Mapped[int]
    started_at: Mapped[UtcTime]
    finished_at: Mapped[UtcTime | None]
    duration_s: Mapped[Seconds | None]
    status: Mapped[Ident]


class AttemptRow(Base):
    """One attempt of one task by one robot; cycle time in s from goal accepted to result.

    `site_id` and `mode` are denormalised from the trial (revision 0002) so that reports aggregate without a join;
    the two report indexes hold each group's cycle times in order (percentiles by index offset).
    """

    __tablename__ = "attempt"
    __table_args__ = (
        Index("ix_attempt_trial", "trial_id"),
        Index("ix_attempt_report", "site_id", "outcome", "task_type", "robot_model", "cycle_time_s", "mode"),
        Index("ix_attempt_site_cycle", "site_id", "outcome", "cycle_time_s", "task_type", "robot_model"),
    )

    id: Mapped[EventId]
    trial_id: Mapped[uuid.UUID]
    site_id: Mapped[Ident | None]
    mode: Mapped[Ident | None]
    task_id: Mapped[Ident]
    task_type: Mapped[Ident]
    robot_id: Mapped[Ident]
    robot_model: Mapped[Ident]
    attempt_no: Mapped[int]
    started_at: Mapped[UtcTime]
    finished_at: Mapped[UtcTime]
    cycle_time_s: Mapped[Seconds]
    outcome: Mapped[Ident]
    reason: Mapped[Label]


class SafetyEventRow(Base):
    """A safety event: measured value and limit in `unit`; location (x, y, z) in m, site frame."""

    __tablename__ = "safety_event"
    __table_args__ = (Index("ix_safety_site", "site_id", "stamp"),)

    id: Mapped[EventId]
    trial_id: Mapped[uuid.UUID | None]
    site_id: Mapped[Ident]
    type: Mapped[Ident]
    severity: Mapped[Ident]
    robot_id: Mapped[Label]
    stamp: Mapped[UtcTime]
    measured: Mapped[float]
    limit_value: Mapped[float]
    unit: Mapped[Ident]
    x_m: Mapped[float]
    y_m: Mapped[float]
    z_m: Mapped[float]
    evidence: Mapped[JsonDoc]


class TrialEventRow(Base):
    """Every trial event as received. `t_s` is the stamp in s since the Unix epoch (for portable SQL arithmetic)."""

    __tablename__ = "trial_event"
    __table_args__ = (
        Index("ix_trial_event_trial", "trial_id", "kind", "t_s"),
        Index("ix_trial_event_kind", "kind", "trial_id", "robot_id", "t_s"),
    )

    id: Mapped[EventId]
    trial_id: Mapped[uuid.UUID]
    kind: Mapped[Ident]
    stamp: Mapped[UtcTime]
    t_s: Mapped[float]
    robot_id: Mapped[Label]
    payload: Mapped[JsonDoc]
