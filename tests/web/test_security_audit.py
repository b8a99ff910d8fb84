"""Access audit of every route: one world (two streets; compound A with objects of every kind,
compound B in another community of another street) and one account per role. Every rule of
``app.url_map`` must have an entry in GET_POLICY / POST_POLICY: a new endpoint without one fails.

GET: each role gets exactly its policy's outcome. POST: each role the policy denies is refused
(with a valid CSRF token and a plausible form) and nothing in the database changes; positive POST
behaviour is covered by each domain's own tests.
"""

from __future__ import annotations

from sqlalchemy import func, select, union_all

from portal.audit import AuditEvent
from portal.extensions import db
from portal.places.labels import HUB_TABS
from tests.conftest import text_of
from tests.web import security_world
from tests.web.security_world import ROLES, as_user

STAFF = {"committee", "secretary", "other_secretary", "company", "street", "admin"}
SIGNED_IN = set(ROLES) - {"visitor"}

# policy -> (roles allowed, what the others get: 403 or 404). A visitor who is not allowed is
# sent to the login page.
POLICIES = {
    "public": (set(ROLES), None),
    "signed-in": (SIGNED_IN, 403),  # any account; the page shows only the user's own data
    "self": (SIGNED_IN, 403),  # the account's own pages (profile, units, ballots, volunteering)
    "admin": ({"admin"}, 403),
    "any-staff": (STAFF, 403),  # staff desks: each lists only its own scope
    "secretary-desk": ({"secretary", "other_secretary", "admin"}, 403),  # own scope only
    "grantor": ({"street", "admin"}, 403),
    "street-of-compound": ({"street", "admin"}, 403),
    "committee-of-compound": ({"committee"}, 403),  # not even the admin writes minutes
    "minutes-desk": ({"committee", "secretary", "other_secretary"}, 403),
    "minutes-recorder": ({"committee", "secretary"}, 403),
    "nobody": (set(), 403),  # published records are immutable
    "notice-manager": ({"committee", "secretary", "street", "admin"}, 403),
    "compound-staff": ({"committee", "secretary", "company", "street", "admin"}, 403),
    "secretary-of-community": ({"secretary", "admin"}, 403),
    "verified-resident": ({"resident"}, 403),
    "proposal-discussion": ({"resident", "secretary", "admin"}, 403),
    "finding-responder": ({"company", "committee", "admin"}, 403),
    "inspection-desk": ({"secretary", "other_secretary", "street", "admin"}, 403),
    "fee-desk": ({"secretary", "other_secretary", "company", "street", "admin"}, 403),
    "fee-staff-of-compound": ({"secretary", "company", "street", "admin"}, 403),
    "company-of-compound": ({"company", "admin"}, 403),
    "election-runner": ({"committee", "secretary", "admin"}, 403),
    "election-desk": ({"committee", "secretary", "other_secretary", "admin"}, 403),
    # needs a token that a preview stored in the uploader's own session: 400 for anyone else
    "session-stash": (set(), 400),
    # voting is open: ballots, receipts' lookup and bid files stay hidden from everyone
    "hidden-now": (set(), 404),
}

