"""Keyboard only (issue 7, point 4): a resident who uses no mouse and no touch screen logs in,
reaches the open election from the compound page, votes through the confirm step and sees the
receipt, then raises a proposal and finds it on the board.

After the login page is opened, the test uses nothing but ``page.keyboard`` (Tab, Shift+Tab,
Enter, Space, arrow keys, typing): no clicks, no ``fill``, no ``goto``. Every element that takes
the focus on the way must show it (an outline or a focus ring), and the first Tab on a page
reaches the skip link to the main content.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models_base import utcnow
from portal.places.labels import HUB_TABS
from portal.places.models import Company
from portal.proposals.models import Proposal
from portal.voting import service
from portal.voting.models import Ballot
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

TITLE = "单元门门禁坏了"
BODY = "2栋1单元的门禁刷卡没有反应，已经三天了，快递员和老人进出都不方便。"

# What has the focus, and whether it shows: an outline or a box-shadow ring.
FOCUSED = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), id: el.id, cls: String(el.className || ''),
    type: el.getAttribute('type') || '', href: el.getAttribute('href') || '',
    value: el.value === undefined ? '' : String(el.value),
    text: (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60),
    ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none',
  };
}"""


@pytest.fixture
def election(place, make_user, make_claim, make_grant):
    """和平花园's election: voting opened a day ago (announced 16 days ago), two candidates."""
    secretary = make_user(phone="13600000001", name="王书记")
    make_grant(secretary, "secretary", place.community)
    a, b = Company(name="甲物业公司"), Company(name="乙物业公司")
    db.session.add_all([a, b])
    db.session.commit()
    t0 = utcnow() - timedelta(days=16)
    e = service.create_election(
        secretary,
        place.compound,
        title="2026年选聘物业服务企业",
        matter="hire",
        rule="civil-code-278",
        description="请业主们比较两家公司的报价和承诺。",
        opens_at=t0 + timedelta(days=15),
        closes_at=t0 + timedelta(days=25),
    )
    for company, fee in ((a, "1.50"), (b, "1.80")):
        service.add_candidate(
            secretary,
            e,
            t0,
            label=company.name,
            company=company,
            fee_per_m2=Decimal(fee),
            service_level="二级",
            commitments="报修24小时内到场",
        )
    service.announce(secretary, e, t0)
    db.session.commit()
    return e


def tab_to(page, wanted, what: str, limit: int = 80, key: str = "Tab") -> dict:
    """Press Tab (or ``key``) until ``wanted(focused)``; every stop must show its focus."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        f = page.evaluate(FOCUSED)
        if f["tag"] != "body":
            assert f["ring"], f"the focus is invisible on {f} (looking for {what})"
        if wanted(f):
            return f
        seen.append(f"{f['tag']}#{f['id']} {f['href']} {f['text'][:20]}")
    pytest.fail(f"{key} never reached {what}; the focus went through:\n" + "\n".join(seen))


def enter_and_wait(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_resident_votes_and_raises_a_proposal_with_the_keyboard_only(
    live_server, new_page, place, election, make_user, make_claim, tr, console, shot, fresh
):
    units = [u for b in place.compound.buildings for u in b.units]
    resident = make_user(phone="13900000006", name="王建国")
    make_claim(resident, units[0], status="verified")
    code = place.compound.code

    page = new_page()
    page.goto(live_server(f"/login?next=/compounds/{code}"))
    # From here on: the keyboard only.

    # The first Tab reaches the skip link, which leads into the main content.
    page.keyboard.press("Tab")
    f = page.evaluate(FOCUSED)
    assert "skip-link" in f["cls"] and f["href"] == "#main" and f["ring"], f
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    tab_to(page, lambda f: f["id"] == "phone", "the phone number field")
    page.keyboard.type(resident.phone)
    tab_to(page, lambda f: f["id"] == "password", "the password field", limit=3)
    page.keyboard.type(PASSWORD)
    enter_and_wait(page)
    expect(page).to_have_url(live_server(f"/compounds/{code}"))

    # Compound page › elections tab › the open election › Vote.
    tab_to(
        page,
        lambda f: f["href"] == f"/compounds/{code}/elections",
        "the elections tab",
    )
    enter_and_wait(page)
    expect(page.locator("#tab-heading")).to_have_text(tr(HUB_TABS["elections"][0]))
    tab_to(page, lambda f: f["href"] == f"/elections/{election.id}", "the election")
    enter_and_wait(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(election.title)
    tab_to(page, lambda f: f["href"] == f"/elections/{election.id}/vote", "the Vote button")
    enter_and_wait(page)

    # The ballot: Tab into the options, the arrow key moves to candidate B, Space keeps it.
    tab_to(page, lambda f: f["type"] == "radio", "the first option")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    f = page.evaluate(FOCUSED)
    assert f["value"] == "B", f
    expect(page.locator("#choice-B")).to_be_checked()
    shot(page, "ballot-keyboard")
    tab_to(
        page,
        lambda f: f["tag"] == "button" and f["text"] == tr("Next: check my choice"),
        "the Next button",
    )
    enter_and_wait(page)

    # The confirm step names the choice; confirm it.
    expect(page.locator("main")).to_contain_text("乙物业公司")
    tab_to(
        page,
        lambda f: f["tag"] == "button" and f["text"] == tr("Confirm my vote"),
        "the Confirm button",
    )
    enter_and_wait(page)
    expect(page).to_have_url(live_server(f"/elections/{election.id}/receipt"))
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("Your receipt"))
    fresh()
    ballot = db.session.scalar(select(Ballot).where(Ballot.election_id == election.id))
    assert ballot is not None and ballot.choice == "B" and ballot.user_id == resident.id
    expect(page.locator(".receipt-code")).to_be_visible()
    shot(page, "receipt-keyboard")

    # Back to the compound, by the election page's breadcrumb; then the proposals tab.
    tab_to(page, lambda f: f["href"] == f"/elections/{election.id}", "back to the election")
    enter_and_wait(page)
    tab_to(page, lambda f: f["href"] == f"/compounds/{code}", "the compound crumb")
    enter_and_wait(page)
    tab_to(page, lambda f: f["href"] == f"/compounds/{code}/proposals", "the proposals tab")
    enter_and_wait(page)
    tab_to(page, lambda f: f["href"] == f"/compounds/{code}/proposals/new", "Raise a proposal")
    enter_and_wait(page)

    # The form: title, category (arrow keys on the select), text; Enter on the button.
    tab_to(page, lambda f: f["id"] == "title", "the title field")
    page.keyboard.type(TITLE)
    tab_to(page, lambda f: f["id"] == "category", "the category", limit=3)
    for _ in range(12):
        if page.evaluate(FOCUSED)["value"] == "safety":
            break
        page.keyboard.press("ArrowDown")
    assert page.evaluate(FOCUSED)["value"] == "safety"
    tab_to(page, lambda f: f["id"] == "body", "the text", limit=3)
    page.keyboard.type(BODY)
    tab_to(
        page,
        lambda f: f["tag"] == "button" and f["text"] == tr("Publish the proposal"),
        "the Publish button",
    )
    enter_and_wait(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)

    # And the board lists it.
    tab_to(page, lambda f: f["href"] == f"/compounds/{code}/proposals", "the board crumb")
    enter_and_wait(page)
    expect(page.locator("#tab-panel")).to_contain_text(TITLE)
    shot(page, "board-keyboard")
    fresh()
    p = db.session.scalar(select(Proposal).where(Proposal.title == TITLE))
    assert p is not None and p.author_id == resident.id and p.category == "safety"
    console.assert_no_csp_violations()
