"""GET and HEAD requests read without a database transaction (``portal.readonly``).

What a user would notice if this went wrong: a page that changes data when merely opened, or a
form whose failed submission leaves half its rows behind (a pooled connection left in autocommit
mode by a page view). Both are checked here, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest
from flask import jsonify
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import csrf, db
from portal.readonly import (
    StreamNeedsTransaction,
    WriteInReadOnlyRequest,
    is_write,
    needs_transaction,
)


def _users() -> int:
    return db.session.scalar(select(func.count(User.id)))


def _add_user(phone: str) -> None:
    db.session.add(User(phone=phone, display_name="测试", password_hash="x"))
    db.session.flush()


@pytest.fixture
def routes(app):
    """Test-only views, added before the app serves its first request."""

    def mode():
        conn = db.session.connection()
        dbapi = conn.connection.dbapi_connection
        autocommit = getattr(dbapi, "autocommit", None)
        if autocommit is None:  # sqlite3 before Python 3.12: no transaction when None
            autocommit = dbapi.isolation_level is None
        return jsonify(
            level=conn.get_execution_options().get("isolation_level"),
            autocommit=bool(autocommit),
            users=_users(),
        )

    def write():
        _add_user("13900000001")
        db.session.commit()
        return "written"

    def write_twice_then_fail():
        _add_user("13900000002")
        _add_user("13900000003")
        raise RuntimeError("the second half of the work failed")

    def stream():
        rows = db.session.execute(select(User.id).execution_options(yield_per=2))
        return jsonify(ids=[r[0] for r in rows])

    app.add_url_rule("/_t/mode", "t_mode", mode, methods=["GET", "POST"])
    app.add_url_rule("/_t/write", "t_write", write, methods=["GET", "POST"])
    app.add_url_rule("/_t/fail", "t_fail", write_twice_then_fail, methods=["POST"])
    app.add_url_rule("/_t/stream", "t_stream", stream)

    @needs_transaction
    def stream_marked():
        return stream()

    app.add_url_rule("/_t/stream-marked", "t_stream_marked", stream_marked)
    for name in ("t_mode", "t_write", "t_fail"):
        csrf.exempt(app.view_functions[name])
    return app


def test_a_page_view_reads_in_autocommit_and_a_form_post_in_a_transaction(routes, client):
    got = client.get("/_t/mode").get_json()
    assert got["level"] == "AUTOCOMMIT" and got["autocommit"] is True
    posted = client.post("/_t/mode").get_json()
    assert posted["level"] != "AUTOCOMMIT" and posted["autocommit"] is False
    assert client.head("/_t/mode").status_code == 200


def test_a_get_that_writes_is_refused_and_writes_nothing(routes, client):
    before = _users()
    with pytest.raises(WriteInReadOnlyRequest, match="GET t_write tried to write"):
        client.get("/_t/write")
    assert _users() == before
    # the same view by POST writes: the refusal is about the method, not the view
    assert client.post("/_t/write").get_data(as_text=True) == "written"
    assert _users() == before + 1


def test_a_failed_post_after_page_views_leaves_nothing_behind(routes, client):
    """The connection a page view used goes back to the pool in transaction mode: a later
    form that fails halfway is rolled back as a whole."""
    before = _users()
    for _ in range(3):
        client.get("/_t/mode")
    with pytest.raises(RuntimeError, match="second half"):
        client.post("/_t/fail")
    assert _users() == before
    assert client.get("/_t/mode").get_json()["users"] == before


def test_streaming_in_a_page_view_needs_the_mark(routes, client, make_user):
    for _ in range(3):
        make_user()
    db.session.commit()
    with pytest.raises(StreamNeedsTransaction, match="needs_transaction"):
        client.get("/_t/stream")
    ids = client.get("/_t/stream-marked").get_json()["ids"]
    assert len(ids) == _users() >= 3


def test_every_download_that_streams_is_marked(app):
    """The open-data downloads stream from server-side cursors on PostgreSQL."""
    for endpoint in (
        "transparency.open_fees_csv",
        "transparency.open_collection_csv",
        "transparency.open_collection_json",
        "transparency.fdp_csv",
        "transparency.fdp_zip",
        "ratings.ratings_csv",
        "ratings.ratings_json",
        "ratings.inspections_csv",
        "ratings.inspections_json",
        "ratings.findings_csv",
        "ratings.findings_json",
    ):
        assert getattr(app.view_functions[endpoint], "portal_needs_transaction", False), endpoint


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO ballot (a) VALUES (1)",
        "  update election SET x=1",
        "DELETE FROM notice",
        "SELECT election.id FROM election WHERE election.id = 1 FOR UPDATE OF election",
        "WITH gone AS (DELETE FROM vote RETURNING id) SELECT count(*) FROM gone",
        "TRUNCATE notice",
        "CREATE TABLE x (a int)",
        "MERGE INTO x USING y ON true WHEN MATCHED THEN DELETE",
    ],
)
def test_writes_are_recognised(statement):
    assert is_write(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT user_account.id FROM user_account",
        "SELECT notice.updated_at, notice.deleted_by FROM notice",
        "WITH recent AS (SELECT id FROM notice) SELECT count(*) FROM recent",
        ";",
    ],
)
def test_reads_are_not_taken_for_writes(statement):
    assert not is_write(statement)
