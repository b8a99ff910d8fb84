"""htmx helpers: tell fragment requests from page requests, and render either."""

from __future__ import annotations

from flask import make_response, render_template, request


def is_htmx() -> bool:
    """True for an htmx request that wants a fragment (not boosted, not a history restore)."""
    h = request.headers
    return (
        h.get("HX-Request") == "true"
        and h.get("HX-Boosted") != "true"
        and h.get("HX-History-Restore-Request") != "true"
    )


def render_page_or_fragment(page: str, fragment: str, status_code: int = 200, **context):
    """Render the full page, or only its fragment for htmx; both vary on HX-Request."""
    template = fragment if is_htmx() else page
    resp = make_response(render_template(template, **context), status_code)
    resp.vary.add("HX-Request")
    return resp
