"""Ratings: the street's settings, computing and publishing a period (the hand-computed example),
immutability and corrections, the public red/black list, the company scorecard, the compound tab,
the open datasets, and no personal data on any public page or dataset."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import opendata
from portal.audit import AuditEvent
from portal.extensions import db
from portal.models_base import utcnow
from portal.ratings import service
from portal.ratings.models import ImmutableRecordError, Rating, RatingPeriod, RatingSettings
from tests.conftest import text_of
from tests.web.test_rating_kit import (
    inspect,
    make_company,
    previous_quarter,
    sign,
    survey_with_answers,
    units_of,
)


@pytest.fixture
def street_setup(make_street, make_community, make_compound, make_user, make_grant):
    """One street, one community, two compounds served by 和平物业, one by 光明物业."""
    street = make_street(name="和平街道", code="HP")
    community = make_community(street=street, name="和平里社区")
    a = make_compound(community=community, name="颐景花园", buildings=1, units_per_building=8)
    b = make_compound(community=community, name="和平新村", buildings=1, units_per_building=4)
    c = make_compound(community=community, name="光明佳园", buildings=1, units_per_building=4)
    heping, guangming = make_company("和平物业服务有限公司"), make_company("光明物业有限公司")
    sign(a, heping)
    sign(b, heping)
    sign(c, guangming)
    officer = make_user(name="赵街道", phone="13811112222")
    make_grant(officer, "street", street)
    secretary = make_user(name="钱书记", phone="13822223333")
    make_grant(secretary, "secretary", community)

    class S:
        pass

    s = S()
    s.street, s.community, s.a, s.b, s.c = street, community, a, b, c
    s.heping, s.guangming, s.officer, s.secretary = heping, guangming, officer, secretary
    return s


def _period(s):
    year, number, _start, _end = previous_quarter()
    p = service.create_period(s.officer, s.street, "quarter", year, number)
    db.session.commit()
    return p


def _hand_example(s, make_claim, make_user):
    """和平物业: inspections 92 and 86 (two compounds), survey average 4.2 (5 households).
    光明物业: one inspection of 95, no survey."""
    inspect(s.officer, s.a, "92")
    inspect(s.officer, s.b, "86")
    survey_with_answers(s.secretary, s.a, units_of(s.a)[:5], [5, 5, 4, 4, 3], make_claim, make_user)
    inspect(s.officer, s.c, "95")


# ---- settings --------------------------------------------------------------------------------


def test_settings_page_shows_the_defaults(client, login_as, street_setup):
    login_as(user=street_setup.officer)
    resp = client.get("/streets/HP/rating-settings?lang=en")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'value="70"' in html and 'value="30"' in html and 'value="90"' in html
    assert 'name="tier-min-1" value="90"' in html and 'name="tier-factor-1" value="1.2"' in html
    assert "CN¥100,000.00" in text_of(resp)


def _settings(**kw):
    data = {
        "inspection_weight": "60",
        "satisfaction_weight": "40",
        "red_threshold": "85",
        "black_threshold": "55",
        "base_subsidy": "80000",
        "tier-min-1": "85",
        "tier-factor-1": "1.5",
        "tier-min-2": "55",
        "tier-factor-2": "1",
    }
    data.update(kw)
    return data


def test_street_officer_saves_settings_audited(client, login_as, street_setup):
    login_as(user=street_setup.officer)
    resp = client.post_form("/streets/HP/rating-settings", _settings())
    assert resp.status_code == 302
    rules = service.rules_for(street_setup.street.id)
    assert (rules.inspection_weight, rules.satisfaction_weight) == (60, 40)
    assert (rules.red_threshold, rules.black_threshold, rules.base_subsidy) == (85, 55, 80000)
    assert [(t.min_score, t.factor) for t in rules.tiers] == [(85, Decimal("1.5")), (55, 1)]
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "ratings.settings_saved"))
    assert ev.actor_id == street_setup.officer.id
    assert ev.detail["before"]["inspection_weight"] == "70"
    assert ev.detail["after"]["inspection_weight"] == "60"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"satisfaction_weight": "30"}, "must add up to 100"),
        ({"tier-min-2": "90"}, "from the highest minimum score down"),
        ({"tier-factor-2": "2"}, "cannot have a higher factor"),
        ({"black_threshold": "95"}, "cannot be above the red-list threshold"),
        ({"base_subsidy": "-5"}, "cannot be negative"),
        ({"red_threshold": "abc"}, "Give a number"),
        ({"tier-factor-2": ""}, "give both a minimum score and a factor"),
    ],
)
def test_invalid_settings_are_refused(client, login_as, street_setup, change, message):
    login_as(user=street_setup.officer)
    client.set_cookie("lang", "en")
    resp = client.post_form("/streets/HP/rating-settings", _settings(**change))
    assert resp.status_code == 422
    assert message in text_of(resp)
    assert db.session.scalar(select(func.count(RatingSettings.id))) == 0


@pytest.mark.parametrize("role", ["secretary", "inspector", "company", None])
def test_only_the_street_officer_changes_settings(client, login_as, street_setup, role):
    scopes = {
        "secretary": street_setup.community,
        "inspector": street_setup.street,
        "company": street_setup.heping,
    }
    login_as(role, scopes.get(role))
    assert client.get("/streets/HP/rating-settings").status_code == 403
    assert client.post_form("/streets/HP/rating-settings", _settings()).status_code == 403
    assert client.get("/streets/HP/rating-periods").status_code == 403


def test_unknown_street_is_404(client, login_as):
    login_as("admin")
    assert client.get("/streets/NOPE/rating-settings").status_code == 404
    assert client.get("/streets/NOPE/red-black-list").status_code == 404
    assert client.get("/rating-periods/999").status_code == 404
    assert client.get("/companies/999/scorecard").status_code == 404


# ---- the hand-computed example ---------------------------------------------------------------


def test_hand_computed_example_preview_and_publication(
    client, login_as, street_setup, make_claim, make_user
):
    s = street_setup
    _hand_example(s, make_claim, make_user)
    login_as(user=s.officer)
    year, number, *_ = previous_quarter()
    resp = client.post_form("/streets/HP/rating-periods", {"period": f"quarter:{year}:{number}"})
    assert resp.status_code == 302
    period = db.session.scalar(select(RatingPeriod))
    preview = text_of(client.get(f"/rating-periods/{period.id}?lang=en"))
    # 和平物业: inspections (92 + 86) / 2 = 89.00; survey (21 / 5 = 4.2 - 1) / 4 * 100 = 80.00;
    # 0.7 * 89 + 0.3 * 80 = 86.30 -> tier >= 80 -> factor 1.0 -> ¥100,000.00; not listed.
    assert re.search(
        r"和平物业服务有限公司 .*? 89\.00 80\.00 86\.30 Not listed CN¥100,000\.00", preview
    )
    # 光明物业: inspections only, 95 -> red list, tier >= 90 -> factor 1.2 -> ¥120,000.00
    assert re.search(r"光明物业有限公司 .*? 95\.00 — 95\.00 Red list CN¥120,000\.00", preview)
    assert db.session.scalar(select(func.count(Rating.id))) == 0  # a preview publishes nothing

    resp = client.post_form(f"/rating-periods/{period.id}/publish")
    assert resp.status_code == 302
    ratings = {r.company_id: r for r in db.session.scalars(select(Rating))}
    h = ratings[s.heping.id]
    assert (h.inspection_component, h.satisfaction_component, h.score) == (89, 80, Decimal("86.30"))
    assert (h.list_status, h.factor, h.subsidy, h.basis) == ("none", 1, 100000, "both")
    assert (h.compound_count, h.inspection_count, h.response_count) == (2, 2, 5)
    g = ratings[s.guangming.id]
    assert (g.score, g.list_status, g.subsidy, g.basis) == (95, "red", 120000, "inspections_only")
    assert h.rules["inspection_weight"] == "70"
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rating_period.published"))
    assert ev.actor_id == s.officer.id and ev.detail["red"] == 1
    assert client.post_form(f"/rating-periods/{period.id}/publish").status_code == 409

    # the public list, in Chinese by default and in English
    public = text_of(client.get("/streets/HP/red-black-list?lang=en"))
    assert re.search(r"Red list 光明物业有限公司 95\.00", public)
    assert "No company is on the black list in this period" in public
    assert "¥100,000.00" in text_of(client.get("/streets/HP/red-black-list"))


def test_published_ratings_cannot_be_changed_or_deleted(app, street_setup, make_claim, make_user):
    s = street_setup
    inspect(s.officer, s.a, "92")
    period = _period(s)
    service.publish_period(s.officer, period.id, utcnow())
    db.session.commit()
    rating = db.session.scalar(select(Rating))
    rating.score = Decimal("99.00")
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(Rating)))
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()


def test_a_correction_is_a_new_version_with_its_reason(
    client, login_as, street_setup, make_claim, make_user
):
    s = street_setup
    inspect(s.officer, s.a, "92")
    inspect(s.officer, s.c, "95")
    period = _period(s)
    service.publish_period(s.officer, period.id, utcnow())
    db.session.commit()
    # a late inspection of the period changes 和平物业's figures, not 光明物业's
    inspect(s.officer, s.a, "50")
    login_as(user=s.officer)
    client.set_cookie("lang", "en")
    page = text_of(client.get(f"/rating-periods/{period.id}"))
    assert "changed (was 92.00)" in page and "unchanged" in page
    resp = client.post_form(f"/rating-periods/{period.id}/correct", {"reason": ""})
    assert resp.status_code == 422 and "Give the reason" in text_of(resp)
    resp = client.post_form(
        f"/rating-periods/{period.id}/correct", {"reason": "补录第三方检查结果"}
    )
    assert resp.status_code == 302
    versions = db.session.scalars(
        select(Rating).where(Rating.company_id == s.heping.id).order_by(Rating.version)
    ).all()
    assert [(v.version, v.score, v.reason) for v in versions] == [
        (1, Decimal("92.00"), ""),
        (2, Decimal("71.00"), "补录第三方检查结果"),
    ]
    assert (
        db.session.scalar(select(func.count(Rating.id)).where(Rating.company_id == s.guangming.id))
        == 1
    )
    public = text_of(client.get("/streets/HP/red-black-list"))
    assert "revised" in public and "补录第三方检查结果" in public
    assert "Before: score 92.00, Red list. After: score 71.00, Not listed." in public
    again = client.post_form(f"/rating-periods/{period.id}/correct", {"reason": "再次"})
    assert again.status_code == 422 and "Nothing has changed" in text_of(again)
    # the open data keeps both versions and marks the current one
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get("/open-data/ratings.csv").get_data(as_text=True).lstrip("\ufeff")
            )
        )
    )
    heping = [
        (r["version"], r["current"], r["score"])
        for r in rows
        if r["company"] == "和平物业服务有限公司"
    ]
    assert heping == [("1", "false", "92.00"), ("2", "true", "71.00")]


def test_veto_flag_puts_a_high_score_on_the_black_list_with_no_subsidy(
    client, login_as, street_setup
):
    s = street_setup
    year, number, start, _end = previous_quarter()
    insp = inspect(s.officer, s.a, "96")
    f = service.add_finding(
        s.officer,
        insp,
        category="fire_safety",
        description="消防通道堵塞",
        responsible="company",
        deadline=insp.inspected_on + timedelta(days=3),
        photos=[],
        now=utcnow(),
    )
    for n in (1, 2):
        service.reinspect(
            s.officer,
            f.id,
            passed=False,
            checked_on=insp.inspected_on + timedelta(days=3 * n),
            note="",
            new_deadline=insp.inspected_on + timedelta(days=3 * n + 3),
            now=utcnow(),
        )
    db.session.commit()
    period = _period(s)
    if (insp.inspected_on + timedelta(days=6)).year != year:  # pragma: no cover - year edge
        pytest.skip("the re-inspections fall into the next year")
    service.publish_period(s.officer, period.id, utcnow())
    db.session.commit()
    r = db.session.scalar(select(Rating).where(Rating.company_id == s.heping.id))
    assert (r.score, r.veto, r.list_status, r.factor, r.subsidy) == (96, True, "black", 0, 0)
    public = text_of(client.get("/streets/HP/red-black-list?lang=en"))
    assert re.search(r"Black list 和平物业服务有限公司 96\.00 Veto flag", public)


def test_a_company_without_data_is_not_rated(client, login_as, street_setup):
    s = street_setup
    period = _period(s)
    rows = service.compute_period(period, utcnow())
    assert {c.company.name: (c.rating.basis, c.rating.score) for c in rows} == {
        "和平物业服务有限公司": ("no_data", None),
        "光明物业有限公司": ("no_data", None),
    }


def test_period_switching_with_htmx_and_real_urls(client, street_setup):
    s = street_setup
    year, number, *_ = previous_quarter()
    inspect(s.officer, s.a, "92")
    older_year, older_number = (year, number - 1) if number > 1 else (year - 1, 4)
    older = service.create_period(s.officer, s.street, "quarter", older_year, older_number)
    current = _period(s)
    service.publish_period(s.officer, older.id, utcnow())
    service.publish_period(s.officer, current.id, utcnow())
    db.session.commit()
    page = client.get("/streets/HP/red-black-list")
    html = page.get_data(as_text=True)
    assert f'href="/streets/HP/red-black-list?period={older.id}"' in html
    assert f'hx-get="/streets/HP/red-black-list?period={older.id}"' in html
    assert 'hx-push-url="true"' in html
    frag = client.hx_get(f"/streets/HP/red-black-list?period={older.id}")
    assert frag.status_code == 200 and "<html" not in frag.get_data(as_text=True)
    assert "HX-Request" in frag.headers["Vary"]
    assert client.get("/streets/HP/red-black-list?period=9999").status_code == 404


def test_unpublished_periods_are_not_public(client, street_setup):
    s = street_setup
    period = _period(s)
    assert client.get(f"/streets/HP/red-black-list?period={period.id}").status_code == 404
    assert "No ratings have been published" in text_of(
        client.get("/streets/HP/red-black-list?lang=en")
    )


# ---- the scorecard and the compound tab ------------------------------------------------------


def test_scorecard_shows_compounds_trend_findings_and_status(client, street_setup):
    s = street_setup
    insp = inspect(s.officer, s.a, "92")
    service.add_finding(
        s.officer,
        insp,
        category="greening",
        description="草坪裸露",
        responsible="company",
        deadline=insp.inspected_on + timedelta(days=5),
        photos=[],
        now=utcnow(),
    )
    db.session.commit()
    period = _period(s)
    service.publish_period(s.officer, period.id, utcnow())
    db.session.commit()
    resp = client.get(f"/companies/{s.heping.id}/scorecard?lang=en")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    text = text_of(resp)
    assert "颐景花园" in text and "和平新村" in text and "光明佳园" not in text
    assert "Red list" in text and "92.00" in text and "CN¥120,000.00" in text
    assert "草坪裸露" in text and "Overdue since" in text
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "92.00" in re.search(r"<desc.*?</desc>", svg, re.S).group(0)
    assert "style=" not in html and "<polyline" in svg or "<circle" in svg


def test_compound_tab_shows_the_companys_latest_rating(client, street_setup):
    s = street_setup
    inspect(s.officer, s.a, "92")
    period = _period(s)
    service.publish_period(s.officer, period.id, utcnow())
    db.session.commit()
    text = text_of(client.get(f"/compounds/{s.a.code}/ratings?lang=en"))
    assert "和平物业服务有限公司" in text and "92.00" in text and "Red list" in text
    assert "92 / 100" in text  # its own inspection


def test_public_page_queries_stay_constant(client, street_setup, make_compound, count_queries):
    s = street_setup
    inspect(s.officer, s.a, "92")
    period = _period(s)
    service.publish_period(s.officer, period.id, utcnow())
    db.session.commit()
    urls = [
        "/streets/HP/red-black-list",
        f"/companies/{s.heping.id}/scorecard",
        f"/compounds/{s.a.code}/ratings",
        f"/rating-periods/{period.id}",
    ]

    def counts():
        out = []
        with client.c.session_transaction() as sess:
            sess["_user_id"] = s.officer.get_id()
        for url in urls:
            with count_queries() as q:
                assert client.get(url).status_code == 200, url
            out.append(q.count)
        return out

    few = counts()
    for n in range(6):
        company = make_company(f"物业{n}")
        compound = make_compound(community=s.community, name=f"小区{n}")
        sign(compound, company)
        inspect(s.officer, compound, str(60 + 5 * n))
        inspect(s.officer, s.a, str(80 + n))
    service.correct_period(s.officer, period.id, "补录", utcnow())
    db.session.commit()
    assert counts() == few


# ---- open data -------------------------------------------------------------------------------


def test_datasets_are_registered_in_the_catalogue(app):
    slugs = {d.slug: d for d in opendata.datasets()}
    assert {"ratings", "inspections", "inspection-findings"} <= slugs.keys()
    for slug in ("ratings", "inspections", "inspection-findings"):
        d = slugs[slug]
        assert set(d.downloads) == {"CSV", "JSON"} and d.licence
        with app.test_request_context():
            from flask import url_for

            for endpoint in d.downloads.values():
                assert url_for(endpoint).startswith("/open-data/")


def test_open_data_csv_and_json(client, street_setup, make_claim, make_user):
    s = street_setup
    _hand_example(s, make_claim, make_user)
    insp = inspect(s.officer, s.b, "80")
    service.add_finding(
        s.officer,
        insp,
        category="parking",
        description="消防通道停车，车主电话13912345678",
        responsible="company",
        deadline=insp.inspected_on + timedelta(days=5),
        photos=[],
        now=utcnow(),
    )
    db.session.commit()
    period = _period(s)
    service.publish_period(s.officer, period.id, utcnow())
    db.session.commit()

    resp = client.get("/open-data/ratings.csv?street=HP")
    assert resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    heping = next(r for r in rows if r["company"] == "和平物业服务有限公司")
    assert heping["list_status"] == "none" and heping["subsidy_cny"] == "100000.00"
    assert heping["period"] == "{}-Q{}".format(*previous_quarter()[:2])
    data = json.loads(client.get("/open-data/ratings.json").get_data(as_text=True))
    assert data["licence"] == "CC-BY-4.0" and len(data["rows"]) == 2

    scores = list(
        csv.DictReader(
            io.StringIO(
                client.get("/open-data/inspections.csv").get_data(as_text=True).lstrip("\ufeff")
            )
        )
    )
    assert {r["inspection_total"] for r in scores} >= {"92.0", "86.0", "95.0", "80.0"}
    assert len(scores) == 4 * 16  # four inspections of 16 items
    js = json.loads(client.get("/open-data/inspections.json?year=2001").get_data(as_text=True))
    assert js["rows"] == []

    findings = json.loads(client.get("/open-data/inspection-findings.json").get_data(as_text=True))
    assert findings["rows"][0]["description"] == "消防通道停车，车主电话***********"
    assert client.get("/open-data/ratings.csv?year=1").status_code == 404


# ---- no personal data in public --------------------------------------------------------------


def test_no_phone_number_or_full_name_on_any_public_page_or_dataset(
    client, street_setup, make_claim, make_user
):
    s = street_setup
    _hand_example(s, make_claim, make_user)
    insp = inspect(s.officer, s.a, "88")
    f = service.add_finding(
        s.officer,
        insp,
        category="security",
        description="门岗夜间无人值守",
        responsible="company",
        deadline=insp.inspected_on + timedelta(days=5),
        photos=[],
        now=utcnow(),
    )
    service.reinspect(
        s.officer,
        f.id,
        passed=True,
        checked_on=insp.inspected_on + timedelta(days=2),
        note="已安排值班",
        new_deadline=None,
        now=utcnow(),
    )
    db.session.commit()
    period = _period(s)
    service.publish_period(s.officer, period.id, utcnow())
    db.session.commit()

    from portal.accounts.models import Membership, User
    from portal.places.models import RosterOwner
    from portal.ratings.models import Survey

    people = db.session.scalars(select(User)).all()
    owners = db.session.scalars(select(RosterOwner)).all()
    claims = db.session.scalars(select(Membership)).all()
    assert people and owners and claims
    secrets_ = {u.phone for u in people} | {o.phone for o in owners if o.phone}
    secrets_ |= {u.display_name for u in people} | {o.name for o in owners}
    secrets_ |= {m.claimed_name for m in claims}
    survey = db.session.scalar(select(Survey))
    pages = [
        "/streets/HP/red-black-list",
        f"/companies/{s.heping.id}/scorecard",
        f"/companies/{s.guangming.id}/scorecard",
        f"/compounds/{s.a.code}/ratings",
        f"/compounds/{s.b.code}/ratings",
        f"/compounds/{s.a.code}/surveys",
        f"/inspections/{insp.id}",
        f"/surveys/{survey.id}",
        "/open-data/ratings.csv",
        "/open-data/ratings.json",
        "/open-data/inspections.csv",
        "/open-data/inspections.json",
        "/open-data/inspection-findings.csv",
        "/open-data/inspection-findings.json",
    ]
    for lang in ("zh_Hans_CN", "en"):
        for url in pages:
            resp = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
            assert resp.status_code == 200, url
            body = resp.get_data(as_text=True)
            for secret in secrets_:
                assert secret not in body, (url, secret)
            assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", body), url


def test_publishing_and_correcting_need_the_street_officer(
    client, login_as, street_setup, make_street
):
    s = street_setup
    period = _period(s)
    login_as("street", make_street())
    assert client.get(f"/rating-periods/{period.id}").status_code == 403
    assert client.post_form(f"/rating-periods/{period.id}/publish").status_code == 403
    assert (
        client.post_form(f"/rating-periods/{period.id}/correct", {"reason": "x"}).status_code == 403
    )
    login_as("secretary", s.community)
    assert client.post_form(f"/rating-periods/{period.id}/publish").status_code == 403
    assert db.session.scalar(select(func.count(Rating.id))) == 0
    assert db.session.get(RatingPeriod, period.id).published_at is None


def test_a_future_period_cannot_be_published(app, street_setup):
    s = street_setup
    today = service.local_today(utcnow())
    future = service.create_period(s.officer, s.street, "year", today.year + 1, 1)
    db.session.commit()
    from portal.errors import InvalidTransition

    with pytest.raises(InvalidTransition):
        service.publish_period(s.officer, future.id, utcnow())


def test_opening_the_same_period_twice_gives_the_same_period(client, login_as, street_setup):
    login_as(user=street_setup.officer)
    year, number, *_ = previous_quarter()
    for _ in range(2):
        resp = client.post_form(
            "/streets/HP/rating-periods", {"period": f"quarter:{year}:{number}"}
        )
        assert resp.status_code == 302
    assert db.session.scalar(select(func.count(RatingPeriod.id))) == 1
    bad = client.post_form("/streets/HP/rating-periods", {"period": "quarter:1999:9"})
    assert bad.status_code == 422
