"""A cache of rendered public pages for visitors who are not logged in.

Most traffic at district scale is residents and neighbours reading public pages: the compound
hub and its tabs, notices, fee statements, results, open data. Those pages are the same for every
visitor who is not logged in (same language, same text size), so each worker keeps the rendered
bytes and serves them again until the data changes.

Correctness rules:

- Only ``GET`` requests of visitors who are not logged in, whose session holds nothing but a
  CSRF token (no flashed message), are looked up or stored.
- A response is stored only when it is a 200, sets no cookie, did not write to the session and
  did not put a CSRF token into the page (``g.csrf_token`` unset): a cached page carries nothing
  that belongs to one visitor.
- The key is the full path with its query string, the language, large-text mode and the htmx
  request headers (a fragment and its page are different entries).
- Every database transaction that wrote anything (INSERT, UPDATE, DELETE) bumps a *generation*
  counter when it commits. The counter lives in a small memory-mapped file in the instance
  folder, so every worker process on the host sees the bump at once; an entry of an older
  generation is never served. Entries also expire after ``PAGE_CACHE_SECONDS`` (default 60), which
  bounds how stale a page can be when time alone changes it (an election opening, a deadline
  passing) or when several hosts share one database (each host has its own counter).
- Memory is bounded per worker: at most ``PAGE_CACHE_ENTRIES`` entries and
  ``PAGE_CACHE_BYTES`` bytes, least recently used first out.

Pages of signed-in users ("shared views")
-----------------------------------------

A signed-in resident's compound hub or a street officer's dashboard is the same for everyone who
stands in the same relation to the place (every plain resident of a compound sees the same
notices; every officer of a street sees the same dashboard); only the site header (name, staff
link, logout form) and the CSRF token in ``<body hx-headers>`` are personal. A view decorated with
``@shared_view(audience)`` is stored with two *holes* in place of those personal parts
(``base.html`` renders markers when ``g.punch_holes`` is set), keyed like a visitor's page plus
the *audience*: a tuple the view's ``audience(**view_args)`` computes from the viewer's roles
(for example ``("can_post", False)``), or ``None`` when the page is personal for this viewer and
must be rendered afresh. Each request then renders only the two holes for its own user. Rules:

- Not used while the session holds a flashed message (the message is shown by a fresh render).
- Not stored when the view put a CSRF token into the page body (a form for this user), showed
  a message it flashed, wrote to the session, set a cookie or answered anything but 200.
  Errors raised by the view are rendered without holes.
- The same generation counter and expiry apply.

Settings (environment variables of the same names): ``PAGE_CACHE`` (``1``/``0``; on unless
``PORTAL_ENV=testing``), ``PAGE_CACHE_SECONDS``,
``PAGE_CACHE_ENTRIES``, ``PAGE_CACHE_BYTES``, ``PAGE_CACHE_FILE`` (the generation counter; default
``instance/page-cache.generation``; every process serving the same database on a host must use
the same file).
"""

from __future__ import annotations

import fcntl
import functools
import mmap
import os
import struct
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, current_app, g, render_template, request, session
from flask.globals import request_ctx
from sqlalchemy import event

# Headers of the stored response that are replayed; the rest (security headers, request id,
# cache policy) are added again by the app's after-request hooks on every hit.
_KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Content-Language", "Vary")
_HTMX_HEADERS = ("HX-Request", "HX-Target", "HX-Boosted", "HX-History-Restore-Request")
_WRITES = ("insert", "update", "delete")


