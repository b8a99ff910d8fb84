"""Plain text as safe HTML: paragraphs at blank lines, line breaks kept, http(s) addresses made
links. Everything typed is escaped, so markup, ``javascript:`` addresses and ``hx-`` attributes
stay inert text. (Pure: no Flask.)"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from portal.notices.rules import normalise_text

# An http(s) address up to whitespace, quotes, angle brackets or full-width punctuation.
_URL = re.compile(r"https?://[^\s<>\"'`，。；、！？）】》」』]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'"
_PARAGRAPHS = re.compile(r"\n\s*\n")


def _link(url: str) -> Markup:
    return Markup('<a href="{0}" rel="nofollow noopener noreferrer">{0}</a>').format(url)


def _line(text: str) -> Markup:
    out = Markup("")
    pos = 0
    for m in _URL.finditer(text):
        url = m.group(0)
        stripped = url.rstrip(_TRAILING)
        out += escape(text[pos : m.start()])
        out += _link(stripped)
        out += escape(url[len(stripped) :])
        pos = m.end()
    return out + escape(text[pos:])


def render_plain(text: str | None, lines_as_paragraphs: bool = False) -> Markup:
    """``<p>`` per paragraph, ``<br>`` per line break; empty text gives empty markup.

    ``lines_as_paragraphs``: every line is a paragraph (the printed notice indents each, as a
    paper notice does)."""
    body = normalise_text(text)
    if not body:
        return Markup("")
    blocks = body.split("\n") if lines_as_paragraphs else _PARAGRAPHS.split(body)
    paragraphs = []
    for block in (b for b in blocks if b.strip()):
        lines = [_line(line) for line in block.strip("\n").split("\n")]
        paragraphs.append(Markup("<p>") + Markup("<br>\n").join(lines) + Markup("</p>"))
    return Markup("\n").join(paragraphs)
