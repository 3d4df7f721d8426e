"""Migrations from an empty database, on SQLite and PostgreSQL, match the ORM models."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from vocable.storage.db import Database
from vocable.storage.models import Base


def test_migrations_from_empty_match_models(database_url):
    db = Database(database_url)
    db.migrate()
    db.migrate()  # idempotent: a second start applies nothing
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        tables = set(sa.inspect(conn).get_table_names())
    assert {"accounts", "api_keys", "transcripts", "usage_records", "anonymous_clients"} <= tables
    assert diff == [], diff
    db.dispose()


def test_0003_moves_waiting_uploads_into_the_blob_store(database_url, tmp_path):
    """Rows written by the 0002 schema: a queued job's upload becomes its blob, an interrupted
    one whose file is gone gets its key (it fails when run), finished rows keep nothing, and rows
    derived from transcripts survive the column change."""
    from vocable.storage.blobs import LocalBlobStore
    from vocable.storage.db import upgrade

    db = Database(database_url)
    upgrade(db.engine, "0002")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "upload-queued").write_bytes(b"queued audio")
    (uploads / "upload-leftover").write_bytes(b"left by a crash")
    rows = {
        "q" * 32: ("queued", str(uploads / "upload-queued")),
        "p" * 32: ("processing", str(uploads / "upload-vanished")),
        "c" * 32: ("completed", ""),
        "f" * 32: ("failed", str(uploads / "upload-leftover")),
    }
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO accounts (id, email, name, plan, credits, minutes_used, minutes_month, "
            "active_jobs, email_preferences, created_at) VALUES (1, 'm@example.com', '', 'paid', 0, 0, "
            "'', 0, '{}', CURRENT_TIMESTAMP)"
        ))
        for transcript_id, (status, path) in rows.items():
            conn.execute(sa.text(
                "INSERT INTO transcripts (id, account_id, client_ip, status, error, error_status, "
                "filename, upload_path, options, language, duration, model, text, segments, speakers, "
                "charged_units, charge_kind, charge_period, created_at) VALUES (:id, 1, '', :status, "
                "'', 0, 'a.wav', :path, '{}', '', 0, '', '', '[]', '[]', 0, '', '', CURRENT_TIMESTAMP)"
            ), {"id": transcript_id, "status": status, "path": path})
        conn.execute(sa.text(
            "INSERT INTO chat_sessions (id, transcript_id, account_id, created_at, updated_at) "
            "VALUES (:id, :t, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ), {"id": "s" * 32, "t": "c" * 32})

    blobs = LocalBlobStore(tmp_path / "blobs")
    db.migrate(blobs)
    with db.engine.connect() as conn:
        keys = dict(conn.execute(sa.text("SELECT id, audio_key FROM transcripts")).all())
        sessions = conn.execute(sa.text("SELECT count(*) FROM chat_sessions")).scalar()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("transcripts")}
    assert keys == {"q" * 32: f"audio/{'q' * 32}", "p" * 32: f"audio/{'p' * 32}", "c" * 32: "", "f" * 32: ""}
    assert blobs.open(f"audio/{'q' * 32}").read() == b"queued audio"
    assert not blobs.exists(f"audio/{'p' * 32}")
    assert list(uploads.iterdir()) == []  # the queued upload moved, the crash's leftover is gone
    assert sessions == 1 and "upload_path" not in columns

    upgrade_to_0002_and_back(db, blobs)
    db.dispose()


def upgrade_to_0002_and_back(db, blobs):
    """The downgrade gives a waiting job in a local store its blob's file as its upload path."""
    from alembic import command

    from vocable.storage.db import alembic_config

    command.downgrade(alembic_config(db.engine, blobs), "0002")
    with db.engine.connect() as conn:
        paths = dict(conn.execute(sa.text("SELECT id, upload_path FROM transcripts")).all())
    assert paths["q" * 32] == str(blobs.path(f"audio/{'q' * 32}"))
    assert paths["c" * 32] == paths["f" * 32] == ""
    db.migrate(blobs)
    with db.engine.connect() as conn:
        keys = dict(conn.execute(sa.text("SELECT id, audio_key FROM transcripts")).all())
    assert keys["q" * 32] == f"audio/{'q' * 32}"
    assert blobs.open(f"audio/{'q' * 32}").read() == b"queued audio"


def test_0006_keeps_accounts_rows_and_what_hangs_off_them(database_url):
    """The sign-up columns are added in place: no rebuild of ``accounts`` cascades into keys or
    transcripts; existing accounts become users without a password, verified or not."""
    from vocable.storage.db import upgrade

    db = Database(database_url)
    upgrade(db.engine, "0004")
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO accounts (id, email, name, plan, credits, minutes_used, minutes_month, "
            "active_jobs, email_preferences, created_at) VALUES (1, 'm@example.com', '', 'paid', 5, "
            "0, '', 0, '{}', CURRENT_TIMESTAMP)"
        ))
        conn.execute(sa.text(
            "INSERT INTO api_keys (id, account_id, name, prefix, key_hash, created_at) "
            "VALUES ('k1', 1, '', 'voc_x', 'h1', CURRENT_TIMESTAMP)"
        ))
        conn.execute(sa.text(
            "INSERT INTO stream_tickets (ticket_hash, key_id, created_at, expires_at) "
            "VALUES ('t1', 'k1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))
    db.migrate()
    with db.engine.connect() as conn:
        account = conn.execute(sa.text(
            "SELECT role, password_hash, disabled_at, credits FROM accounts")).one()
        assert tuple(account) == ("user", None, None, 5)
        assert conn.execute(sa.text("SELECT count(*) FROM api_keys")).scalar() == 1
        assert conn.execute(sa.text("SELECT key_id FROM stream_tickets")).scalar() == "k1"
    db.dispose()
