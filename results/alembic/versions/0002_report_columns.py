"""Reporting: denormalise site and mode onto attempts (backfilled from trials) and add the report indexes.

Reports aggregate attempts per site, task type and robot model; with `attempt.site_id`/`attempt.mode` and covering
indexes that hold each group's cycle times in order, they read index ranges (percentiles by offset) instead of
joining trials and sorting; stops, resumes and lost robots are found by kind.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attempt") as batch:
        batch.add_column(sa.Column("site_id", sa.String(80), nullable=True))
        batch.add_column(sa.Column("mode", sa.String(80), nullable=True))
    op.execute(
        "UPDATE attempt SET site_id = (SELECT trial.site_id FROM trial WHERE trial.id = attempt.trial_id), "
        "mode = (SELECT trial.mode FROM trial WHERE trial.id = attempt.trial_id) WHERE site_id IS NULL"
    )
    op.create_index(
        "ix_attempt_report", "attempt", ["site_id", "outcome", "task_type", "robot_model", "cycle_time_s", "mode"]
    )
    op.create_index(
        "ix_attempt_site_cycle", "attempt", ["site_id", "outcome", "cycle_time_s", "task_type", "robot_model"]
    )
    op.create_index("ix_safety_site", "safety_event", ["site_id", "stamp"])
    op.create_index("ix_trial_event_kind", "trial_event", ["kind", "trial_id", "robot_id", "t_s"])


def downgrade() -> None:
    op.drop_index("ix_trial_event_kind", table_name="trial_event")
    op.drop_index("ix_safety_site", table_name="safety_event")
    op.drop_index("ix_attempt_site_cycle", table_name="attempt")
    op.drop_index("ix_attempt_report", table_name="attempt")
    with op.batch_alter_table("attempt") as batch:
        batch.drop_column("mode")
        batch.drop_column("site_id")
