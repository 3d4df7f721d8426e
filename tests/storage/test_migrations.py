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
