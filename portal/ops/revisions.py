"""Which Alembic revision the code expects (its head) and which one a database is at."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"


@lru_cache(maxsize=4)
def _script(directory: str) -> ScriptDirectory:
    return ScriptDirectory(directory)


def head_revision(directory: Path = MIGRATIONS) -> str | None:
    """The code's head revision (several heads are joined with a comma)."""
    heads = sorted(_script(str(directory)).get_heads())
    return ",".join(heads) or None


def known_revision(revision: str, directory: Path = MIGRATIONS) -> bool:
    """True when the code has a migration script for ``revision``."""
    from alembic.util import CommandError

    script = _script(str(directory))
    try:
        return all(script.get_revision(r) is not None for r in revision.split(","))
    except CommandError:  # ResolutionError: a revision from a newer (or other) code base
        return False


def current_revision(conn: Connection) -> str | None:
    """The revision a database is stamped with, or None (no ``alembic_version`` table)."""
    heads = sorted(MigrationContext.configure(conn).get_current_heads())
    return ",".join(heads) or None