GET_POLICY = {
    "accounts.audit_log": "admin",
    "accounts.claim": "signed-in",
    "accounts.claims_queue": "secretary-desk",
    "accounts.grants": "grantor",
    "accounts.login": "public",
    "accounts.my_units": "self",
    "accounts.profile": "self",
    "accounts.register": "public",
    "accounts.staff_home": "any-staff",
    "minutes.correct": "committee-of-compound",
    "minutes.desk": "minutes-desk",
    "minutes.detail": "public",
    "minutes.edit": "nobody",
    "minutes.new": "minutes-recorder",
    "minutes.revision": "public",
    "notices.check": "public",
    "ops.health": "public",
    "ops.healthz": "public",
    "notices.community_list": "public",
    "notices.desk": "any-staff",
    "notices.detail": "public",
    "notices.edit": "notice-manager",
    "notices.feed": "public",
    "notices.new": "compound-staff",
    "notices.print_view": "public",
    "notices.street_list": "public",
    "places.community": "public",
    "places.compound": "public",
    "places.compounds": "public",
    "places.home": "public",
    "places.roster_upload": "secretary-desk",
    "places.street": "public",
    "proposals.clock": "public",
    "proposals.community_stats": "public",
    "proposals.detail": "public",
    "proposals.inbox": "any-staff",
    "proposals.photo": "public",
    "proposals.reports": "secretary-desk",
    "proposals.settings": "secretary-of-community",
    "proposals.street_overdue": "street-of-compound",
    "proposals.street_stats": "public",
    "proposals.submit": "verified-resident",
    "ratings.checklist": "street-of-compound",
    "ratings.compound_surveys": "public",
    "ratings.desk": "any-staff",
    "ratings.finding_photo": "compound-staff",
    "ratings.findings": "any-staff",
    "ratings.findings_csv": "public",
    "ratings.findings_json": "public",
    "ratings.inspection": "public",
    "ratings.inspections": "inspection-desk",
    "ratings.inspections_csv": "public",
    "ratings.inspections_json": "public",
    "ratings.new_inspection": "inspection-desk",
    "ratings.new_survey": "secretary-desk",
    "ratings.period": "street-of-compound",
    "ratings.periods": "street-of-compound",
    "ratings.ratings_csv": "public",
    "ratings.ratings_json": "public",
    "ratings.red_black": "public",
    "ratings.scorecard": "public",
    "ratings.settings": "street-of-compound",
    "ratings.survey": "public",
    "ratings.surveys": "inspection-desk",
    "transparency.commitment": "public",
    "transparency.desk": "fee-desk",
    "transparency.edit_commitment": "secretary-of-community",
    "transparency.edit_statement": "company-of-compound",
    "transparency.export_statement": "fee-staff-of-compound",
    "transparency.fdp_csv": "public",
    "transparency.fdp_descriptor": "public",
    "transparency.fdp_zip": "public",
    "transparency.import_sample": "fee-desk",
    "transparency.import_statement": "company-of-compound",
    "transparency.line": "public",
    "transparency.manage_commitments": "secretary-of-community",
    "transparency.new_statement": "company-of-compound",
    "transparency.open_collection_csv": "public",
    "transparency.open_collection_json": "public",
    "transparency.open_data": "public",
    "transparency.open_fees_csv": "public",
    "transparency.open_fees_json": "public",
    "transparency.period_questions": "public",
    "transparency.questions_desk": "company-of-compound",
    "transparency.record_contract": "secretary-of-community",
    "transparency.staff_statement": "fee-staff-of-compound",
    "transparency.statement": "public",
    "transparency.statement_revision": "public",
    "uploads.file": "public",
    "uploads.thumb": "public",
    "volunteers.activity": "public",
    "volunteers.activity_ics": "public",
    "volunteers.community": "public",
    "volunteers.community_calendar": "public",
    "volunteers.compound_calendar": "public",
    "volunteers.edit_activity": "secretary-of-community",
    "volunteers.mine": "self",
    "volunteers.new_activity": "secretary-of-community",
    "volunteers.new_team": "secretary-of-community",
    "volunteers.roster": "secretary-of-community",
    "volunteers.staff": "inspection-desk",
    "volunteers.summary": "public",
    "volunteers.team": "public",
    "voting.ballots_csv": "hidden-now",
    "voting.bid_document": "hidden-now",
    "voting.election": "public",
    "voting.my_ballots": "self",
    "voting.print_ballot": "election-runner",
    "voting.receipt": "self",
    "voting.receipt_lookup": "hidden-now",
    "voting.roll_csv": "public",
    "voting.staff_announce": "election-runner",
    "voting.staff_certify": "election-runner",
    "voting.staff_close": "election-runner",
    "voting.staff_contract": "secretary-of-community",
    "voting.staff_contract_document": "election-runner",
    "voting.staff_election": "election-runner",
    "voting.staff_list": "election-desk",
    "voting.staff_paper": "election-runner",
    "voting.staff_proxy_document": "election-runner",
    "voting.staff_turnout": "election-runner",
    "voting.street_dashboard": "street-of-compound",
    "voting.turnout": "public",
    "voting.vote": "verified-resident",
}

# Outcomes that differ from the policy because of the object's state, not the role.
GET_STATE = {
    # the test database is made by create_all, not by the migrations: "not ready" for everyone
    "ops.health": dict.fromkeys(ROLES, "503"),
    # no contract document / proxy document was uploaded: the runners get 404, others 403
    "voting.staff_contract_document": {"committee": "404", "secretary": "404", "admin": "404"},
    "voting.staff_proxy_document": {"committee": "404", "secretary": "404", "admin": "404"},
    # the resident has already voted
    "voting.vote": {"resident": "409"},
}

