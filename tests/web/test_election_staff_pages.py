"""The staff pages of elections: the desk, the draft and control room, paper and proxy ballots,
the printable ballot, closing, certifying and the contract. Time moves by editing the
election's dates in the database; the pages use the real clock."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.models_base import utcnow
from portal.places.models import Company
from portal.voting import ledger, service
from portal.voting.models import Ballot, Contract, Election, Option, RollVersion
from tests.conftest import text_of

D = timedelta(days=1)
H = timedelta(hours=1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def fresh():
    db.session.rollback()
    db.session.expire_all()


@pytest.fixture
def world(app, make_compound, make_user, make_claim, make_grant):
    """和平花园: 2 buildings x 4 units (1栋 101…104, 2栋 101…104), 8 owners; a secretary of
    its community, a committee member, and two companies."""
    compound = make_compound(buildings=2, units_per_building=4, name="和平花园")
    units = [u for b in compound.buildings for u in b.units]
    secretary = make_user(name="王书记")
    make_grant(secretary, "secretary", compound.community)
    committee = make_user(name="李委员")
    make_grant(committee, "committee", compound)
    owners = []
    for u in units[:6]:
        user = make_user()
        make_claim(user, u, status="verified")
        owners.append(user)
    a, b = Company(name="甲物业公司"), Company(name="乙物业公司")
    db.session.add_all([a, b])
    db.session.commit()
    return {
        "compound": compound,
        "units": units,
        "secretary": secretary,
        "committee": committee,
        "owners": owners,
        "companies": (a, b),
    }


def _draft(world, opens_in=15 * D + H, window=7 * D, candidates=2, matter="hire"):
    now = utcnow()
    e = service.create_election(
        world["secretary"],
        world["compound"],
        title="2026年选聘物业",
        matter=matter,
        rule="civil-code-278",
        opens_at=now + opens_in,
        closes_at=now + opens_in + window,
    )
    for company in world["companies"][:candidates]:
        service.add_candidate(
            world["secretary"],
            e,
            now,
            label=company.name,
            company=company,
            fee_per_m2=Decimal("1.85"),
            service_level="二级",
            commitments="报修24小时到场",
        )
    db.session.commit()
    return e


def _announced(world, **kw):
    e = _draft(world, **kw)
    service.announce(world["secretary"], e, utcnow())
    db.session.commit()
    return e


def _open(world, **kw):
    """An announced election whose voting window is open now."""
    e = _announced(world, **kw)
    now = utcnow()
    e.announced_at = now - 16 * D
    e.opens_at = now - H
    e.closes_at = now + 6 * D
    db.session.commit()
    return e


def _end(e):
    now = utcnow()
    e.opens_at = now - 8 * D
    e.closes_at = now - H
    db.session.commit()


def _as(client, user):
    client.set_cookie("lang", "en")  # assertions below read the English wording
    with client.c.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True


def _receipt_on(page_text: str) -> str:
    m = re.search(r"\b([2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5})\b", page_text)
    assert m, "no receipt on the page"
    return m.group(1)


# ---- who may see what ------------------------------------------------------------------------


def test_resident_gets_403_on_the_desk(client, login_as, world):
    login_as(user=world["owners"][0])
    assert client.get("/staff/elections").status_code == 403
    e = _draft(world)
    assert client.get(f"/staff/elections/{e.id}").status_code == 403


def test_secretary_of_another_community_cannot_run_this_election(
    client, login_as, world, make_community
):
    e = _draft(world)
    login_as("secretary", make_community())
    assert client.get(f"/staff/elections/{e.id}").status_code == 403
    resp = client.post_form(f"/staff/elections/{e.id}/announce")
    assert resp.status_code == 403
    fresh()
    assert db.session.get(Election, e.id).status == "draft"
    # their own desk does not list it
    assert "2026年选聘物业" not in text_of(client.get("/staff/elections"))
    assert client.get("/staff/elections/99999").status_code == 404


def test_committee_member_reaches_the_desk_from_the_staff_home(client, world):
    _as(client, world["committee"])
    home = client.get("/staff?lang=en")
    assert home.status_code == 200
    assert 'href="/staff/elections"' in home.get_data(as_text=True)


# ---- drafting --------------------------------------------------------------------------------


def _new_election_data(world, **over):
    today = (utcnow() + 20 * D).date()
    data = {
        "compound": str(world["compound"].id),
        "title": "选聘新物业",
        "matter": "hire",
        "rule": "civil-code-278",
        "description": "",
        "opens_date": today.isoformat(),
        "opens_time": "08:00",
        "closes_date": (today + 7 * D).isoformat(),
        "closes_time": "20:00",
    }
    data.update(over)
    return data


def test_create_draft_with_bad_dates_is_refused_with_a_message(client, world):
    _as(client, world["secretary"])
    opens = (utcnow() + 20 * D).date()
    resp = client.post_form(
        "/staff/elections?lang=en",
        _new_election_data(world, closes_date=(opens - 2 * D).isoformat()),
    )
    assert resp.status_code == 422
    assert "Voting must close after it opens." in text_of(resp)
    resp = client.post_form(
        "/staff/elections?lang=en", _new_election_data(world, opens_date="31/02")
    )
    assert resp.status_code == 422
    fresh()
    assert db.session.scalar(select(func.count(Election.id))) == 0


def test_create_draft_converts_beijing_time_to_utc(client, world):
    _as(client, world["secretary"])
    data = _new_election_data(world)
    resp = client.post_form("/staff/elections", data)
    assert resp.status_code == 302
    fresh()
    e = db.session.scalar(select(Election))
    assert e.status == "draft" and e.title == "选聘新物业"
    # 08:00 in Beijing is 00:00 UTC
    assert e.opens_at.hour == 0 and e.opens_at.date().isoformat() == data["opens_date"]
    page = client.get(resp.headers["Location"] + "?lang=en")
    assert "Before announcing" in text_of(page)


def test_add_candidate_shows_it_with_its_bid(client, world):
    e = _draft(world, candidates=0)
    _as(client, world["secretary"])
    company = world["companies"][1]
    resp = client.post_form(
        f"/staff/elections/{e.id}/candidates?lang=en",
        {
            "company": str(company.id),
            "label": "",
            "fee_per_m2": "2.10",
            "service_level": "一级",
            "commitments": "保安24小时值守",
        },
    )
    assert resp.status_code == 302
    page = text_of(client.get(f"/staff/elections/{e.id}?lang=en"))
    assert "乙物业公司" in page and "2.10" in page and "保安24小时值守" in page
    # a fee with three decimals is refused
    resp = client.post_form(
        f"/staff/elections/{e.id}/candidates?lang=en",
        {"company": str(company.id), "fee_per_m2": "2.105", "service_level": ""},
    )
    assert resp.status_code == 422
    assert "at most two decimals" in text_of(resp)


def test_candidate_bid_document_is_public_once_announced(app, client, world):
    import io

    e = _draft(world, candidates=0)
    _as(client, world["secretary"])
    company = world["companies"][0]
    pdf = b"%PDF-1.4\n% bid of the company\n%%EOF\n"
    fake = b"<html><script>alert(1)</script></html>"
    refused = client.post_form(
        f"/staff/elections/{e.id}/candidates?lang=en",
        {"company": str(company.id), "document": (io.BytesIO(fake), "bid.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "Only PDF, JPEG and PNG" in text_of(refused)
    resp = client.post_form(
        f"/staff/elections/{e.id}/candidates?lang=en",
        {"company": str(company.id), "document": (io.BytesIO(pdf), "bid.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    fresh()
    option = db.session.scalar(select(Option).where(Option.election_id == e.id))
    assert option.document
    url = f"/elections/{e.id}/bids/{option.id}"
    visitor = app.test_client()
    assert visitor.get(url).status_code == 404  # a draft is not public
    service.announce(world["secretary"], service.get_election(e.id), utcnow())
    db.session.commit()
    page = visitor.get(f"/elections/{e.id}?lang=en")
    assert "Download the bid document" in text_of(page)
    got = visitor.get(url)
    assert got.status_code == 200 and got.data == pdf
    assert got.mimetype == "application/pdf" and "attachment" in got.headers["Content-Disposition"]


def test_announce_with_too_short_notice_stays_a_draft(client, world):
    e = _draft(world, opens_in=10 * D)
    _as(client, world["secretary"])
    page = text_of(client.get(f"/staff/elections/{e.id}?lang=en"))
    assert "Voting may open no sooner than 15 days after the announcement." in page
    resp = client.post_form(f"/staff/elections/{e.id}/announce?lang=en")
    assert resp.status_code == 422
    body = text_of(resp)
    assert "Voting may open no sooner than 15 days after the announcement." in body
    assert "still a draft" in body
    fresh()
    assert db.session.get(Election, e.id).status == "draft"


def test_announce_shows_the_roll_fingerprint(client, world):
    e = _draft(world)
    _as(client, world["secretary"])
    confirm = text_of(client.get(f"/staff/elections/{e.id}/announce?lang=en"))
    assert "frozen from the current roster" in confirm
    resp = client.post_form(f"/staff/elections/{e.id}/announce?lang=en")
    assert resp.status_code == 302
    fresh()
    version = db.session.scalar(select(RollVersion).where(RollVersion.election_id == e.id))
    page = client.get(f"/staff/elections/{e.id}?lang=en")
    assert version.fingerprint in text_of(page)
    assert "Voting opens in 15 days" in text_of(page)
    assert f'href="/elections/{e.id}"' in page.get_data(as_text=True)


def test_upheld_objection_lists_a_new_fingerprint(client, world):
    e = _announced(world)
    first = e.roll_fingerprint
    unit = world["units"][2]
    objection = service.object_to_roll(world["owners"][2], e, utcnow(), unit.id, "面积登记错误")
    unit.area_m2 = Decimal("90.00")
    db.session.commit()
    _as(client, world["secretary"])
    url = f"/staff/elections/{e.id}/objections/{objection.id}/resolve?lang=en"
    resp = client.post_form(url, {"decision": "uphold", "resolution": ""})
    assert resp.status_code == 422
    assert "Write the resolution" in text_of(resp)
    resp = client.post_form(url, {"decision": "uphold", "resolution": "已按房产证更正面积"})
    assert resp.status_code == 302
    fresh()
    second = db.session.get(Election, e.id).roll_fingerprint
    assert second != first
    page = text_of(client.get(f"/staff/elections/{e.id}?lang=en"))
    assert first in page and second in page and "已按房产证更正面积" in page


# ---- paper and proxy ballots -----------------------------------------------------------------


def _enter(client, e, unit, choice="A", building="1栋", **extra):
    data = {
        "building": building,
        "unit": str(unit.id) if unit else "0",
        "room": "",
        "choice": choice,
        "channel": "paper",
        "proxy_holder": "",
    }
    data.update(extra)
    return client.post_form(f"/staff/elections/{e.id}/paper?lang=en", data)


def test_paper_ballot_is_entered_then_confirmed_by_a_second_person(client, world):
    e = _open(world)
    unit = world["units"][6]  # 2栋 103, nobody voted yet
    _as(client, world["secretary"])
    resp = _enter(client, e, unit, "B", building="2栋")
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    text = text_of(page)
    assert "Write this receipt on the paper slip" in text
    fresh()
    ballot = db.session.scalar(select(Ballot))
    assert _receipt_on(text) == ledger.format_receipt(ballot.receipt)
    assert ballot.state == "pending" and ballot.channel == "paper"
    assert "0 / 8" in text_of(client.get(f"/staff/elections/{e.id}?lang=en"))

    # the same person cannot confirm
    confirm_url = f"/staff/elections/{e.id}/paper/{ballot.id}/confirm?lang=en"
    resp = client.post_form(confirm_url)
    assert resp.status_code == 302
    after = text_of(client.get(resp.headers["Location"]))
    assert "A second staff member must confirm: you entered this ballot yourself." in after
    fresh()
    assert db.session.get(Ballot, ballot.id).state == "pending"

    # a committee member confirms: the ballot counts
    _as(client, world["committee"])
    resp = client.post_form(confirm_url)
    assert resp.status_code == 302
    fresh()
    assert db.session.get(Ballot, ballot.id).state == "counted"
    assert "1 / 8" in text_of(client.get(f"/staff/elections/{e.id}?lang=en"))
    # the live turnout fragment (polled by htmx) says the same, and only that
    live = client.hx_get(f"/staff/elections/{e.id}/turnout")
    assert 'id="turnout"' in live.get_data(as_text=True) and "<html" not in live.get_data(
        as_text=True
    )
    assert "1 / 8" in text_of(live) and "HX-Request" in live.headers["Vary"]
    assert client.get(f"/staff/elections/{e.id}/turnout").status_code == 302


def test_confirm_with_htmx_swaps_the_row_and_says_why_not(client, world):
    e = _open(world)
    _as(client, world["secretary"])
    _enter(client, e, world["units"][0])
    fresh()
    ballot = db.session.scalar(select(Ballot))
    url = f"/staff/elections/{e.id}/paper/{ballot.id}/confirm?lang=en"
    resp = client.post_form(url, htmx=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html
    assert f'id="paper-{ballot.id}"' in html
    assert "you entered this ballot yourself" in text_of(resp)
    _as(client, world["committee"])
    resp = client.post_form(url, htmx=True)
    assert "now counts" in text_of(resp) and "<html" not in resp.get_data(as_text=True)


def test_discard_needs_a_reason(client, world):
    e = _open(world)
    _as(client, world["secretary"])
    _enter(client, e, world["units"][0])
    fresh()
    bid = db.session.scalar(select(Ballot.id))
    _as(client, world["committee"])
    url = f"/staff/elections/{e.id}/paper/{bid}/discard?lang=en"
    resp = client.post_form(url, {"reason": "  "})
    assert resp.status_code == 422
    assert "Say why the entry is wrong." in text_of(resp)
    resp = client.post_form(url, {"reason": "", "csrf_token": client.csrf()}, htmx=True)
    assert resp.status_code == 200 and "Say why the entry is wrong." in text_of(resp)
    fresh()
    assert db.session.get(Ballot, bid) is not None
    resp = client.post_form(url, {"reason": "选项录错了"})
    assert resp.status_code == 302
    fresh()
    assert db.session.get(Ballot, bid) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "ballot.discarded"))
    assert event.detail["reason"] == "选项录错了"


def test_a_second_ballot_of_the_same_owner_says_already_voted(client, world):
    e = _open(world)
    _as(client, world["secretary"])
    _enter(client, e, world["units"][1])
    fresh()
    first = db.session.scalar(select(Ballot))
    resp = _enter(client, e, world["units"][1], "B")
    assert resp.status_code == 409
    assert f"already voted. Receipt: {ledger.format_receipt(first.receipt)}" in text_of(resp)


def test_room_typed_instead_of_chosen(client, world):
    e = _open(world)
    _as(client, world["secretary"])
    resp = _enter(client, e, None, room="104")
    assert resp.status_code == 302
    resp = _enter(client, e, None, room="999")
    assert resp.status_code == 422
    assert "No such unit on this election's roll" in text_of(resp)


def test_proxy_ballot_with_its_authorisation(client, world, make_user, make_grant, make_community):
    from io import BytesIO

    e = _open(world)
    _as(client, world["secretary"])
    unit = world["units"][3]
    resp = _enter(
        client,
        e,
        unit,
        "A",
        channel="proxy",
        proxy_holder="张三",
        proxy_document=(BytesIO(b"just text"), "authorisation.pdf"),
    )
    assert resp.status_code == 422
    assert "Only PDF, JPEG and PNG files can be attached." in text_of(resp)
    resp = _enter(client, e, unit, "A", channel="proxy", proxy_holder="张三")
    assert resp.status_code == 422
    assert "Attach the signed authorisation" in text_of(resp)
    resp = _enter(
        client,
        e,
        unit,
        "A",
        channel="proxy",
        proxy_holder="张三",
        proxy_document=(BytesIO(PDF), "authorisation.pdf"),
    )
    assert resp.status_code == 302
    fresh()
    ballot = db.session.scalar(select(Ballot))
    assert ballot.channel == "proxy" and ballot.proxy_holder == "张三"
    url = f"/staff/elections/{e.id}/paper/{ballot.id}/document"
    page = client.get(f"/staff/elections/{e.id}/paper?lang=en").get_data(as_text=True)
    assert url in page
    got = client.get(url)
    assert got.status_code == 200 and got.data == PDF and got.mimetype == "application/pdf"
    _as(client, world["committee"])
    assert client.get(url).status_code == 200
    _as(client, world["owners"][0])
    assert client.get(url).status_code == 403
    outsider = make_user()
    make_grant(outsider, "secretary", make_community())
    _as(client, outsider)
    assert client.get(url).status_code == 403


def test_print_ballot_has_the_unit_the_options_and_the_fingerprint(client, world, make_community):
    e = _announced(world)
    unit = world["units"][5]  # 2栋 102
    _as(client, world["secretary"])
    resp = client.get(f"/staff/elections/{e.id}/ballot/{unit.id}/print?lang=en")
    assert resp.status_code == 200
    text = text_of(resp)
    for expected in (
        "2栋 102",
        "88.50 m²",
        "甲物业公司",
        "乙物业公司",
        "Abstain",
        "和平花园",
        "Receipt (written by staff)",
        e.roll_fingerprint,
    ):
        assert expected in text
    assert client.get(f"/staff/elections/{e.id}/ballot/999999/print").status_code == 404
    _as(client, world["owners"][0])
    assert client.get(f"/staff/elections/{e.id}/ballot/{unit.id}/print").status_code == 403


def test_print_ballot_for_a_renewal_is_yes_or_no(client, world):
    e = _announced(world, matter="renew", candidates=0)
    _as(client, world["secretary"])
    text = text_of(
        client.get(f"/staff/elections/{e.id}/ballot/{world['units'][0].id}/print?lang=en")
    )
    assert "Yes, approve" in text and "No, do not approve" in text


# ---- closing, certifying, the contract -------------------------------------------------------


def test_close_is_refused_before_the_end_and_while_paper_ballots_wait(client, world):
    e = _open(world)
    _as(client, world["secretary"])
    page = text_of(client.get(f"/staff/elections/{e.id}/close?lang=en"))
    assert "Voting is still open until" in page
    resp = client.post_form(f"/staff/elections/{e.id}/close?lang=en")
    assert resp.status_code == 409
    assert "This cannot be done while the election is in this phase." in text_of(resp)
    _enter(client, e, world["units"][0])
    fresh()
    _end(db.session.get(Election, e.id))
    resp = client.post_form(f"/staff/elections/{e.id}/close?lang=en")
    assert resp.status_code == 409
    assert "Paper ballots are still waiting for confirmation." in text_of(resp)
    fresh()
    assert db.session.get(Election, e.id).status == "announced"


def _vote_and_end(world, e, choices):
    for i, choice in choices.items():
        service.cast_online(world["owners"][i], e.id, choice, utcnow())
        db.session.commit()
    _end(db.session.get(Election, e.id))


def test_close_and_certify_show_the_result(client, world):
    e = _open(world)
    # units 0..5 owned by owners 0..5; 8 owners in all: 6 vote (3/4 of the owners and area)
    _vote_and_end(world, e, {0: "A", 1: "A", 2: "A", 3: "A", 4: "B", 5: "abstain"})
    _as(client, world["secretary"])
    resp = client.post_form(f"/staff/elections/{e.id}/close?lang=en")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/certify")
    page = text_of(client.get(f"/staff/elections/{e.id}/certify?lang=en"))
    assert "Decided — approved: 甲物业公司" in page
    assert "Participation: 6 of 8 owners (75.0%)" in page
    assert "66.7%" in page  # 4 of the 6 participating owners chose A
    resp = client.post_form(f"/staff/elections/{e.id}/certify?lang=en")
    assert resp.status_code == 302
    fresh()
    assert db.session.get(Election, e.id).status == "certified"
    page = text_of(client.get(f"/staff/elections/{e.id}?lang=en"))
    assert "Result certified" in page and "Record the contract" in page


def _certified(world):
    e = _open(world)
    _vote_and_end(world, e, {0: "A", 1: "A", 2: "A", 3: "A", 4: "B", 5: "A"})
    now = utcnow()
    service.close(world["secretary"], e.id, now)
    service.certify(world["secretary"], e.id, now)
    db.session.commit()
    return e


def _contract_data(**over):
    data = {
        "starts_on": "2026-07-01",
        "ends_on": "2029-06-30",
        "fee_per_m2": "1.85",
        "service_level": "二级",
        "commitments": "报修24小时到场",
    }
    data.update(over)
    return data


def test_contract_waits_for_the_certified_result(client, world):
    e = _open(world)
    _as(client, world["secretary"])
    resp = client.get(f"/staff/elections/{e.id}/contract?lang=en")
    assert resp.status_code == 302
    page = text_of(client.get(resp.headers["Location"]))
    assert "The contract can be recorded once the result is certified." in page


def test_contract_is_signed_by_the_secretary_not_the_committee(client, world):
    from io import BytesIO

    e = _certified(world)
    _as(client, world["committee"])
    assert client.get(f"/staff/elections/{e.id}/contract").status_code == 403
    assert (
        client.post_form(f"/staff/elections/{e.id}/contract", _contract_data()).status_code == 403
    )
    _as(client, world["secretary"])
    form = client.get(f"/staff/elections/{e.id}/contract?lang=en")
    assert 'value="1.85"' in form.get_data(as_text=True)  # filled from the winning bid
    resp = client.post_form(
        f"/staff/elections/{e.id}/contract?lang=en",
        _contract_data(document=(BytesIO(b"plain text, not a pdf"), "contract.pdf")),
    )
    assert resp.status_code == 422
    assert "Only PDF, JPEG and PNG files can be attached." in text_of(resp)
    fresh()
    assert db.session.scalar(select(func.count(Contract.id))) == 0
    resp = client.post_form(
        f"/staff/elections/{e.id}/contract?lang=en",
        _contract_data(document=(BytesIO(PDF), "contract.pdf")),
    )
    assert resp.status_code == 302
    page = client.get(f"/staff/elections/{e.id}?lang=en")
    text = text_of(page)
    assert "Service contract" in text and "甲物业公司" in text and "2029" in text
    doc = client.get(f"/staff/elections/{e.id}/contract/document")
    assert doc.status_code == 200 and doc.data == PDF
    _as(client, world["committee"])  # the committee may read it
    assert client.get(f"/staff/elections/{e.id}/contract/document").status_code == 200


def test_every_staff_action_is_audited(client, world, make_user, make_grant):
    from io import BytesIO

    _as(client, world["secretary"])
    resp = client.post_form("/staff/elections", _new_election_data(world))
    e_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    a, b = world["companies"]
    for company in (a, b):
        client.post_form(
            f"/staff/elections/{e_id}/candidates",
            {"company": str(company.id), "fee_per_m2": "1.50", "service_level": ""},
        )
    fresh()
    e = db.session.get(Election, e_id)
    option_b = next(o for o in e.options if o.key == "B")
    client.post_form(f"/staff/elections/{e_id}/candidates/{option_b.id}/remove")
    client.post_form(
        f"/staff/elections/{e_id}/candidates",
        {"company": str(b.id), "fee_per_m2": "1.60", "service_level": "一级"},
    )
    data = _new_election_data(world)
    data["opens_date"] = (utcnow() + 16 * D).date().isoformat()
    data["closes_date"] = (utcnow() + 23 * D).date().isoformat()
    client.post_form(f"/staff/elections/{e_id}/edit", data)
    client.post_form(f"/staff/elections/{e_id}/announce")
    fresh()
    e = db.session.get(Election, e_id)
    assert e.status == "announced"
    objection = service.object_to_roll(world["owners"][0], e, utcnow(), None, "名单漏了一户")
    db.session.commit()
    client.post_form(
        f"/staff/elections/{e_id}/objections/{objection.id}/resolve",
        {"decision": "dismiss", "resolution": "核实无误"},
    )
    fresh()
    e = db.session.get(Election, e_id)
    now = utcnow()
    e.opens_at, e.closes_at = now - H, now + 6 * D
    db.session.commit()
    _enter(client, e, world["units"][0])
    _enter(
        client,
        e,
        world["units"][2],
        "A",
        channel="proxy",
        proxy_holder="张三",
        proxy_document=(BytesIO(PDF), "p.pdf"),
    )
    fresh()
    first, second = db.session.scalars(select(Ballot).order_by(Ballot.id)).all()
    _as(client, world["committee"])
    client.post_form(f"/staff/elections/{e_id}/paper/{first.id}/confirm")
    client.post_form(f"/staff/elections/{e_id}/paper/{second.id}/discard", {"reason": "签名不符"})
    fresh()
    _vote_and_end(world, db.session.get(Election, e_id), {i: "A" for i in (1, 2, 3, 4, 5)})
    _as(client, world["secretary"])
    client.post_form(f"/staff/elections/{e_id}/close")
    client.post_form(f"/staff/elections/{e_id}/certify")
    client.post_form(f"/staff/elections/{e_id}/contract", _contract_data())
    fresh()
    actions = set(db.session.scalars(select(AuditEvent.action)))
    for action in (
        "election.created",
        "election.candidate_added",
        "election.candidate_removed",
        "election.edited",
        "election.announced",
        "roll.objection_dismissed",
        "ballot.entered",
        "ballot.confirmed",
        "ballot.discarded",
        "election.closed",
        "election.certified",
        "contract.signed",
    ):
        assert action in actions, action
    staff_events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("election.%"))
    ).all()
    assert all(ev.actor_id == world["secretary"].id and ev.ip for ev in staff_events)


# ---- reminders -------------------------------------------------------------------------------


def test_renewal_reminder_on_the_desk_and_the_staff_home(client, world):
    today = utcnow().date()
    db.session.add(
        Contract(
            compound_id=world["compound"].id,
            company_id=world["companies"][0].id,
            starts_on=today - 700 * D,
            ends_on=today + 100 * D,
            fee_per_m2=Decimal("1.50"),
            service_level="二级",
        )
    )
    db.session.commit()
    for user in (world["secretary"], world["committee"]):
        _as(client, user)
        for url in ("/staff/elections?lang=en", "/staff?lang=en"):
            text = text_of(client.get(url))
            assert "The contract with 甲物业公司 ends on" in text, (user, url)
            assert "Start the renewal or a new election" in text


def test_no_reminder_when_the_contract_runs_long_or_a_successor_is_signed(client, world):
    today = utcnow().date()
    company = world["companies"][0].id
    db.session.add(
        Contract(
            compound_id=world["compound"].id,
            company_id=company,
            starts_on=today - 700 * D,
            ends_on=today + 400 * D,
            fee_per_m2=Decimal("1.50"),
            service_level="二级",
        )
    )
    db.session.commit()
    _as(client, world["secretary"])
    assert "The contract with" not in text_of(client.get("/staff/elections?lang=en"))


# ---- constant queries ------------------------------------------------------------------------


def test_desk_runs_a_constant_number_of_queries(client, world, count_queries, make_compound):
    _as(client, world["secretary"])
    _draft(world)
    client.get("/staff/elections")  # warm up
    with count_queries() as few:
        assert client.get("/staff/elections").status_code == 200
    for _ in range(8):
        e = _draft(world)
    other = make_compound(community=world["compound"].community, buildings=1, units_per_building=2)
    service.create_election(
        world["secretary"], other, title="续聘", matter="renew", rule="civil-code-278"
    )
    db.session.commit()
    service.announce(world["secretary"], e, utcnow())
    db.session.commit()
    with count_queries() as many:
        assert client.get("/staff/elections").status_code == 200
    assert many.count == few.count, "\n\n".join(many.statements)


def test_control_room_runs_a_constant_number_of_queries(client, world, count_queries):
    e = _open(world)
    url = f"/staff/elections/{e.id}"
    _as(client, world["secretary"])
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    for i in range(4):
        service.cast_online(world["owners"][i], e.id, "A", utcnow())
        db.session.commit()
    service.enter_paper(world["secretary"], e.id, world["units"][6].id, "B", utcnow())
    db.session.commit()
    fresh()
    e = db.session.get(Election, e.id)
    e.opens_at, e.announced_at = utcnow() + 3 * D, utcnow() - 13 * D  # back to the notice period
    e.closes_at = utcnow() + 10 * D
    db.session.commit()
    for i in (4, 5):
        service.object_to_roll(world["owners"][i], e, utcnow(), world["units"][i].id, "面积不对")
        db.session.commit()
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count, "\n\n".join(many.statements)


def test_paper_page_runs_a_constant_number_of_queries(client, world, count_queries):
    e = _open(world)
    _as(client, world["secretary"])
    url = f"/staff/elections/{e.id}/paper?building=1栋"
    service.enter_paper(world["committee"], e.id, world["units"][7].id, "A", utcnow())
    db.session.commit()
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    for u in world["units"][:4]:
        service.enter_paper(world["committee"], e.id, u.id, "A", utcnow())
        db.session.commit()
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count, "\n\n".join(many.statements)