class Generation:
    """A counter shared by the processes of one host through a memory-mapped file."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < 8:
                os.ftruncate(fd, 8)
            self._map = mmap.mmap(fd, 8)
        finally:
            os.close(fd)
        self._lock_path = str(path) + ".lock"

    def read(self) -> int:
        return struct.unpack_from("<Q", self._map, 0)[0]

    def bump(self) -> int:
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            value = self.read() + 1
            # Seen at once by every process mapping the file (a shared mapping is the same
            # memory); not flushed to disk, which cost a disk write on every committed write
            # and is not needed: after a restart every worker's cache starts empty anyway.
            struct.pack_into("<Q", self._map, 0, value)
            return value


@dataclass(slots=True)
class Entry:
    generation: int
    stored: float
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class PageCache:
    def __init__(self, generation: Generation, seconds: float, entries: int, max_bytes: int):
        self.generation = generation
        self.seconds = seconds
        self.max_entries = entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> Entry | None:
        now = time.monotonic()
        current = self.generation.read()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            if entry.generation != current or now - entry.stored > self.seconds:
                self._drop(key)
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        size = len(entry.body)
        if size > self.max_bytes // 8:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = entry
            self._bytes += size
            while self._entries and (
                len(self._entries) > self.max_entries or self._bytes > self.max_bytes
            ):
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: tuple) -> None:
        entry = self._entries.pop(key)
        self._bytes -= len(entry.body)


def _anonymous_reader() -> bool:
    from flask_login import current_user

    if current_user.is_authenticated:
        return False
    return all(k == "csrf_token" for k in session.keys())


def _key() -> tuple:
    from portal.i18n import current_lang

    return (
        request.full_path,
        current_lang(),
        bool(g.get("large_text")),
        tuple(request.headers.get(h, "") for h in _HTMX_HEADERS),
    )


def init_pagecache(app: Flask) -> None:
    cfg = app.config
    default_on = "0" if cfg.get("PORTAL_ENV") == "testing" else "1"
    cfg.setdefault("PAGE_CACHE", os.environ.get("PAGE_CACHE", default_on) not in ("0", "", "no"))
    cfg.setdefault("PAGE_CACHE_SECONDS", float(os.environ.get("PAGE_CACHE_SECONDS", "60")))
    cfg.setdefault("PAGE_CACHE_ENTRIES", int(os.environ.get("PAGE_CACHE_ENTRIES", "5000")))
    cfg.setdefault("PAGE_CACHE_BYTES", int(os.environ.get("PAGE_CACHE_BYTES", str(64 << 20))))
    cfg.setdefault(
        "PAGE_CACHE_FILE",
        os.environ.get("PAGE_CACHE_FILE") or str(Path(app.instance_path) / "page-cache.generation"),
    )
    generation = Generation(Path(cfg["PAGE_CACHE_FILE"]))
    cache = PageCache(
        generation, cfg["PAGE_CACHE_SECONDS"], cfg["PAGE_CACHE_ENTRIES"], cfg["PAGE_CACHE_BYTES"]
    )
    app.extensions["pagecache"] = cache

    from portal.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _note_write(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip()[:6].lower() in _WRITES:
            conn.info["pagecache_dirty"] = True

    @event.listens_for(engine, "commit")
    def _bump(conn):
        if conn.info.pop("pagecache_dirty", False):
            generation.bump()

    @event.listens_for(engine, "rollback")
    def _forget(conn):
        conn.info.pop("pagecache_dirty", None)

    from portal.ops.health import BARE_ENDPOINTS

    @app.before_request
    def _serve_cached():
        if not current_app.config["PAGE_CACHE"] or request.method != "GET":
            return None
        if request.endpoint in BARE_ENDPOINTS or request.endpoint == "static":
            return None
        if not _anonymous_reader():
            return None
        g.pagecache_key = key = _key()
        g.pagecache_generation = generation.read()
        entry = cache.get(key)
        if entry is None:
            return None
        g.pagecache_hit = True
        return Response(entry.body, status=entry.status, headers=entry.headers)

    @app.after_request
    def _store(resp: Response):
        key = g.get("pagecache_key")
        if key is None or g.get("pagecache_hit"):
            return resp
        if (
            resp.status_code != 200
            or resp.direct_passthrough
            or resp.is_streamed
            or "Set-Cookie" in resp.headers
            or "no-store" in resp.headers.get("Cache-Control", "")
            or session.modified
            or g.get("csrf_token")
        ):
            return resp
        headers = [(h, resp.headers[h]) for h in _KEPT_HEADERS if h in resp.headers]
        cache.put(
            key,
            Entry(g.pagecache_generation, time.monotonic(), 200, headers, resp.get_data()),
        )
        return resp


# ---- shared views of signed-in users -----------------------------------------------------------

HOLE_BODY_ATTRS = "<!--portal-hole:body-attrs-->"
HOLE_SITE_HEADER = "<!--portal-hole:site-header-->"


def _signed_in_reader() -> bool:
    from flask_login import current_user

    return bool(current_user.is_authenticated) and not session.get("_flashes")


def _fill_holes(html: str) -> str:
    """The personal parts of ``base.html`` for the current user, put into a stored page. The
    markers start with ``<``, which escaped content never contains, so only the template's own
    markers are replaced."""
    if HOLE_BODY_ATTRS in html:
        html = html.replace(HOLE_BODY_ATTRS, render_template("_body_attrs.html"), 1)
    if HOLE_SITE_HEADER in html:
        html = html.replace(HOLE_SITE_HEADER, render_template("_site_header.html"), 1)
    return html


def shared_view(audience):
    """Decorator of a GET view whose page is the same for every signed-in user with the same
    ``audience(**view_args)`` (see the module's docstring); ``None`` means "personal, do not
    share". Without the page cache, for visitors (who use the visitor cache) and for
    non-GET requests, the view runs as usual."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            cache: PageCache | None = current_app.extensions.get("pagecache")
            if (
                cache is None
                or not current_app.config["PAGE_CACHE"]
                or request.method != "GET"
                or not _signed_in_reader()
            ):
                return view(*args, **kwargs)
            group = audience(**kwargs)
            if group is None:
                return view(*args, **kwargs)
            key = ("shared", *_key(), group)
            entry = cache.get(key)
            if entry is not None:
                html = _fill_holes(entry.body.decode())
                return Response(html, status=entry.status, headers=entry.headers)
            generation = cache.generation.read()
            was_modified = session.modified
            g.punch_holes = True
            try:
                resp = current_app.make_response(view(*args, **kwargs))
            finally:
                g.punch_holes = False
            if resp.direct_passthrough or resp.is_streamed:
                return resp
            body = resp.get_data()
            if (
                resp.status_code == 200
                and "Set-Cookie" not in resp.headers
                and "csrf_token" not in g
                and (was_modified or not session.modified)
                and not request_ctx.flashes  # no message shown (and so taken) by this page
            ):
                headers = [(h, resp.headers[h]) for h in _KEPT_HEADERS if h in resp.headers]
                cache.put(key, Entry(generation, time.monotonic(), 200, headers, body))
            resp.set_data(_fill_holes(body.decode()))
            return resp

        return inner

    return wrap
