"""Votes under load: 2,000 owners of one compound vote within 60 s, 50 of them twice at once.

    .venv/bin/python bench/vote_load.py                 # PostgreSQL database `bench`
    .venv/bin/python bench/vote_load.py --voters 300 --seconds 15 --db …/bench_street \
        --manifest instance/bench-street-manifest.json

Uses the open election of the seeded vote compound (``vote_election_id`` in the manifest). First
it empties that election's ballot box (its ballots and ledger only: the run is repeatable), then
starts gunicorn with 2 workers and, through the real web forms, has each owner open the ballot,
choose, see the confirm step and cast (GET ballot, POST choice, POST confirm: the "vote request").
Arrivals are spread evenly over ``--seconds``. ``--retries`` owners press the final button twice
at the same moment (both requests released together by a barrier), in two modes, each a separate
run on an emptied ballot box (``--modes``):

- ``own-time``: each of them at their own time in the run (a double tap);
- ``together``: all of them at the same instant, once the last has reached the confirm step
  (2 × 50 requests at once on 2 workers: a stress test of the one-ballot rule).

Then it checks, per mode, and exits non-zero when anything fails:
- no response was a server error (5xx), and every owner got exactly one receipt;
- the database holds exactly one counted ballot per owner, no more;
- the ledger verifies (``flask election verify``'s check: chain, records, head);
- the tally computed from the database equals the recount of the published files
  (roll.csv + ballots.csv, as ``flask election recount`` does);
- p95 of the vote request (every final POST, double presses included) ≤ 150 ms; the p95 of
  the owners who pressed once and the double presses' own latencies are reported beside it.

Finally it times the tally of a 20,000-owner election (pure module, median of 7 runs; target
< 200 ms) and writes everything to ``docs/benchmarks.md`` between the ``vote:start``/``vote:end``
markers.
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    DEFAULT_DB,
    DEFAULT_MANIFEST,
    git_rev,
    gunicorn,
    load_manifest,
    login_session,
    make_app,
    write_section,
)

VOTE_P95_MS = 150.0
TALLY_MS = 200.0
START, END = "<!-- vote:start -->", "<!-- vote:end -->"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CHOICE = re.compile(r'name="choice"[^>]*value="([^"]+)"')


def reset_box(app, election_id: int) -> None:
    """Empty the election's ballot box (ballots, ledger, head) so the run can be repeated."""
    from sqlalchemy import delete, update

    from portal.extensions import db
    from portal.voting.models import Ballot, Election, LedgerEntry

    with app.app_context():
        db.session.execute(delete(LedgerEntry).where(LedgerEntry.election_id == election_id))
        db.session.execute(delete(Ballot).where(Ballot.election_id == election_id))
        db.session.execute(
            update(Election)
            .where(Election.id == election_id)
            .values(ballot_count=0, ledger_head=None)
        )
        db.session.commit()


