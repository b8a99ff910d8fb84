"""Residents' text: a small Markdown subset, rendered and then sanitised (pure: no Flask).

markdown-it-py renders with raw HTML disabled, and only the rules that produce the allowed tags
switched on; links are accepted only for http, https and mailto. nh3 (ammonia) then keeps only
``p, br, strong, em, ul, ol, li, a[href], blockquote, code`` — whatever the renderer let through
by mistake, a tag, an attribute (``on*``, ``hx-*``, ``style``) or a scheme, does not survive.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code"})
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")

_md = MarkdownIt("zero", {"html": False, "breaks": True, "linkify": False})
# "zero" has paragraphs and text only; switch on what maps to the allowed tags.
_md.enable(["emphasis", "backticks", "link", "list", "blockquote", "newline", "escape", "entity"])


def _link_ok(url: str) -> bool:
    m = _SCHEME.match(url.strip())
    return bool(m) and m.group(1).lower() in ALLOWED_SCHEMES


_md.validateLink = _link_ok

_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={"a": {"href"}},
    url_schemes=set(ALLOWED_SCHEMES),
    url_relative="deny",
    link_rel="nofollow noopener noreferrer ugc",
    strip_comments=True,
)
_strip_all = nh3.Cleaner(tags=set(), attributes={})


def render(source: str | None) -> str:
    """Safe HTML for ``source``."""
    if not source:
        return ""
    return _cleaner.clean(_md.render(source)).strip()


def plain(source: str | None, limit: int = 140) -> str:
    """The text alone (for lists and excerpts), whitespace folded, cut at ``limit`` characters."""
    if not source:
        return ""
    text = _strip_all.clean(_md.render(source))
    text = re.sub(r"\s+", " ", html.unescape(text)).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
