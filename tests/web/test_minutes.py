"""Minutes: a committee member drafts, a second member confirms, the public reads them with
names masked; corrections are new revisions with a reason, the earlier one stays readable;
search by decision; joint meetings by the secretary; drafts and their files stay private."""

from __future__ import annotations

import io
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.errors import DomainError
from portal.extensions import db
from portal.minutes import service as minutes_service
from portal.minutes.models import Decision, Minutes, MinutesRevision, PublishedRecordError
from portal.minutes.rules import DecisionInput
from portal.models_base import utcnow
from portal.uploads.models import Attachment
from tests.conftest import text_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def _anonymous(client):
    """Forget the login (as another person on another phone) without logging out, which would
    end the test user's sessions for good."""
    with client.session_transaction() as session:
        session.clear()


def _form(**over):
    data = {
        "kind": "committee",
        "meeting_date": "2026-03-02",
        "place": "社区会议室",
        "attendees_count": "5",
        "attendee_names": "张三丰\n李四\n王五",
        "agenda": "讨论电梯维修。",
        "decisions-0-text": "同意更换2号楼电梯",
        "decisions-0-votes_for": "4",
        "decisions-0-votes_against": "1",
        "decisions-0-votes_abstain": "0",
        "then": "save",
    }
    data.update(over)
    return data


@pytest.fixture
def committee(make_compound, make_user, make_grant):
    """A compound with two committee members (张委员 and 李委员)."""

    class C:
        pass

    c = C()
    c.compound = make_compound(name="和平花园")
    c.author = make_user(name="张委员", phone="13600000011")
    c.second = make_user(name="李委员", phone="13600000012")
    for u in (c.author, c.second):
        make_grant(u, "committee", c.compound)
    return c


def _record(kind="committee", decisions=None, **over):
    data = {
        "kind": kind,
        "meeting_date": date(2026, 3, 2),
        "place": "会议室",
        "attendees_count": 5,
        "attendee_names": "张三丰\n李四",
        "agenda": "议程",
        "decisions": decisions
        if decisions is not None
        else [DecisionInput("同意更换2号楼电梯", 4, 1, 0), DecisionInput("停车费不变", 5, 0, 0)],
    }
    data.update(over)
    return minutes_service.Record(**data)


def _published(c, **over) -> Minutes:
    now = utcnow()
    m = minutes_service.create(c.author, c.compound, _record(**over), now=now)
    minutes_service.submit(c.author, m.revisions[0], now=now)
    minutes_service.confirm(c.second, m.revisions[0], now=now)
    db.session.commit()
    return m


# ---- the journey --------------------------------------------------------------------------------


def test_draft_submit_confirm_publish(client, login_as, committee):
    c = committee
    login_as(user=c.author)
    resp = client.post_form(
        f"/compounds/{c.compound.code}/minutes/new",
        {**_form(then="save"), "attachments": [(io.BytesIO(PDF), "签字版纪要.pdf")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, text_of(resp)
    m = db.session.scalar(select(Minutes))
    rev = m.revisions[0]
    assert (rev.status, rev.number, rev.author_id, m.published_number) == (
        "draft",
        1,
        c.author.id,
        None,
    )
    assert [d.text for d in rev.decisions] == ["同意更换2号楼电梯"]
    att = db.session.scalar(select(Attachment))
    assert (att.owner_type, att.owner_id) == ("minutes_revision", rev.id)

    # Not public yet: neither the record nor its file.
    _anonymous(client)
    assert client.get(f"/minutes/{m.id}").status_code == 404
    assert client.get(f"/files/{att.id}").status_code == 404
    assert "同意更换2号楼电梯" not in text_of(client.get(f"/compounds/{c.compound.code}/minutes"))

    # The author submits; the author cannot confirm their own.
    login_as(user=c.author)
    assert client.post_form(f"/minutes/{m.id}/submit").status_code == 302
    resp = client.post_form(f"/minutes/{m.id}/confirm")
    assert resp.status_code == 403
    db.session.refresh(rev)
    assert rev.status == "submitted"

    # The second member confirms.
    login_as(user=c.second)
    text = text_of(client.get(f"/minutes/{m.id}?lang=en"))
    assert "Confirm and publish" in text
    assert client.post_form(f"/minutes/{m.id}/confirm").status_code == 302
    db.session.refresh(rev)
    db.session.refresh(m)
    assert rev.status == "published" and rev.confirmed_by_id == c.second.id
    assert m.published_number == 1

    # The public reads them, names masked, and the file.
    _anonymous(client)
    page = text_of(client.get(f"/minutes/{m.id}"))
    assert "同意更换2号楼电梯" in page and "社区会议室" in page
    assert "张**" in page and "李*" in page and "张三丰" not in page and "李四" not in page
    assert "张委员" not in page and "李委员" not in page  # author and confirmer masked too
    assert "张*" in page
    assert c.author.phone not in page
    assert client.get(f"/files/{att.id}").status_code == 200
    assert "同意更换2号楼电梯" in text_of(client.get(f"/compounds/{c.compound.code}/minutes"))
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.startswith("minutes."))
            .order_by(AuditEvent.id)
        )
    ]
    assert actions == ["minutes.drafted", "minutes.submitted", "minutes.published"]