def sessions_for(app, user_ids: list[int]) -> dict[int, str]:
    """Signed session cookies of the voters (as after their own login)."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db

    serializer = app.session_interface.get_signing_serializer(app)
    with app.app_context():
        rows = db.session.execute(
            select(User.id, User.session_version).where(User.id.in_(user_ids))
        ).all()
    # The session carries its CSRF secret and login identifier already, as after a real login:
    # the server then never needs to send the session back (production cookies are Secure, and
    # this client talks plain HTTP to gunicorn, as nginx would behind TLS).
    cookies = {uid: serializer.dumps(login_session(app, uid, v)) for uid, v in rows}
    missing = set(user_ids) - set(cookies)
    if missing:
        sys.exit(f"{len(missing)} voters of the manifest are not in the database")
    return cookies


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status_code = status
        self.headers = headers
        self.text = body.decode("utf-8", "replace")


class Voter:
    """One owner's browser, reduced to what the vote needs: http.client (light on the CPU that
    the client shares with the server here) and the owner's session cookie on every request."""

    def __init__(self, base: str, election_id: int, uid: int, cookie: str, rng: random.Random):
        self.base, self.eid, self.uid, self.rng = base, election_id, uid, rng
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.cookie = f"session={cookie}"
        self.statuses: list[int] = []
        self.vote_ms: list[float] = []
        self.double_ms: list[float] = []
        self.receipts = 0
        self.failure: str | None = None

    def _req(self, method: str, path: str, data: dict | None = None) -> Response:
        headers = {"Cookie": self.cookie, "Accept-Encoding": "identity"}
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            resp = Response(raw.status, raw.headers, raw.read())
        finally:
            conn.close()
        self.statuses.append(resp.status_code)
        return resp

    def prepare(self) -> dict:
        """Open the ballot, choose, reach the confirm step: the confirm form's fields."""
        page = self._req("GET", f"/elections/{self.eid}/vote")
        if page.status_code != 200:
            raise RuntimeError(f"voter {self.uid}: ballot page {page.status_code}")
        choice = self.rng.choice(_CHOICE.findall(page.text))
        token = _TOKEN.search(page.text).group(1)
        confirm = self._req(
            "POST", f"/elections/{self.eid}/vote", data={"csrf_token": token, "choice": choice}
        )
        if confirm.status_code != 200:
            raise RuntimeError(f"voter {self.uid}: confirm step {confirm.status_code}")
        return {"csrf_token": _TOKEN.search(confirm.text).group(1), "choice": choice}

    def cast(self, form: dict, double: bool = False) -> int:
        t = time.perf_counter()
        resp = self._req("POST", f"/elections/{self.eid}/vote/confirm", data=form)
        (self.double_ms if double else self.vote_ms).append((time.perf_counter() - t) * 1000)
        if resp.status_code == 302 and "/receipt" in resp.headers.get("Location", ""):
            self.receipts += 1
        return resp.status_code


def run_load(base, election_id, voters, retry_ids, seconds, pool_size, together: bool) -> dict:
    """Everyone votes once, spread over ``seconds``. Each owner of the retry group presses the
    final button twice at the same moment: at their own time in the run, or (``together``) all
    of them at once, after the last of them has reached the confirm step."""
    start = time.monotonic()
    n = len(voters)
    barrier = threading.Barrier(2 * len(retry_ids))
    retry_forms: dict[int, dict] = {}
    retry_ready = threading.Event()
    prepared = threading.Semaphore(0)

    def double_press(v: Voter, form: dict) -> None:
        pair = threading.Barrier(2)

        def press():
            pair.wait()
            v.cast(form, double=True)

        other = threading.Thread(target=press)
        other.start()
        press()
        other.join()

    def one(i: int, v: Voter):
        due = start + seconds * i / n
        time.sleep(max(0.0, due - time.monotonic()))
        try:
            if v.uid in retry_ids:
                form = v.prepare()
                if together:
                    retry_forms[v.uid] = form
                else:
                    double_press(v, form)
                return
            v.cast(v.prepare())
        except (RuntimeError, OSError, http.client.HTTPException, AttributeError) as exc:
            v.failure = str(exc)
        finally:
            if v.uid in retry_ids:
                prepared.release()

    def retry(v: Voter):
        retry_ready.wait()
        barrier.wait()
        if v.uid in retry_forms:
            v.cast(retry_forms[v.uid], double=True)

    with ThreadPoolExecutor(max_workers=pool_size + 2 * len(retry_ids)) as ex:
        futures = [ex.submit(one, i, v) for i, v in enumerate(voters)]
        by_uid = {v.uid: v for v in voters}
        retry_futures = []
        if together:
            retry_futures = [ex.submit(retry, by_uid[uid]) for uid in retry_ids for _ in range(2)]
        for _ in retry_ids:
            prepared.acquire()
        retry_ready.set()
        for f in futures + retry_futures:
            f.result()
    return {"elapsed": time.monotonic() - start}


