"""The residents' election pages: hub tab, election page, live turnout, voting with a confirm
step and a receipt, the owner's receipts, the result in plain words, receipt lookup, the recount
files — and what must never show (choices before the close, drafts, names)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models_base import utcnow
from portal.places.models import Company, RosterOwner
from portal.voting import ledger, service, verdict
from portal.voting.models import Ballot
from tests.conftest import text_of

D = timedelta(days=1)
UNICORN = "独角兽物业有限公司"  # candidate B: a name that appears nowhere else
PLAIN = "甲物业公司"  # candidate A
# A fixed calendar for an election still in its notice period (the page's clock is real time,
# so announcing "in 2030" keeps it in the notice period).
FUTURE_ANNOUNCE = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
FUTURE_OPENS = datetime(2030, 1, 16, 16, 30, tzinfo=UTC)  # 17 Jan 2030 00:30 in Shanghai
FUTURE_CLOSES = datetime(2030, 1, 26, 16, 30, tzinfo=UTC)


@pytest.fixture
def world(app, make_compound, make_user, make_claim, make_grant):
    """16 units in 2 buildings, one owner each; unit 0 is 300 m², the others 100 m² (1,800 m²).
    Every owner has a verified claim and reads English."""
    compound = make_compound(buildings=2, units_per_building=8, name="和平花园")
    units = [u for b in compound.buildings for u in b.units]
    for i, u in enumerate(units):
        u.area_m2 = Decimal("300.00") if i == 0 else Decimal("100.00")
    db.session.commit()
    secretary = make_user(name="王书记", locale="en")
    make_grant(secretary, "secretary", compound.community)
    owners = []
    for u in units:
        user = make_user(locale="en")
        make_claim(user, u, status="verified")
        owners.append(user)
    a = Company(name=PLAIN)
    b = Company(name=UNICORN)
    db.session.add_all([a, b])
    db.session.commit()
    return {
        "compound": compound,
        "units": units,
        "secretary": secretary,
        "owners": owners,
        "companies": (a, b),
    }


def make_election(
    world, *, rule="civil-code-278", matter="hire", title="2026年选聘物业", when="open"
):
    """An announced election: ``when="open"`` (voting open now) or ``"notice"`` (in 2030)."""
    sec = world["secretary"]
    if when == "open":
        announce = utcnow() - 16 * D
        opens, closes = announce + 15 * D, announce + 25 * D
    else:
        announce, opens, closes = FUTURE_ANNOUNCE, FUTURE_OPENS, FUTURE_CLOSES
    e = service.create_election(
        sec,
        world["compound"],
        title=title,
        matter=matter,
        rule=rule,
        description="请各位业主踊跃参与。",
        opens_at=opens,
        closes_at=closes,
    )
    if matter == "hire":
        a, b = world["companies"]
        service.add_candidate(
            sec,
            e,
            announce,
            label=a.name,
            company=a,
            fee_per_m2=Decimal("1.50"),
            service_level="二级",
            commitments="报修24小时到场",
        )
        service.add_candidate(
            sec,
            e,
            announce,
            label=b.name,
            company=b,
            fee_per_m2=Decimal("1.80"),
            service_level="一级",
            commitments="保洁每日两次",
        )
    service.announce(sec, e, announce)
    db.session.commit()
    return e


def cast(world, e, choices: dict[int, str]):
    """choices: owner index -> option key (online ballots, cast now)."""
    for i, choice in choices.items():
        service.cast_online(world["owners"][i], e.id, choice, utcnow())
        db.session.commit()


def close(world, e, late=False):
    sec = world["secretary"]
    service.close(sec, e.id, e.closes_at)
    service.certify(sec, e.id, e.closes_at + (5 * D if late else D))
    db.session.commit()
    return e


def en_page(client, path):
    resp = client.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert resp.status_code == 200, resp.status_code
    return text_of(resp)


# ---- the compound hub's elections tab -----------------------------------------------------------


def test_tab_lists_visible_elections_newest_first_and_hides_drafts(client, world, login_as):
    old = make_election(world, title="2025年续聘物业", matter="renew")
    new = make_election(world, title="2026年选聘物业")
    draft = service.create_election(
        world["secretary"],
        world["compound"],
        title="草稿：解聘物业",
        matter="dismiss",
        rule="civil-code-278",
    )
    db.session.commit()
    path = f"/compounds/{world['compound'].code}/elections"

    text = en_page(client, path)  # a visitor
    assert "2026年选聘物业" in text and "2025年续聘物业" in text
    assert text.index("2026年选聘物业") < text.index("2025年续聘物业")  # newest first
    assert draft.title not in text
    assert "Voting open" in text and "Hire a property company" in text
    assert f'href="/elections/{new.id}"' in client.get(path).get_data(as_text=True)

    login_as(user=world["owners"][3])  # a resident does not see the draft either
    assert draft.title not in text_of(client.get(path))

    login_as(user=world["secretary"])  # who runs it does
    text = text_of(client.get(path))
    assert draft.title in text and "Draft" in text
    assert client.get(f"/elections/{draft.id}").status_code == 200

    # htmx asks for the tab alone
    resp = client.hx_get(path)
    body = resp.get_data(as_text=True)
    assert "<html" not in body and f'href="/elections/{old.id}"' in body


def test_draft_is_404_for_residents_and_visitors(client, world, login_as):
    draft = service.create_election(
        world["secretary"],
        world["compound"],
        title="草稿",
        matter="renew",
        rule="civil-code-278",
    )
    db.session.commit()
    for path in ("", "/turnout", "/roll.csv", "/vote"):
        assert client.get(f"/elections/{draft.id}{path}").status_code in (404, 302)
    login_as(user=world["owners"][0])
    for path in ("", "/turnout", "/roll.csv", "/vote", "/ballots.csv"):
        assert client.get(f"/elections/{draft.id}{path}").status_code == 404, path


# ---- the election page --------------------------------------------------------------------------


def test_page_shows_options_calendar_roll_fingerprints_and_versions(client, world, login_as):
    e = make_election(world, when="notice")
    first = e.roll_fingerprint
    objector = world["owners"][5]
    objection = service.object_to_roll(
        objector, e, FUTURE_ANNOUNCE + D, world["units"][5].id, "面积登记错误"
    )
    db.session.commit()
    world["units"][5].area_m2 = Decimal("120.00")
    db.session.commit()
    service.resolve_objection(
        world["secretary"],
        e,
        objection.id,
        FUTURE_ANNOUNCE + 2 * D,
        upheld=True,
        resolution="已按产权证更正面积",
    )
    db.session.commit()
    assert e.roll_fingerprint != first

    text = en_page(client, f"/elections/{e.id}")
    # options with their bids
    assert PLAIN in text and UNICORN in text
    assert "1.80 yuan per m² per month" in text and "Level 1 (highest)" in text
    assert "保洁每日两次" in text
    # the calendar in Beijing time: 16:30 UTC on 16 Jan is 00:30 on 17 Jan
    assert "17 Jan 2030 00:30" in text and "27 Jan 2030 00:30" in text
    assert "30 Jan 2030 00:30" in text  # result due 3 days after the close
    # the roll: owners and area, both fingerprints, the reason of the re-freeze
    assert "Owners 16 Total exclusive area 1,820.00 m²" in text
    assert first in text and e.roll_fingerprint in text
    assert "Version 2" in text and "Version 1" in text and "已按产权证更正面积" in text
    assert f'href="/elections/{e.id}/roll.csv"' in client.get(f"/elections/{e.id}").get_data(
        as_text=True
    )
    # the ledger is still empty: its genesis head and no counted ballot
    assert ledger.GENESIS in text and "Counted ballots 0" in text
    # nothing to poll during the notice period
    assert "hx-trigger" not in client.get(f"/elections/{e.id}").get_data(as_text=True)
    # others' objections are counted, not shown
    assert "1 objection received" in text and "面积登记错误" not in text
    login_as(user=objector)
    text = text_of(client.get(f"/elections/{e.id}"))
    assert "面积登记错误" in text and "Upheld" in text and "已按产权证更正面积" in text


def test_simple_majority_is_marked_not_binding(client, world):
    e = make_election(world, rule="simple-majority")
    text = en_page(client, f"/elections/{e.id}")
    assert "Not binding." in text and "Consultative poll by headcount (not binding)" in text


def test_resident_objects_during_the_notice_period(client, world, login_as, make_user, make_claim):
    e = make_election(world, when="notice")
    tenant = make_user(locale="en")
    make_claim(tenant, world["units"][2], relation="tenant", status="verified")
    login_as(user=tenant)
    page = client.get(f"/elections/{e.id}")
    assert f'action="/elections/{e.id}/objections"' in page.get_data(as_text=True)
    # an empty objection is refused with the reason, on the page
    resp = client.post_form(f"/elections/{e.id}/objections", {"unit_id": "0", "text": " "})
    assert resp.status_code == 422 and "Say what is wrong with the roll." in text_of(resp)
    resp = client.post_form(
        f"/elections/{e.id}/objections",
        {"unit_id": str(world["units"][2].id), "text": "本户面积应为102平方米"},
    )
    assert resp.status_code == 302
    text = text_of(client.get(f"/elections/{e.id}"))
    assert "本户面积应为102平方米" in text and "Waiting for an answer" in text
    assert "1栋 103" in text


def test_objection_form_only_for_verified_residents(client, world, login_as, make_user):
    e = make_election(world, when="notice")
    login_as(user=make_user(locale="en"))
    page = client.get(f"/elections/{e.id}")
    assert "/objections" not in page.get_data(as_text=True)
    assert "Only verified residents of this compound can object." in text_of(page)


# ---- live turnout -------------------------------------------------------------------------------


def test_turnout_fragment_for_htmx_and_whole_page_without_js(client, world):
    e = make_election(world)
    cast(world, e, {0: "B", 1: "A", 2: "abstain"})
    resp = client.hx_get(f"/elections/{e.id}/turnout?lang=en")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body and 'id="turnout"' in body
    assert 'hx-trigger="every 10s"' in body and 'hx-swap="outerHTML"' in body
    assert "HX-Request" in resp.headers["Vary"]
    text = text_of(resp)
    # 3 of 16 owners; 300 + 100 + 100 = 500 of 1,800 m²
    assert "3 of 16 owners" in text and "18.8%" in text
    assert "500.00 of 1,800.00 m²" in text and "27.8%" in text
    # two thirds: 11 owners (ceil 32/3) and 1,200 m²; short by 8 owners / 700 m²
    assert "Two-thirds line: 11 owners" in text and "Two-thirds line: 1,200.00 m²" in text
    assert "Still short by 8 owners / 700.00 m²" in text
    # per building: 1栋 has all three voters
    assert re.search(r"1栋 3 / 8 500\.00 / 1,000\.00 50\.0%", text), text
    assert re.search(r"2栋 0 / 8 0\.00 / 800\.00 0\.0%", text), text
    # the live ledger head
    db.session.refresh(e)
    assert e.ledger_head in text and e.ledger_head != ledger.GENESIS

    # without JS: the same turnout inside the election page, and /turnout is a page too
    page = client.get(f"/elections/{e.id}?lang=en")
    assert "<html" in page.get_data(as_text=True)
    assert "3 of 16 owners" in text_of(page)
    plain = client.get(f"/elections/{e.id}/turnout?lang=en")
    assert "<html" in plain.get_data(as_text=True) and "HX-Request" in plain.headers["Vary"]


def test_turnout_says_when_the_quorum_is_reached(client, world):
    e = make_election(world)
    cast(world, e, {i: "A" for i in range(11)})  # 11 of 16 owners, 1,300 of 1,800 m²
    text = text_of(client.hx_get(f"/elections/{e.id}/turnout?lang=en"))
    assert "the quorum is reached" in text and "Still short" not in text


def test_nothing_reveals_the_choices_before_the_close(client, world, login_as):
    e = make_election(world)
    cast(world, e, {0: "B", 1: "B", 2: "B"})
    page = client.get(f"/elections/{e.id}?lang=en")
    html = page.get_data(as_text=True)
    assert UNICORN in html  # listed as a candidate …
    assert 'id="result"' not in html and "Share of participating owners" not in html
    fragment = client.hx_get(f"/elections/{e.id}/turnout?lang=en").get_data(as_text=True)
    assert UNICORN not in fragment  # … but the turnout knows nobody's choice
    # the ballots file and the receipt lookup wait for the close
    resp = client.get(f"/elections/{e.id}/ballots.csv?lang=en")
    assert resp.status_code == 404 and "until then nobody sees the choices" in text_of(resp)
    receipt = db.session.scalar(select(Ballot.receipt).where(Ballot.election_id == e.id))
    assert client.get(f"/elections/{e.id}/lookup?receipt={receipt}").status_code == 404
    text = text_of(client.get(f"/elections/{e.id}?receipt={receipt}&lang=en"))
    assert "Your ballot is counted" not in text
    # not even the voter's own pages show the choice
    login_as(user=world["owners"][0])
    assert UNICORN not in client.get(f"/elections/{e.id}/receipt").get_data(as_text=True)
    assert UNICORN not in client.get("/account/ballots").get_data(as_text=True)


# ---- voting -------------------------------------------------------------------------------------


def test_vote_choose_confirm_receipt_and_a_second_attempt(client, world, login_as):
    e = make_election(world)
    owner = world["owners"][4]
    login_as(user=owner)
    page = text_of(client.get(f"/elections/{e.id}"))
    assert "You are on the roll." in page

    ballot_page = client.get(f"/elections/{e.id}/vote")
    html = ballot_page.get_data(as_text=True)
    assert ballot_page.status_code == 200
    for key in ("A", "B", "abstain"):
        assert f'type="radio" name="choice" id="choice-{key}" value="{key}"' in html
    assert "Which property company do you choose?" in text_of(ballot_page)

    # no choice: the ballot again, with the reason
    resp = client.post_form(f"/elections/{e.id}/vote", {})
    assert resp.status_code == 422 and "Choose one of the options, or abstain." in text_of(resp)

    # step 1 → the confirm step, in plain words; nothing is stored yet
    resp = client.post_form(f"/elections/{e.id}/vote", {"choice": "B"})
    text = text_of(resp)
    assert resp.status_code == 200
    assert f"You are voting for {UNICORN} (B). Your ballot is final and cannot be changed." in text
    assert "Confirm my vote" in text and "Go back" in text
    assert re.search(r'name="choice" type="hidden" value="B"', resp.get_data(as_text=True))
    assert db.session.scalar(select(func.count(Ballot.id))) == 0

    # "Go back" returns to the ballot with the choice kept
    resp = client.post_form(f"/elections/{e.id}/vote", {"choice": "B", "back": "1"})
    assert resp.status_code == 200
    assert re.search(r'id="choice-B" value="B"\s*checked', resp.get_data(as_text=True))

    # confirm → cast → the receipt page
    resp = client.post_form(f"/elections/{e.id}/vote/confirm", {"choice": "B"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(
        f"/elections/{e.id}/receipt"
    )
    db.session.expire_all()
    ballot = db.session.scalar(select(Ballot).where(Ballot.election_id == e.id))
    assert (ballot.choice, ballot.channel, ballot.user_id) == ("B", "online", owner.id)
    code = ledger.format_receipt(ballot.receipt)
    receipt = client.get(f"/elections/{e.id}/receipt")
    text = text_of(receipt)
    assert code in text and "Keep this code" in text
    assert re.search(r'class="receipt-code">\s*' + re.escape(code), receipt.get_data(as_text=True))
    assert "Your vote has been counted" in text  # the flash after the redirect

    # the election page now says so, with the receipt
    assert f"You have voted. Your receipt: {code}" in text_of(client.get(f"/elections/{e.id}"))

    # a second attempt: the ballot page and the confirm both answer with the receipt
    resp = client.get(f"/elections/{e.id}/vote")
    assert resp.status_code == 409 and code in text_of(resp)
    assert "You have already voted" in text_of(resp)
    resp = client.post_form(f"/elections/{e.id}/vote/confirm", {"choice": "A"})
    assert resp.status_code == 409 and code in text_of(resp)
    assert db.session.scalar(select(func.count(Ballot.id))) == 1


def _confirm_and_count(client, e, count_queries, choice="A"):
    token = client.csrf(f"/elections/{e.id}")
    with count_queries() as q:
        resp = client.post(
            f"/elections/{e.id}/vote/confirm", data={"csrf_token": token, "choice": choice}
        )
    return resp, q


def test_the_cast_and_a_second_press_in_few_statements(client, world, login_as, count_queries):
    """The vote request under load: the cast is 9 statements; a second press is refused with
    the receipt in 3, without locking the election (no UPDATE) and without writing."""
    e = make_election(world)
    login_as(user=world["owners"][2])
    resp, cast_q = _confirm_and_count(client, e, count_queries)
    assert resp.status_code == 302 and cast_q.count <= 9
    code = ledger.format_receipt(db.session.scalar(select(Ballot.receipt)))
    resp, again = _confirm_and_count(client, e, count_queries, choice="B")
    assert resp.status_code == 409 and code in text_of(resp)
    assert again.count <= 3
    assert not [s for s in again.statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert db.session.scalar(select(func.count(Ballot.id))) == 1


@pytest.mark.parametrize("missed", [1, 2], ids=["before-the-lock", "before-and-under-the-lock"])
def test_a_ballot_cast_meanwhile_is_refused_with_its_receipt(
    client, world, login_as, monkeypatch, missed
):
    """Two presses racing: the other press's ballot lands after this one's first check
    (``missed`` = 1: the check under the election's lock finds it) or after both checks
    (``missed`` = 2: the unique constraint refuses the second ballot). Either way one ballot,
    and this press is answered 409 with the receipt of the one cast."""
    e = make_election(world)
    owner = world["owners"][3]
    login_as(user=owner)
    cast(world, e, {3: "B"})
    code = ledger.format_receipt(db.session.scalar(select(Ballot.receipt)))
    real = service.voter_entry_and_ballot
    calls = []

    def not_yet_seen(user, election):
        entry, ballot = real(user, election)
        calls.append(ballot)
        return (entry, None) if len(calls) <= missed else (entry, ballot)

    monkeypatch.setattr(service, "voter_entry_and_ballot", not_yet_seen)
    resp = client.post_form(f"/elections/{e.id}/vote/confirm", {"choice": "A"})
    assert resp.status_code == 409 and code in text_of(resp)
    assert "You have already voted" in text_of(resp)
    assert len(calls) == 2  # before the lock and under it
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Ballot.id))) == 1
    assert service.verify(db.session.get(type(e), e.id)).ok


def test_yes_no_question_and_abstain_in_plain_words(client, world, login_as):
    e = make_election(world, matter="renew", title="续聘")
    login_as(user=world["owners"][1])
    text = text_of(client.get(f"/elections/{e.id}/vote"))
    assert "Do you approve renewing the contract of the current property company?" in text
    assert "Yes, approve" in text and "No, do not approve" in text
    assert text.index("Yes, approve") < text.index("No, do not approve")
    resp = client.post_form(f"/elections/{e.id}/vote", {"choice": "yes"})
    assert "Your answer: Yes, approve." in text_of(resp)
    resp = client.post_form(f"/elections/{e.id}/vote", {"choice": "abstain"})
    assert "You are abstaining" in text_of(resp)


def test_unknown_choice_is_refused(client, world, login_as):
    e = make_election(world)
    login_as(user=world["owners"][1])
    resp = client.post_form(f"/elections/{e.id}/vote", {"choice": "Z"})
    assert resp.status_code == 422
    resp = client.post_form(f"/elections/{e.id}/vote/confirm", {"choice": "Z"})
    assert resp.status_code == 422 and "Choose one of the options." in text_of(resp)
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


def test_voting_needs_login(client, world):
    e = make_election(world)
    resp = client.get(f"/elections/{e.id}/vote")
    assert resp.status_code == 302
    assert f"/login?next=%2Felections%2F{e.id}%2Fvote" in resp.headers["Location"]
    assert "Log in to vote" in en_page(client, f"/elections/{e.id}")


@pytest.mark.parametrize("who", ["no claim", "tenant", "pending owner"])
def test_non_owners_get_403_explaining_who_may_vote(
    client, world, login_as, make_user, make_claim, who
):
    e = make_election(world)
    user = make_user(locale="en")
    if who == "tenant":
        make_claim(user, world["units"][3], relation="tenant", status="verified")
    elif who == "pending owner":
        make_claim(user, world["units"][3], relation="owner", status="pending")
    login_as(user=user)
    resp = client.get(f"/elections/{e.id}/vote")
    text = text_of(resp)
    assert resp.status_code == 403
    assert "Only verified owners on the roll can vote" in text
    assert "Tenants and family members cannot vote" in text
    assert f'href="/compounds/{world["compound"].code}/claim"' in resp.get_data(as_text=True)
    resp = client.post_form(f"/elections/{e.id}/vote/confirm", {"choice": "A"})
    assert resp.status_code == 403
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


def test_voting_before_open_and_after_close_is_refused(client, world, login_as):
    early = make_election(world, when="notice")
    login_as(user=world["owners"][0])
    resp = client.get(f"/elections/{early.id}/vote")
    assert resp.status_code == 409
    assert "Voting has not opened yet" in text_of(resp) and "17 Jan 2030 00:30" in text_of(resp)
    resp = client.post_form(f"/elections/{early.id}/vote/confirm", {"choice": "A"})
    assert resp.status_code == 409 and "Voting has not opened yet" in text_of(resp)

    done = close(world, make_election(world, title="已结束"))
    resp = client.post_form(f"/elections/{done.id}/vote/confirm", {"choice": "A"})
    assert resp.status_code == 409 and "Voting has closed" in text_of(resp)
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


def test_vote_post_needs_the_csrf_token(client, world, login_as):
    e = make_election(world)
    login_as(user=world["owners"][0])
    for path in (f"/elections/{e.id}/vote", f"/elections/{e.id}/vote/confirm"):
        resp = client.post(path, data={"choice": "A"})
        assert resp.status_code == 400
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


def test_my_ballots_lists_every_receipt(client, world, login_as):
    first = make_election(world, title="选聘一")
    second = make_election(world, title="续聘二", matter="renew")
    owner = world["owners"][6]
    cast(world, first, {6: "A"})
    cast(world, second, {6: "no"})
    login_as(user=owner)
    text = text_of(client.get("/account/ballots"))
    for e in (first, second):
        b = service.ballot_of(e, service.voter_entry_for(owner, e).voter_key)
        assert ledger.format_receipt(b.receipt) in text
    assert "选聘一" in text and "续聘二" in text
    units_page = client.get("/account/units").get_data(as_text=True)
    assert 'href="/account/ballots"' in units_page
    # someone who never voted
    login_as(user=world["owners"][7])
    assert "You have not voted in any election" in text_of(client.get("/account/ballots"))


# ---- the result ---------------------------------------------------------------------------------


def ballots(**owners_by_choice) -> dict[int, str]:
    """ballots(B=range(7), A=[7, 8]) -> {owner index: choice}, in the order given."""
    return {i: choice for choice, owners in owners_by_choice.items() for i in owners}


# Owner 0 holds 300 m², every other owner 100 m²; 16 owners, 1,800 m² in all.
DECIDED = ballots(B=range(0, 7), A=range(7, 11), abstain=[11])
NO_QUORUM = ballots(B=range(10))  # 10 of 16 owners; 1,200 of 1,800 m² = exactly 2/3
NO_MAJORITY = ballots(B=range(0, 5), A=range(5, 11), abstain=[11])
SIMPLE = ballots(B=range(1, 5), A=[5], abstain=[6])


@pytest.mark.parametrize(
    "rule, votes, expected",
    [
        (
            "civil-code-278",
            DECIDED,
            [
                f"{UNICORN} is elected.",
                "Participation: 75.0% of owners (12 of 16) and 77.8% of area "
                "(1,400.00 of 1,800.00 m²) — at least two thirds of both: the quorum is reached.",
                f"{UNICORN} approved by 58.3% of participating owners and 64.3% of participating "
                "area — more than half of both: elected.",
                "1 owner abstained (100.00 m²).",
            ],
        ),
        (
            "civil-code-278",
            NO_QUORUM,
            [
                "Not decided: not enough owners took part.",
                "Participation: 62.5% of owners (10 of 16) and 66.7% of area "
                "(1,200.00 of 1,800.00 m²) — not both at two thirds: the quorum is not reached.",
                "The owners fell short: 1 more owner was needed to reach two thirds; "
                "the area reached two thirds.",
                "Without the quorum no option can be approved",
            ],
        ),
        (
            "civil-code-278",
            NO_MAJORITY,
            [
                "Not decided: no option was approved.",
                "the quorum is reached",
                f"No option was approved: the most supported, {PLAIN}, had 50.0% of "
                "participating owners and 42.9% of participating area; more than half of both "
                "was needed.",
            ],
        ),
        (
            "civil-code-278-special",
            DECIDED,
            [
                "Not decided: no option was approved.",
                f"the most supported, {UNICORN}, had 58.3% of participating owners and 64.3% of "
                "participating area; at least three quarters of both was needed.",
            ],
        ),
        (
            "simple-majority",
            SIMPLE,
            [
                f"Most participating owners chose {UNICORN}. This poll is not binding.",
                "Participation: 37.5% of owners (6 of 16). A consultative poll counts owners by "
                "head only and needs no quorum; it is not binding.",
                f"{UNICORN} was chosen by 66.7% of participating owners (4 of 6) — more than "
                "half: the most supported answer.",
            ],
        ),
    ],
    ids=["decided", "no-quorum", "no-majority", "special-no-majority", "simple-majority"],
)
def test_result_in_plain_words(client, world, rule, votes, expected):
    e = make_election(world, rule=rule)
    cast(world, e, votes)
    close(world, e)
    text = en_page(client, f"/elections/{e.id}")
    for sentence in expected:
        assert sentence in text, sentence
    assert "Certified on" in text
    assert "Turnout per building" in text


def test_a_simple_majority_of_no_option(client, world):
    e = make_election(world, rule="simple-majority")
    cast(world, e, {1: "B", 2: "A", 3: "abstain"})
    close(world, e)
    text = en_page(client, f"/elections/{e.id}")
    assert "No option was chosen by more than half of the participating owners." in text
    # a tie: both options are named
    assert f"the most supported, {PLAIN} / {UNICORN}, had 33.3% (1 of 3)" in text


def test_result_table_per_option_with_abstentions(client, world):
    e = make_election(world)
    cast(world, e, DECIDED)
    close(world, e)
    text = en_page(client, f"/elections/{e.id}")
    # option, owners, share of owners, area, share of area
    assert re.search(rf"{PLAIN} 4 33\.3% 400\.00 28\.6%", text), text
    assert re.search(rf"{UNICORN} approved 7 58\.3% 900\.00 64\.3%", text), text
    assert re.search(r"Abstained 1 8\.3% 100\.00 7\.1%", text), text
    assert re.search(r"Took part 12 75\.0% of all owners 1,400\.00 77\.8% of all area", text)
    assert "Result announced late" not in text
    # the challenge window: one year from the certification
    challenge = e.certified_at + timedelta(days=365)
    assert "can ask a court to set it aside within one year" in text
    assert challenge.astimezone(UTC).strftime("%Y") in text


def test_late_result_is_flagged_and_uncertified_is_marked(client, world):
    e = make_election(world)
    cast(world, e, DECIDED)
    service.close(world["secretary"], e.id, e.closes_at)
    db.session.commit()
    text = en_page(client, f"/elections/{e.id}")
    assert "not yet certified" in text and "Certified on" not in text
    service.certify(world["secretary"], e.id, e.closes_at + 5 * D)
    db.session.commit()
    text = en_page(client, f"/elections/{e.id}")
    assert "Result announced late" in text and "Certified on" in text


def test_a_tampered_ballot_shows_a_warning(client, world):
    e = make_election(world)
    cast(world, e, DECIDED)
    close(world, e)
    assert "Warning" not in en_page(client, f"/elections/{e.id}")
    ballot = db.session.scalar(
        select(Ballot).where(Ballot.election_id == e.id, Ballot.choice == "A")
    )
    ballot.choice = "B"
    db.session.commit()
    text = en_page(client, f"/elections/{e.id}")
    assert "Warning: a fresh count of the ballots does not match this recorded result." in text
    assert "Warning: the ledger of ballots does not check out" in text


def test_result_page_in_chinese(client, world):
    e = make_election(world)
    cast(world, e, DECIDED)
    close(world, e)
    resp = client.get(f"/elections/{e.id}")  # Chinese is the default
    html = resp.get_data(as_text=True)
    headline = re.search(r'class="verdict-headline[^"]*">([^<]+)<', html).group(1)
    verdict_items = re.search(r'<ul class="verdict">(.*?)</ul>', html, re.S).group(1)
    assert "Participation" not in verdict_items and "elected" not in headline
    assert "三分之二" in verdict_items and "半数" in verdict_items
    assert UNICORN in headline and "当选" in headline
    assert "民法典" in text_of(resp)


# ---- receipt lookup -----------------------------------------------------------------------------


def test_receipt_lookup_found_and_not_found(client, world):
    e = make_election(world)
    cast(world, e, DECIDED)
    close(world, e)
    owner_b = world["owners"][2]
    ballot = service.ballot_of(e, service.voter_entry_for(owner_b, e).voter_key)
    code = ballot.receipt
    # typed in lower case, with a full-width dash: still found
    typed = code[:5].lower() + "－" + code[5:].lower()
    text = en_page(client, f"/elections/{e.id}?receipt={typed}")
    assert "Your ballot is counted, as cast." in text
    assert f"Choice {UNICORN}" in text and "Channel Online" in text
    assert "counted as ballot no. 3" in text  # owners 0, 1, 2 voted in this order
    # htmx: the lookup fragment alone
    resp = client.hx_get(f"/elections/{e.id}/lookup?receipt={code}&lang=en")
    assert "<html" not in resp.get_data(as_text=True) and "HX-Request" in resp.headers["Vary"]
    assert "Your ballot is counted, as cast." in text_of(resp)
    # without JS the lookup URL leads to the result page
    resp = client.get(f"/elections/{e.id}/lookup?receipt={code}")
    assert (
        resp.status_code == 302 and f"/elections/{e.id}?receipt={code}" in resp.headers["Location"]
    )
    # a well-formed code that is not there, and something that is not a code at all
    text = en_page(client, f"/elections/{e.id}?receipt=ABCDE-23456")
    assert "No counted ballot has this receipt." in text and "Your ballot is counted" not in text
    text = en_page(client, f"/elections/{e.id}?receipt=hello")
    assert "No counted ballot has this receipt." in text
    assert "never contains 0, O, 1, I or L" in text


# ---- downloads and the recount ------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, votes",
    [("civil-code-278", DECIDED), ("civil-code-278", NO_QUORUM), ("simple-majority", SIMPLE)],
)
def test_downloads_recount_to_the_recorded_result(client, world, app, tmp_path, rule, votes):
    e = make_election(world, rule=rule)
    cast(world, e, votes)
    close(world, e)
    files = {}
    for name in ("roll", "ballots"):
        resp = client.get(f"/elections/{e.id}/{name}.csv")
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert resp.headers["Content-Disposition"] == (
            f"attachment; filename=election-{e.id}-{name}.csv"
        )
        path = tmp_path / f"{name}.csv"
        path.write_bytes(resp.data)
        files[name] = path
    assert files["roll"].read_bytes() == service.roll_csv(e)
    assert files["ballots"].read_bytes() == service.ballots_csv(e)
    # no names or phone numbers in the published files
    published = files["roll"].read_text() + files["ballots"].read_text()
    for owner in db.session.scalars(select(RosterOwner)):
        assert owner.name not in published and owner.phone not in published
        assert owner.owner_key not in published
    result = app.test_cli_runner().invoke(
        args=[
            "election",
            "recount",
            "--roll",
            str(files["roll"]),
            "--ballots",
            str(files["ballots"]),
            "--rule",
            e.rule,
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == e.result


def test_roll_csv_is_published_from_the_announcement(client, world):
    e = make_election(world, when="notice")
    resp = client.get(f"/elections/{e.id}/roll.csv")
    assert resp.status_code == 200 and resp.data.startswith(b"voter_key,unit,area_m2\n")
    assert resp.data.count(b"\n") == 17
    assert client.get(f"/elections/{e.id}/ballots.csv").status_code == 404


# ---- no names or phones, and a constant number of queries ---------------------------------------


def test_public_pages_show_no_names_or_phones(client, world):
    e = make_election(world)
    cast(world, e, DECIDED)
    close(world, e)
    html = client.get(f"/elections/{e.id}").get_data(as_text=True)
    html += client.get(f"/compounds/{world['compound'].code}/elections").get_data(as_text=True)
    receipt = db.session.scalar(select(Ballot.receipt).where(Ballot.election_id == e.id))
    html += client.get(f"/elections/{e.id}?receipt={receipt}").get_data(as_text=True)
    assert "王书记" not in html
    for owner in db.session.scalars(select(RosterOwner)):
        assert owner.name not in html and owner.phone not in html
    for user in world["owners"]:
        assert user.display_name not in html and user.phone not in html


def _grow(world, e, start, stop):
    cast(world, e, {i: "B" if i % 2 else "A" for i in range(start, stop)})


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "turnout-fragment"])
def test_open_election_queries_do_not_grow_with_ballots(
    client, world, login_as, count_queries, htmx
):
    e = make_election(world)
    login_as(user=world["owners"][0])
    path = f"/elections/{e.id}/turnout" if htmx else f"/elections/{e.id}"
    get = client.hx_get if htmx else client.get
    _grow(world, e, 0, 3)
    with count_queries() as few:
        assert get(path).status_code == 200
    _grow(world, e, 3, 15)
    with count_queries() as many:
        assert get(path).status_code == 200
    assert many.count == few.count, (few.statements, many.statements)


def test_result_page_queries_do_not_grow_with_ballots(client, world, count_queries):
    small = make_election(world, title="小")
    _grow(world, small, 0, 3)
    close(world, small)
    big = make_election(world, title="大")
    _grow(world, big, 0, 15)
    close(world, big)
    counts = []
    for e in (small, big):
        receipt = db.session.scalar(select(Ballot.receipt).where(Ballot.election_id == e.id))
        with count_queries() as q:
            assert client.get(f"/elections/{e.id}?receipt={receipt}").status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1]


def test_hub_tab_queries_do_not_grow_with_elections(client, world, count_queries):
    path = f"/compounds/{world['compound'].code}/elections"
    make_election(world, title="一")
    with count_queries() as one:
        client.get(path)
    for n in range(3):
        make_election(world, title=f"再{n}")
    with count_queries() as four:
        client.get(path)
    assert one.count == four.count


@pytest.mark.parametrize("votes", [DECIDED, NO_QUORUM, NO_MAJORITY], ids=["d", "q", "m"])
def test_the_recorded_result_reads_back_exactly(world, votes):
    """The page words the *recorded* result; read back, it is the tally it was made from."""
    e = make_election(world)
    cast(world, e, votes)
    close(world, e)
    fresh = service.compute_tally(e)
    recorded = verdict.result_from_json(e.result)
    assert recorded.to_json_dict() == fresh.to_json_dict()
    assert [o.meets_approval for o in recorded.options] == [o.meets_approval for o in fresh.options]
    assert (recorded.owners_turnout, recorded.area_turnout) == (
        fresh.owners_turnout,
        fresh.area_turnout,
    )