def test_committee_members_see_full_names(client, login_as, committee):
    m = _published(committee)
    login_as(user=committee.second)
    assert "张三丰" in text_of(client.get(f"/minutes/{m.id}"))


def test_return_to_the_author_with_a_note(client, login_as, committee):
    c = committee
    now = utcnow()
    m = minutes_service.create(c.author, c.compound, _record(), now=now)
    minutes_service.submit(c.author, m.revisions[0], now=now)
    db.session.commit()
    login_as(user=c.second)
    assert client.post_form(f"/minutes/{m.id}/return", {"note": ""}).status_code == 422
    assert client.post_form(f"/minutes/{m.id}/return", {"note": "票数写错了"}).status_code == 302
    rev = db.session.get(MinutesRevision, m.revisions[0].id)
    db.session.refresh(rev)
    assert rev.status == "draft" and rev.return_note == "票数写错了"
    login_as(user=c.author)
    assert "票数写错了" in text_of(client.get(f"/minutes/{m.id}/edit"))
    resp = client.post_form(
        f"/minutes/{m.id}/edit", _form(**{"decisions-0-votes_for": "3", "then": "submit"})
    )
    assert resp.status_code == 302
    db.session.refresh(rev)
    assert rev.status == "submitted" and rev.decisions[0].votes_for == 3


def test_only_the_author_edits_and_only_drafts(client, login_as, committee):
    c = committee
    m = minutes_service.create(c.author, c.compound, _record(), now=utcnow())
    db.session.commit()
    login_as(user=c.second)
    assert client.get(f"/minutes/{m.id}/edit").status_code == 403
    assert client.post_form(f"/minutes/{m.id}/submit").status_code == 403
    login_as(user=c.author)
    assert client.get(f"/minutes/{m.id}/edit").status_code == 200
    client.post_form(f"/minutes/{m.id}/submit")
    assert client.get(f"/minutes/{m.id}/edit").status_code == 403  # submitted: frozen


def test_wrong_people_are_refused(client, login_as, committee, make_compound, make_user):
    c = committee
    m = minutes_service.create(c.author, c.compound, _record(), now=utcnow())
    minutes_service.submit(c.author, m.revisions[0], now=utcnow())
    db.session.commit()
    other = make_compound()
    login_as("committee", other)
    assert client.get(f"/compounds/{c.compound.code}/minutes/new").status_code == 403
    assert client.post_form(f"/minutes/{m.id}/confirm").status_code == 403
    assert client.get(f"/minutes/{m.id}").status_code == 404  # an unpublished record
    login_as()  # a resident
    assert client.post_form(f"/compounds/{c.compound.code}/minutes/new", _form()).status_code == 403
    assert client.get("/minutes/desk").status_code == 403
    assert client.get("/minutes/999999").status_code == 404
    assert client.get("/compounds/NOPE/minutes/new").status_code == 404
    resp = client.post(f"/minutes/{m.id}/confirm")  # no CSRF token
    assert resp.status_code == 400