def check_database(app, election_id: int, voter_ids: list[int]) -> dict:
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.voting import rollfile, service
    from portal.voting import tally as tally_mod
    from portal.voting.models import Ballot

    with app.app_context():
        e = service.get_election(election_id)
        per_user = dict(
            db.session.execute(
                select(Ballot.user_id, func.count(Ballot.id))
                .where(Ballot.election_id == election_id)
                .group_by(Ballot.user_id)
            ).all()
        )
        distinct_keys = db.session.scalar(
            select(func.count(func.distinct(Ballot.voter_key))).where(
                Ballot.election_id == election_id
            )
        )
        v = service.verify(e)
        db_tally = service.compute_tally(e).to_json_dict()
        roll = rollfile.parse_roll_csv(service.roll_csv(e))
        ballots = rollfile.parse_ballots_csv(service.ballots_csv(e))
        recount = tally_mod.tally(roll, ballots, e.rule).to_json_dict()
        return {
            "ballots": sum(per_user.values()),
            "distinct_voter_keys": distinct_keys,
            "owners_with_one": sum(1 for uid in voter_ids if per_user.get(uid) == 1),
            "owners_with_more": sum(1 for uid in voter_ids if per_user.get(uid, 0) > 1),
            "ledger_ok": v.ok and v.ballots == sum(per_user.values()),
            "tally_equals_recount": db_tally == recount,
        }


def time_tally(owners: int = 20_000, runs: int = 7) -> dict:
    """The pure tally of an ``owners``-owner election where 80 % voted: median of ``runs``."""
    from portal.voting import tally as t

    rng = random.Random(278)
    roll = [
        t.RollEntry(
            f"k{i:06d}", f"{i // 100 + 1}-{i % 100 + 1}", Decimal(rng.randint(5000, 14000)) / 100
        )
        for i in range(owners)
    ]
    ballots = [
        t.BallotRecord(None, f"k{i:06d}", rng.choice(["A", "B", "abstain"]), "online", "")
        for i in range(owners)
        if rng.random() < 0.8
    ]
    times = []
    for _ in range(runs):
        s = time.perf_counter()
        t.tally(roll, ballots, t.CIVIL_CODE_278, options=["A", "B"])
        times.append((time.perf_counter() - s) * 1000)
    return {"owners": owners, "ballots": len(ballots), "median_ms": statistics.median(times)}


def _area(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(5000, 14000)) / 100


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))] if s else 0.0


MODES = {
    "own-time": "at each owner's own time in the run (a double tap)",
    "together": "all at the same instant, after the last of them reached the confirm step",
}


