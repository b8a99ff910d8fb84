"""One-query pagination: the page's rows and the total in a single statement.

``db.paginate`` runs two statements (the rows, then ``count(*)``). For short lists shown on busy
pages (a hub tab's inspections, a statement's questions, the street dashboard's compounds) the
total comes with the rows through ``count(*) OVER ()``; only a page past the end needs a second
statement to learn the total. Use ``db.paginate`` for long lists paged deep (the proposal board):
there an index scan that stops at the page beats a window over every row.

The returned ``Page`` reads like Flask-SQLAlchemy's ``Pagination`` for the templates: ``items``,
``total``, ``page``, ``per_page``, ``pages``, ``has_prev``, ``has_next``, ``prev_num``,
``next_num``. Statements whose eager loads join a collection are not supported (the window would
count joined rows): use ``selectinload`` for collections.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select

from portal.extensions import db
from portal.notices.paging import Page


def paginate(stmt: Select, page: int | None, per_page: int, max_per_page: int = 100) -> Page:
    page = page if isinstance(page, int) and page > 0 else 1
    per_page = max(1, min(per_page, max_per_page))
    total_col = func.count().over().label("_page_total")
    rows = db.session.execute(
        stmt.add_columns(total_col).limit(per_page).offset((page - 1) * per_page)
    ).all()
    if rows:
        total = rows[0][-1]
        items = [row[0] for row in rows]
    else:
        items = []
        total = (
            0
            if page == 1
            else db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        )
    return Page(page=page, per_page=per_page, total=total, items=items)