def test_the_secretary_records_joint_meetings_only(client, login_as, committee):
    c = committee
    secretary = login_as("secretary", c.compound.community)
    client.set_cookie("lang", "en")
    page = text_of(client.get(f"/compounds/{c.compound.code}/minutes/new"))
    assert "Joint meeting" in page and "Owners' assembly" not in page
    resp = client.post_form(f"/compounds/{c.compound.code}/minutes/new", _form(kind="committee"))
    assert resp.status_code == 422
    resp = client.post_form(
        f"/compounds/{c.compound.code}/minutes/new", _form(kind="joint", then="submit")
    )
    assert resp.status_code == 302
    m = db.session.scalar(select(Minutes))
    assert m.revisions[0].author_id == secretary.id and m.revisions[0].status == "submitted"
    # the secretary cannot confirm; a committee member can
    assert client.post_form(f"/minutes/{m.id}/confirm").status_code == 403
    login_as(user=c.author)
    assert client.post_form(f"/minutes/{m.id}/confirm").status_code == 302


def test_the_form_checks_the_record(client, login_as, committee):
    login_as(user=committee.author)
    client.set_cookie("lang", "en")
    url = f"/compounds/{committee.compound.code}/minutes/new"
    resp = client.post_form(url, _form(**{"decisions-0-votes_for": "9"}))
    assert resp.status_code == 422 and "More votes than people present" in text_of(resp)
    resp = client.post_form(url, _form(attendees_count="2"))
    assert resp.status_code == 422 and "More names are listed" in text_of(resp)
    future = (utcnow() + timedelta(days=3)).date().isoformat()
    resp = client.post_form(url, _form(meeting_date=future))
    assert resp.status_code == 422 and "cannot be in the future" in text_of(resp)
    resp = client.post_form(url, _form(**{"decisions-1-votes_for": "2"}))
    assert resp.status_code == 422 and "Write what was decided" in text_of(resp)
    resp = client.post_form(url, _form(meeting_date=""))
    assert resp.status_code == 422
    html_resp = client.post_form(
        url,
        {**_form(), "attachments": [(io.BytesIO(b"<html>x</html>"), "纪要.pdf")]},
        content_type="multipart/form-data",
    )
    assert html_resp.status_code == 422 and "is not a PDF, JPEG or PNG" in text_of(html_resp)
    assert db.session.scalar(select(Minutes)) is None


