"""Point 1: verified residents submit; public pages mask the author and render text safely."""

# ruff: noqa: F811  (the shared fixtures are imported, then requested by name)

import io
import re

from PIL import Image
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.proposals.models import Photo, Proposal, Support
from tests.conftest import text_of
from tests.web.test_proposals_fixtures import T0, assert_csp_clean, clock, make_proposal, world  # noqa: F401


def _image(fmt: str) -> bytes:
    """A real (decodable) 8×8 image: uploads may re-encode photos to strip their metadata."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")


def _form(**kw):
    data = {
        "title": "楼道灯坏了",
        "category": "facilities",
        "body": "3号楼二单元楼道灯坏了一周，晚上看不清。",
    }
    data.update(kw)
    return data


def test_logged_out_is_sent_to_log_in(client, world):
    resp = client.get(f"/compounds/{world.compound.code}/proposals/new")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_only_verified_residents_submit(client, world, login_as, en):
    login_as(user=world.stranger)
    resp = client.get(f"/compounds/{world.compound.code}/proposals/new?lang=en")
    assert resp.status_code == 403
    assert "Only verified residents of this compound can raise proposals" in text_of(resp)
    resp = client.post_form(f"/compounds/{world.compound.code}/proposals/new?lang=en", _form())
    assert resp.status_code == 403
    # a resident of another compound neither
    login_as(user=world.outsider)
    resp = client.post_form(f"/compounds/{world.compound.code}/proposals/new", _form())
    assert resp.status_code == 403
    assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_a_resident_submits_and_the_public_sees_a_masked_name(client, world, login_as, clock):
    author = world.residents[0]  # 张三丰
    login_as(user=author)
    resp = client.post_form(f"/compounds/{world.compound.code}/proposals/new", _form())
    assert resp.status_code == 302
    p = db.session.scalar(select(Proposal))
    assert resp.headers["Location"].endswith(f"/proposals/{p.id}")
    assert (p.state, p.category, p.support_count, p.created_at) == ("collect", "facilities", 1, T0)
    assert p.community_id == world.community.id
    # the author's own support is counted once
    assert db.session.scalar(select(func.count(Support.id))) == 1
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.submitted"))

    client.post("/logout", data={"csrf_token": client.csrf()})
    with client.c.session_transaction() as s:
        s.clear()
    page = client.get(f"/proposals/{p.id}?lang=en")
    assert page.status_code == 200
    text = text_of(page)
    assert "楼道灯坏了" in text and "张**" in text and "张三丰" not in text
    assert author.phone not in page.get_data(as_text=True)
    assert "Collecting" in text and "Submitted" in text  # state and timeline
    assert_csp_clean(page.get_data(as_text=True))


def test_invalid_form_is_422_with_errors(client, world, login_as, clock):
    login_as(user=world.residents[0])
    resp = client.post_form(
        f"/compounds/{world.compound.code}/proposals/new?lang=en", _form(title="", body="短")
    )
    assert resp.status_code == 422
    assert 'aria-invalid="true"' in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_photos_are_stored_and_served_images_only(client, world, login_as, clock, tmp_path, app):
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    login_as(user=world.residents[0])
    data = _form()
    data["photos"] = [(io.BytesIO(PNG), "a.png"), (io.BytesIO(JPEG), "b.jpg")]
    resp = client.post_form(
        f"/compounds/{world.compound.code}/proposals/new", data, content_type="multipart/form-data"
    )
    assert resp.status_code == 302
    p = db.session.scalar(select(Proposal))
    photos = db.session.scalars(select(Photo).where(Photo.proposal_id == p.id)).all()
    assert len(photos) == 2
    page = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    src = re.findall(r'<img src="([^"]+)"', page)
    assert len(src) == 2
    img = client.get(src[0])
    assert img.status_code == 200 and img.mimetype == "image/png"
    assert img.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert client.get(f"/proposals/{p.id}/photos/99999").status_code == 404

    # a PDF (or anything else) is not a photo
    data = _form(title="另一个问题")
    data["photos"] = [(io.BytesIO(b"%PDF-1.4 xx"), "x.pdf")]
    resp = client.post_form(
        f"/compounds/{world.compound.code}/proposals/new?lang=en",
        data,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert "Photos must be JPEG or PNG images." in text_of(resp)


def test_markdown_xss_payloads_render_inert(client, world, clock):
    body = (
        "**重要** <script>alert('x')</script>\n\n"
        "[点我](javascript:alert(1)) <img src=x onerror=alert(1)> "
        '<a href="/staff" hx-get="/staff/proposals" hx-trigger="load">htmx</a>\n\n'
        "[官网](https://example.cn)"
    )
    p = make_proposal(world, body=body)
    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "<strong>重要</strong>" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html and 'href="javascript' not in html
    # the attribute survives only as escaped text, never on an element
    assert not re.search(r"<[a-z]+[^>]*\shx-get=\"/staff/proposals\"", html)
    assert "&lt;a href=" in html
    assert '<a href="https://example.cn" rel="nofollow noopener noreferrer ugc">官网</a>' in html
    assert_csp_clean(html)


def test_unknown_proposal_is_404(client, world):
    assert client.get("/proposals/424242").status_code == 404
    assert client.get("/proposals/424242/clock").status_code == 404
    assert client.get("/compounds/NOPE/proposals/new").status_code in (302, 404)
