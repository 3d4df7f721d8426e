"""sign-up, sessions, email links, invites, the admin role; stream tickets bought by a session

Revision ID: 0006
Revises: 0004

Columns are added to ``accounts`` in place (ALTER TABLE ADD/DROP COLUMN), never by a batch
rebuild: on SQLite that drops the table, and with foreign keys on the drop cascades into every
row that belongs to an account. ``stream_tickets`` (which nothing references) is rebuilt.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("accounts", sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.add_column("accounts", sa.Column("email_verified_at", When, nullable=True))
    op.add_column(
        "accounts", sa.Column("role", sa.String(length=16), nullable=False, server_default="user")
    )
    op.add_column("accounts", sa.Column("disabled_at", When, nullable=True))
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.Column("last_seen_at", When, nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_web_sessions_account_id", "web_sessions", ["account_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_table(
        "account_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.Column("used_at", When, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_account_tokens_account_id", "account_tokens", ["account_id"])
    op.create_table(
        "invites",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=True),
        sa.Column("revoked_at", When, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_invites_code_hash", "invites", ["code_hash"], unique=True)
    with op.batch_alter_table("stream_tickets") as batch_op:
        batch_op.alter_column("key_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("session_hash", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            "fk_stream_tickets_session_hash", "web_sessions", ["session_hash"], ["id_hash"],
            ondelete="CASCADE",
        )
        batch_op.create_index("ix_stream_tickets_session_hash", ["session_hash"])


def downgrade() -> None:
    with op.batch_alter_table("stream_tickets") as batch_op:
        batch_op.drop_index("ix_stream_tickets_session_hash")
        batch_op.drop_constraint("fk_stream_tickets_session_hash", type_="foreignkey")
        batch_op.drop_column("session_hash")
    op.execute("DELETE FROM stream_tickets WHERE key_id IS NULL")
    with op.batch_alter_table("stream_tickets") as batch_op:
        batch_op.alter_column("key_id", existing_type=sa.String(length=32), nullable=False)
    op.drop_table("invites")
    op.drop_table("account_tokens")
    op.drop_table("web_sessions")
    for column in ("disabled_at", "role", "email_verified_at", "password_hash"):
        op.drop_column("accounts", column)