POST_POLICY = {
    "accounts.change_password": "self",
    "accounts.claim": "signed-in",
    "accounts.grants": "grantor",
    "accounts.login": "public",
    "accounts.logout": "public",
    "accounts.profile": "self",
    "accounts.register": "public",
    "accounts.reject_claim": "secretary-of-community",
    "accounts.revoke_grant": "grantor",
    "accounts.set_language": "public",
    "accounts.set_large_text": "public",
    "accounts.verify_claim": "secretary-of-community",
    "minutes.confirm": "committee-of-compound",
    "minutes.correct": "committee-of-compound",
    "minutes.edit": "nobody",
    "minutes.new": "minutes-recorder",
    "minutes.remove_attachment": "committee-of-compound",
    "minutes.return_to_author": "committee-of-compound",
    "minutes.submit": "committee-of-compound",
    "notices.archive": "notice-manager",
    "notices.edit": "notice-manager",
    "notices.new": "compound-staff",
    "notices.pin": "notice-manager",
    "notices.remove_attachment": "notice-manager",
    "notices.withdraw": "notice-manager",
    "places.roster_confirm": "session-stash",
    "places.roster_upload": "secretary-desk",
    "proposals.accept": "secretary-of-community",
    "proposals.add_comment": "proposal-discussion",
    "proposals.conclude": "secretary-of-community",
    "proposals.dismiss": "secretary-of-community",
    "proposals.feedback": "company-of-compound",
    "proposals.hide": "secretary-of-community",
    "proposals.merge": "secretary-of-community",
    "proposals.reject": "secretary-of-community",
    "proposals.report": "signed-in",
    "proposals.schedule": "secretary-of-community",
    "proposals.settings": "secretary-of-community",
    "proposals.submit": "verified-resident",
    "proposals.support": "verified-resident",
    "proposals.verdict": "verified-resident",
    "ratings.add_finding": "street-of-compound",
    "ratings.checklist": "street-of-compound",
    "ratings.close_survey": "secretary-of-community",
    "ratings.correct": "street-of-compound",
    "ratings.new_inspection": "inspection-desk",
    "ratings.new_survey": "secretary-desk",
    "ratings.periods": "street-of-compound",
    "ratings.publish": "street-of-compound",
    "ratings.reinspect": "street-of-compound",
    "ratings.report": "finding-responder",
    "ratings.respond": "verified-resident",
    "ratings.settings": "street-of-compound",
    "transparency.answer": "company-of-compound",
    "transparency.ask": "verified-resident",
    "transparency.delete_commitment": "secretary-of-community",
    "transparency.discard_statement": "company-of-compound",
    "transparency.edit_commitment": "secretary-of-community",
    "transparency.edit_statement": "company-of-compound",
    "transparency.import_confirm": "session-stash",
    "transparency.import_statement": "company-of-compound",
    "transparency.itemise_commitments": "secretary-of-community",
    "transparency.manage_commitments": "secretary-of-community",
    "transparency.new_statement": "company-of-compound",
    "transparency.publish_statement": "secretary-of-community",
    "transparency.record_contract": "secretary-of-community",
    "transparency.return_statement": "secretary-of-community",
    "transparency.revise_statement": "company-of-compound",
    "transparency.submit_statement": "company-of-compound",
    "volunteers.appoint": "secretary-of-community",
    "volunteers.attendance": "secretary-of-community",
    "volunteers.cancel": "verified-resident",
    "volunteers.edit_activity": "secretary-of-community",
    "volunteers.new_activity": "secretary-of-community",
    "volunteers.new_team": "secretary-of-community",
    "volunteers.signup": "verified-resident",
    "voting.object_to_roll": "verified-resident",
    "voting.staff_add_candidate": "election-runner",
    "voting.staff_announce": "election-runner",
    "voting.staff_certify": "election-runner",
    "voting.staff_close": "election-runner",
    "voting.staff_confirm_paper": "election-runner",
    "voting.staff_contract": "secretary-of-community",
    "voting.staff_discard_paper": "election-runner",
    "voting.staff_edit": "election-runner",
    "voting.staff_list": "election-desk",
    "voting.staff_paper": "election-runner",
    "voting.staff_remove_candidate": "election-runner",
    "voting.staff_resolve_objection": "election-runner",
    "voting.vote": "verified-resident",
    "voting.vote_confirm": "verified-resident",
}

