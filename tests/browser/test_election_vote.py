"""An owner votes online: from the compound hub's elections tab to the election page, the ballot,
the confirm step and the receipt, then finds the receipt among their ballots. Once with
JavaScript, once without (a second owner on another phone), and the ballot in large-text mode on
a 390px phone, by keyboard."""

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
from portal.voting import ledger, service
from portal.voting.models import Ballot, Election
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

PHONE_WIDTH = 390
COMPANY_A = "甲物业公司"
COMPANY_B = "乙物业公司"

OVERFLOW = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  culprits: Array.from(document.querySelectorAll('body *'))
    .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .filter(el => !el.closest('.table-wrap'))
    .slice(0, 5)
    .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')),
})"""

OPTION_HEIGHTS = """() => Array.from(document.querySelectorAll('label.ballot-option')).map(el => ({
  text: el.textContent.trim().replace(/\\s+/g, ' '),
  height: el.getBoundingClientRect().height,
}))"""


@pytest.fixture
def election(place, make_user, make_claim, make_grant):
    """和平花园 with its 8 units; voting opened a day ago and closes in 9 days (announced with
    the service 16 days ago, after the lawful 15-day notice period)."""
    secretary = make_user(phone="13600000001", name="王书记")
    make_grant(secretary, "secretary", place.community)
    a, b = Company(name=COMPANY_A), Company(name=COMPANY_B)
    db.session.add_all([a, b])
    db.session.commit()
    now0 = utcnow() - timedelta(days=16)
    e = service.create_election(
        secretary,
        place.compound,
        title="2026年选聘物业服务企业",
        matter="hire",
        rule="civil-code-278",
        description="请业主们比较两家公司的报价和承诺。",
        opens_at=now0 + timedelta(days=15),
        closes_at=now0 + timedelta(days=25),
    )
    service.add_candidate(
        secretary,
        e,
        now0,
        label=a.name,
        company=a,
        fee_per_m2=Decimal("1.50"),
        service_level="二级",
        commitments="报修24小时内到场",
    )
    service.add_candidate(
        secretary,
        e,
        now0,
        label=b.name,
        company=b,
        fee_per_m2=Decimal("1.80"),
        service_level="一级",
        commitments="保洁每日两次\n门岗24小时值守",
    )
    service.announce(secretary, e, now0)
    db.session.commit()
    return e


def owner_of(place, make_user, make_claim, index: int, phone: str, **kw):
    units = [u for b in place.compound.buildings for u in b.units]
    user = make_user(phone=phone, **kw)
    make_claim(user, units[index], status="verified")
    return user


def log_in(page, live_server, phone: str):
    page.goto(live_server("/login"))
    page.locator("#phone").fill(phone)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator(".site-nav form[action='/logout']")).to_be_visible()


def open_election_from_the_hub(page, live_server, place, election, tr):
    page.goto(live_server(f"/compounds/{place.compound.code}"))
    nav = page.get_by_role("navigation", name=tr("Compound sections"))
    nav.get_by_role("link", name=tr(HUB_TABS["elections"][0]), exact=True).click()
    expect(page).to_have_url(live_server(f"/compounds/{place.compound.code}/elections"))
    item = page.locator("#tab-panel li.election-item").filter(has_text=election.title)
    expect(item).to_contain_text(tr("Voting open"))
    with page.expect_navigation():
        item.get_by_role("link", name=election.title).click()
    expect(page).to_have_url(live_server(f"/elections/{election.id}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(election.title)


def choose_and_confirm(page, live_server, election, tr, key: str, company: str, shot):
    with page.expect_navigation():
        page.locator(f"a[href='/elections/{election.id}/vote']").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("Your ballot"))
    page.locator(f"label[for=choice-{key}]").click()
    expect(page.locator(f"#choice-{key}")).to_be_checked()
    shot(page, "ballot")
    with page.expect_navigation():
        page.locator(f"form[action='/elections/{election.id}/vote'] button[type=submit]").click()
    sentence = tr("You are voting for %(option)s (%(key)s).") % {"option": company, "key": key}
    expect(page.locator(".confirm-choice")).to_have_text(sentence)
    expect(page.locator(".confirm-box")).to_contain_text(
        tr("Your ballot is final and cannot be changed.")
    )
    shot(page, "confirm")
    with page.expect_navigation():
        page.locator("form[action$='/vote/confirm'] button[type=submit]:not([name=back])").click()
    expect(page).to_have_url(live_server(f"/elections/{election.id}/receipt"))


def test_owner_votes_from_the_hub_and_keeps_the_receipt(
    live_server, new_page, place, election, make_user, make_claim, console, shot, tr, fresh
):
    owner = owner_of(place, make_user, make_claim, 0, "13900000001")
    page = new_page()
    log_in(page, live_server, owner.phone)
    open_election_from_the_hub(page, live_server, place, election, tr)
    # live turnout before voting: nobody yet, and no choice shown anywhere
    expect(page.locator("#turnout")).to_be_visible()
    expect(page.locator("#result")).to_have_count(0)
    shot(page, "election-page")

    choose_and_confirm(page, live_server, election, tr, "B", COMPANY_B, shot)
    fresh()
    ballot = db.session.scalar(select(Ballot).where(Ballot.election_id == election.id))
    assert (ballot.choice, ballot.channel, ballot.user_id) == ("B", "online", owner.id)
    code = ledger.format_receipt(ballot.receipt)
    expect(page.locator(".receipt-code")).to_have_text(code)
    shot(page, "receipt")

    # The election page now says so; the live turnout counts the ballot and updates itself
    # (htmx polls it) when another owner votes on paper meanwhile.
    page.goto(live_server(f"/elections/{election.id}"))
    expect(page.locator("#my-vote")).to_contain_text(code)
    owners_now = page.locator("#turnout .measure-num strong").first
    expect(owners_now).to_have_text("1")
    fresh()
    head = db.session.get(Election, election.id).ledger_head
    expect(page.locator("#turnout .ledger")).to_contain_text(head)
    other = owner_of(place, make_user, make_claim, 4, "13900000005")
    service.cast_online(other, election.id, "A", utcnow())
    db.session.commit()
    expect(owners_now).to_have_text("2", timeout=15_000)
    expect(page.locator("#turnout .ledger")).not_to_contain_text(head)
    shot(page, "turnout-updated")

    page.goto(live_server("/account/ballots"))
    expect(page.locator("li.my-ballot").filter(has_text=election.title)).to_contain_text(code)
    shot(page, "my-ballots")

    # A second attempt says so, with the receipt.
    page.goto(live_server(f"/elections/{election.id}/vote"))
    expect(page.locator("main")).to_contain_text(code)
    console.assert_no_csp_violations()


def test_second_owner_votes_without_javascript(
    live_server, new_page, place, election, make_user, make_claim, console, shot, tr, fresh
):
    owner = owner_of(place, make_user, make_claim, 5, "13900000006")
    page = new_page(js=False, width=PHONE_WIDTH, height=844)
    log_in(page, live_server, owner.phone)
    open_election_from_the_hub(page, live_server, place, election, tr)

    # Choose A, then think again: "Go back" keeps the choice, and B is chosen instead.
    with page.expect_navigation():
        page.locator(f"a[href='/elections/{election.id}/vote']").click()
    page.locator("label[for=choice-A]").click()
    with page.expect_navigation():
        page.locator(f"form[action='/elections/{election.id}/vote'] button[type=submit]").click()
    with page.expect_navigation():
        page.locator("button[name=back]").click()
    expect(page.locator("#choice-A")).to_be_checked()
    page.goto(live_server(f"/elections/{election.id}"))

    choose_and_confirm(page, live_server, election, tr, "B", COMPANY_B, shot)
    fresh()
    ballot = db.session.scalar(select(Ballot).where(Ballot.user_id == owner.id))
    assert ballot.choice == "B"
    code = ledger.format_receipt(ballot.receipt)
    expect(page.locator(".receipt-code")).to_have_text(code)
    page.goto(live_server("/account/ballots"))
    expect(page.locator("main")).to_contain_text(code)
    shot(page, "my-ballots-no-js")
    console.assert_no_csp_violations()


def test_ballot_in_large_text_on_a_phone_by_keyboard(
    live_server, new_page, place, election, make_user, make_claim, shot, tr, fresh
):
    owner = owner_of(place, make_user, make_claim, 2, "13900000003", large_text=True)
    page = new_page(width=PHONE_WIDTH, height=844, is_mobile=True, has_touch=True)
    page.context.add_cookies([{"name": "large_text", "value": "1", "url": live_server()}])
    log_in(page, live_server, owner.phone)
    for path in (f"/elections/{election.id}", f"/elections/{election.id}/vote"):
        page.goto(live_server(path))
        expect(page.locator("body")).to_have_class("large-text")
        m = page.evaluate(OVERFLOW)
        assert m["scrollWidth"] <= PHONE_WIDTH, (path, m)
    heights = page.evaluate(OPTION_HEIGHTS)
    assert len(heights) == 3  # A, B and abstain
    small = [h for h in heights if h["height"] < 44]
    assert not small, f"ballot choices under 44px high: {small}"
    shot(page, "ballot-large-text-390")

    # By keyboard: focus the first choice, arrow to the next, Tab to "Next", Enter.
    page.locator("#choice-A").focus()
    page.keyboard.press("Space")
    expect(page.locator("#choice-A")).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#choice-B")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator(f"form[action='/elections/{election.id}/vote'] button")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".confirm-choice")).to_contain_text(COMPANY_B)
    m = page.evaluate(OVERFLOW)
    assert m["scrollWidth"] <= PHONE_WIDTH, m
    shot(page, "confirm-large-text-390")
    confirm = page.locator("form[action$='/vote/confirm'] button[type=submit]:not([name=back])")
    confirm.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".receipt-code")).to_be_visible()
    m = page.evaluate(OVERFLOW)
    assert m["scrollWidth"] <= PHONE_WIDTH, m
    shot(page, "receipt-large-text-390")
