"""``flask backup`` and ``flask restore``: a verified copy of the database, and putting one back.

Like the other commands, their output is English plain text for the operator.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from portal.extensions import db
from portal.ops import backup as ops
from portal.ops.revisions import current_revision, head_revision, known_revision


def _url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def _shown_url() -> str:
    return make_url(_url()).render_as_string(hide_password=True)


def _backup_dir() -> Path:
    return Path(current_app.config["BACKUP_DIR"])


def _take_backup(target: Path) -> ops.BackupFile:
    url = _url()
    if ops.dialect_of(url) == "sqlite":
        return ops.backup_sqlite(ops.sqlite_file(url), target)
    return ops.backup_postgresql(url, target)


def _audit(action: str, **detail) -> None:
    """An audit event in the (current) database; a warning when it cannot be written."""
    from portal import audit

    try:
        audit.record(action, None, object_type="database", **detail)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001  (an old schema must not fail the restore itself)
        db.session.rollback()
        click.secho(f"warning: the audit event {action} was not written: {exc}", err=True)


def _echo_file(label: str, f: ops.BackupFile) -> None:
    click.echo(f"{label}: {f.path}")
    click.echo(f"size: {f.size} bytes")
    click.echo(f"sha256: {f.sha256}")
    click.echo(f"verified: {f.check}")


@click.command("backup")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="File to write, or an existing folder to write into "
    "(default: BACKUP_DIR, i.e. instance/backups/portal-<UTC time>.sqlite3 or .dump).",
)
@with_appcontext
def backup_command(output: Path | None) -> None:
    """Write a consistent, verified copy of the database (safe while the portal serves)."""
    try:
        dialect = ops.dialect_of(_url())
        name = ops.default_name(dialect, datetime.now(UTC))
        if output is None:
            target = ops.unused_path(_backup_dir() / name)
        elif output.is_dir():
            target = ops.unused_path(output / name)
        else:
            target = output
        result = _take_backup(target)
    except ops.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_file("backup written", result)
    _audit("ops.backup", file=result.path.name, size=result.size, sha256=result.sha256)


def _has_portal_tables() -> bool:
    url = _url()
    if ops.dialect_of(url) == "sqlite" and not ops.sqlite_file(url).exists():
        return False
    with db.engine.connect() as conn:
        return inspect(conn).has_table(ops.REQUIRED_TABLE)


def _report_revision() -> None:
    with db.engine.connect() as conn:
        current = current_revision(conn)
    head = head_revision()
    if current == head:
        click.echo(f"migration: {current} (the code's head)")
    elif current is None:
        click.secho(
            "warning: the restored data has no migration stamp (no alembic_version); "
            "check it before serving",
            err=True,
        )
    elif known_revision(current):
        click.secho(
            f"warning: the restored data is at migration {current}, the code expects {head}: "
            "run `flask db upgrade` before serving",
            err=True,
        )
    else:
        click.secho(
            f"warning: the restored data is at migration {current}, which this code does not "
            f"know (its head is {head}): the backup comes from a newer version of the portal; "
            "deploy that version before serving",
            err=True,
        )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--yes", is_flag=True, help="Do not ask for confirmation (needed without a terminal)."
)
@click.option(
    "--no-safety-backup",
    is_flag=True,
    help="Do not back up the current data before replacing it.",
)
@with_appcontext
def restore_command(path: Path, yes: bool, no_safety_backup: bool) -> None:
    """Replace ALL data in the database with the backup file PATH (checked first)."""
    url = _url()
    try:
        dialect = ops.dialect_of(url)
        kind = ops.kind_of_file(path)
        if kind != dialect:
            raise ops.BackupError(
                f"{path} is a {kind} backup, but the portal's database is {dialect}"
            )
        if dialect == "sqlite":
            ops.verify_sqlite(path)
        else:
            ops.verify_pg_archive(path)
    except ops.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    digest = ops.sha256_of(path)
    click.echo(f"backup: {path} ({path.stat().st_size} bytes, sha256 {digest}): valid")

    if not yes:
        if not sys.stdin.isatty():
            raise click.ClickException(
                "refusing to restore without confirmation: there is no terminal to ask on; "
                "pass --yes to restore anyway"
            )
        click.confirm(
            f"Replace ALL data in {_shown_url()} with this backup?", default=False, abort=True
        )

    try:
        if not no_safety_backup and _has_portal_tables():
            name = ops.default_name(dialect, datetime.now(UTC), "pre-restore")
            safety = _take_backup(ops.unused_path(_backup_dir() / name))
            click.echo(f"the current data was saved first to {safety.path}")
        db.session.remove()
        db.engine.dispose()
        if dialect == "sqlite":
            ops.restore_sqlite(path, ops.sqlite_file(url))
        else:
            ops.restore_postgresql(path, url)
    except ops.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.engine.dispose()
    click.echo(f"restored {path.name} into {_shown_url()}")
    _report_revision()
    _audit("ops.restore", file=path.name, sha256=digest)
