"""The backup core without the app: SQLite copies taken while a writer is busy, the checks that
refuse a file which is not a good backup, and the libpq URL for pg_dump."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime

import pytest

from portal.ops import backup as ops


def _portal_like_db(path, names=("张三",)):
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE user_account (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
    conn.execute("INSERT INTO alembic_version VALUES ('abc123')")
    conn.executemany("INSERT INTO user_account (name) VALUES (?)", [(n,) for n in names])
    conn.commit()
    return conn


def _names(path):
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM user_account ORDER BY id")]
    finally:
        conn.close()


def test_backup_includes_commits_still_in_the_wal_and_is_one_verified_file(tmp_path):
    live = tmp_path / "portal.db"
    writer = _portal_like_db(live)
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # keep the new rows in portal.db-wal only
    writer.execute("INSERT INTO user_account (name) VALUES ('李四')")
    writer.commit()
    # A plain file copy of the main file misses the committed row: the reason for the API.
    shutil.copy(live, tmp_path / "naive.db")
    assert "李四" not in _names(tmp_path / "naive.db")

    # a writer holds an open transaction while the backup runs
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO user_account (name) VALUES ('uncommitted')")
    result = ops.backup_sqlite(live, tmp_path / "backups" / "b.sqlite3")
    writer.rollback()
    writer.close()

    assert result.path.exists() and not (tmp_path / "backups" / "b.sqlite3-wal").exists()
    assert _names(result.path) == ["张三", "李四"]
    assert result.size == result.path.stat().st_size
    assert result.sha256 == ops.sha256_of(result.path) and len(result.sha256) == 64
    assert (result.path.stat().st_mode & 0o777) == 0o600
    assert ops.verify_sqlite(result.path) == "abc123"
    assert not list((tmp_path / "backups").glob("*.part"))


def test_backup_refuses_to_overwrite(tmp_path):
    live = tmp_path / "portal.db"
    _portal_like_db(live).close()
    target = tmp_path / "b.sqlite3"
    target.write_bytes(b"precious")
    with pytest.raises(ops.BackupError, match="already exists"):
        ops.backup_sqlite(live, target)
    assert target.read_bytes() == b"precious"


def test_restore_puts_the_backup_into_the_live_file_under_an_open_reader(tmp_path):
    live = tmp_path / "portal.db"
    _portal_like_db(live, ["张三"]).close()
    saved = ops.backup_sqlite(live, tmp_path / "b.sqlite3").path
    conn = sqlite3.connect(live)
    conn.execute("INSERT INTO user_account (name) VALUES ('after the backup')")
    conn.commit()
    reader = sqlite3.connect(live)  # the portal still has the file open
    assert len(_names(live)) == 2

    ops.restore_sqlite(saved, live)

    assert [r[0] for r in reader.execute("SELECT name FROM user_account")] == ["张三"]
    reader.close()
    conn.close()


def test_files_that_are_not_backups_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ops.BackupError, match="neither a SQLite database"):
        ops.verify_sqlite(text)

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ops.BackupError, match="not the portal's"):
        ops.verify_sqlite(other)

    live = tmp_path / "portal.db"
    _portal_like_db(live, [f"name {i}" * 50 for i in range(300)]).close()
    good = ops.backup_sqlite(live, tmp_path / "good.sqlite3").path
    damaged = tmp_path / "damaged.sqlite3"
    data = bytearray(good.read_bytes())
    for offset in range(4096, len(data), 4096):  # scribble over every page header but the first
        data[offset : offset + 12] = b"\xff" * 12
    damaged.write_bytes(bytes(data))
    with pytest.raises(ops.BackupError, match="damaged|integrity"):
        ops.verify_sqlite(damaged)


def test_pg_dump_archive_is_recognised_by_its_header(tmp_path):
    archive = tmp_path / "x.dump"
    archive.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 32)
    assert ops.kind_of_file(archive) == "postgresql"


def test_libpq_url_drops_the_driver_and_moves_the_password_to_the_environment():
    dsn, env = ops.libpq_url("postgresql+psycopg://portal:s3cr%40t@db.example:5433/portal")
    assert dsn == "postgresql://portal@db.example:5433/portal"
    assert env == {"PGPASSWORD": "s3cr@t"}
    dsn, env = ops.libpq_url("postgresql+psycopg://postgres@127.0.0.1:5432/test_ops")
    assert dsn == "postgresql://postgres@127.0.0.1:5432/test_ops" and env == {}


def test_missing_pg_dump_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ops.BackupError, match="pg_dump was not found on PATH.*postgresql-client"):
        ops.backup_postgresql("postgresql+psycopg://u@h/db", tmp_path / "x.dump")


def test_default_names_are_utc_timestamps_and_never_clash(tmp_path):
    at = datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC)
    assert ops.default_name("sqlite", at) == "portal-20260302T100005Z.sqlite3"
    assert ops.default_name("postgresql", at, "pre-restore") == (
        "portal-20260302T100005Z-pre-restore.dump"
    )
    first = tmp_path / "portal-20260302T100005Z.sqlite3"
    first.touch()
    assert ops.unused_path(first).name == "portal-20260302T100005Z-2.sqlite3"
    assert ops.sqlite_file(f"sqlite:///{tmp_path}/p.db") == tmp_path / "p.db"
    with pytest.raises(ops.BackupError):
        ops.sqlite_file("sqlite://")
