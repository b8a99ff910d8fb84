"""Serialising writers on one row, the same way on PostgreSQL and SQLite."""

from __future__ import annotations

import time

from sqlalchemy import inspect, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from portal.errors import DomainError, NotFound
from portal.extensions import db


def lock_row(model, row_id: int, touch, options=()):
    """Load ``model`` row ``row_id`` locked for the rest of the transaction.

    A no-op UPDATE of the column ``touch`` takes the lock on every backend: a row lock on
    PostgreSQL, the database write lock on SQLite (where SELECT … FOR UPDATE does nothing);
    concurrent writers wait. Raises NotFound when there is no such row.
    """
    db.session.execute(
        update(model)
        .where(model.id == row_id)
        .values({touch: touch})
        .execution_options(synchronize_session=False)
    )
    row = db.session.scalar(
        select(model)
        .where(model.id == row_id)
        .options(*options)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound()
    return row


def lock_loaded(obj, touch) -> bool:
    """Lock the row of ``obj``, already loaded in this session, like ``lock_row``, and read its
    columns again under the lock, in the same statement (``UPDATE … RETURNING``); its loaded
    relationships are kept. False when the row is gone."""
    model = type(obj)
    attrs = list(inspect(model).column_attrs)
    row = db.session.execute(
        update(model)
        .where(model.id == obj.id)
        .values({touch: touch})
        .returning(*(attr.columns[0] for attr in attrs))
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return False
    for attr, value in zip(attrs, row, strict=True):
        set_committed_value(obj, attr.key, value)
    return True


def with_retry(fn, *args, attempts: int = 8, **kwargs):
    """Run ``fn`` and commit; retry while SQLite reports the database busy (writers queue).

    A refusal (a DomainError) rolls back, so a refused move leaves nothing behind.
    """
    for attempt in range(attempts):
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
            return result
        except OperationalError as exc:
            db.session.rollback()
            if "locked" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
        except DomainError:
            db.session.rollback()
            raise
    raise RuntimeError("unreachable")
