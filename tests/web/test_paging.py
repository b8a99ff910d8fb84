"""One-query pagination: the rows and the total in one statement, the same numbers as a count."""

from __future__ import annotations

from sqlalchemy import select

from portal.paging import paginate
from portal.places.models import Street


def test_a_page_brings_its_total_in_the_same_statement(app, make_street, count_queries):
    for i in range(7):
        make_street(name=f"街道{i}")
    stmt = select(Street).order_by(Street.id)
    with count_queries() as q:
        page = paginate(stmt, 2, 3)
    assert q.count == 1
    assert [s.name for s in page.items] == ["街道3", "街道4", "街道5"]
    assert (page.total, page.pages, page.page) == (7, 3, 2)
    assert page.has_prev and page.has_next and page.next_num == 3
    last = paginate(stmt, 3, 3)
    assert [s.name for s in last.items] == ["街道6"] and not last.has_next


def test_a_page_past_the_end_still_knows_the_total(app, make_street, count_queries):
    for i in range(4):
        make_street(name=f"街道{i}")
    with count_queries() as q:
        page = paginate(select(Street).order_by(Street.id), 9, 3)
    assert q.count == 2
    assert page.items == [] and page.total == 4 and page.pages == 2


def test_an_empty_list_costs_one_statement(app, count_queries):
    with count_queries() as q:
        page = paginate(select(Street).order_by(Street.id), 1, 20)
    assert q.count == 1
    assert page.items == [] and page.total == 0 and not page.has_next


def test_nonsense_page_numbers_mean_the_first_page(app, make_street):
    make_street(name="街道")
    assert paginate(select(Street), 0, 5).page == 1
    assert paginate(select(Street), None, 5).items[0].name == "街道"
