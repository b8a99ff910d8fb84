"""Point 5: the board — the compound's proposals tab at /compounds/<code>/proposals — with
filters, sort, search, pagination, real URLs, and the same number of SQL queries for ten
proposals as for thousands."""

# ruff: noqa: F811  (the shared fixtures are imported, then requested by name)

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert

from portal.extensions import db
from portal.proposals.models import Proposal
from tests.conftest import text_of
from tests.web.test_proposals_fixtures import (  # noqa: F401
    T0,
    H,
    accepted,
    assert_csp_clean,
    clock,
    make_proposal,
    world,
)

CATS = ["parking", "sanitation", "safety", "greening", "facilities", "pets", "neighbours", "other"]


def bulk(world, n, start=0):
    """n proposals in one INSERT (a mix of states, categories and supports)."""
    rows = []
    for i in range(start, start + n):
        state = ["collect", "accepted", "closed", "rejected"][i % 4]
        rows.append(
            {
                "compound_id": world.compound.id,
                "community_id": world.community.id,
                "author_id": world.residents[i % 6].id,
                "title": f"批量提案{i:05d}",
                "body": f"内容{i}",
                "category": CATS[i % 8],
                "state": state,
                "created_at": T0 - timedelta(minutes=i),
                "complexity": "general" if state == "accepted" else None,
                "responsible": "company" if state == "accepted" else None,
                "deadline_at": T0 + timedelta(hours=i % 48) if state == "accepted" else None,
                "support_count": i % 37,
                "comment_count": i % 5,
                "reject_reason": "",
                "conclusion": "",
                "feedback": "",
                "hidden_reason": "",
                "reopened": False,
                "ever_overdue": False,
            }
        )
    db.session.execute(insert(Proposal), rows)
    db.session.commit()


def url(world, qs=""):
    return f"/compounds/{world.compound.code}/proposals{qs}"


def titles(resp):
    return re.findall(
        r'class="list-title" href="/proposals/\d+">([^<]+)</a>', resp.get_data(as_text=True)
    )


def test_empty_board_is_honest(client, world, en):
    resp = client.get(url(world, "?lang=en"))
    assert resp.status_code == 200
    assert "No proposals have been raised in this compound yet." in text_of(resp)
    assert "Log in to take part" in text_of(resp)


def test_board_lists_newest_first_with_counts_and_masked_names(client, world, login_as, clock):
    make_proposal(world, title="旧的", now=T0 - H)
    make_proposal(world, title="新的", now=T0, author=world.residents[1])
    login_as(user=world.residents[2])
    resp = client.get(url(world, "?lang=en"))
    assert titles(resp) == ["新的", "旧的"]
    text = text_of(resp)
    assert "李**" in text and "李秀英" not in text and "2 proposals" in text
    assert "1 support" in text and "Raise a proposal" in text
    html = resp.get_data(as_text=True)
    assert_csp_clean(html)
    assert world.residents[1].phone not in html


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("?state=accepted", ["受理了的"]),
        ("?state=open", ["受理了的", "停车难"]),
        ("?category=parking", ["停车难"]),
        ("?q=停车", ["停车难"]),
        ("?q=路灯", ["受理了的"]),  # found in the text, not the title
        ("?overdue=1", []),
        ("?sort=supported", ["停车难", "受理了的"]),
    ],
)
def test_filters_and_sort_have_real_urls(client, world, clock, qs, expected):
    from portal.proposals import service

    a = accepted(world, title="受理了的", body="门口的路灯坏了", now=T0)
    b = make_proposal(world, title="停车难", body="晚上没有车位", category="parking", now=T0 - H)
    for r in world.residents[1:4]:
        service.support(r, b.id, T0)
    db.session.commit()
    del a
    clock.now = T0 + H
    assert titles(client.get(url(world, qs))) == expected