def test_add_a_decision_box_without_javascript(client, login_as, committee):
    login_as(user=committee.author)
    url = f"/compounds/{committee.compound.code}/minutes/new"
    resp = client.post_form(url, {**_form(), "add_decision": "1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'name="decisions-3-text"' in html
    assert "同意更换2号楼电梯" in html  # what was typed is kept
    assert db.session.scalar(select(Minutes)) is None


# ---- corrections --------------------------------------------------------------------------------


def test_a_correction_is_a_new_revision_and_the_old_one_stays(client, login_as, committee):
    c = committee
    m = _published(c)
    first = m.revisions[0]
    login_as(user=c.second)
    assert client.post_form(f"/minutes/{m.id}/correct", {"reason": ""}).status_code == 422
    resp = client.post_form(f"/minutes/{m.id}/correct", {"reason": "反对票应为2票"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/minutes/{m.id}/edit")
    resp = client.post_form(
        f"/minutes/{m.id}/edit",
        _form(
            **{
                "decisions-0-votes_for": "3",
                "decisions-0-votes_against": "2",
                "then": "submit",
            }
        ),
    )
    assert resp.status_code == 302
    # still the first version in public until confirmed
    _anonymous(client)
    assert "4" in text_of(client.get(f"/minutes/{m.id}?lang=en"))
    login_as(user=c.second)
    assert client.post_form(f"/minutes/{m.id}/confirm").status_code == 403  # its author
    login_as(user=c.author)
    assert client.post_form(f"/minutes/{m.id}/confirm").status_code == 302

    _anonymous(client)
    db.session.expire_all()
    m = db.session.get(Minutes, m.id)
    assert m.published_number == 2 and [r.number for r in m.revisions] == [1, 2]
    current = text_of(client.get(f"/minutes/{m.id}?lang=en"))
    assert "Against: 2" in current and "反对票应为2票" in current and "Version 2" in current
    old = client.get(f"/minutes/{m.id}/revisions/1?lang=en")
    assert old.status_code == 200
    assert "Against: 1" in text_of(old) and "This is an earlier version" in text_of(old)
    assert first.decisions[0].votes_against == 1  # the row itself is untouched
    assert client.get(f"/minutes/{m.id}/revisions/3").status_code == 404
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert "minutes.correction_started" in actions


def test_an_open_correction_is_not_public_and_blocks_a_second_one(client, login_as, committee):
    c = committee
    m = _published(c)
    minutes_service.start_correction(c.author, m, "日期错了", now=utcnow())
    db.session.commit()
    assert client.get(f"/minutes/{m.id}/revisions/2").status_code == 404
    login_as(user=c.second)
    assert client.get(f"/minutes/{m.id}/correct").status_code == 403
    assert client.get(f"/minutes/{m.id}/revisions/2").status_code == 200


def test_published_revisions_cannot_be_changed_even_by_mistake(committee):
    m = _published(committee)
    rev = m.revisions[0]
    rev.agenda = "偷偷改"
    with pytest.raises(PublishedRecordError):
        db.session.flush()
    db.session.rollback()
    decision = db.session.scalar(select(Decision))
    decision.votes_for = 99
    with pytest.raises(PublishedRecordError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(PublishedRecordError):
        db.session.delete(db.session.scalar(select(Decision)))
        db.session.flush()
    db.session.rollback()


def test_a_correction_copies_the_attachments_and_keeps_the_old_files(client, login_as, committee):
    c = committee
    now = utcnow()
    m = minutes_service.create(c.author, c.compound, _record(), [("签到表.pdf", PDF)], now=now)
    minutes_service.submit(c.author, m.revisions[0], now=now)
    minutes_service.confirm(c.second, m.revisions[0], now=now)
    rev2 = minutes_service.start_correction(c.second, m, "补充附件", now=now)
    db.session.commit()
    atts = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [(a.owner_id, a.sha256) for a in atts] == [
        (m.revisions[0].id, atts[0].sha256),
        (rev2.id, atts[0].sha256),
    ]
    login_as(user=c.second)
    client.post_form(f"/minutes/{m.id}/attachments/{atts[1].id}/remove")
    _anonymous(client)
    assert client.get(f"/files/{atts[0].id}").status_code == 200  # version 1's file stays


# ---- public list and search ---------------------------------------------------------------------


def test_search_by_decision_text_in_chinese(client, committee):
    """Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""
    c = committee
    _published(c, decisions=[DecisionInput("同意更换2号楼电梯", 4, 1, 0)])
    _published(
        c, meeting_date=date(2026, 2, 1), decisions=[DecisionInput("停车收费维持不变", 5, 0, 0)]
    )
    _published(c, meeting_date=date(2026, 1, 5), agenda="讨论垃圾分类", decisions=[])
    url = f"/compounds/{c.compound.code}/minutes"
    assert "同意更换2号楼电梯" in text_of(client.get(url))
    found = text_of(client.get(url + "?q=停车"))
    assert "停车收费维持不变" in found and "电梯" not in found
    assert "讨论垃圾分类" not in found
    assert "1 meeting" in text_of(client.get(url + "?q=垃圾&lang=en"))
    assert "No decision matches" in text_of(client.get(url + "?q=%25&lang=en"))
    fragment = client.hx_get(url + "?q=电梯").get_data(as_text=True)
    assert "<html" not in fragment and "同意更换2号楼电梯" in fragment


def test_newest_meeting_first(client, committee):
    c = committee
    _published(c, meeting_date=date(2026, 1, 5), decisions=[DecisionInput("一月的决定", 5, 0, 0)])
    _published(c, meeting_date=date(2026, 3, 5), decisions=[DecisionInput("三月的决定", 5, 0, 0)])
    text = text_of(client.get(f"/compounds/{c.compound.code}/minutes"))
    assert text.index("三月的决定") < text.index("一月的决定")


def test_the_desk(client, login_as, committee):
    c = committee
    now = utcnow()
    m = minutes_service.create(c.author, c.compound, _record(), now=now)
    minutes_service.submit(c.author, m.revisions[0], now=now)
    db.session.commit()
    login_as(user=c.second)
    text = text_of(client.get("/minutes/desk?lang=en"))
    assert "Waiting for your confirmation" in text and "和平花园" in text
    login_as(user=c.author)
    text = text_of(client.get("/minutes/desk?lang=en"))
    assert "No minutes wait for your confirmation" in text


# ---- query counts -------------------------------------------------------------------------------


def test_query_counts_do_not_grow(client, login_as, committee, count_queries):
    c = committee
    login_as(user=c.second)
    urls = [f"/compounds/{c.compound.code}/minutes", "/minutes/desk"]
    _published(c)
    m = _published(c, decisions=[DecisionInput("一", 1, 0, 0)])
    small = {}
    for url in urls + [f"/minutes/{m.id}"]:
        client.get(url)
        with count_queries() as q:
            assert client.get(url).status_code == 200
        small[url] = q.count
    for i in range(8):
        _published(c, decisions=[DecisionInput(f"决定{j}", 1, 0, 0) for j in range(i + 3)])
    big_m = _published(c, decisions=[DecisionInput(f"决定{j}", 1, 0, 0) for j in range(12)])
    big_url = f"/minutes/{big_m.id}"  # read here: the test's own queries are not counted
    for url in urls:
        with count_queries() as q:
            assert client.get(url).status_code == 200
        assert q.count == small[url], url
    with count_queries() as q:
        assert client.get(big_url).status_code == 200
    assert q.count == small[f"/minutes/{m.id}"]


# ---- two members at once -------------------------------------------------------------------


def _at_once(app, calls):
    """Run the calls at the same moment, each in its own app context and database session."""
    barrier = threading.Barrier(len(calls))
    outcomes, lock = [], threading.Lock()

    def run(fn):
        with app.app_context():
            barrier.wait()
            try:
                fn()
                db.session.commit()
                result = "ok"
            except DomainError as e:
                db.session.rollback()
                result = type(e).__name__
            finally:
                db.session.remove()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(outcomes)


def test_two_members_confirming_at_once_publish_once(app, committee, make_user, make_grant):
    c = committee
    third = make_user()
    make_grant(third, "committee", c.compound)
    m = minutes_service.create(c.author, c.compound, _record(), now=utcnow())
    minutes_service.submit(c.author, m.revisions[0], now=utcnow())
    db.session.commit()
    minutes_id = m.id

    def confirm_as(user_id):
        def go():
            from portal.accounts.models import User

            mm = minutes_service.get_minutes(minutes_id)
            minutes_service.confirm(db.session.get(User, user_id), mm.open_revision, now=utcnow())

        return go

    outcomes = _at_once(app, [confirm_as(c.second.id), confirm_as(third.id)])
    assert outcomes == ["InvalidTransition", "ok"], outcomes
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "minutes.published")
        )
        == 1
    )


def test_two_corrections_started_at_once_make_one_revision(app, committee):
    c = committee
    m = _published(c)
    minutes_id = m.id

    def correct_as(user_id):
        def go():
            from portal.accounts.models import User

            mm = minutes_service.get_minutes(minutes_id)
            minutes_service.start_correction(
                db.session.get(User, user_id), mm, "更正", now=utcnow()
            )

        return go

    outcomes = _at_once(app, [correct_as(c.author.id), correct_as(c.second.id)])
    assert outcomes == ["InvalidTransition", "ok"], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(MinutesRevision.id))) == 2
