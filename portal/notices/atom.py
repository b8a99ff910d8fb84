"""Atom feeds (RFC 4287) built from plain values; ElementTree escapes every text. (Pure.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_NS = "http://www.w3.org/XML/1998/namespace"
MIMETYPE = "application/atom+xml"


@dataclass(frozen=True)
class Entry:
    id: str  # an absolute URL (or tag: URI) that never changes
    title: str
    link: str
    published: datetime
    updated: datetime
    summary: str
    content: str
    category: str
    category_label: str
    author: str


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    subtitle: str
    self_link: str
    html_link: str
    author: str
    lang: str
    updated: datetime
    entries: list[Entry]


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC: ``2026-05-01T02:00:00Z``."""
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: v for k, v in attrs.items() if v})
    if text is not None:
        el.text = text
    return el


def render(feed: Feed) -> bytes:
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(f"{{{ATOM_NS}}}feed", {f"{{{XML_NS}}}lang": feed.lang})
    _sub(root, "id", feed.id)
    _sub(root, "title", feed.title, type="text")
    if feed.subtitle:
        _sub(root, "subtitle", feed.subtitle, type="text")
    _sub(root, "updated", timestamp(feed.updated))
    _sub(root, "link", rel="self", type=MIMETYPE, href=feed.self_link)
    _sub(root, "link", rel="alternate", type="text/html", href=feed.html_link)
    author = _sub(root, "author")
    _sub(author, "name", feed.author)
    _sub(root, "generator", "Red property portal")
    for e in feed.entries:
        entry = _sub(root, "entry")
        _sub(entry, "id", e.id)
        _sub(entry, "title", e.title, type="text")
        _sub(entry, "published", timestamp(e.published))
        _sub(entry, "updated", timestamp(e.updated))
        _sub(entry, "link", rel="alternate", type="text/html", href=e.link)
        entry_author = _sub(entry, "author")
        _sub(entry_author, "name", e.author)
        _sub(entry, "category", term=e.category, label=e.category_label)
        _sub(entry, "summary", e.summary, type="text")
        _sub(entry, "content", e.content, type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
