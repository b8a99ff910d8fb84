"""The community secretary runs an election from the staff pages: drafts it with two
candidates, announces it, enters a paper ballot that a committee member confirms from another
phone (without JavaScript), closes the vote, certifies the result, and the public page shows it.
Time moves by editing the election's dates in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models_base import utcnow
from portal.places.models import Company
from portal.voting import ledger
from portal.voting.dashboard import SHANGHAI
from portal.voting.models import Ballot, Election, RollVersion
from tests.browser.test_claims import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def staff(place, make_user, make_grant):
    secretary = make_user(phone="13600000001", name="王书记")
    make_grant(secretary, "secretary", place.community)
    committee = make_user(phone="13600000002", name="李委员")
    make_grant(committee, "committee", place.compound)
    db.session.add_all([Company(name="甲物业公司"), Company(name="乙物业公司")])
    db.session.commit()
    return secretary, committee


def _add_candidate(page, company: str, fee: str, level: str, commitments: str) -> None:
    details = page.locator("details.add-candidate")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    page.locator("#company").select_option(label=company)
    page.locator("#fee_per_m2").fill(fee)
    page.locator("#service_level").select_option(value=level)
    page.locator("#commitments").fill(commitments)
    with page.expect_navigation():
        page.locator("details.add-candidate form button[type=submit]").click()
    expect(page.locator("#candidates .candidates")).to_contain_text(company)


def _move(election_id: int, fresh, **dates) -> None:
    fresh()
    e = db.session.get(Election, election_id)
    for name, value in dates.items():
        setattr(e, name, value)
    db.session.commit()


def test_secretary_runs_an_election_with_a_paper_ballot_confirmed_by_a_second_person(
    live_server, new_page, place, staff, console, shot, tr, fresh
):
    secretary, committee = staff
    page = new_page(width=390, height=844)
    log_in(page, live_server, secretary.phone)

    # The staff desk leads to the election desk.
    page.goto(live_server("/staff"))
    with page.expect_navigation():
        page.locator("a[href='/staff/elections']").click()
    shot(page, "desk")

    # Draft: voting opens 16 days from today (Beijing time) and lasts a week.
    today = utcnow().astimezone(SHANGHAI).date()
    page.locator("#title").fill("2026年和平花园选聘物业")
    expect(page.locator("#compound")).to_have_value(str(place.compound.id))
    page.locator("#opens_date").fill((today + timedelta(days=16)).isoformat())
    page.locator("#opens_time").fill("08:00")
    page.locator("#closes_date").fill((today + timedelta(days=23)).isoformat())
    page.locator("#closes_time").fill("20:00")
    with page.expect_navigation():
        page.locator("#new-election button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("2026年和平花园选聘物业")
    expect(page.locator(".phase-draft")).to_be_visible()

    _add_candidate(page, "甲物业公司", "1.85", "二级", "报修24小时到场")
    _add_candidate(page, "乙物业公司", "2.10", "一级", "保安24小时值守")
    expect(page.locator("#candidates .candidates > li")).to_have_count(2)
    expect(page.locator(".checks li.todo")).to_have_count(0)
    shot(page, "draft-with-candidates")

    # Announce, through the confirmation step.
    with page.expect_navigation():
        page.locator("a[href$='/announce']").click()
    shot(page, "announce-confirm")
    with page.expect_navigation():
        page.locator("form[action$='/announce'] button[type=submit]").click()
    fresh()
    election = db.session.scalar(select(Election))
    assert election.status == "announced"
    fingerprint = db.session.scalar(select(RollVersion.fingerprint))
    expect(page.locator("#roll .fingerprint").first).to_have_text(fingerprint)
    expect(page.locator(".phase-announced")).to_be_visible()
    shot(page, "announced")

    # Voting opens (the dates move in the database).
    now = utcnow()
    _move(election.id, fresh, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=6))

    # The secretary enters a paper ballot: building, then unit, then the choice.
    page.goto(live_server(f"/staff/elections/{election.id}/paper"))
    page.locator("#building-choice").select_option("1栋")
    with page.expect_navigation():
        page.locator("form.building-choice button[type=submit]").click()
    page.locator("#unit").select_option(label="1栋 101")
    page.locator("input[name=choice][value=B]").check()
    with page.expect_navigation():
        page.locator("form.paper-form button[type=submit]").click()
    receipt = page.locator("#entered .receipt-code")
    expect(receipt).to_be_visible()
    fresh()
    ballot = db.session.scalar(select(Ballot))
    assert ballot.state == "pending" and ballot.choice == "B"
    expect(receipt).to_have_text(ledger.format_receipt(ballot.receipt))
    shot(page, "paper-entered")

    # The one who entered it cannot confirm it (htmx answers in the row).
    row = page.locator(f"#paper-{ballot.id}")
    row.locator("form[action$='/confirm'] button[type=submit]").click()
    expect(page.locator(f"#paper-{ballot.id} .flash-error")).to_have_text(
        tr("A second staff member must confirm: you entered this ballot yourself.")
    )
    shot(page, "same-person-refused")

    # A committee member confirms on another phone, without JavaScript.
    second = new_page(js=False, width=390, height=844)
    log_in(second, live_server, committee.phone)
    second.goto(live_server(f"/staff/elections/{election.id}/paper"))
    expect(second.locator(f"#paper-{ballot.id}")).to_contain_text("1栋 101")
    with second.expect_navigation():
        second.locator(f"#paper-{ballot.id} form[action$='/confirm'] button[type=submit]").click()
    expect(second.locator(".flash-success")).to_contain_text(ledger.format_receipt(ballot.receipt))
    expect(second.locator(f"#paper-{ballot.id}")).to_have_count(0)
    shot(second, "confirmed-by-committee")
    fresh()
    assert db.session.get(Ballot, ballot.id).state == "counted"

    page.goto(live_server(f"/staff/elections/{election.id}"))
    expect(page.locator("#turnout")).to_contain_text("1 / 8")

    # Voting closes; the secretary closes the count and certifies it.
    now = utcnow()
    _move(
        election.id,
        fresh,
        opens_at=now - timedelta(days=7),
        closes_at=now - timedelta(hours=1),
    )
    page.goto(live_server(f"/staff/elections/{election.id}"))
    with page.expect_navigation():
        page.locator(".next-step a[href$='/close']").click()
    shot(page, "close-confirm")
    with page.expect_navigation():
        page.locator("form[action$='/close'] button[type=submit]").click()
    expect(page.locator("#result")).to_contain_text("乙物业公司")
    shot(page, "certify-confirm")
    with page.expect_navigation():
        page.locator("form[action$='/certify'] button[type=submit]").click()
    expect(page.locator(".phase-certified")).to_be_visible()
    expect(page.locator("#result")).to_be_visible()
    shot(page, "certified")
    fresh()
    assert db.session.get(Election, election.id).status == "certified"

    # The public page shows the certified result.
    public = new_page()
    public.goto(live_server(f"/elections/{election.id}"))
    expect(public.locator("#result")).to_contain_text("乙物业公司")
    shot(public, "public-result")

    console.assert_no_csp_violations()
