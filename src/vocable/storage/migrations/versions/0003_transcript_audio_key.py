"""transcripts refer to their audio by blob key, not by a local path

Revision ID: 0003
Revises: 0002

``transcripts.upload_path`` becomes ``transcripts.audio_key``. A job still waiting for a worker
(queued, or interrupted while processing) keeps its upload: the file moves into the blob store
under the job's key, when the caller passes the store (``Database.migrate(blobs)``, as the server
does). Without one, the key is set and the file stays where it was; the job then fails with a
refund when it runs, as it would have had the file vanished. Finished jobs held no upload (it was
deleted when they ended); a path left behind by a crash is cleared and its file removed.

The column is renamed in place rather than dropped and re-added: on SQLite a batch rebuild would
drop the table, and with foreign keys on that cascades into the rows derived from transcripts.
"""
import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

WAITING = ("queued", "processing")


def upgrade() -> None:
    op.execute("ALTER TABLE transcripts RENAME COLUMN upload_path TO audio_key")
    conn = op.get_bind()
    transcripts = _table()
    rows = conn.execute(
        sa.select(transcripts.c.id, transcripts.c.status, transcripts.c.audio_key).where(
            transcripts.c.audio_key != ""
        )
    ).all()
    moves: list[tuple[str, Path]] = []
    for transcript_id, status, path in rows:
        # Frozen here (not imported) so this revision keeps its meaning if the app's keys change.
        key = f"audio/{transcript_id}" if status in WAITING else ""
        conn.execute(
            sa.update(transcripts).where(transcripts.c.id == transcript_id).values(audio_key=key)
        )
        moves.append((key, Path(path)))

    blobs = op.get_context().config.attributes.get("blobs")
    for key, path in moves:  # after the SQL, so a failing statement moves no file
        if not key:
            path.unlink(missing_ok=True)
        elif not path.is_file():
            log.warning("upload %s of a waiting job is missing; the job will fail", path)
        elif blobs is None:
            log.warning("no blob store given: upload %s stays in place and its job will fail", path)
        else:
            blobs.put_file(key, path)


def downgrade() -> None:
    # The older code reads a local path: a waiting job in a local store gets its blob's file back
    # as its upload; stored audio of finished transcripts stays in the store, unreferenced.
    blobs = op.get_context().config.attributes.get("blobs")
    conn = op.get_bind()
    transcripts = _table()
    rows = conn.execute(
        sa.select(transcripts.c.id, transcripts.c.audio_key).where(
            transcripts.c.audio_key != "", transcripts.c.status.in_(WAITING)
        )
    ).all()
    conn.execute(sa.update(transcripts).values(audio_key=""))
    local_file = getattr(blobs, "path", None)
    for transcript_id, key in rows:
        if local_file is not None:
            conn.execute(
                sa.update(transcripts)
                .where(transcripts.c.id == transcript_id)
                .values(audio_key=str(local_file(key)))
            )
    op.execute("ALTER TABLE transcripts RENAME COLUMN audio_key TO upload_path")


def _table() -> sa.TableClause:
    return sa.table("transcripts", sa.column("id"), sa.column("status"), sa.column("audio_key"))
