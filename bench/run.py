"""The page benchmark: key pages of a seeded district under load, beside the framework's floor.

    .venv/bin/python bench/run.py                      # PostgreSQL database `bench`, 8 s per page
    .venv/bin/python bench/run.py --seconds 5 --street-db postgresql+psycopg://…/bench_street \
        --street-manifest instance/bench-street-manifest.json

What it does, in one run:

1. Counts the SQL statements each page issues (in process, page cache off), on the district data
   and, with ``--street-db``, on the street data set: the two columns must be equal.
2. Measures response sizes compressed with gzip (what nginx sends): the first visit (home page
   HTML + CSS + htmx) and every htmx fragment.
3. Starts gunicorn with 2 workers on the database and loads every page with wrk (16 connections,
   2 threads) for ``--seconds`` each, after a bare ``/healthz`` (no database, no template: the
   framework's floor) in the same server. It does this twice: with the public page cache off
   (``PAGE_CACHE=0``, the "before") and on (the default, the "after").
4. Writes the tables to ``docs/benchmarks.md`` between the ``bench:start``/``bench:end`` markers
   and exits non-zero when a target is missed.

Targets (issue 7): p95 ≤ 50 ms and ≥ 20 % of the floor's requests/s for every page; ≤ 8 SQL
statements per page, the same on both data sets; first visit ≤ 60 KB compressed; every htmx
fragment ≤ 8 KB compressed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    DEFAULT_DB,
    DEFAULT_MANIFEST,
    ROOT,
    cookie_header,
    git_rev,
    gunicorn,
    load_manifest,
    make_app,
    session_cookie,
    write_section,
    wrk,
)

P95_MS = 50.0
FLOOR_SHARE = 0.20
MAX_QUERIES = 8
FIRST_VISIT_KB = 60.0
FRAGMENT_KB = 8.0
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass
class Page:
    name: str
    path: str
    role: str = "visitor"  # visitor | street | resident
    fragment: bool = False
    results: dict = field(default_factory=dict)

    def headers(self, cookies: dict) -> dict:
        h = {"Accept-Encoding": "identity"}
        if self.fragment:
            h["HX-Request"] = "true"
        if self.role != "visitor":
            h["Cookie"] = cookies[self.role]
        return h


def board_of(app) -> tuple[str, int]:
    """The compound with the most proposals on its board, and its number of board pages."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.places.models import Compound
    from portal.proposals.models import Proposal
    from portal.proposals.service import PER_PAGE

    with app.app_context():
        code, n = db.session.execute(
            select(Compound.code, func.count(Proposal.id))
            .join(Proposal, Proposal.compound_id == Compound.id)
            .group_by(Compound.code)
            .order_by(func.count(Proposal.id).desc())
            .limit(1)
        ).one()
    return code, -(-n // PER_PAGE)


def pages_of(m: dict, board: tuple[str, int]) -> list[Page]:
    """The key pages of the issue, with the manifest's identifiers."""
    from portal.places.labels import HUB_TABS

    c = m["compound_code"]
    statement = m["fee_statement"]["url"]
    election = m["election_id"]
    pages = [
        Page("home", "/"),
        Page("street list", "/compounds"),
        Page("street", f"/streets/{m['street_code']}"),
        Page("community", f"/communities/{m['community_code']}"),
        Page("compound hub", f"/compounds/{c}"),
    ]
    pages += [Page(f"tab: {slug}", f"/compounds/{c}/{slug}") for slug in HUB_TABS]
    board_code, last = board
    deep = min(500, last)
    pages += [
        Page("proposal board p.1", f"/compounds/{board_code}/proposals"),
        Page(f"proposal board p.{deep}", f"/compounds/{board_code}/proposals?page={deep}"),
        Page("proposal", f"/proposals/{m['proposal_id']}"),
        Page("notice", f"/notices/{m['notice_id']}"),
        Page("fee statement", statement),
        Page("election result", f"/elections/{election}"),
        Page("open data: fees CSV", f"/open-data/fees/{c}/fees.csv"),
        Page("volunteer activity", f"/volunteers/activities/{m['activity_id']}"),
        Page("street dashboard (officer)", "/staff/street", role="street"),
        Page("compound hub (resident)", f"/compounds/{c}", role="resident"),
        # one htmx fragment of each kind
        Page("fragment: hub tab", f"/compounds/{c}/notices", fragment=True),
        Page("fragment: board page", f"/compounds/{board_code}/proposals?page=2", fragment=True),
        Page("fragment: turnout", f"/elections/{election}/turnout", fragment=True),
        Page("fragment: proposal clock", f"/proposals/{m['proposal_id']}/clock", fragment=True),
        Page("fragment: fee questions", statement + "/questions", fragment=True),
    ]
    return pages


def _user_id(app, phone: str) -> int:
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db

    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.phone == phone))
    if uid is None:
        sys.exit(f"no user with phone {phone} in the database")
    return uid


