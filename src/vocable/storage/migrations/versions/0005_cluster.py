"""cluster: webhooks (per account and per job, with their deliveries), job leases, worker heartbeats

Revision ID: 0005
Revises: 0004

* ``accounts.webhook_url`` (the default for async jobs) and ``accounts.webhook_secret`` (the HMAC
  key deliveries are signed with); ``transcripts.webhook_url`` (the job's own).
* ``transcripts.worker`` / ``lease_until`` / ``attempts``: which worker runs a job and until when
  its claim holds (renewed while it runs), so a job redelivered after a worker died is taken over,
  and one redelivered while its worker lives is not run twice.
* ``webhook_deliveries``: one row per job event, its attempts kept as a JSON list.
* ``worker_nodes``: one row per running worker process, refreshed by its heartbeat.

Columns are added (never a batch rebuild): on SQLite a rebuild would drop ``transcripts`` and
cascade into the rows derived from it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("webhook_url", sa.Text(), nullable=False, server_default=""))
    op.add_column(
        "accounts", sa.Column("webhook_secret", sa.String(length=64), nullable=False, server_default="")
    )
    op.add_column("transcripts", sa.Column("webhook_url", sa.Text(), nullable=False, server_default=""))
    op.add_column(
        "transcripts", sa.Column("worker", sa.String(length=200), nullable=False, server_default="")
    )
    op.add_column("transcripts", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("transcripts", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("transcript_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.JSON(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["transcript_id"], ["transcripts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_deliveries_transcript_id", "webhook_deliveries", ["transcript_id"])
    op.create_index("ix_webhook_deliveries_next_attempt_at", "webhook_deliveries", ["next_attempt_at"])
    op.create_table(
        "worker_nodes",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=16), nullable=False),
        sa.Column("gpu_name", sa.String(length=200), nullable=True),
        sa.Column("gpu_memory_mb", sa.Integer(), nullable=True),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("models_loaded", sa.JSON(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("running_jobs", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_heartbeat", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("worker_nodes")
    op.drop_table("webhook_deliveries")
    for column in ("attempts", "lease_until", "worker", "webhook_url"):
        op.drop_column("transcripts", column)
    op.drop_column("accounts", "webhook_secret")
    op.drop_column("accounts", "webhook_url")