# POST outcomes for denied roles that are not 403/404 because a state or form check comes
# first; each is still refused and changes nothing (checked below).
POST_STATE: dict[str, dict[str, str]] = {
    # the proposal is accepted but not yet scheduled/answered: the state check answers first
    "proposals.conclude": dict.fromkeys(SIGNED_IN, "409"),
    "proposals.verdict": dict.fromkeys(SIGNED_IN, "409"),
    # nobody but the resident has a sign-up to cancel
    "volunteers.cancel": dict.fromkeys(SIGNED_IN, "409"),
    # voting is open, objections are closed: a flash and a redirect back, nothing stored
    "voting.object_to_roll": dict.fromkeys(SIGNED_IN, "ok"),
    # the household choice lists only the user's own verified units: anyone else fails the form
    "ratings.respond": dict.fromkeys(SIGNED_IN, "422"),
}

# A plausible form, so that field checks pass and the permission check is what refuses.
TEXT = "安全审计：这是一段测试内容"
FORM = {
    "body": TEXT,
    "text": TEXT,
    "reason": TEXT,
    "note": TEXT,
    "title": TEXT,
    "comment": TEXT,
    "conclusion": TEXT,
    "category": "announcement",
    "complexity": "general",
    "responsible": "company",
    "choice": "A",
    "verdict": "satisfied",
    "mark": "attended",
    "phone": "13800000009",
    "role": "committee",
    "name": TEXT,
    "pinned": "1",
    "confirm": "y",
}


def url_for_rule(rule, ids: dict) -> str:
    path, ep = rule.rule, rule.endpoint
    post_only = "GET" not in rule.methods
    values = {}
    for name in rule.arguments:
        if name == "code":
            if path.startswith("/communities/"):
                values[name] = ids["community"]
            elif path.startswith("/streets/"):
                values[name] = ids["street"]
            else:
                values[name] = ids["compound"]
        elif name == "tab":
            values[name] = next(iter(HUB_TABS))
        elif name == "kind":
            values[name] = "compounds"
        elif name == "scope_type":
            values[name] = "compound"
        elif name == "attachment_id":
            if ep.startswith("minutes"):
                values[name] = ids["draft_minutes_attachment"]
            elif ep == "uploads.thumb":
                values[name] = ids["notice_image"]
            else:
                values[name] = ids["notice_attachment"]
        elif name == "minutes_id":
            values[name] = (
                ids["minutes"]
                if ep in ("minutes.correct",) or not post_only and ep != "minutes.edit"
                else ids["draft_minutes"]
            )
        elif name == "proposal_id":
            late = (
                "proposals.schedule",
                "proposals.conclude",
                "proposals.feedback",
                "proposals.verdict",
            )
            values[name] = ids["accepted_proposal"] if ep in late else ids["proposal"]
        elif name == "photo_id":
            values[name] = ids["finding_photo"] if ep.startswith("ratings") else ids["photo"]
        elif name in ("number", "revision"):
            values[name] = 1
        elif name == "period_key":
            values[name] = ids["period_key"]
        elif name == "statement_id":
            published = ("transparency.revise_statement",)
            values[name] = ids["statement"] if ep in published else ids["draft_statement"]
        elif name == "filename":
            values[name] = "css/portal.css"
        else:
            values[name] = ids[name.removesuffix("_id")]
    out = path
    for k, v in values.items():
        for pattern in (f"<int:{k}>", f"<path:{k}>", f"<{k}>"):
            out = out.replace(pattern, str(v))
    return out


def outcome(resp) -> str:
    if resp.status_code in (301, 302, 303) and "/login" in resp.headers.get("Location", ""):
        return "login"
    if resp.status_code < 400:
        return "ok"
    return str(resp.status_code)


def expected(policy: str, role: str) -> str:
    allowed, deny = POLICIES[policy]
    if role in allowed:
        return "ok"
    if role == "visitor" and policy != "hidden-now":
        return "login"
    return str(deny)


def fingerprint() -> tuple:
    """Row counts of every table and the newest audit event: any change shows."""
    db.session.rollback()
    counts = [select(func.count()).select_from(t) for t in db.metadata.sorted_tables]
    rows = db.session.execute(union_all(*counts)).scalars().all()
    return tuple(rows), db.session.scalar(select(func.max(AuditEvent.id)))


