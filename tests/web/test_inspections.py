"""Inspections: the checklist, entering scores by level and role, findings with photos and
deadlines, re-inspections, the veto flag, what the company and the compound see, and scope."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.models_base import utcnow
from portal.ratings import service
from portal.ratings.labels import DEFAULT_CHECKLIST, DEFAULT_TOTAL
from portal.ratings.models import (
    Checklist,
    ChecklistItem,
    Finding,
    FindingPhoto,
    ImmutableRecordError,
    Inspection,
    InspectionScore,
    VetoFlag,
)
from tests.conftest import text_of
from tests.web.test_rating_kit import inspect, make_company, scores_for, sign


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def today():
    return service.local_today(utcnow())


def _score_form(checklist, total, level="street", on=None, **extra):
    data = {
        "level": level,
        "inspected_on": (on or today()).isoformat(),
        "note": "",
        "checklist": str(checklist.version),
    }
    scores = scores_for(checklist, total)
    for item in checklist.items:
        data[f"score-{item.position}"] = str(scores[item.id])
    data.update(extra)
    return data


def _checklist(street):
    checklist = service.ensure_checklist(street)
    db.session.commit()
    return checklist


# ---- the checklist ---------------------------------------------------------------------------


def test_default_checklist_has_100_points_over_the_required_categories():
    assert DEFAULT_TOTAL == 100
    categories = {c for _k, c, _t, _p in DEFAULT_CHECKLIST}
    assert {
        "cleaning",
        "greening",
        "security",
        "facilities",
        "parking",
        "fire_safety",
        "service_desk",
        "repairs",
    } <= categories
    assert len({k for k, *_ in DEFAULT_CHECKLIST}) == len(DEFAULT_CHECKLIST)


def test_checklist_is_seeded_once_per_street(app, make_street):
    street = make_street()
    a = service.ensure_checklist(street)
    b = service.ensure_checklist(street)
    db.session.commit()
    assert a.id == b.id and a.version == 1 and a.max_total == 100
    assert len(a.items) == len(DEFAULT_CHECKLIST)
    assert db.session.scalar(select(func.count(Checklist.id))) == 1


def test_street_officer_edits_the_checklist_as_a_new_version(client, login_as, make_compound):
    compound = make_compound()
    street = compound.community.street
    officer = login_as("street", street)
    old = inspect(officer, compound, "90")
    checklist = old.checklist
    client.set_cookie("lang", "en")
    resp = client.get(f"/streets/{street.code}/checklist")
    assert "Version 1" in text_of(resp)
    html = resp.get_data(as_text=True)
    assert 'value="Stairwells, corridors, lifts and roads are clean"' in html
    shown = dict(re.findall(r'name="title-(\d+)" value="([^"]*)"', html))
    rows = len(checklist.items)
    data = {"rows": str(rows + 1)}
    for n, item in enumerate(checklist.items, start=1):
        data[f"title-{n}"] = unescape(shown[str(n)])  # as the officer's browser sends it back
        data[f"category-{n}"] = item.category
        data[f"points-{n}"] = str(item.points)
        data[f"key-{n}"] = item.builtin_key or ""
    data["points-1"] = "5"  # 10 -> 5
    data[f"title-{rows + 1}"] = "电梯困人演练每季度一次"
    data[f"category-{rows + 1}"] = "facilities"
    data[f"points-{rows + 1}"] = "5"
    resp = client.post_form(f"/streets/{street.code}/checklist", data)
    assert resp.status_code == 302
    new = service.current_checklist(street.id)
    assert new.version == 2 and new.max_total == 100 and len(new.items) == rows + 1
    assert new.items[0].points == 5 and new.items[0].builtin_key == "cleaning.common"
    assert new.items[-1].title == "电梯困人演练每季度一次" and new.items[-1].builtin_key is None
    # the earlier inspection keeps its version and its score
    db.session.expire_all()
    again = db.session.get(Inspection, old.id)
    assert again.checklist.version == 1 and again.total == 90
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "checklist.saved")).actor_id
        == officer.id
    )


def test_checklist_rows_with_errors_are_shown_and_nothing_saved(client, login_as, make_street):
    street = make_street()
    login_as("street", street)
    client.set_cookie("lang", "en")
    resp = client.post_form(
        f"/streets/{street.code}/checklist",
        {
            "rows": "2",
            "title-1": "Clean",
            "category-1": "cleaning",
            "points-1": "7.25",
            "title-2": "Gate",
            "category-2": "",
            "points-2": "5",
        },
    )
    assert resp.status_code == 422
    text = text_of(resp)
    assert "Use at most one decimal" in text and "Choose a category" in text
    assert service.current_checklist(street.id) is None


def test_only_the_street_officer_of_that_street_edits_its_checklist(client, login_as, make_street):
    street, other = make_street(), make_street()
    login_as("street", other)
    assert client.get(f"/streets/{street.code}/checklist").status_code == 403
    assert client.get("/streets/NOPE/checklist").status_code in (403, 404)


def test_checklist_items_and_scores_are_immutable(app, make_compound, make_user, make_grant):
    compound = make_compound()
    officer = make_user()
    make_grant(officer, "street", compound.community.street)
    insp = inspect(officer, compound, "95")
    item = db.session.scalar(select(ChecklistItem))
    item.points = Decimal("1")
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()
    score = db.session.scalar(
        select(InspectionScore).where(InspectionScore.inspection_id == insp.id)
    )
    db.session.delete(score)
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()


# ---- entering inspections --------------------------------------------------------------------


def test_street_officer_enters_a_street_inspection(client, login_as, make_compound):
    compound = make_compound(name="和平花园")
    company = make_company()
    sign(compound, company)
    officer = login_as("street", compound.community.street)
    checklist = _checklist(compound.community.street)
    page = client.get(f"/ratings/inspections/new?compound={compound.code}")
    assert page.status_code == 200
    resp = client.post_form(
        f"/ratings/inspections/new?compound={compound.code}", _score_form(checklist, "92.5")
    )
    assert resp.status_code == 302
    insp = db.session.scalar(select(Inspection))
    assert (insp.level, insp.total, insp.max_total) == ("street", Decimal("92.5"), 100)
    assert insp.company_id == company.id and insp.created_by_id == officer.id
    assert len(insp.scores) == len(checklist.items)
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inspection.created"))
    assert ev.actor_id == officer.id and ev.object_id == insp.id
    detail = text_of(client.get(f"/inspections/{insp.id}?lang=en"))
    assert "92.5 / 100" in detail and "和平花园" in detail and "和平物业服务有限公司" in detail


def test_first_inspection_seeds_the_checklist_without_a_get_writing(
    client, login_as, make_compound
):
    compound = make_compound()
    login_as("street", compound.community.street)
    assert client.get(f"/ratings/inspections/new?compound={compound.code}").status_code == 200
    assert db.session.scalar(select(func.count(Checklist.id))) == 0  # a GET does not write
    html = client.get(f"/ratings/inspections/new?compound={compound.code}").get_data(as_text=True)
    assert 'name="score-16"' in html and 'name="checklist" value="1"' in html  # the preview
    # posting the preview seeds the default checklist and saves the inspection
    data = {"level": "street", "inspected_on": today().isoformat(), "checklist": "1"}
    for n, (_k, _c, _t, points) in enumerate(DEFAULT_CHECKLIST, start=1):
        data[f"score-{n}"] = points
    resp = client.post_form(f"/ratings/inspections/new?compound={compound.code}", data)
    assert resp.status_code == 302
    assert db.session.scalar(select(Inspection.total)) == 100


def test_a_checklist_changed_meanwhile_is_not_silently_mixed_up(client, login_as, make_compound):
    compound = make_compound()
    login_as("street", compound.community.street)
    checklist = _checklist(compound.community.street)
    data = _score_form(checklist, "90")
    data["checklist"] = "0"  # the form showed another version
    client.set_cookie("lang", "en")
    resp = client.post_form(f"/ratings/inspections/new?compound={compound.code}", data)
    assert resp.status_code == 422 and "changed the checklist" in text_of(resp)
    assert db.session.scalar(select(func.count(Inspection.id))) == 0


@pytest.mark.parametrize(
    "bad, message",
    [
        ("8.5", "cannot be above"),
        ("-1", "cannot be negative"),
        ("7.25", "at most one decimal"),
        ("", "Give a score"),
        ("abc", "Give a score"),
    ],
)
def test_invalid_item_scores_are_refused_with_a_message(
    client, login_as, make_compound, bad, message
):
    compound = make_compound()
    login_as("street", compound.community.street)
    checklist = _checklist(compound.community.street)
    first = checklist.items[0]
    data = _score_form(checklist, "100")
    data[f"score-{first.position}"] = bad if bad != "8.5" else str(first.points + Decimal("0.5"))
    client.set_cookie("lang", "en")
    resp = client.post_form(f"/ratings/inspections/new?compound={compound.code}", data)
    assert resp.status_code == 422
    assert message in text_of(resp)
    assert 'aria-invalid="true"' in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Inspection.id))) == 0


def test_future_inspection_date_is_refused(client, login_as, make_compound):
    compound = make_compound()
    login_as("street", compound.community.street)
    checklist = _checklist(compound.community.street)
    client.set_cookie("lang", "en")
    resp = client.post_form(
        f"/ratings/inspections/new?compound={compound.code}",
        _score_form(checklist, "90", on=today() + timedelta(days=1)),
    )
    assert resp.status_code == 422 and "cannot be in the future" in text_of(resp)


@pytest.mark.parametrize(
    "role, scope_of, allowed",
    [
        ("secretary", "community", ["community"]),
        ("street", "street", ["street"]),
        ("inspector", "street", ["third_party"]),
        ("admin", None, ["community", "street", "district", "third_party"]),
        ("committee", "compound", []),
        ("company", "company", []),
    ],
)
def test_each_level_is_entered_by_its_role(
    client, login_as, make_compound, role, scope_of, allowed
):
    compound = make_compound()
    scopes = {
        "community": compound.community,
        "street": compound.community.street,
        "compound": compound,
        "company": make_company(f"公司{role}"),
        None: None,
    }
    actor = login_as(role, scopes[scope_of])
    assert service.levels_for(actor, compound) == allowed
    checklist = _checklist(compound.community.street)
    for level in ("community", "street", "district", "third_party"):
        resp = client.post_form(
            f"/ratings/inspections/new?compound={compound.code}",
            _score_form(checklist, "90", level),
        )
        if not allowed:
            assert resp.status_code == 403
        elif level in allowed:
            assert resp.status_code == 302, level
        else:
            assert resp.status_code == 422, level  # not among the offered choices
    assert db.session.scalar(select(func.count(Inspection.id))) == len(allowed)


def test_street_officer_of_another_street_cannot_inspect(
    client, login_as, make_compound, make_street
):
    compound = make_compound()
    login_as("street", make_street())
    assert client.get(f"/ratings/inspections/new?compound={compound.code}").status_code == 403


def test_unknown_compound_or_inspection_is_404(client, login_as):
    login_as("admin")
    assert client.get("/ratings/inspections/new?compound=NOPE").status_code == 404
    assert client.get("/inspections/999").status_code == 404


def test_inspection_post_without_csrf_is_refused(client, login_as, make_compound):
    compound = make_compound()
    login_as("street", compound.community.street)
    checklist = _checklist(compound.community.street)
    resp = client.post(
        f"/ratings/inspections/new?compound={compound.code}", data=_score_form(checklist, "90")
    )
    assert resp.status_code in (400, 422)
    assert db.session.scalar(select(func.count(Inspection.id))) == 0


# ---- findings --------------------------------------------------------------------------------


def _finding(client, insp, deadline=None, photos=(), **kw):
    data = {
        "category": "cleaning",
        "description": "3栋楼道堆放杂物，未清理",
        "responsible": "company",
        "deadline": (deadline or today() + timedelta(days=7)).isoformat(),
        "csrf_token": client.csrf(),
    }
    data.update(kw)
    if photos:
        data["photos"] = [(io.BytesIO(p), f"p{n}.png") for n, p in enumerate(photos)]
    return client.post(
        f"/inspections/{insp.id}/findings", data=data, content_type="multipart/form-data"
    )


def test_inspector_adds_a_finding_with_a_photo(client, login_as, make_compound):
    compound = make_compound()
    company = make_company()
    sign(compound, company)
    inspector = login_as("inspector", compound.community.street)
    insp = inspect(inspector, compound, "88", level="third_party", on=today())
    resp = _finding(client, insp, photos=[PNG])
    assert resp.status_code == 302
    f = db.session.scalar(select(Finding))
    assert (f.category, f.status, f.company_id, f.compound_id) == (
        "cleaning",
        "open",
        company.id,
        compound.id,
    )
    photo = db.session.scalar(select(FindingPhoto))
    assert photo.key.startswith("findings/")
    got = client.get(f"/findings/{f.id}/photos/{photo.id}")
    assert got.status_code == 200 and got.mimetype == "image/png"
    assert got.data.startswith(b"\x89PNG")  # re-encoded without metadata by uploads.store
    assert "no-store" in got.headers["Cache-Control"]
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "finding.created"))
    assert ev.actor_id == inspector.id


def test_finding_photos_are_not_public(client, login_as, make_compound, make_user):
    compound = make_compound()
    inspector = make_user()
    from portal.accounts.models import RoleGrant

    db.session.add(
        RoleGrant(
            user_id=inspector.id,
            role="inspector",
            scope_type="street",
            scope_id=compound.community.street_id,
        )
    )
    db.session.commit()
    insp = inspect(inspector, compound, "88", level="third_party", on=today())
    f = service.add_finding(
        inspector,
        insp,
        category="security",
        description="门岗无人",
        responsible="company",
        deadline=today(),
        photos=[PNG],
        now=utcnow(),
    )
    db.session.commit()
    photo = f.photos[0]
    url = f"/findings/{f.id}/photos/{photo.id}"
    assert client.get(url).status_code == 302  # log in first
    login_as()  # a resident
    assert client.get(url).status_code == 403
    page = client.get(f"/inspections/{insp.id}").get_data(as_text=True)
    assert url not in page


def test_finding_with_a_pdf_renamed_png_is_refused(client, login_as, make_compound):
    compound = make_compound()
    inspector = login_as("inspector", compound.community.street)
    insp = inspect(inspector, compound, "88", level="third_party", on=today())
    client.set_cookie("lang", "en")
    resp = _finding(client, insp, photos=[b"not an image at all"])
    assert resp.status_code == 422 and "Only PDF, JPEG and PNG" in text_of(resp)
    assert db.session.scalar(select(func.count(Finding.id))) == 0


def test_deadline_before_the_inspection_is_refused(client, login_as, make_compound):
    compound = make_compound()
    inspector = login_as("inspector", compound.community.street)
    insp = inspect(inspector, compound, "88", level="third_party", on=today())
    client.set_cookie("lang", "en")
    resp = _finding(client, insp, deadline=today() - timedelta(days=1))
    assert resp.status_code == 422 and "cannot be before the inspection" in text_of(resp)


def test_another_role_cannot_add_findings(client, login_as, make_compound, make_user, make_grant):
    compound = make_compound()
    officer = make_user()
    make_grant(officer, "street", compound.community.street)
    insp = inspect(officer, compound, "88", level="street", on=today())
    login_as("secretary", compound.community)  # may enter community level, not street level
    resp = _finding(client, insp)
    assert resp.status_code == 403


def _setup_finding(make_compound, make_user, make_grant, deadline_days=7, inspected_days_ago=0):
    compound = make_compound(name="和平花园")
    company = make_company()
    sign(compound, company)
    inspector = make_user()
    make_grant(inspector, "inspector", compound.community.street)
    insp = inspect(
        inspector,
        compound,
        "85",
        level="third_party",
        on=today() - timedelta(days=inspected_days_ago),
    )
    f = service.add_finding(
        inspector,
        insp,
        category="cleaning",
        description="2栋垃圾桶满溢",
        responsible="company",
        deadline=insp.inspected_on + timedelta(days=deadline_days),
        photos=[],
        now=utcnow(),
    )
    db.session.commit()
    return compound, company, inspector, insp, f


def test_company_staff_see_open_findings_with_overdue_marked(
    client, login_as, make_compound, make_user, make_grant
):
    compound, company, _i, _insp, f = _setup_finding(
        make_compound, make_user, make_grant, deadline_days=3, inspected_days_ago=10
    )
    login_as("company", company)
    resp = client.get("/ratings/findings?lang=en")
    assert resp.status_code == 200
    text = text_of(resp)
    assert "2栋垃圾桶满溢" in text and "和平花园" in text
    assert "Overdue since" in text
    assert 'class="finding finding-open is-overdue"' in resp.get_data(as_text=True)
    overdue = text_of(client.get("/ratings/findings?status=overdue&lang=en"))
    assert "2栋垃圾桶满溢" in overdue


def test_company_of_another_compound_sees_nothing(
    client, login_as, make_compound, make_user, make_grant
):
    _setup_finding(make_compound, make_user, make_grant)
    login_as("company", make_company("别家物业"))
    assert "2栋垃圾桶满溢" not in text_of(client.get("/ratings/findings"))


def test_a_former_company_no_longer_sees_the_compound(
    client, login_as, make_compound, make_user, make_grant
):
    compound, old, *_ = _setup_finding(make_compound, make_user, make_grant)
    new = make_company("新物业")
    sign(compound, new, starts=today() - timedelta(days=1), ends=date(2040, 1, 1))
    login_as("company", old)
    assert "2栋垃圾桶满溢" not in text_of(client.get("/ratings/findings"))
    login_as("company", new)
    assert "2栋垃圾桶满溢" in text_of(client.get("/ratings/findings"))


def test_committee_and_public_tab_show_open_findings(
    client, login_as, make_compound, make_user, make_grant
):
    compound, *_ = _setup_finding(make_compound, make_user, make_grant)
    tab = client.get(f"/compounds/{compound.code}/ratings?lang=en")
    assert tab.status_code == 200
    assert "2栋垃圾桶满溢" in text_of(tab) and "Rectify by" in text_of(tab)
    login_as("committee", compound)
    assert "2栋垃圾桶满溢" in text_of(client.get("/ratings/findings"))


def test_company_reports_rectified_inline_with_htmx(
    client, login_as, make_compound, make_user, make_grant
):
    compound, company, _i, insp, f = _setup_finding(make_compound, make_user, make_grant)
    staff = login_as("company", company)
    resp = client.post_form(
        f"/findings/{f.id}/report", {"note": "已清运", "next": "/ratings/findings"}, htmx=True
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.lstrip().startswith('<li class="finding finding-reported') and "已清运" in html
    db.session.expire_all()
    assert db.session.get(Finding, f.id).status == "reported"
    assert (
        db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "finding.reported")
        ).actor_id
        == staff.id
    )
    again = client.post_form(f"/findings/{f.id}/report", {"note": "again"})
    assert again.status_code == 409


def test_report_without_a_note_shows_the_error_in_the_row(
    client, login_as, make_compound, make_user, make_grant
):
    _c, company, _i, _insp, f = _setup_finding(make_compound, make_user, make_grant)
    login_as("company", company)
    client.set_cookie("lang", "en")
    resp = client.post_form(f"/findings/{f.id}/report", {"note": ""}, htmx=True)
    assert resp.status_code == 200 and "Say what was done" in text_of(resp)
    resp = client.post_form(f"/findings/{f.id}/report", {"note": ""})
    assert resp.status_code == 422 and "Say what was done" in text_of(resp)


def test_reinspection_passes_and_closes_the_finding(
    client, login_as, make_compound, make_user, make_grant
):
    compound, _co, inspector, insp, f = _setup_finding(make_compound, make_user, make_grant)
    login_as(user=inspector)
    resp = client.post_form(
        f"/findings/{f.id}/reinspect",
        {
            "outcome": "pass",
            "checked_on": today().isoformat(),
            "note": "已整改",
            "next": f"/inspections/{insp.id}",
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/inspections/{insp.id}")
    db.session.expire_all()
    f = db.session.get(Finding, f.id)
    assert (f.status, f.closed_on, f.failed_count) == ("closed", today(), 0)
    assert "2栋垃圾桶满溢" not in text_of(client.get(f"/compounds/{compound.code}/ratings"))
    assert (
        client.post_form(
            f"/findings/{f.id}/reinspect", {"outcome": "pass", "checked_on": today().isoformat()}
        ).status_code
        == 409
    )


def test_failed_reinspection_needs_a_new_deadline(
    client, login_as, make_compound, make_user, make_grant
):
    _c, _co, inspector, _insp, f = _setup_finding(make_compound, make_user, make_grant)
    login_as(user=inspector)
    client.set_cookie("lang", "en")
    resp = client.post_form(
        f"/findings/{f.id}/reinspect",
        {"outcome": "fail", "checked_on": today().isoformat()},
        htmx=True,
    )
    assert resp.status_code == 200 and "Give a new deadline" in text_of(resp)
    assert db.session.get(Finding, f.id).failed_count == 0


def test_two_failed_reinspections_flag_the_compound_for_the_year(
    client, login_as, make_compound, make_user, make_grant
):
    compound, company, inspector, _insp, f = _setup_finding(make_compound, make_user, make_grant)
    login_as(user=inspector)
    for n in (1, 2):
        resp = client.post_form(
            f"/findings/{f.id}/reinspect",
            {
                "outcome": "fail",
                "checked_on": today().isoformat(),
                "new_deadline": (today() + timedelta(days=7 * n)).isoformat(),
            },
            htmx=True,
        )
        assert resp.status_code == 200
        flags = db.session.scalars(select(VetoFlag)).all()
        assert len(flags) == (1 if n == 2 else 0)
    db.session.expire_all()
    f = db.session.get(Finding, f.id)
    assert (f.status, f.failed_count, f.deadline) == ("open", 2, today() + timedelta(days=14))
    flag = db.session.scalar(select(VetoFlag))
    assert (flag.compound_id, flag.company_id, flag.year) == (compound.id, company.id, today().year)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "veto.flagged"))
    assert "Veto flag" in text_of(client.get(f"/compounds/{compound.code}/ratings?lang=en"))
    # a third failure does not add a second flag
    client.post_form(
        f"/findings/{f.id}/reinspect",
        {
            "outcome": "fail",
            "checked_on": today().isoformat(),
            "new_deadline": (today() + timedelta(days=30)).isoformat(),
        },
    )
    assert db.session.scalar(select(func.count(VetoFlag.id))) == 1


def test_residents_and_other_streets_cannot_reinspect(
    client, login_as, make_compound, make_user, make_grant, make_street
):
    _c, _co, _i, _insp, f = _setup_finding(make_compound, make_user, make_grant)
    form = {"outcome": "pass", "checked_on": today().isoformat()}
    login_as()
    assert client.post_form(f"/findings/{f.id}/reinspect", form).status_code == 403
    login_as("inspector", make_street())
    assert client.post_form(f"/findings/{f.id}/reinspect", form).status_code == 403
    assert client.post_form("/findings/999/reinspect", form).status_code == 404


def test_findings_for_category_newest_first_with_outcome(app, make_compound, make_user, make_grant):
    compound, _co, inspector, insp, first = _setup_finding(make_compound, make_user, make_grant)
    second = service.add_finding(
        inspector,
        insp,
        category="cleaning",
        description="草坪垃圾",
        responsible="company",
        deadline=today(),
        photos=[],
        now=utcnow() + timedelta(seconds=5),
    )
    service.add_finding(
        inspector,
        insp,
        category="security",
        description="门禁损坏",
        responsible="company",
        deadline=today(),
        photos=[],
        now=utcnow(),
    )
    service.reinspect(
        inspector,
        first.id,
        passed=True,
        checked_on=today(),
        note="",
        new_deadline=None,
        now=utcnow(),
    )
    db.session.commit()
    got = service.findings_for_category(compound, "cleaning")
    assert [f.id for f in got] == [second.id, first.id]
    assert got[1].status == "closed" and got[1].reinspections[0].passed is True
    assert service.findings_for_category(compound, "parking") == []
    assert service.findings_for_category(compound, "nonsense") == []


def test_findings_list_queries_stay_constant(
    client, login_as, make_compound, make_user, make_grant, count_queries
):
    compound, company, inspector, insp, _f = _setup_finding(make_compound, make_user, make_grant)
    login_as("company", company)
    with count_queries() as q1:
        assert client.get("/ratings/findings").status_code == 200
    for n in range(12):
        service.add_finding(
            inspector,
            insp,
            category="greening",
            description=f"问题{n}",
            responsible="company",
            deadline=today(),
            photos=[PNG] if n % 3 == 0 else [],
            now=utcnow(),
        )
    db.session.commit()
    with count_queries() as q2:
        assert client.get("/ratings/findings").status_code == 200
    assert q1.count == q2.count


def test_inspection_page_and_tab_queries_stay_constant(
    client, make_compound, make_user, make_grant, count_queries
):
    compound, _co, inspector, insp, _f = _setup_finding(make_compound, make_user, make_grant)
    with count_queries() as a1:
        client.get(f"/inspections/{insp.id}")
    with count_queries() as b1:
        client.get(f"/compounds/{compound.code}/ratings")
    for n in range(8):
        service.add_finding(
            inspector,
            insp,
            category="parking",
            description=f"乱停车{n}",
            responsible="company",
            deadline=today(),
            photos=[],
            now=utcnow(),
        )
        inspect(inspector, compound, "80", level="third_party", on=today())
    with count_queries() as a2:
        client.get(f"/inspections/{insp.id}")
    with count_queries() as b2:
        client.get(f"/compounds/{compound.code}/ratings")
    assert (a1.count, b1.count) == (a2.count, b2.count)


def test_ratings_tab_htmx_fragment_and_pagination(client, make_compound, make_user, make_grant):
    compound, _co, inspector, _insp, _f = _setup_finding(make_compound, make_user, make_grant)
    for _ in range(11):
        inspect(inspector, compound, "80", level="third_party", on=today())
    resp = client.hx_get(f"/compounds/{compound.code}/ratings")
    assert resp.status_code == 200 and "HX-Request" in resp.headers.get("Vary", "")
    html = resp.get_data(as_text=True)
    assert "<html" not in html and "ipage=2" in html and 'hx-push-url="true"' in html
    page2 = client.get(f"/compounds/{compound.code}/ratings?ipage=2")
    assert page2.status_code == 200


def test_no_inline_styles_or_scripts_on_inspection_pages(
    client, login_as, make_compound, make_user, make_grant
):
    compound, _co, inspector, insp, f = _setup_finding(make_compound, make_user, make_grant)
    login_as(user=inspector)
    for url in (
        f"/inspections/{insp.id}",
        f"/compounds/{compound.code}/ratings",
        "/ratings/findings",
        f"/ratings/inspections/new?compound={compound.code}",
        "/ratings/inspections",
        "/ratings/",
    ):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"\sstyle=|<script(?![^>]*\bsrc=)|\son[a-z]+=", html), url