def cookies_for(app, m: dict) -> dict:
    out = {}
    for role, key in (("street", "street_officer_phone"), ("resident", "resident_phone")):
        out[role] = cookie_header(app, session_cookie(app, _user_id(app, m[key])))
    return out


def count_queries(app, pages: list[Page], cookies: dict) -> dict[str, tuple[int, int, bytes]]:
    """(status, SQL statements, body) of each page rendered in process, page cache off."""
    from sqlalchemy import event

    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    counter = {"n": 0}

    def _count(*_args):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", _count)
    clients = {}
    for role in {p.role for p in pages}:
        clients[role] = app.test_client()
        if role != "visitor":  # the test client sends its own cookie jar, not a Cookie header
            name, _, value = cookies[role].partition("=")
            clients[role].set_cookie(name, value)
    out = {}
    try:
        for page in pages:
            client = clients[page.role]
            headers = {k: v for k, v in page.headers(cookies).items() if k != "Cookie"}
            client.get(page.path, headers=headers)  # warm the per-process caches
            counter["n"] = 0
            resp = client.get(page.path, headers=headers)
            out[page.name] = (resp.status_code, counter["n"], resp.get_data())
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    return out


def gz_kb(data: bytes) -> float:
    return len(gzip.compress(data, compresslevel=6)) / 1024


def load_pass(db_url: str, pages, cookies, seconds, conns, threads, cache: bool) -> dict:
    env = {} if cache else {"PAGE_CACHE": "0"}
    with gunicorn(db_url, workers=2, **env) as base:
        # warm both workers, then the floor, the pages, and the floor again
        for page in pages:
            for _ in range(4):
                wrk(base + page.path, 1, 2, 1, page.headers(cookies))
        floor = [wrk(base + "/healthz", seconds, conns, threads, {})]
        res = {}
        for page in pages:
            res[page.name] = wrk(base + page.path, seconds, conns, threads, page.headers(cookies))
            print(
                f"  {'cache' if cache else 'no cache'} {page.name:32} "
                f"p50 {res[page.name]['p50']:6.1f} ms  p95 {res[page.name]['p95']:6.1f} ms  "
                f"{res[page.name]['rps']:7.0f} req/s  errors {res[page.name]['errors']}",
                flush=True,
            )
        floor.append(wrk(base + "/healthz", seconds, conns, threads, {}))
    floor_rps = sum(f["rps"] for f in floor) / len(floor)
    floor_p95 = max(f["p95"] for f in floor)
    return {"floor_rps": floor_rps, "floor_p95": floor_p95, "pages": res}


def _fmt(v: float, digits: int = 1) -> str:
    return f"{v:.{digits}f}"


