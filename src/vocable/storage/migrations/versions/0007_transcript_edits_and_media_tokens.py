"""transcript editing (updated_at, version, edit history) and media tokens for the audio

Revision ID: 0007
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch rebuild: on SQLite that would drop the table and cascade into
    # every row derived from transcripts).
    op.add_column("transcripts", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "transcripts",
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "transcript_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=True),
        sa.Column("operations", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["transcript_id"], ["transcripts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_transcript_edits_transcript_id", "transcript_edits", ["transcript_id"])
    op.create_table(
        "media_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("transcript_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["transcript_id"], ["transcripts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_media_tokens_key_id", "media_tokens", ["key_id"])
    op.create_index("ix_media_tokens_transcript_id", "media_tokens", ["transcript_id"])
    op.create_index("ix_media_tokens_expires_at", "media_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_table("media_tokens")
    op.drop_table("transcript_edits")
    with op.batch_alter_table("transcripts") as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("updated_at")
