"""transcripts.sent_at: when a queued job was handed to the broker

Revision ID: 0009
Revises: 0008

A node that makes a job's row and dies before the broker has its message leaves the job queued
with no message anywhere: ``sent_at`` stays NULL, and workers send such jobs themselves once they
are older than ``job_lease_s`` (``TranscriptionJobs.unsent``). Added as a column, never a batch
rebuild (on SQLite a rebuild would drop ``transcripts`` and cascade into the rows derived from it).
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transcripts", sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transcripts") as batch_op:
        batch_op.drop_column("sent_at")
