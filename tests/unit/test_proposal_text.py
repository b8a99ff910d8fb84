"""Residents' Markdown renders to a small safe subset; XSS payloads come out inert."""

import re

import pytest

from portal.proposals.text import ALLOWED_TAGS, plain, render


def tags_of(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html)}


def test_the_subset_renders():
    html = render(
        "**粗体** *斜体* `代码`\n第二行\n\n- 一\n- 二\n\n1. 甲\n\n> 引用\n\n[链接](https://example.cn/a?b=1)"
    )
    assert "<strong>粗体</strong>" in html and "<em>斜体</em>" in html
    assert "<code>代码</code>" in html and "<br>" in html
    assert "<ul>" in html and "<ol>" in html and "<blockquote>" in html
    assert (
        '<a href="https://example.cn/a?b=1" rel="nofollow noopener noreferrer ugc">链接</a>' in html
    )
    assert tags_of(html) <= ALLOWED_TAGS


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="/x" hx-get="/staff" hx-trigger="load">click</a>',
        "<b onmouseover=alert(1)>x</b>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<iframe src=https://evil.example></iframe>",
        "<svg onload=alert(1)>",
    ],
)
def test_raw_html_is_text_not_markup(payload):
    html = render(payload)
    assert tags_of(html) <= {"p", "br"}
    assert "<script" not in html and "<img" not in html and "<iframe" not in html
    assert not re.search(r"<[^>]+\s(on\w+|hx-[\w-]+|style)=", html)


@pytest.mark.parametrize(
    "link",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](/relative/path)",
        "[x](//evil.example/)",
        "<javascript:alert(1)>",
        "![x](https://evil.example/pixel.png)",
    ],
)
def test_only_http_https_mailto_links_survive(link):
    html = render(link)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert all(h.startswith(("http://", "https://", "mailto:")) for h in hrefs), html
    assert "javascript:" not in " ".join(hrefs).lower()
    assert "<img" not in html


def test_mailto_is_allowed():
    assert 'href="mailto:jw@example.cn"' in render("[写信](mailto:jw@example.cn)")


def test_headings_rules_and_code_blocks_fold_into_the_subset():
    html = render(
        "# 标题\n\n---\n\n    缩进代码\n\n```\n围栏\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert tags_of(html) <= ALLOWED_TAGS
    assert "<h1" not in html and "<hr" not in html and "<pre" not in html and "<table" not in html


def test_plain_is_text_only_and_cut():
    assert plain("**粗** <script>x</script> [l](https://a.cn)") == "粗 <script>x</script> l"
    long = "长" * 300
    out = plain(long, 20)
    assert len(out) == 20 and out.endswith("…")
    assert plain("") == "" and render(None) == ""
