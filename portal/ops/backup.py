"""Backups and restores of the portal's database, without Flask.

SQLite: ``sqlite3.Connection.backup`` copies a consistent snapshot page by page while the portal
keeps serving (WAL: readers never block the writer, and committed pages still in the ``-wal``
file are included, which a plain file copy would miss). The copy is switched to a single-file
journal, checked with ``PRAGMA integrity_check``, and only then given its final name. A restore
uses the same API in the other direction, into the live file.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists`` from the
PostgreSQL client tools on PATH; the SQLAlchemy URL is turned into a libpq one, the password
travels in ``PGPASSWORD`` rather than on the command line.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess  # noqa: S404  (pg_dump / pg_restore, argument lists, never a shell)
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

SQLITE_HEADER = b"SQLite format 3\x00"
PGDUMP_HEADER = b"PGDMP"
# A file restored over the portal's database must at least hold the portal's accounts table.
REQUIRED_TABLE = "user_account"
PG_CLIENT_HINT = (
    "Install the PostgreSQL client tools of the server's major version, e.g. "
    "`apt-get install postgresql-client-15` (Debian) or `apt-get install postgresql-client`, "
    "or put their bin folder on PATH."
)


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    size: int
    sha256: str
    check: str  # what was verified, in words


def dialect_of(url: str) -> str:
    """``sqlite`` or ``postgresql`` (anything else is refused)."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups of {name} databases are not supported")
    return name


def sqlite_file(url: str) -> Path:
    """The database file of a ``sqlite:///…`` URL."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("the SQLite database is not a plain file; nothing to back up")
    return Path(database)


def default_name(dialect: str, now: datetime, label: str = "") -> str:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = ".sqlite3" if dialect == "sqlite" else ".dump"
    return f"portal-{stamp}{'-' + label if label else ''}{suffix}"


def unused_path(path: Path) -> Path:
    """``path``, or ``name-2.ext``, ``name-3.ext`` … when it already exists."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def kind_of_file(path: Path) -> str:
    """``sqlite`` or ``postgresql`` from the file's first bytes; BackupError otherwise."""
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_HEADER))
    if head == SQLITE_HEADER:
        return "sqlite"
    if head.startswith(PGDUMP_HEADER):
        return "postgresql"
    raise BackupError(f"{path} is neither a SQLite database nor a pg_dump custom-format archive")


def _private_dir(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        folder.chmod(0o700)  # backups hold residents' personal data
    except PermissionError:
        pass


# ---- SQLite ------------------------------------------------------------------------------


def _ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def verify_sqlite(path: Path) -> str:
    """Check a SQLite backup: header, ``integrity_check``, the portal's tables.

    Returns the Alembic revision it is stamped with ('' when it has none)."""
    if kind_of_file(path) != "sqlite":
        raise BackupError(f"{path} is not a SQLite database")
    conn = _ro(path)
    try:
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is damaged: {exc}") from exc
        result = [r[0] for r in rows]
        if result != ["ok"]:
            raise BackupError(f"{path} failed the integrity check: " + "; ".join(result[:5]))
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if REQUIRED_TABLE not in tables:
            raise BackupError(f"{path} is a SQLite database, but not the portal's")
        if "alembic_version" not in tables:
            return ""
        return ",".join(
            sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
        )
    finally:
        conn.close()


def backup_sqlite(source: Path, target: Path) -> BackupFile:
    """Copy the live database ``source`` into the new file ``target`` and verify the copy."""
    if not source.exists():
        raise BackupError(f"the database file {source} does not exist")
    if target.exists():
        raise BackupError(f"{target} already exists; choose another file")
    _private_dir(target.parent)
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    src = _ro(source)
    dst = sqlite3.connect(partial)
    try:
        os.chmod(partial, 0o600)
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)  # one consistent snapshot, committed WAL pages included
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        dst.commit()
    except sqlite3.Error as exc:
        dst.close()
        partial.unlink(missing_ok=True)
        raise BackupError(f"the backup failed: {exc}") from exc
    finally:
        src.close()
    dst.close()
    try:
        verify_sqlite(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    partial.rename(target)
    return BackupFile(target, target.stat().st_size, sha256_of(target), "integrity_check ok")


def restore_sqlite(backup: Path, live: Path) -> None:
    """Replace the content of the live database with the (verified) ``backup``.

    The backup API writes through SQLite's own locking, so processes that hold the live file
    open see the restored data on their next transaction."""
    verify_sqlite(backup)
    live.parent.mkdir(parents=True, exist_ok=True)
    src = _ro(backup)
    dst = sqlite3.connect(live, timeout=30)
    try:
        dst.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"the restore failed: {exc}") from exc
    finally:
        src.close()
        dst.close()


# ---- PostgreSQL --------------------------------------------------------------------------


def libpq_url(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL for pg_dump/pg_restore, and the environment that carries the password."""
    u = make_url(url)
    env = {}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    u = URL.create("postgresql", u.username, None, u.host, u.port, u.database, u.query)
    return u.render_as_string(hide_password=False), env


def find_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found on PATH. {PG_CLIENT_HINT}")
    return found


def _run(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    proc = subprocess.run(args, env=env, capture_output=True, text=True)  # noqa: S603
    if proc.returncode != 0:
        tool = Path(args[0]).name
        message = (proc.stderr or proc.stdout).strip() or f"exit status {proc.returncode}"
        raise BackupError(f"{tool} failed: {message}")
    return proc


def verify_pg_archive(path: Path) -> int:
    """Check a pg_dump custom-format archive with ``pg_restore --list``; its number of entries."""
    if kind_of_file(path) != "postgresql":
        raise BackupError(f"{path} is not a pg_dump custom-format archive")
    listing = _run([find_tool("pg_restore"), "--list", str(path)], {}).stdout
    entries = [ln for ln in listing.splitlines() if ln and not ln.startswith(";")]
    if not any(f" TABLE public {REQUIRED_TABLE} " in ln for ln in entries):
        raise BackupError(f"{path} is a pg_dump archive, but not of the portal's database")
    return len(entries)


def backup_postgresql(url: str, target: Path) -> BackupFile:
    """``pg_dump --format=custom`` of the database at ``url`` into ``target``, then verified."""
    pg_dump = find_tool("pg_dump")
    if target.exists():
        raise BackupError(f"{target} already exists; choose another file")
    _private_dir(target.parent)
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    dsn, env = libpq_url(url)
    try:
        _run([pg_dump, "--format=custom", "--file", str(partial), "--dbname", dsn], env)
        os.chmod(partial, 0o600)
        entries = verify_pg_archive(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(target)
    return BackupFile(
        target, target.stat().st_size, sha256_of(target), f"pg_restore --list ok, {entries} entries"
    )


def restore_postgresql(backup: Path, url: str) -> None:
    """``pg_restore --clean --if-exists`` in one transaction: all of it, or nothing."""
    verify_pg_archive(backup)
    dsn, env = libpq_url(url)
    _run(
        [find_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
        + ["--exit-on-error", "--dbname", dsn, str(backup)],
        env,
    )