def report(args, m, pages, queries, street_queries, sizes, first_visit, before, after) -> tuple:
    failures = []
    lines = [START, ""]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rev = git_rev()
    lines += [
        f"Run {now} at commit `{rev}` on {platform.node()} ({platform.machine()}, "
        f"{_cpu_count()} cores), database `{_redact(args.db)}` (scale "
        f"`{m.get('scale', '?')}`), gunicorn 2 sync workers, wrk {args.connections} "
        f"connections / {args.threads} threads, {args.seconds} s per page. Command: "
        f"`{' '.join(['.venv/bin/python', 'bench/run.py'] + sys.argv[1:])}`.",
        "",
        f"Floor (`/healthz`, no database, no template): before {_fmt(before['floor_rps'], 0)} "
        f"req/s (p95 {_fmt(before['floor_p95'])} ms); after {_fmt(after['floor_rps'], 0)} "
        f"req/s (p95 {_fmt(after['floor_p95'])} ms).",
        "",
        '"Before" is the same server with the public page cache off (`PAGE_CACHE=0`); '
        '"after" is the default. Ratios are requests/s against the floor of the same pass.',
        "",
        "| page | role | SQL (district) | SQL (street) | gzip KB | before p50 / p95 ms | "
        "before req/s (× floor) | after p50 / p95 ms | after req/s (× floor) | ok |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for page in pages:
        status, n, _body = queries[page.name]
        sn = street_queries.get(page.name, (None, None, b""))[1] if street_queries else None
        b, a = before["pages"][page.name], after["pages"][page.name]
        ratio_b = b["rps"] / before["floor_rps"]
        ratio_a = a["rps"] / after["floor_rps"]
        problems = []
        if status != 200:
            problems.append(f"status {status}")
        if n > MAX_QUERIES:
            problems.append(f"{n} SQL > {MAX_QUERIES}")
        if sn is not None and sn != n:
            problems.append(f"SQL {n} on district, {sn} on street")
        if a["p95"] > P95_MS:
            problems.append(f"p95 {a['p95']:.1f} ms > {P95_MS:.0f}")
        if ratio_a < FLOOR_SHARE:
            problems.append(f"{ratio_a:.0%} of floor < {FLOOR_SHARE:.0%}")
        if a["errors"] or b["errors"]:
            problems.append(f"{a['errors'] + b['errors']} errors")
        if page.fragment and sizes[page.name] > FRAGMENT_KB:
            problems.append(f"fragment {sizes[page.name]:.1f} KB > {FRAGMENT_KB:.0f}")
        failures += [f"{page.name}: {p}" for p in problems]
        lines.append(
            f"| {page.name} | {page.role} | {n} | {'' if sn is None else sn} | "
            f"{sizes[page.name]:.1f} | {_fmt(b['p50'])} / {_fmt(b['p95'])} | "
            f"{_fmt(b['rps'], 0)} ({ratio_b:.0%}) | {_fmt(a['p50'])} / {_fmt(a['p95'])} | "
            f"{_fmt(a['rps'], 0)} ({ratio_a:.0%}) | {'; '.join(problems) or 'yes'} |"
        )
    fv_total = sum(first_visit.values())
    if fv_total > FIRST_VISIT_KB:
        failures.append(f"first visit {fv_total:.1f} KB > {FIRST_VISIT_KB:.0f} KB")
    lines += [
        "",
        "First visit, compressed with gzip -6 (what nginx's `gzip on` sends): "
        + ", ".join(f"{k} {v:.1f} KB" for k, v in first_visit.items())
        + f"; total **{fv_total:.1f} KB** (target ≤ {FIRST_VISIT_KB:.0f} KB).",
        "",
        "Targets missed: " + ("none." if not failures else ""),
    ]
    lines += [f"- {f}" for f in failures]
    lines += ["", END]
    return "\n".join(lines), failures


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 0


def _redact(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--db", default=DEFAULT_DB, help="database of the district (default: %(default)s)"
    )
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--street-db", help="database of the street data set, to compare SQL counts")
    ap.add_argument("--street-manifest", type=Path)
    ap.add_argument("--seconds", type=int, default=8, help="wrk duration per page")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", help="only pages whose name contains this text")
    ap.add_argument("--no-write", action="store_true", help="print, do not update the doc")
    args = ap.parse_args()

    m = load_manifest(args.manifest)
    app = make_app(args.db, PAGE_CACHE=False)
    pages = pages_of(m, board_of(app))
    if args.only:
        pages = [p for p in pages if args.only in p.name]
    cookies = cookies_for(app, m)
    t0 = time.monotonic()
    print("counting SQL statements per page …", flush=True)
    queries = count_queries(app, pages, cookies)
    street_queries = {}
    if args.street_db:
        sm = load_manifest(args.street_manifest or args.manifest)
        sapp = make_app(args.street_db, PAGE_CACHE=False)
        spages = pages_of(sm, board_of(sapp))
        if args.only:
            spages = [p for p in spages if args.only in p.name]
        scookies = cookies_for(sapp, sm)
        counted = count_queries(sapp, spages, scookies)
        # the same page types in the same order (the deep board page number may differ)
        street_queries = {p.name: counted[sp.name] for p, sp in zip(pages, spages, strict=True)}
    sizes = {p.name: gz_kb(queries[p.name][2]) for p in pages}
    first_visit = {"home HTML": gz_kb(queries["home"][2]) if "home" in queries else 0.0}
    for label, rel in (("CSS", "static/css/portal.css"), ("htmx", None)):
        if rel is None:
            from portal import HTMX_VERSION

            rel = f"static/vendor/htmx-{HTMX_VERSION}.min.js"
        first_visit[label] = gz_kb((ROOT / rel).read_bytes())
    print("load, public page cache off (before) …", flush=True)
    before = load_pass(args.db, pages, cookies, args.seconds, args.connections, args.threads, False)
    print("load, public page cache on (after) …", flush=True)
    after = load_pass(args.db, pages, cookies, args.seconds, args.connections, args.threads, True)
    section, failures = report(
        args, m, pages, queries, street_queries, sizes, first_visit, before, after
    )
    print(section)
    if not args.no_write:
        print(f"written to {write_section(START, END, 'Pages under load', section)}")
    (ROOT / "instance" / "bench-last.json").write_text(
        json.dumps({"before": before, "after": after, "failures": failures}, indent=1)
    )
    print(f"done in {time.monotonic() - t0:.0f} s; targets missed: {len(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
