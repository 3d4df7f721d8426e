"""The operator's account commands as a user runs them (a real subprocess, one data dir)."""

import os
import subprocess

from tests.test_cli import VOCABLE, run
from vocable.accounts.keys import create_key
from vocable.storage.db import Database
from vocable.storage.models import Account


def account(tmp_path, email):
    db = Database(f"sqlite:///{tmp_path / 'vocable.db'}")
    with db.session() as s:
        row = s.query(Account).filter_by(email=email).one()
    db.dispose()
    return row


def test_operator_commands(tmp_path):
    out = run("accounts", "create", "root@example.com", "--admin", data_dir=tmp_path).stdout
    assert "role=admin" in out
    run("accounts", "create", "user@example.com", data_dir=tmp_path)
    assert account(tmp_path, "root@example.com").role == "admin"
    assert "2 account(s)" in run("accounts", "list", data_dir=tmp_path).stdout
    listed = run("accounts", "list", "--search", "user@", data_dir=tmp_path).stdout
    assert "user@example.com" in listed and "root@" not in listed and "1 account(s)" in listed
    assert "plan=paid" in run("accounts", "plan", "user@example.com", "paid", data_dir=tmp_path).stdout
    assert "credits=25" in run("accounts", "credits", "user@example.com", "25",
                               data_dir=tmp_path).stdout
    bad = run("accounts", "plan", "user@example.com", "gold", data_dir=tmp_path, check=False)
    assert bad.returncode == 1 and "Unknown plan 'gold'" in bad.stderr and "Traceback" not in bad.stderr
    assert "DISABLED" in run("accounts", "disable", "user@example.com", data_dir=tmp_path).stdout
    assert account(tmp_path, "user@example.com").disabled_at is not None
    assert "DISABLED" not in run("accounts", "enable", "user@example.com", data_dir=tmp_path).stdout
    pw = subprocess.run(
        [*VOCABLE, "accounts", "set-password",
         "user@example.com", "--password-stdin", "--data-dir", str(tmp_path)],
        input="a long new password\n", capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "VOCABLE_PASSWORD_MEMORY_KIB": "8192",
             "VOCABLE_PASSWORD_TIME_COST": "1"},
    )
    assert pw.returncode == 0, pw.stderr
    assert account(tmp_path, "user@example.com").password_hash.startswith("$argon2id$")
    short = subprocess.run(
        [*VOCABLE, "accounts", "set-password",
         "user@example.com", "--password-stdin", "--data-dir", str(tmp_path)],
        input="short\n", capture_output=True, text=True, timeout=300, check=False,
    )
    assert short.returncode == 1 and "at least 8" in short.stderr
    assert "role=admin" in run("admin", "grant", "user@example.com", data_dir=tmp_path).stdout
    assert "role=user" in run("admin", "revoke", "user@example.com", data_dir=tmp_path).stdout
    code = run("invites", "create", "--uses", "2", "--note", "team", data_dir=tmp_path)
    assert code.stdout.strip().splitlines()[-1].startswith("inv_")
    assert "0/2" in run("invites", "list", data_dir=tmp_path).stdout
    assert "total:" in run("accounts", "usage", "--days", "7", data_dir=tmp_path).stdout
    db = Database(f"sqlite:///{tmp_path / 'vocable.db'}")
    create_key(db, account(tmp_path, "user@example.com").id)
    db.dispose()
    run("accounts", "delete", "user@example.com", "--yes", data_dir=tmp_path)
    gone = run("accounts", "plan", "user@example.com", "free", data_dir=tmp_path, check=False)
    assert gone.returncode == 1 and "No account" in gone.stderr
