"""Pure rules of notices: when a notice shows, its fingerprint, search patterns, the plain-text
rendering (inert markup), the Atom document and the QR code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import pytest

from portal.notices import atom, rules
from portal.notices.qr import qr_code, qr_svg
from portal.notices.text import render_plain

T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)


# ---- time ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("publish", "expires", "now", "current"),
    [
        (T0, None, T0 - timedelta(seconds=1), False),  # a second before: not yet
        (T0, None, T0, True),  # at the publish time: shown
        (T0, None, T0 + 1000 * H, True),  # no expiry: current for ever
        (T0, T0 + H, T0 + H - timedelta(seconds=1), True),
        (T0, T0 + H, T0 + H, False),  # at the expiry: archived
        (T0, T0 + H, T0 + 2 * H, False),
    ],
)
def test_is_current(publish, expires, now, current):
    assert rules.is_current(publish, expires, now) is current


def test_state_walks_scheduled_current_archived_and_withdrawn_wins():
    assert rules.state(T0, T0 + H, None, T0 - H) == "scheduled"
    assert rules.state(T0, T0 + H, None, T0) == "current"
    assert rules.state(T0, T0 + H, None, T0 + H) == "archived"
    for now in (T0 - H, T0, T0 + 2 * H):
        assert rules.state(T0, T0 + H, T0 - 2 * H, now) == "withdrawn"


def test_is_public_means_published_and_not_withdrawn():
    assert not rules.is_public(T0, None, T0 - H)
    assert rules.is_public(T0, None, T0 + 5 * H)  # archived notices are still public
    assert not rules.is_public(T0, T0 + H, T0 + 2 * H)


# ---- fingerprint --------------------------------------------------------------------------------


def _fp(**over):
    base = {
        "title": "停水通知",
        "body": "明天上午停水。\n请储水。",
        "scope": "compound:7",
        "publish_at": T0,
        "attachment_hashes": ["b" * 64, "a" * 64],
    }
    base.update(over)
    return rules.fingerprint(**base)


def test_fingerprint_is_12_hex_and_stable():
    fp = _fp()
    assert len(fp) == 12 and all(c in "0123456789abcdef" for c in fp)
    assert fp == _fp()


@pytest.mark.parametrize(
    "change",
    [
        {"title": "停水通知 "[:-1] + "！"},
        {"body": "明天下午停水。\n请储水。"},
        {"scope": "compound:8"},
        {"scope": "community:7"},
        {"publish_at": T0 + timedelta(seconds=1)},
        {"attachment_hashes": ["a" * 64]},
        {"attachment_hashes": ["a" * 64, "c" * 64]},
    ],
)
def test_any_change_of_content_changes_the_fingerprint(change):
    assert _fp(**change) != _fp()


def test_fingerprint_ignores_what_is_not_content():
    # attachment order, line-end style, trailing spaces, time zone of the same instant,
    # microseconds (not stored), capitals in the hashes
    shanghai = timezone(timedelta(hours=8))
    assert _fp(attachment_hashes=["A" * 64, "b" * 64]) == _fp()
    assert _fp(body="明天上午停水。  \r\n请储水。\r\n") == _fp()
    assert _fp(publish_at=T0.astimezone(shanghai)) == _fp()
    assert _fp(publish_at=T0 + timedelta(microseconds=300)) == _fp()


def test_canonical_text_is_the_documented_json():
    text = rules.canonical_text(
        title="标题", body="正文", scope="street:1", publish_at=T0, attachment_hashes=[]
    )
    assert text == (
        '{"attachments":[],"body":"正文","published":"2026-05-01T02:00:00Z",'
        '"scope":"street:1","title":"标题","v":"notice-v1"}'
    )
    assert json.loads(text)["v"] == rules.CANONICAL_VERSION


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        rules.utc_seconds(datetime(2026, 5, 1))


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("3f2a 9c01 b7d4", "3f2a9c01b7d4"),
        ("3F2A-9C01-B7D4", "3f2a9c01b7d4"),
        ("  3f2a9c01b7d4 ", "3f2a9c01b7d4"),
        ("3f2a 9c01 b7d", None),
        ("3f2a 9c01 b7dx", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_code(typed, code):
    assert rules.normalise_code(typed) == code


def test_group():
    assert rules.group("3f2a9c01b7d4") == "3f2a 9c01 b7d4"


def test_like_pattern_escapes_wildcards():
    assert rules.like_pattern("停水") == "%停水%"
    assert rules.like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


def test_excerpt():
    assert rules.excerpt("短文\n两行") == "短文 两行"
    long = "很" * 200
    cut = rules.excerpt(long, 20)
    assert len(cut) == 20 and cut.endswith("…")


# ---- plain text → safe HTML ---------------------------------------------------------------------


def test_paragraphs_and_line_breaks():
    html = str(render_plain("第一行\n第二行\n\n第二段"))
    assert html == "<p>第一行<br>\n第二行</p>\n<p>第二段</p>"


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">点我</a>',
        '<div hx-get="/logout" hx-trigger="load">x</div>',
        "<img src=x onerror=alert(1)>",
        '"><svg onload=alert(1)>',
    ],
)
def test_markup_typed_in_a_notice_stays_text(evil):
    html = str(render_plain(evil))
    assert "<script" not in html and '<a href="javascript' not in html
    assert "<div" not in html and "<img" not in html and "<svg" not in html
    assert "&lt;" in html


def test_only_http_addresses_become_links_and_stay_escaped():
    html = str(render_plain("见 https://example.org/a?b=1&c=2。再见 javascript:alert(1)"))
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">' in html
    assert "。" in html and 'href="javascript' not in html


def test_an_address_does_not_swallow_trailing_punctuation_or_quotes():
    html = str(render_plain('访问 https://example.org/x). 或 "https://example.org/y"'))
    assert 'href="https://example.org/x"' in html
    assert 'href="https://example.org/y"' in html and "&#34;" in html


def test_every_line_a_paragraph_for_print():
    html = str(render_plain("第一行\n第二行\n\n第三行", lines_as_paragraphs=True))
    assert html == "<p>第一行</p>\n<p>第二行</p>\n<p>第三行</p>"


def test_empty_body():
    assert str(render_plain("")) == "" and str(render_plain(None)) == ""


# ---- Atom ---------------------------------------------------------------------------------------

NS = {"a": atom.ATOM_NS}


def test_atom_document_has_the_required_elements_and_escapes_text():
    feed = atom.Feed(
        id="https://p.example/c/1",
        title="和平花园 <公告>",
        subtitle="",
        self_link="https://p.example/feeds/compounds/1.atom",
        html_link="https://p.example/c/1",
        author="和平花园",
        lang="zh-Hans",
        updated=T0,
        entries=[
            atom.Entry(
                id="https://p.example/notices/9",
                title="停水 & 停电",
                link="https://p.example/notices/9",
                published=T0,
                updated=T0,
                summary="<b>明天</b>",
                content="<b>明天</b>",
                category="outage",
                category_label="停水停电",
                author="物业",
            )
        ],
    )
    root = ET.fromstring(atom.render(feed))
    assert root.tag == f"{{{atom.ATOM_NS}}}feed"
    assert root.find("a:title", NS).text == "和平花园 <公告>"
    assert root.find("a:updated", NS).text == "2026-05-01T02:00:00Z"
    assert root.find("a:link[@rel='self']", NS).get("href").endswith(".atom")
    entry = root.find("a:entry", NS)
    assert entry.find("a:title", NS).text == "停水 & 停电"
    assert entry.find("a:content", NS).get("type") == "text"
    assert entry.find("a:content", NS).text == "<b>明天</b>"


# ---- QR -----------------------------------------------------------------------------------------


def test_qr_svg_is_inline_markup_without_scripts_or_styles():
    svg = str(qr_svg("http://localhost/notices/1", "二维码"))
    assert svg.startswith("<svg ") and 'class="qr"' in svg and "viewBox=" in svg
    assert "<script" not in svg and "style=" not in svg and "<title>二维码</title>" in svg
    code = qr_code("http://localhost/notices/1")
    assert code.error in ("M", "Q", "H") and not code.is_micro  # 15 % may be soiled, at least
