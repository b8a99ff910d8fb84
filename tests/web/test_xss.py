"""Stored XSS: payloads put into every free-text field the world fills (names, titles, bodies,
comments, questions, notice text, minutes, reasons, addresses, team names, file names …) render
inert on every page, htmx fragment, feed, print view and download that shows them.

Checked on the parsed HTML: no element carries an ``on*`` attribute or an htmx attribute made from
the payload, no link or source is a ``javascript:`` URL, no ``<script>`` but the portal's own
``<script src=…>``, and ``{{7*7}}`` is shown as typed, never evaluated.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from portal.places.labels import HUB_TABS
from tests.web import security_world
from tests.web.security_world import as_user
from tests.web.test_security_audit import GET_POLICY, _rules, url_for_rule

app_config = security_world.uploads_config

# Each at most 40 characters, so that it fits every column (a name has 50); they take turns
# over the fields, each landing in several kinds of field.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    '<div hx-get="/logout" hx-trigger="load">',
    '"><svg onload=alert(1)>',
    "{{7*7}}",
]
HTMX_ATTRS = ("hx-get", "hx-post", "hx-put", "hx-delete", "hx-patch", "hx-trigger", "hx-on")
URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "data", "hx-get", "hx-post")


class Audit(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in URL_ATTRS and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in HTMX_ATTRS and "/logout" in value:
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "hx-trigger" and value.strip() == "load" and tag == "div":
                self.problems.append(f"<{tag} hx-trigger=load>")
        if tag == "script":
            if not attrs.get("src", "").startswith("/static/"):
                self.problems.append(f"<script {attrs}>")
        if tag in ("svg", "img") and attrs.get("src") == "x":
            self.problems.append(f"<{tag} src=x>")
        if tag == "svg" and "onload" in attrs:
            self.problems.append("<svg onload>")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def audit_html(html: str) -> tuple[list[str], str]:
    parser = Audit()
    parser.feed(html)
    parser.close()
    return parser.problems, " ".join(parser.text)


@pytest.fixture
def factories(make_street, make_community, make_compound, make_user, make_claim, make_grant):
    return {
        "make_street": make_street,
        "make_community": make_community,
        "make_compound": make_compound,
        "make_user": make_user,
        "make_claim": make_claim,
        "make_grant": make_grant,
    }


def _urls(app, ids) -> list[str]:
    urls = [url_for_rule(r, ids) for r in _rules(app, "GET") if GET_POLICY[r.endpoint]]
    urls += [f"/compounds/{ids['compound']}/{tab}" for tab in HUB_TABS]
    urls += [f"/proposals/{ids['accepted_proposal']}", f"/minutes/{ids['draft_minutes']}"]
    urls += [f"/compounds/{ids['compound']}/fees/{ids['period_key']}#q"]
    return sorted(set(urls))


def test_the_audit_sees_a_live_payload():
    for payload in PAYLOADS[:3] + PAYLOADS[4:6]:
        assert audit_html(f"<p>{payload}</p>")[0], payload
    assert audit_html("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>")[0] == []


def test_stored_payloads_render_inert_everywhere(app, client, factories):
    rotating = security_world.Rotating(PAYLOADS)
    world = security_world.build(factories, text=rotating)
    assert rotating.i > 3 * len(PAYLOADS)  # every payload went into several fields
    urls = _urls(app, world.ids)
    problems, shown = [], 0
    own = {f"/account{tail}" for tail in ("", "/units", "/ballots", "/volunteering")}
    for role in ("admin", "committee", "company", "resident"):
        as_user(client, world.users[role])
        # the admin sees every public and staff page; the others add their own desks and pages
        for url in urls if role != "resident" else sorted(own):
            for htmx in (False, True):
                resp = client.hx_get(url) if htmx else client.get(url)
                if resp.status_code >= 400 and resp.status_code != 422:
                    continue
                mime = resp.mimetype
                if not (mime.startswith("text/") or "json" in mime or "xml" in mime):
                    break  # images, PDF, zip: served as downloads with their own CSP
                body = resp.get_data(as_text=True)
                if mime == "text/html":
                    found, text = audit_html(body)
                    problems += [f"{role} {url} htmx={htmx}: {p}" for p in found]
                    if "{{7*7}}" in text:
                        shown += 1
                elif mime in ("application/json",):
                    json.loads(body)  # a JSON string: escaped by the encoder
                elif "<script>" in body or "<svg" in body:
                    # CSV, Atom, ICS …: must never be served as something a browser renders
                    assert mime in ("text/csv", "text/calendar", "application/zip") or (
                        "<svg" not in body.replace("&lt;svg", "")
                    ), f"{url}: {mime} carries raw markup"
                    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
                if not htmx and not resp.headers.get("Vary", "").count("HX-Request"):
                    break  # the same response either way
    assert problems == [], "\n".join(sorted(set(problems))[:60])
    assert shown > 10  # stored, and shown as typed (not 49) on many pages
