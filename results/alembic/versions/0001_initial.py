"""Initial schema: site, robot, scenario, validation, validation_task, trial, attempt, safety_event, trial_event.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

IDENT = sa.String(80)
LABEL = sa.String(200)
HASH = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "site",
        sa.Column("id", IDENT, primary_key=True),
        sa.Column("name", LABEL, nullable=False),
        sa.Column("company", LABEL, nullable=False),
        sa.Column("industry", LABEL, nullable=False),
        sa.Column("city", LABEL, nullable=False),
        sa.Column("country", LABEL, nullable=False),
        sa.Column("takt_time_s", sa.Float(), nullable=True),
    )
    op.create_table(
        "robot",
        sa.Column("site_id", IDENT, sa.ForeignKey("site.id"), primary_key=True),
        sa.Column("id", IDENT, primary_key=True),
        sa.Column("model", IDENT, nullable=False),
        sa.Column("kind", LABEL, nullable=False),
    )
    op.create_table(
        "scenario",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("scenario_id", IDENT, nullable=False),
        sa.Column("content_hash", HASH, nullable=False),
        sa.Column("site_id", IDENT, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("file_text", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ux_scenario_hash", "scenario", ["scenario_id", "content_hash"], unique=True)
    op.create_table(
        "validation",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("scenario_id", IDENT, nullable=False),
        sa.Column("content_hash", HASH, nullable=False),
        sa.Column("site_id", IDENT, nullable=False),
        sa.Column("verdict", IDENT, nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("software_version", LABEL, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
    )
    op.create_index("ix_validation_scenario", "validation", ["scenario_id", "created_at"])
    op.create_table(
        "validation_task",
        sa.Column("validation_id", sa.Uuid(), sa.ForeignKey("validation.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("task_id", IDENT, primary_key=True),
        sa.Column("robot_id", IDENT, primary_key=True),
        sa.Column("task_type", IDENT, nullable=False),
        sa.Column("robot_model", IDENT, nullable=False),
        sa.Column("verdict", IDENT, nullable=False),
        sa.Column("estimated_cycle_s", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
    )
    op.create_table(
        "trial",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("site_id", IDENT, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("scenario_id", IDENT, nullable=False),
        sa.Column("scenario_hash", LABEL, nullable=False),
        sa.Column("mode", IDENT, nullable=False),
        sa.Column("software_version", LABEL, nullable=False),
        sa.Column("operator", LABEL, nullable=False),
        sa.Column("robot_count", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("status", IDENT, nullable=False),
    )
    op.create_index("ix_trial_site", "trial", ["site_id", "started_at"])
    op.create_table(
        "attempt",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("trial_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", IDENT, nullable=False),
        sa.Column("task_type", IDENT, nullable=False),
        sa.Column("robot_id", IDENT, nullable=False),
        sa.Column("robot_model", IDENT, nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("cycle_time_s", sa.Float(), nullable=False),
        sa.Column("outcome", IDENT, nullable=False),
        sa.Column("reason", LABEL, nullable=False),
    )
    op.create_index("ix_attempt_trial", "attempt", ["trial_id"])
    op.create_table(
        "safety_event",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("trial_id", sa.Uuid(), nullable=True),
        sa.Column("site_id", IDENT, nullable=False),
        sa.Column("type", IDENT, nullable=False),
        sa.Column("severity", IDENT, nullable=False),
        sa.Column("robot_id", LABEL, nullable=False),
        sa.Column("stamp", sa.DateTime(), nullable=False),
        sa.Column("measured", sa.Float(), nullable=False),
        sa.Column("limit_value", sa.Float(), nullable=False),
        sa.Column("unit", IDENT, nullable=False),
        sa.Column("x_m", sa.Float(), nullable=False),
        sa.Column("y_m", sa.Float(), nullable=False),
        sa.Column("z_m", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
    )
    op.create_table(
        "trial_event",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("trial_id", sa.Uuid(), nullable=False),
        sa.Column("kind", IDENT, nullable=False),
        sa.Column("stamp", sa.DateTime(), nullable=False),
        sa.Column("t_s", sa.Float(), nullable=False),
        sa.Column("robot_id", LABEL, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_trial_event_trial", "trial_event", ["trial_id", "kind", "t_s"])


def downgrade() -> None:
    for table in ("trial_event", "safety_event", "attempt", "trial", "validation_task", "validation", "scenario",
                  "robot", "site"):
        op.drop_table(table)
