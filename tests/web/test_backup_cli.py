"""``flask backup`` / ``flask restore`` round trips: data changed after a backup is gone after the
restore, on a real SQLite file and (with TEST_DATABASE_URL) through pg_dump/pg_restore."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from portal import create_app
from portal.audit import AuditEvent
from portal.extensions import db
from portal.ops.backup import sha256_of
from portal.ops.revisions import head_revision
from portal.places.models import Street

PG_URL = os.environ.get("TEST_DATABASE_URL")


def _stamp(revision: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS alembic_version "
                "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
            )
        )
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": revision})


def _make_app(url: str, backups: Path):
    app = create_app(
        {
            "PORTAL_ENV": "testing",
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": url,
            "REDIS_URL": None,
            "BACKUP_DIR": str(backups),
        }
    )
    ctx = app.app_context()
    ctx.push()
    db.create_all()
    _stamp(head_revision())
    db.session.add(Street(code="HP", name="和平街道", district="测试区"))
    db.session.commit()
    return app, ctx


def _streets() -> dict[str, str]:
    db.session.remove()
    return {s.code: s.name for s in db.session.scalars(select(Street))}


def _actions() -> list[str]:
    db.session.remove()
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def _change_after_backup() -> None:
    db.session.add(Street(code="NEW", name="备份之后的街道", district="测试区"))
    db.session.scalars(select(Street).filter_by(code="HP")).one().name = "改过的名字"
    db.session.commit()
    assert _streets() == {"HP": "改过的名字", "NEW": "备份之后的街道"}


@pytest.fixture
def sqlite_app(tmp_path):
    app, ctx = _make_app(f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "backups")
    yield app
    db.session.remove()
    db.engine.dispose()
    ctx.pop()


def test_sqlite_backup_then_restore_round_trip(sqlite_app, tmp_path):
    runner = sqlite_app.test_cli_runner()
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    files = list((tmp_path / "backups").glob("portal-*Z.sqlite3"))
    assert len(files) == 1
    saved = files[0]
    assert f"backup written: {saved}" in result.output
    assert f"sha256: {sha256_of(saved)}" in result.output
    assert f"size: {saved.stat().st_size} bytes" in result.output
    assert "integrity_check ok" in result.output
    assert _actions() == ["ops.backup"]

    _change_after_backup()

    # no terminal and no --yes: nothing happens
    refused = runner.invoke(args=["restore", str(saved)])
    assert refused.exit_code != 0
    assert "refusing to restore without confirmation" in refused.output
    assert _streets() == {"HP": "改过的名字", "NEW": "备份之后的街道"}

    done = runner.invoke(args=["restore", str(saved), "--yes"])
    assert done.exit_code == 0, done.output
    assert _streets() == {"HP": "和平街道"}
    assert f"migration: {head_revision()} (the code's head)" in done.output
    assert "warning" not in done.output
    # the data it replaced was saved first, and the restore is in the restored audit log
    safety = list((tmp_path / "backups").glob("portal-*-pre-restore.sqlite3"))
    assert len(safety) == 1 and str(safety[0]) in done.output
    assert _actions() == ["ops.restore"]


def test_backup_to_a_chosen_file_and_restore_of_an_old_schema_warns(sqlite_app, tmp_path):
    older = "694b9479a2d9"  # a real, earlier migration of this code
    _stamp(older)
    target = tmp_path / "chosen.sqlite3"
    runner = sqlite_app.test_cli_runner()
    assert runner.invoke(args=["backup", "--output", str(target)]).exit_code == 0
    assert target.exists()
    result = runner.invoke(args=["restore", str(target), "--yes", "--no-safety-backup"])
    assert result.exit_code == 0, result.output
    assert f"restored data is at migration {older}" in result.output
    assert "run `flask db upgrade`" in result.output
    assert not (tmp_path / "backups").exists()  # no safety copy was asked for


def test_restore_refuses_a_file_that_is_not_a_backup(sqlite_app, tmp_path):
    bogus = tmp_path / "photo.jpg"
    bogus.write_bytes(b"\xff\xd8\xff\xe0 not a database")
    result = sqlite_app.test_cli_runner().invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code == 1
    assert "neither a SQLite database nor a pg_dump custom-format archive" in result.output
    assert _streets() == {"HP": "和平街道"}


@pytest.fixture
def pg_app(tmp_path):
    if not PG_URL:
        pytest.skip("PostgreSQL round trip: set TEST_DATABASE_URL")
    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        pytest.skip("pg_dump/pg_restore are not installed")
    name = f"portal_ops_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = PG_URL.rpartition("/")
    app, ctx = _make_app(f"{base}/{name}", tmp_path / "backups")
    yield app
    db.session.remove()
    db.engine.dispose()
    ctx.pop()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_postgresql_round_trip_through_pg_dump_and_pg_restore(pg_app, tmp_path):
    runner = pg_app.test_cli_runner()
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    saved = next((tmp_path / "backups").glob("portal-*Z.dump"))
    assert saved.read_bytes()[:5] == b"PGDMP"
    assert f"sha256: {sha256_of(saved)}" in result.output
    assert re.search(r"pg_restore --list ok, \d+ entries", result.output)

    _change_after_backup()

    done = runner.invoke(args=["restore", str(saved), "--yes"])
    assert done.exit_code == 0, done.output
    assert _streets() == {"HP": "和平街道"}
    assert f"migration: {head_revision()} (the code's head)" in done.output
    assert _actions() == ["ops.restore"]
    assert list((tmp_path / "backups").glob("portal-*-pre-restore.dump"))

    # a SQLite backup is refused by a PostgreSQL portal, which stays as it was
    from portal.ops import backup as ops

    live = tmp_path / "live.db"
    engine = create_engine(f"sqlite:///{live}")
    db.metadata.create_all(engine)
    engine.dispose()
    other = ops.backup_sqlite(live, tmp_path / "s.sqlite3").path
    wrong = runner.invoke(args=["restore", str(other), "--yes"])
    assert wrong.exit_code == 1
    assert "is a sqlite backup, but the portal's database is postgresql" in wrong.output
    assert _streets() == {"HP": "和平街道"}