app_config = security_world.uploads_config
world = security_world.world


def _rules(app, method):
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static" and method in r.methods),
        key=lambda r: (r.endpoint, r.rule),
    )


def test_every_endpoint_has_an_access_policy(app):
    gets = {r.endpoint for r in _rules(app, "GET")}
    posts = {r.endpoint for r in _rules(app, "POST")}
    other = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if r.methods - {"GET", "HEAD", "OPTIONS", "POST"}
    }
    assert gets - GET_POLICY.keys() == set(), "GET endpoints without an entry in GET_POLICY"
    assert posts - POST_POLICY.keys() == set(), "POST endpoints without an entry in POST_POLICY"
    assert GET_POLICY.keys() - gets == set() and POST_POLICY.keys() - posts == set()
    assert other == set(), "routes with other methods: add them to the audit"
    assert set(GET_POLICY.values()) | set(POST_POLICY.values()) <= POLICIES.keys()


def test_every_role_gets_exactly_its_access_on_every_page(app, client, world):
    before = fingerprint()
    wrong = []
    for rule in _rules(app, "GET"):
        url = url_for_rule(rule, world.ids)
        policy = GET_POLICY[rule.endpoint]
        for role in ROLES:
            as_user(client, world.users.get(role))
            got = outcome(client.get(url))
            want = GET_STATE.get(rule.endpoint, {}).get(role) or expected(policy, role)
            if got != want:
                wrong.append(f"GET {url} [{policy}] as {role}: {got}, expected {want}")
    assert wrong == [], "\n".join(wrong)
    assert fingerprint() == before, "a GET changed the database"


def test_every_denied_role_is_refused_on_every_post_and_nothing_changes(app, client, world):
    token = client.csrf()
    wrong = []
    for rule in _rules(app, "POST"):
        url = url_for_rule(rule, world.ids)
        policy = POST_POLICY[rule.endpoint]
        allowed, _deny = POLICIES[policy]
        before = fingerprint()
        for role in ROLES:
            if role in allowed:
                continue
            as_user(client, world.users.get(role))
            got = outcome(client.post(url, data={**FORM, "csrf_token": token}))
            want = POST_STATE.get(rule.endpoint, {}).get(role) or expected(policy, role)
            if got != want:
                wrong.append(f"POST {url} [{policy}] as {role}: {got}, expected {want}")
        if fingerprint() != before:
            wrong.append(f"POST {url} [{policy}]: a denied role changed the database")
    assert wrong == [], "\n".join(wrong)


def test_residents_cannot_read_each_others_data_by_id(client, world):
    """Resident B (and resident A's own neighbour) guessing ids of A's private things."""
    from portal.voting.models import Ballot

    ids = world.ids
    receipt = db.session.get(Ballot, ids["online_ballot"]).receipt
    private = {
        f"/minutes/{ids['draft_minutes']}": "draft minutes",
        f"/files/{ids['draft_minutes_attachment']}": "a draft's attachment",
        f"/staff/fees/{ids['draft_statement']}": "a draft fee statement",
        f"/staff/elections/{ids['election']}/ballot/{ids['unit']}/print": "a household's ballot",
        f"/volunteers/activities/{ids['activity']}/roster": "the volunteers' roster",
        f"/findings/{ids['finding']}/photos/{ids['finding_photo']}": "an inspection photo",
    }
    for role in ("other_resident", "resident", "other_secretary"):
        as_user(client, world.users[role])
        for url, what in private.items():
            if role == "resident" and what == "the volunteers' roster":
                continue
            got = outcome(client.get(url))
            assert got in ("403", "404"), f"{role} reads {what}: {got}"
        pages = " ".join(
            text_of(client.get(u))
            for u in ("/account", "/account/units", "/account/ballots", "/account/volunteering")
        )
        pages += text_of(client.get(f"/elections/{ids['election']}/receipt"))
        if role != "resident":
            assert "张三丰" not in pages  # resident A's name, claim, ballots, sign-ups
            assert receipt not in pages.replace("-", "")
    # and resident A sees their own receipt
    as_user(client, world.users["resident"])
    page = text_of(client.get(f"/elections/{ids['election']}/receipt"))
    assert receipt in page.replace("-", "")