def test_overdue_filter_and_deadline_sort(client, world, clock):
    accepted(world, title="一般", complexity="general", now=T0)
    accepted(world, title="复杂", complexity="complex", now=T0 - H)
    make_proposal(world, title="未受理", now=T0 + H)
    clock.now = T0 + 25 * H
    assert titles(client.get(url(world, "?overdue=1"))) == ["一般"]
    assert titles(client.get(url(world, "?sort=deadline"))) == ["一般", "复杂", "未受理"]


def test_search_escapes_wildcards(client, world, clock):
    make_proposal(world, title="100%满意的绿化")
    make_proposal(world, title="普通的绿化问题")
    make_proposal(world, title="下划线_测试")
    assert titles(client.get(url(world, "?q=100%25"))) == ["100%满意的绿化"]
    assert titles(client.get(url(world, "?q=%25"))) == ["100%满意的绿化"]
    assert titles(client.get(url(world, "?q=_"))) == ["下划线_测试"]
    resp = client.get(url(world, "?q=不存在的&lang=en"))
    assert "No proposals match these filters." in text_of(resp)


def test_unknown_filter_values_are_ignored(client, world, clock):
    make_proposal(world, title="一个")
    resp = client.get(url(world, "?state=bogus&category=x&sort=y&page=abc"))
    assert resp.status_code == 200 and titles(resp) == ["一个"]


def test_filters_enhance_with_htmx_and_push_the_url(client, world, clock):
    bulk(world, 45)
    html = client.get(url(world)).get_data(as_text=True)
    assert 'hx-push-url="true"' in html and 'hx-select="#proposal-results"' in html
    assert re.search(
        r'<form class="board-filters" method="get" action="/compounds/[^"]+/proposals"', html
    )
    # the pager keeps the filters in its real links
    resp = client.get(url(world, "?category=parking&lang=en"))
    text = text_of(resp)
    assert "6 proposals" in text
    resp = client.get(url(world, "?state=collect&lang=en"))
    assert "12 proposals" in text_of(resp)
    page1 = client.get(url(world, "?lang=en"))
    assert "Page 1 of 3" in text_of(page1) and len(titles(page1)) == 20
    nxt = re.search(r'href="([^"]+page=2[^"]*)" rel="next"', page1.get_data(as_text=True)).group(1)
    page2 = client.get(nxt.replace("&amp;", "&"))
    assert len(titles(page2)) == 20 and titles(page2)[0] == "批量提案00020"
    # an htmx request gets the hub fragment (the results are selected out of it)
    frag = client.hx_get(url(world, "?page=3"))
    body = frag.get_data(as_text=True)
    assert "<html" not in body and 'id="proposal-results"' in body
    assert len(titles(frag)) == 5


def _count(client, world, count_queries, qs):
    with count_queries() as q:
        resp = client.get(url(world, qs))
    assert resp.status_code == 200
    return q.count


@pytest.mark.parametrize(
    "qs", ["", "?sort=supported", "?sort=deadline&state=open", "?q=提案&overdue=1", "?page=2"]
)
def test_ten_or_three_hundred_proposals_same_queries(
    client, world, login_as, count_queries, clock, qs
):
    login_as(user=world.residents[0])
    first = 25 if "page=2" in qs else 10  # page 2 needs rows of its own
    bulk(world, first)
    small = _count(client, world, count_queries, qs)
    bulk(world, 300 - first, start=first)
    big = _count(client, world, count_queries, qs)
    assert small == big, (small, big)


def test_thousands_of_proposals_same_queries_and_answers(
    client, world, count_queries, login_as, clock
):
    bulk(world, 10)
    login_as(user=world.residents[0])
    small = _count(client, world, count_queries, "?sort=supported")
    bulk(world, 2990, start=10)
    big = _count(client, world, count_queries, "?sort=supported")
    assert small == big
    resp = client.get(url(world, "?sort=supported&q=批量&lang=en"))
    assert "3,000 proposals" in text_of(resp) and len(titles(resp)) == 20
    resp = client.get(url(world, "?page=150&lang=en"))
    assert "Page 150 of 150" in text_of(resp)