def one_run(args, app, eid, ids, cookies, retry_ids, together: bool) -> dict:
    """Empty the ballot box, run the load through a fresh gunicorn, check the database."""
    reset_box(app, eid)
    with gunicorn(args.db, workers=2) as base:
        voters = [Voter(base, eid, uid, cookies[uid], random.Random(uid)) for uid in ids]
        load = run_load(base, eid, voters, retry_ids, args.seconds, args.pool, together)
    statuses = [s for v in voters for s in v.statuses]
    single_ms = [ms for v in voters for ms in v.vote_ms]
    double_ms = [ms for v in voters for ms in v.double_ms]
    failures = [f"voter {v.uid}: {v.failure}" for v in voters if v.failure]
    for line in failures[:10]:
        print("  failed:", line)
    db_check = check_database(app, eid, ids)
    all_ms = single_ms + double_ms
    return {
        "elapsed": load["elapsed"],
        "statuses": statuses,
        "single_ms": single_ms,
        "double_ms": double_ms,
        "p50": pct(all_ms, 50),
        "p95": pct(all_ms, 95),
        "p99": pct(all_ms, 99),
        "single_p95": pct(single_ms, 95),
        "failures": failures,
        "receipts_ok": all(v.receipts == 1 for v in voters),
        "retry_second": [s for v in voters if v.uid in retry_ids for s in v.statuses[-2:]],
        "db": db_check,
        "checks": {
            "no server error (5xx)": not any(s >= 500 for s in statuses),
            "every owner reached the confirm step": not failures,
            "every owner got exactly one receipt": all(v.receipts == 1 for v in voters),
            "exactly one ballot per owner in the database": db_check["owners_with_one"] == len(ids)
            and db_check["owners_with_more"] == 0
            and db_check["ballots"] == len(ids) == db_check["distinct_voter_keys"],
            "the ledger verifies": db_check["ledger_ok"],
            "the tally equals the recount of roll.csv + ballots.csv": db_check[
                "tally_equals_recount"
            ],
            f"p95 of the vote request (every final POST) ≤ {VOTE_P95_MS:.0f} ms": pct(all_ms, 95)
            <= VOTE_P95_MS,
        },
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=DEFAULT_DB)
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--voters", type=int, default=2000)
    ap.add_argument("--retries", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0, help="spread arrivals over this")
    ap.add_argument("--pool", type=int, default=32, help="client threads")
    ap.add_argument(
        "--modes",
        default="own-time,together",
        help="when the retry group presses twice: own-time, together, or both (comma)",
    )
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - set(MODES):
        sys.exit(f"--modes: choose from {', '.join(MODES)}")

    m = load_manifest(args.manifest)
    eid = m["vote_election_id"]
    voters_m = m["vote_voters"][: args.voters]
    if len(voters_m) < args.voters:
        sys.exit(f"the manifest has only {len(voters_m)} voters")
    app = make_app(args.db, PAGE_CACHE=False)
    ids = [int(uid) for uid, _phone in voters_m]
    cookies = sessions_for(app, ids)
    retry_ids = set(random.Random(2026).sample(ids, args.retries))
    runs = {}
    for mode in modes:
        print(
            f"{len(ids)} owners vote in election {eid} over {args.seconds:.0f} s; "
            f"{len(retry_ids)} of them press twice at once; double presses {MODES[mode]}",
            flush=True,
        )
        runs[mode] = one_run(args, app, eid, ids, cookies, retry_ids, mode == "together")
    tally_t = time_tally()
    tally_ok = tally_t["median_ms"] < TALLY_MS

    rev = git_rev()
    lines = [
        START,
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M UTC} at commit `{rev}`, database "
        f"`{args.db.split('@')[-1]}`, gunicorn 2 sync workers, {args.pool} client threads. "
        "Command: "
        f"`{' '.join(['.venv/bin/python', 'bench/vote_load.py'] + sys.argv[1:])}`.",
        "",
        f"{len(ids):,} owners of one compound vote through the web forms, arrivals spread "
        f"evenly over {args.seconds:.0f} s; {len(retry_ids)} of them press the final button "
        "twice at the same moment. Each mode is a separate run on an emptied ballot box.",
    ]
    for mode, r in runs.items():
        db_check = r["db"]
        lines += [
            "",
            f"### Double presses {MODES[mode]} (`{mode}`)",
            "",
            f"- Done in {r['elapsed']:.1f} s ({len(r['statuses']):,} requests); the double "
            f"presses were answered {_counts(r['retry_second'])}.",
            f"- Vote request (the final POST), all {len(r['single_ms']) + len(r['double_ms']):,}:"
            f" p50 {r['p50']:.1f} ms, p95 **{r['p95']:.1f} ms**, p99 {r['p99']:.1f} ms. "
            f"The {len(r['single_ms']):,} owners who pressed once: p95 {r['single_p95']:.1f} ms;"
            f" the {len(r['double_ms'])} double presses: p50 {pct(r['double_ms'], 50):.1f} ms, "
            f"max {max(r['double_ms'], default=0):.1f} ms.",
            f"- Statuses of all requests: {_counts(r['statuses'])}.",
            f"- Database: {db_check['ballots']:,} ballots, "
            f"{db_check['distinct_voter_keys']:,} distinct voter keys; "
            f"ledger verifies: {db_check['ledger_ok']}; tally = recount: "
            f"{db_check['tally_equals_recount']}.",
            "",
            "| check | result |",
            "|---|---|",
        ]
        lines += [f"| {k} | {'pass' if ok else 'FAIL'} |" for k, ok in r["checks"].items()]
    lines += [
        "",
        "### Tally",
        "",
        f"Tally of a {tally_t['owners']:,}-owner election ({tally_t['ballots']:,} ballots, pure "
        f"module, median of 7): **{tally_t['median_ms']:.1f} ms** "
        f"({'pass' if tally_ok else 'FAIL'}: target < {TALLY_MS:.0f} ms).",
        "",
        END,
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        write_section(START, END, "Votes under load", section)
    ok = tally_ok and all(all(r["checks"].values()) for r in runs.values())
    return 0 if ok else 1


def _counts(statuses: list[int]) -> str:
    counts: dict[int, int] = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    return ", ".join(f"{k}: {v:,}" for k, v in sorted(counts.items()))


if __name__ == "__main__":
    sys.exit(main())
