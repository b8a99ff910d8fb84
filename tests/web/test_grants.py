"""Scoped role grants by the site admin and street officers; the audit log viewer; CLI."""

from sqlalchemy import select

from portal.accounts.models import RoleGrant, User
from portal.audit import AppendOnlyError, AuditEvent
from portal.extensions import db
from tests.conftest import text_of


def _grant(client, phone, role, scope=""):
    return client.post_form("/staff/grants", {"phone": phone, "role": role, "scope_code": scope})


def _active(user, role):
    return db.session.scalars(
        select(RoleGrant).where(
            RoleGrant.user_id == user.id, RoleGrant.role == role, RoleGrant.revoked_at.is_(None)
        )
    ).all()


def test_admin_grants_secretary_and_it_takes_effect(client, login_as, make_user, make_community):
    community = make_community()
    person = make_user(phone="13612340000")
    admin = login_as("admin")
    resp = _grant(client, "13612340000", "secretary", community.code)
    assert resp.status_code == 302
    [grant] = _active(person, "secretary")
    assert (grant.scope_type, grant.scope_id, grant.granted_by_id) == (
        "community",
        community.id,
        admin.id,
    )
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "role.granted"))
    assert ev.actor_id == admin.id
    text = text_of(client.get("/staff/grants?lang=en"))
    assert "Community secretary" in text and community.name in text


def test_grant_with_unknown_scope_or_user_explains(client, login_as, make_user):
    make_user(phone="13612340000")
    login_as("admin")
    client.set_cookie("lang", "en")
    resp = _grant(client, "13612340000", "secretary", "NOPE")
    assert resp.status_code == 422 and "No community has the code NOPE" in text_of(resp)
    resp = _grant(client, "13612349999", "admin")
    assert resp.status_code == 422 and "No account uses this mobile number" in text_of(resp)
    assert db.session.scalar(select(RoleGrant).where(RoleGrant.role == "secretary")) is None


def test_duplicate_grant_refused(client, login_as, make_user, make_community):
    community = make_community()
    person = make_user(phone="13612340000")
    login_as("admin")
    _grant(client, "13612340000", "secretary", community.code)
    resp = _grant(client, "13612340000", "secretary", community.code)
    assert resp.status_code == 422
    assert len(_active(person, "secretary")) == 1


def test_street_officer_grants_only_within_own_street(
    client, login_as, make_user, make_street, make_community, make_compound
):
    street = make_street()
    mine = make_community(street=street)
    theirs = make_community()
    compound = make_compound(community=mine)
    person = make_user(phone="13612340000")
    login_as("street", street)
    assert _grant(client, "13612340000", "secretary", mine.code).status_code == 302
    assert _grant(client, "13612340000", "committee", compound.code).status_code == 302
    assert _grant(client, "13612340000", "secretary", theirs.code).status_code == 422
    assert _active(person, "secretary")[0].scope_id == mine.id
    # roles outside the officer's reach are not offered at all
    assert _grant(client, "13612340000", "admin").status_code == 422
    assert not _active(person, "admin")


def test_street_officer_sees_only_own_street_grants(
    client, login_as, make_user, make_street, make_community, make_grant
):
    street = make_street()
    mine = make_community(street=street, name="我的社区")
    theirs = make_community(name="别人的社区")
    make_grant(make_user(name="甲书记"), "secretary", mine)
    make_grant(make_user(name="乙书记"), "secretary", theirs)
    login_as("street", street)
    text = text_of(client.get("/staff/grants"))
    assert "甲书记" in text and "乙书记" not in text


def test_revoke_takes_effect_and_is_audited(
    app, client, login_as, make_user, make_community, make_grant
):
    community = make_community()
    person = make_user()
    grant = make_grant(person, "secretary", community)
    login_as("admin")
    resp = client.post_form(f"/staff/grants/{grant.id}/revoke")
    assert resp.status_code == 302
    assert not _active(person, "secretary")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "role.revoked"))
    other = app.test_client()
    with other.session_transaction() as sess:
        sess["_user_id"] = person.get_id()
    assert other.get("/staff/claims").status_code == 403


def test_officer_cannot_revoke_outside_street(
    client, login_as, make_user, make_street, make_community, make_grant
):
    grant = make_grant(make_user(), "secretary", make_community())
    login_as("street", make_street())
    assert client.post_form(f"/staff/grants/{grant.id}/revoke").status_code == 403


def test_residents_and_secretaries_cannot_grant(client, login_as, make_community):
    login_as("secretary", make_community())
    assert client.get("/staff/grants").status_code == 403
    assert _grant(client, "13612340000", "admin").status_code == 403


def test_audit_log_visible_to_admin_only(client, login_as, make_community):
    login_as("secretary", make_community())
    assert client.get("/staff/audit").status_code == 403
    client.post_form("/logout")
    login_as("admin")
    client.post_form("/login", {"phone": "13000000000", "password": "wrong password x"})
    text = text_of(client.get("/staff/audit?action=login.&lang=en"))
    assert "login.failed" in text and "127.0.0.1" in text


def test_audit_events_are_append_only(app, make_user):
    from portal import audit

    user = make_user()
    ev = audit.record("test.event", user, user)
    db.session.commit()
    ev.action = "changed"
    try:
        db.session.commit()
        raise AssertionError("update went through")
    except AppendOnlyError:
        db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, ev.id))
    try:
        db.session.commit()
        raise AssertionError("delete went through")
    except AppendOnlyError:
        db.session.rollback()


def test_cli_create_admin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "13900001111", "--password", "an admin pass phrase 9"]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.phone == "13900001111"))
    assert _active(user, "admin")
    again = runner.invoke(
        args=["users", "create-admin", "13900001111", "--password", "an admin pass phrase 9"]
    )
    assert again.exit_code == 0
    assert len(_active(user, "admin")) == 1
    bad = runner.invoke(args=["users", "create-admin", "12345", "--password", "x"])
    assert bad.exit_code != 0
    weak = runner.invoke(args=["users", "create-admin", "13900002222", "--password", "12345678"])
    assert weak.exit_code != 0
    assert db.session.scalar(select(User).where(User.phone == "13900002222")) is None


def test_staff_pages_query_counts_constant(
    client, login_as, make_user, make_community, make_grant, count_queries
):
    community = make_community()
    login_as("admin")
    make_grant(make_user(), "secretary", community)
    with count_queries() as q1:
        client.get("/staff/grants")
    with count_queries() as a1:
        client.get("/staff/audit")
    for _ in range(15):
        make_grant(make_user(), "secretary", community)
    client.post_form("/login", {"phone": "13000000000", "password": "wrong password x"})
    with count_queries() as q2:
        client.get("/staff/grants")
    with count_queries() as a2:
        client.get("/staff/audit")
    assert q1.count == q2.count and a1.count == a2.count


def test_portal_console_script_lists_the_commands():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("portal")
    out = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    for command in ("users", "roster", "demo", "election", "translations", "db"):
        assert command in out


def test_staff_home_shows_the_desks_of_each_role(client, login_as, make_compound):
    compound = make_compound()
    login_as("committee", compound)
    text = text_of(client.get("/staff?lang=en"))
    assert "Minutes desk" in text and "Notices desk" in text and "Proposals to handle" in text
    assert "Reports to moderate" not in text and "Overdue proposals" not in text
    client.post_form("/logout")
    login_as("street", compound.community.street)
    text = text_of(client.get("/staff?lang=en"))
    assert "Overdue proposals" in text and "Minutes desk" not in text
