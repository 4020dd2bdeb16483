"""`admission_policies.fail_open`: whether AdmitCall admits an integration's calls unchecked while
the service's database is unavailable (docs/admission.md, "fail_open"). Existing policies stay
fail closed (false).

Revision ID: 0022_admission_fail_open
Revises: 0021_admission_limit_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_admission_fail_open"
down_revision = "0021_admission_limit_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "admission_policies",
        sa.Column("fail_open", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("admission_policies") as batch:
        batch.drop_column("fail_open")
