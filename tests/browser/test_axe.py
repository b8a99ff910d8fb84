"""axe-core over every page type a user can reach, in Chinese, in English and in large-text mode,
plus touch-target sizes (issue 7, point 4).

One seeded world (module-scoped: one database, one server, one logged-in browser context per
role) has data in every domain. ``PAGES`` lists one URL per page type and who opens it;
``test_every_get_page_type_is_swept`` walks ``app.url_map`` so that a new GET page cannot be
forgotten (``EXCLUDED`` names the endpoints that are not HTML pages, with the reason).

axe runs with the WCAG 2 A/AA and 2.1 AA tags (``color-contrast`` among them: text contrast
≥ 4.5:1); any violation of impact "serious" or "critical" fails, with its rule id, the target
selectors and the URL. No rule is disabled.

Touch targets (WCAG 2.5.5, with its "inline" exception), measured on every page of the sweep:
every visible link, button, input, select, textarea and summary is at least 44×44 CSS px, and at
least 60 px tall in large-text mode. A radio button or checkbox is measured by its label when
the label wraps it (the label is the target). Exempt: a link that is *inline in running text*,
i.e. its computed ``display`` is ``inline`` and its parent element has text of its own outside
the link (a sentence around it). A link alone in a list item, a table cell, a nav or a card is
not exempt.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import Response

from portal import create_app
from portal.extensions import db
from portal.models_base import utcnow
from portal.places.labels import HUB_TABS
from portal.places.models import Company
from tests.browser.conftest import TIMEOUT_MS, serving
from tests.conftest import PG_URL, _base_config, _truncate_all
from tests.factories import first_unit

# markup_sweep: the page markup does not depend on the database engine, so CI runs this sweep
# once (on SQLite) and leaves it out of the PostgreSQL pass (scripts/test.sh).
pytestmark = [pytest.mark.browser, pytest.mark.markup_sweep]

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}
MIN_TARGET = 44
MIN_LARGE_TARGET_HEIGHT = 60

# Endpoints with a GET route that are not HTML pages a person reads, or that only redirect.
EXCLUDED = {
    "static": "CSS, JavaScript and images, not pages",
    "voting.ballots_csv": "CSV download",
    "voting.roll_csv": "CSV download",
    "voting.bid_document": "uploaded bid document (a file)",
    "voting.staff_contract_document": "uploaded contract document (a file)",
    "voting.staff_proxy_document": "uploaded proxy document (a file)",
    "voting.receipt_lookup": "redirects to the election page's lookup (swept: ?receipt=…)",
    "voting.turnout": "htmx fragment polled by the election page (swept inside it)",
    "voting.staff_turnout": "htmx fragment polled by the staff election page (swept inside it)",
    "notices.feed": "Atom feed (XML)",
    "uploads.file": "uploaded file download",
    "uploads.thumb": "image thumbnail",
    "ratings.finding_photo": "photo file",
    "proposals.photo": "photo file",
    "proposals.clock": "htmx fragment polled by the proposal page (swept inside it)",
    "transparency.open_collection_csv": "CSV download",
    "transparency.open_collection_json": "JSON download",
    "transparency.open_fees_csv": "CSV download",
    "transparency.open_fees_json": "JSON download",
    "transparency.fdp_descriptor": "JSON data package descriptor",
    "transparency.fdp_csv": "CSV download",
    "transparency.fdp_zip": "ZIP download",
    "transparency.export_statement": "CSV download",
    "transparency.import_sample": "CSV sample download",
    "ratings.findings_csv": "CSV download",
    "ratings.findings_json": "JSON download",
    "ratings.inspections_csv": "CSV download",
    "ratings.inspections_json": "JSON download",
    "ratings.ratings_csv": "CSV download",
    "ratings.ratings_json": "JSON download",
    "volunteers.activity_ics": "iCalendar download",
    "ops.health": "health check for the load balancer (JSON), not a page",
    "ops.healthz": "liveness probe (plain text), not a page",
    "axe_script": "this test's own route serving axe-core to the browser",
}
AXE_PATH = "/__test__/axe.min.js"


# ---- the world -----------------------------------------------------------------------------


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role name -> User
    ids: dict = field(default_factory=dict)  # what the page paths need
    pages: list = field(default_factory=list)


@pytest.fixture(scope="module")
def app(_template_db, tmp_path_factory):
    """This module's own app and database, shared by its tests (the world is built once)."""
    if PG_URL:
        url = PG_URL
    else:
        target = tmp_path_factory.mktemp("axe") / "axe.db"
        shutil.copy(_template_db, target)
        url = f"sqlite:///{target}"
    application = create_app(_base_config(url))
    # axe-core from the installed package, served from the page's own origin (the CSP allows
    # 'self') with a long cache life, so that Chromium compiles its 570 kB once, not per page.
    from axe_playwright_python.base import AXE_SCRIPT

    def axe_script():
        return Response(
            AXE_SCRIPT,
            mimetype="text/javascript",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    application.add_url_rule(AXE_PATH, "axe_script", axe_script)
    with application.app_context():
        if PG_URL:
            _truncate_all(application)
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(app):
    with serving(app, "axe-server") as server:
        yield server


def _build_world(make_street, make_community, make_compound, make_user, make_grant, make_claim):
    from portal.minutes import service as minutes_service
    from portal.minutes.rules import DecisionInput
    from portal.notices import service as notices
    from portal.proposals import service as proposals
    from portal.ratings import demo as ratings_demo
    from portal.ratings import service as ratings
    from portal.transparency import demo_seed as fee_demo
    from portal.volunteers import service as volunteers
    from portal.voting import service as voting

    w = World()
    now = utcnow()
    today = voting.local_today()
    # Street code "HP" and the demo phone numbers: the ratings demo seeds onto this street.
    street = make_street(name="和平街道", code="HP")
    community = make_community(street=street, name="和平里社区", code="HP-01")
    a = make_compound(
        community=community, name="和平花园", code="HP-A", buildings=2, units_per_building=4
    )
    b = make_compound(
        community=community, name="光明小区", code="HP-B", buildings=1, units_per_building=4
    )
    company = Company(name="和平物业服务有限公司")
    rivals = [Company(name="甲物业公司"), Company(name="乙物业公司")]
    db.session.add_all([company, *rivals])
    db.session.commit()

    def user(role, phone, name, grant=None, scope=None):
        u = make_user(phone=phone, name=name)
        if grant:
            make_grant(u, grant, scope)
        w.users[role] = u
        return u

    admin = user("admin", "13900000000", "管理员", "admin")
    officer = user("street", "13900000001", "赵街道", "street", street)
    secretary = user("secretary", "13900000002", "王书记", "secretary", community)
    committee = user("committee", "13900000003", "张委员", "committee", a)
    staff = user("company", "13900000004", "周物业", "company", company)
    user("inspector", "13900000005", "孙评估", "inspector", street)
    resident = user("resident", "13900000006", "王建国")
    voter = user("voter", "13900000008", "李秀英")
    pending = user("pending", "13900000007", "刘秀芳")
    second = make_user(phone="13900000009", name="李委员")
    make_grant(second, "committee", a)
    owner_b = make_user(phone="13900000011", name="陈业主")
    units_a = [u for bl in a.buildings for u in bl.units]
    make_claim(resident, units_a[0], status="verified")
    make_claim(voter, units_a[1], status="verified")
    make_claim(pending, units_a[2], status="pending")
    make_claim(owner_b, first_unit(b), status="verified")
    assert admin and officer

    # Fees and commitments (12 published months, a revision, questions), then inspections,
    # findings, closed surveys and two published rating quarters.
    fee_demo.seed_compound(a, staff, secretary, resident, today, random.Random(7))
    ratings_demo.seed([], now)
    db.session.commit()

    # Elections: one open (the resident has voted, the voter not yet), one certified.
    def election(compound, announced, title):
        e = voting.create_election(
            secretary,
            compound,
            title=title,
            matter="hire",
            rule="civil-code-278",
            description="请业主们比较两家公司的报价和承诺。",
            opens_at=announced + timedelta(days=15),
            closes_at=announced + timedelta(days=25),
        )
        for c, fee, level in ((rivals[0], "1.50", "二级"), (rivals[1], "1.80", "一级")):
            voting.add_candidate(
                secretary,
                e,
                announced,
                label=c.name,
                company=c,
                fee_per_m2=Decimal(fee),
                service_level=level,
                commitments="报修24小时内到场\n保洁每日两次",
            )
        voting.announce(secretary, e, announced)
        db.session.commit()
        return e

    open_e = election(a, now - timedelta(days=16), "2026年选聘物业服务企业")
    voting.cast_online(resident, open_e.id, "A", now)
    done_e = election(b, now - timedelta(days=40), "2026年光明小区选聘物业")
    voting.cast_online(owner_b, done_e.id, "B", done_e.opens_at + timedelta(days=1))
    voting.close(secretary, done_e.id, done_e.closes_at)
    voting.certify(secretary, done_e.id, done_e.closes_at + timedelta(days=1))
    db.session.commit()

    # Proposals: one accepted, one waiting.
    p1 = proposals.submit(
        resident,
        a,
        "3号楼楼道灯坏了一周",
        "晚上**看不清台阶**，老人上下楼很危险。",
        "safety",
        [],
        now - timedelta(hours=5),
    )
    proposals.accept(secretary, p1.id, "general", "company", now - timedelta(hours=4))
    proposals.submit(
        voter,
        a,
        "增加电动车充电桩",
        "车棚里没有充电桩，飞线充电很危险。",
        "parking",
        [],
        now - timedelta(hours=1),
    )
    db.session.commit()

    notice = notices.create_notice(
        secretary,
        "compound",
        a,
        category="maintenance",
        title="2号楼电梯维修停运通知",
        body="3月5日9:00至17:00，2号楼电梯维修停运，请走楼梯。",
        now=now - timedelta(hours=2),
    )
    db.session.commit()

    record = minutes_service.Record(
        kind="committee",
        meeting_date=date(2026, 3, 2),
        place="社区会议室",
        attendees_count=5,
        attendee_names="张委员\n李委员",
        agenda="讨论电梯维修。",
        decisions=[DecisionInput("同意更换2号楼电梯", 4, 1, 0)],
    )
    m = minutes_service.create(committee, a, record, now=now)
    minutes_service.submit(committee, m.revisions[0], now=now)
    minutes_service.confirm(second, m.revisions[0], now=now)
    db.session.commit()

    team = volunteers.create_team(
        secretary,
        community,
        "红管家",
        "楼道清理和敬老服务。",
        compound_id=a.id,
        coordinator_phone=resident.phone,
        now=now,
    )
    start = (now + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    activity = volunteers.create_activity(
        secretary,
        team,
        now,
        title="楼道清理",
        description="带好手套。",
        place="3栋门口",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=5,
        signup_open=True,
    )
    volunteers.signup(voter, activity.id, now)
    db.session.commit()

    survey = ratings.create_survey(
        secretary,
        a,
        title="2026年物业服务满意度测评",
        areas=["cleaning", "greening", "security", "repairs", "service_desk"],
        opens_at=now,  # an hour earlier is yesterday between 00:00 and 01:00 in Beijing
        closes_at=now + timedelta(days=7),
        now=now,
    )
    db.session.commit()

    from sqlalchemy import select

    from portal.ratings.models import Finding, Inspection, RatingPeriod
    from portal.transparency import service as fees
    from portal.transparency.models import Commitment, FeeLine, FeeStatement

    # Drafts, for the pages that edit one: an election, a fee revision, a scheduled notice and
    # minutes not yet submitted.
    draft_e = voting.create_election(
        secretary,
        b,
        title="2027年光明小区续聘物业",
        matter="hire",
        rule="civil-code-278",
        description="",
        opens_at=now + timedelta(days=30),
        closes_at=now + timedelta(days=40),
    )
    scheduled = notices.create_notice(
        secretary,
        "compound",
        a,
        category="event",
        title="重阳节敬老活动",
        body="10月在社区活动室举行。",
        publish_at=now + timedelta(days=3),
        now=now,
    )
    draft_m = minutes_service.create(committee, a, record, now=now)
    db.session.commit()

    statement = db.session.scalar(
        select(FeeStatement)
        .where(FeeStatement.compound_id == a.id, FeeStatement.status == "published")
        .order_by(FeeStatement.period_key.desc(), FeeStatement.revision.desc())
    )
    draft_s = fees.start_revision(staff, statement, "停车收入按票据更正", now)
    db.session.commit()
    w.ids = {
        "street": street.code,
        "community": community.code,
        "a": a.code,
        "b": b.code,
        "unit": units_a[1].id,
        "company": company.id,
        "open": open_e.id,
        "done": done_e.id,
        "p1": p1.id,
        "notice": notice.id,
        "minutes": m.id,
        "team": team.id,
        "activity": activity.id,
        "survey": survey.id,
        "period_key": statement.period_key,
        "statement": statement.id,
        "draft_statement": draft_s.id,
        "draft_election": draft_e.id,
        "scheduled_notice": scheduled.id,
        "draft_minutes": draft_m.id,
        "line": db.session.scalar(select(FeeLine.id).where(FeeLine.statement_id == statement.id)),
        "commitment": db.session.scalar(select(Commitment.id).order_by(Commitment.id)),
        "inspection": db.session.scalar(select(Inspection.id).order_by(Inspection.id)),
        "finding": db.session.scalar(select(Finding.id).order_by(Finding.id)),
        "rating_period": db.session.scalar(select(RatingPeriod.id).order_by(RatingPeriod.id)),
    }
    return w


# ---- the pages -------------------------------------------------------------------------------

TABS = list(HUB_TABS)


@dataclass(frozen=True)
class P:
    endpoint: str
    who: str  # "anon" or a key of World.users
    path: str
    status: int = 200
    action: str = ""  # a name in ACTIONS: what to do on the page before checking it


PAGES = [
    P("places.home", "anon", "/"),
    P("places.street", "anon", "/streets/{street}"),
    P("places.community", "anon", "/communities/{community}"),
    P("places.compounds", "anon", "/compounds?q=和平"),
    P("places.compound", "anon", "/compounds/{a}"),
    *[P("places.compound", "anon", "/compounds/{a}/" + tab) for tab in TABS],
    P("accounts.login", "anon", "/login"),
    P("accounts.login", "anon", "/login", 422, "bad_login"),
    P("accounts.register", "anon", "/register"),
    P("voting.election", "anon", "/elections/{open}"),
    P("voting.election", "anon", "/elections/{done}"),
    P("voting.election", "anon", "/elections/{done}?receipt=ABCD-EFGH"),  # receipt lookup
    P("transparency.statement", "anon", "/compounds/{a}/fees/{period_key}"),
    P("transparency.period_questions", "anon", "/compounds/{a}/fees/{period_key}/questions"),
    P("transparency.statement_revision", "anon", "/compounds/{a}/fees/{period_key}/revisions/1"),
    P("transparency.line", "anon", "/fees/lines/{line}"),
    P("transparency.commitment", "anon", "/compounds/{a}/commitments/{commitment}"),
    P("transparency.open_data", "anon", "/open-data/"),
    P("ratings.scorecard", "anon", "/companies/{company}/scorecard"),
    P("ratings.inspection", "anon", "/inspections/{inspection}"),
    P("ratings.red_black", "anon", "/streets/{street}/red-black-list"),
    P("ratings.compound_surveys", "anon", "/compounds/{a}/surveys"),
    P("proposals.detail", "anon", "/proposals/{p1}"),
    P("proposals.community_stats", "anon", "/communities/{community}/proposals/stats"),
    P("proposals.street_stats", "anon", "/streets/{street}/proposals/stats"),
    P("notices.community_list", "anon", "/communities/{community}/notices"),
    P("notices.street_list", "anon", "/streets/{street}/notices"),
    P("notices.detail", "anon", "/notices/{notice}"),
    P("notices.print_view", "anon", "/notices/{notice}/print"),
    P("notices.check", "anon", "/notices/check"),
    P("minutes.detail", "anon", "/minutes/{minutes}"),
    P("minutes.revision", "anon", "/minutes/{minutes}/revisions/1"),
    P("volunteers.community", "anon", "/communities/{community}/volunteers"),
    P("volunteers.community_calendar", "anon", "/communities/{community}/volunteers/calendar"),
    P("volunteers.compound_calendar", "anon", "/compounds/{a}/volunteers/calendar"),
    P("volunteers.activity", "anon", "/volunteers/activities/{activity}"),
    P("volunteers.team", "anon", "/volunteers/teams/{team}"),
    P("errors.404", "anon", "/no-such-page", 404),
    # a resident
    P("accounts.profile", "resident", "/account"),
    P("accounts.my_units", "resident", "/account/units"),
    P("voting.my_ballots", "resident", "/account/ballots"),
    P("volunteers.mine", "resident", "/account/volunteering"),
    P("voting.receipt", "resident", "/elections/{open}/receipt"),
    P("voting.vote", "resident", "/elections/{open}/vote", 409),  # already voted: refused
    P("proposals.submit", "resident", "/compounds/{a}/proposals/new"),
    P("proposals.submit", "resident", "/compounds/{a}/proposals/new", 422, "empty_proposal"),
    P("ratings.survey", "resident", "/surveys/{survey}"),
    P("errors.403", "resident", "/staff/audit", 403),
    P("voting.vote", "voter", "/elections/{open}/vote"),
    P("voting.vote", "voter", "/elections/{open}/vote", 200, "confirm_step"),
    P("accounts.claim", "pending", "/compounds/{a}/claim"),
    # staff desks
    P("accounts.staff_home", "secretary", "/staff"),
    P("accounts.claims_queue", "secretary", "/staff/claims"),
    P("places.roster_upload", "secretary", "/staff/roster"),
    P("voting.staff_list", "secretary", "/staff/elections"),
    P("voting.staff_election", "secretary", "/staff/elections/{open}"),
    P("voting.staff_paper", "secretary", "/staff/elections/{open}/paper"),
    P("voting.print_ballot", "secretary", "/staff/elections/{open}/ballot/{unit}/print"),
    P("voting.staff_announce", "secretary", "/staff/elections/{draft_election}/announce"),
    P("voting.staff_close", "secretary", "/staff/elections/{open}/close"),
    P("voting.staff_certify", "secretary", "/staff/elections/{done}/certify"),
    P("voting.staff_contract", "secretary", "/staff/elections/{done}/contract"),
    P("transparency.desk", "secretary", "/staff/fees"),
    P("transparency.staff_statement", "secretary", "/staff/fees/{statement}"),
    P("transparency.edit_statement", "company", "/staff/fees/{draft_statement}/edit"),
    P("transparency.new_statement", "company", "/staff/fees/new"),
    P("transparency.import_statement", "company", "/staff/fees/import"),
    P("transparency.questions_desk", "company", "/staff/fees/questions"),
    P("transparency.manage_commitments", "secretary", "/staff/compounds/{a}/commitments"),
    P("transparency.edit_commitment", "secretary", "/staff/commitments/{commitment}/edit"),
    P("transparency.record_contract", "secretary", "/staff/compounds/{a}/contract"),
    P("proposals.inbox", "secretary", "/staff/proposals"),
    P("proposals.reports", "secretary", "/staff/proposals/reports"),
    P("proposals.settings", "secretary", "/compounds/{a}/proposals/settings"),
    P("notices.desk", "secretary", "/notices/desk"),
    P("notices.new", "secretary", "/notices/new/compound/{a}"),
    P("notices.edit", "secretary", "/notices/{scheduled_notice}/edit"),
    P("volunteers.staff", "secretary", "/staff/volunteers"),
    P("volunteers.summary", "secretary", "/communities/{community}/volunteers/summary"),
    P("volunteers.new_team", "secretary", "/communities/{community}/volunteers/teams/new"),
    P("volunteers.new_activity", "secretary", "/volunteers/teams/{team}/activities/new"),
    P("volunteers.edit_activity", "secretary", "/volunteers/activities/{activity}/edit"),
    P("volunteers.roster", "secretary", "/volunteers/activities/{activity}/roster"),
    P("ratings.surveys", "secretary", "/ratings/surveys"),
    P("ratings.new_survey", "secretary", "/ratings/surveys/new"),
    P("minutes.desk", "committee", "/minutes/desk"),
    P("minutes.new", "committee", "/compounds/{a}/minutes/new"),
    P("minutes.correct", "committee", "/minutes/{minutes}/correct"),
    P("minutes.edit", "committee", "/minutes/{draft_minutes}/edit"),
    P("voting.street_dashboard", "street", "/staff/street"),
    P("proposals.street_overdue", "street", "/staff/street/proposals"),
    P("accounts.grants", "street", "/staff/grants"),
    P("ratings.settings", "street", "/streets/{street}/rating-settings"),
    P("ratings.periods", "street", "/streets/{street}/rating-periods"),
    P("ratings.period", "street", "/rating-periods/{rating_period}"),
    P("ratings.checklist", "street", "/streets/{street}/checklist"),
    P("ratings.desk", "inspector", "/ratings/"),
    P("ratings.inspections", "inspector", "/ratings/inspections"),
    P("ratings.new_inspection", "inspector", "/ratings/inspections/new"),
    P("ratings.findings", "inspector", "/ratings/findings"),
    P("accounts.staff_home", "company", "/staff"),
    P("accounts.staff_home", "admin", "/staff"),
    P("accounts.audit_log", "admin", "/staff/audit"),
]


def _bad_login(page) -> int:
    page.locator("#phone").fill("13900000006")
    page.locator("#password").fill("not the password")
    with page.expect_navigation() as nav:
        page.locator("form[action^='/login'] button[type=submit]").click()
    return nav.value.status


def _short_proposal(page) -> int:
    """Too short a title and text: the form comes back with its errors (htmx swaps it in)."""
    page.locator("#title").fill("灯坏")
    page.locator("#category").select_option("safety")
    page.locator("#body").fill("太暗")
    with page.expect_response(lambda r: r.request.method == "POST") as resp:
        page.locator("form[action$='/proposals/new'] button[type=submit]").click()
    page.locator(".error, [aria-invalid=true]").first.wait_for()
    return resp.value.status


def _confirm_step(page) -> int:
    page.locator("label.ballot-option").first.click()
    with page.expect_navigation() as nav:
        page.locator("form[action$='/vote'] button[type=submit]").first.click()
    page.locator("form[action$='/vote/confirm']").wait_for()
    return nav.value.status


ACTIONS = {
    "bad_login": _bad_login,
    "empty_proposal": _short_proposal,
    "confirm_step": _confirm_step,
}

# Every visible target smaller than the minimum, with the exemption of the module docstring.
TARGETS = """(minHeight) => {
  const out = [];
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  const inlineInText = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    const parent = el.parentElement;
    return Array.from(parent.childNodes).some(
      (n) => n !== el && ((n.nodeType === 3 && n.textContent.trim()) ||
        (n.nodeType === 1 && n.tagName !== 'A' && getComputedStyle(n).display === 'inline'
         && n.textContent.trim())));
  };
  for (const el of document.querySelectorAll(sel)) {
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    if (el.closest('[hidden], [aria-hidden=true]')) continue;
    let box = el;
    if (el.matches('input[type=radio], input[type=checkbox]')) {
      box = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el;
    }
    const r = box.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.bottom < 0 || r.right < 0) continue;  // moved off screen (the unfocused skip link)
    if (inlineInText(el)) continue;
    if (r.height < minHeight - 0.5 || r.width < 44 - 0.5) {
      const text = (el.textContent || el.value || el.name || '').trim().replace(/\\s+/g, ' ');
      const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
        (typeof e.className === 'string' && e.className.trim()
          ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
      const path = name(el.parentElement) + ' > ' + name(el);
      out.push(`${path} "${text.slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return out;
}"""


# ---- fixtures: built once per module -------------------------------------------------------


@pytest.fixture(scope="module")
def _once():
    """What this module builds once: the world, and one logged-in browser context per role.

    The factories are function-scoped fixtures, so the (function-scoped) fixtures below build
    on the first test and keep the result here; the contexts close when the module ends."""
    state: dict = {}
    yield state
    for ctx in state.get("contexts", {}).values():
        ctx.close()


@pytest.fixture
def world(_once, make_street, make_community, make_compound, make_user, make_grant, make_claim):
    if "world" not in _once:
        _once["world"] = _build_world(
            make_street, make_community, make_compound, make_user, make_grant, make_claim
        )
        db.session.commit()
    return _once["world"]


@pytest.fixture
def pages(_once, app, world, browser, live_server, console):
    """who -> two Pages in that person's own browser context (logged in unless "anon").

    Two, so that axe can run on one page while the next page loads in the other. The login
    form is not used here (test_keyboard and the journeys test it): the session cookie is
    signed as the login would sign it."""
    if "contexts" not in _once:
        _once["contexts"] = {}
        _once["pages"] = {}
        signer = app.session_interface.get_signing_serializer(app)
        for who in sorted({p.who for p in PAGES}):
            ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
            ctx.set_default_timeout(TIMEOUT_MS)
            ctx.set_default_navigation_timeout(TIMEOUT_MS)
            if who != "anon":
                session = {"_user_id": world.users[who].get_id(), "_fresh": True}
                cookie = {"name": app.config["SESSION_COOKIE_NAME"], "url": live_server()}
                ctx.add_cookies([{**cookie, "value": signer.dumps(session)}])
            pair = [ctx.new_page(), ctx.new_page()]
            for page in pair:
                console.attach(page)
            _once["contexts"][who] = ctx
            _once["pages"][who] = pair
    return _once["pages"]


# ---- the sweep -------------------------------------------------------------------------------

MODES = ["zh", "en", "large-text"]


def _url(live_server, world, p: P, mode: str) -> str:
    url = live_server(p.path.format(**world.ids))
    if mode == "en":
        url += ("&" if "?" in url else "?") + "lang=en"
    return url


def _start_axe(page) -> None:
    """Start axe on the page without waiting for it (``_axe_problems`` collects the result)."""
    page.add_script_tag(url=AXE_PATH)
    page.evaluate("(o) => { window.__axe = axe.run(document, o); }", AXE_OPTIONS)


def _axe_problems(page, url: str, who: str) -> list[str]:
    results = page.evaluate("() => window.__axe")
    out = []
    for v in results["violations"]:
        if v["impact"] not in BLOCKING:
            continue
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            out.append(f"{url} [{who}] {v['id']} ({v['impact']}): {target} — {v['help']}")
    return out


def _set_large_text(world, pages, live_server, on: bool) -> None:
    for u in world.users.values():
        u.large_text = on
    db.session.commit()
    anon = pages["anon"][0].context
    anon.add_cookies([{"name": "large_text", "value": "1" if on else "0", "url": live_server()}])


def _sweep(pages, world, live_server, mode: str) -> list[str]:
    problems = []
    min_height = MIN_LARGE_TARGET_HEIGHT if mode == "large-text" else MIN_TARGET
    running = None  # (page, url, who): axe still running there while the next page loads
    for p in PAGES:
        pair = pages[p.who]
        page = pair[1] if running and running[0] is pair[0] else pair[0]
        url = _url(live_server, world, p, mode)
        status = page.goto(url).status
        if running:
            problems += _axe_problems(*running)
            running = None
        if p.action:
            status = ACTIONS[p.action](page)
        if status != p.status:
            problems.append(f"{url} [{p.who}]: HTTP {status}, expected {p.status}")
            continue
        if not p.action and page.url.split("?")[0] != url.split("?")[0]:
            problems.append(f"{url} [{p.who}]: redirected to {page.url}")
            continue
        body_class = page.locator("body").get_attribute("class") or ""
        if ("large-text" in body_class) != (mode == "large-text"):
            problems.append(f"{url} [{p.who}]: body class {body_class!r} in mode {mode}")
        small = page.evaluate(TARGETS, min_height)
        problems += [f"{url} [{p.who}] target under {min_height}px: {s}" for s in small]
        _start_axe(page)
        running = (page, url, p.who)
    if running:
        problems += _axe_problems(*running)
    return problems


# Pages whose look the audit's fixes changed: saved as screenshots for a person to look at.
SHOTS = {
    "hub": "/compounds/{a}",
    "calendar": "/compounds/{a}/volunteers/calendar",
    "stats": "/communities/{community}/proposals/stats",
    "proposal": "/proposals/{p1}",
}


@pytest.mark.parametrize("mode", MODES)
def test_axe_and_touch_targets_on_every_page_type(mode, world, pages, live_server, console, shot):
    if mode == "large-text":
        _set_large_text(world, pages, live_server, True)
    try:
        problems = _sweep(pages, world, live_server, mode)
        if mode != "en":
            page = pages["anon"][0]
            for name, path in SHOTS.items():
                page.goto(live_server(path.format(**world.ids)))
                shot(page, name)
    finally:
        if mode == "large-text":
            _set_large_text(world, pages, live_server, False)
    assert not problems, f"{len(problems)} problems ({mode}):\n" + "\n".join(problems)
    console.assert_no_csp_violations()


def test_every_get_page_type_is_swept(app):
    """Walk the URL map: every GET endpoint is in PAGES or excluded with a reason."""
    gets = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}
    swept = {p.endpoint for p in PAGES}
    forgotten = gets - swept - set(EXCLUDED)
    assert not forgotten, f"GET endpoints neither swept by axe nor excluded: {sorted(forgotten)}"
    gone = (swept | set(EXCLUDED)) - gets - {"errors.403", "errors.404"}
    assert not gone, f"PAGES or EXCLUDED name endpoints that no longer exist: {sorted(gone)}"
