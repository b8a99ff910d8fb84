"""Uploads, safely: type by content, size limit (413, translated), photos without their GPS
data and with a thumbnail, served with the right headers, and only as far as the owning record
is visible (a draft's attachment is not public)."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices import service as notices
from portal.notices.models import Notice
from portal.uploads import service as uploads
from portal.uploads.models import Attachment
from tests.conftest import text_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'
GPS = {1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 1.0)}  # 上海, 人民广场
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf'
    b'-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="31,14.08N" exif:GPSLongitude="121,28.01E"/></rdf:RDF></x:xmpmeta>'
)


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def photo(fmt: str = "JPEG", size=(640, 480), orientation: int | None = None, xmp=False) -> bytes:
    """A photo as a phone takes it: EXIF with the camera, the time and the GPS position."""
    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((20, 20, 200), (0, 0, size[0] // 2, size[1] // 2))  # a mark: top-left quarter
    exif = Image.Exif()
    exif[0x010F] = "HUAWEI"
    exif[0x0132] = "2026:03:05 08:30:00"
    exif[0x8825] = GPS
    if orientation:
        exif[0x0112] = orientation
    buf = io.BytesIO()
    params = {"exif": exif.tobytes()}
    if xmp:
        params["xmp"] = XMP
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _gps_of(data: bytes) -> dict:
    img = Image.open(io.BytesIO(data))
    img.load()
    return dict(img.getexif().get_ifd(0x8825))


# ---- checking by content ------------------------------------------------------------------------


def test_the_test_photo_really_carries_gps():
    assert _gps_of(photo())[2] == (31.0, 14.0, 5.0)
    assert _gps_of(photo("PNG"))[4] == (121.0, 28.0, 1.0)
    assert b"GPSLatitude" in photo(xmp=True)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (HTML, "notice.pdf"),  # an HTML page renamed .pdf
        (HTML, "photo.jpg"),
        (SVG, "logo.png"),
        (SVG, "logo.svg"),
        (b"PK\x03\x04 a zip or docx", "minutes.pdf"),
        (b"MZ\x90\x00 a program", "scan.jpg"),
        (b"GIF89a....", "anim.gif"),
    ],
)
def test_only_pdf_jpeg_png_by_content_whatever_the_name(app, data, name):
    with pytest.raises(ValidationFailed):
        uploads.prepare(data, name)


def test_a_file_with_a_jpeg_header_that_is_no_picture_is_refused(app):
    with pytest.raises(ValidationFailed):
        uploads.prepare(b"\xff\xd8\xff\xe0" + HTML, "fake.jpg")


def test_empty_and_too_big_files_are_refused(app):
    with pytest.raises(ValidationFailed):
        uploads.prepare(b"", "x.pdf")
    with pytest.raises(ValidationFailed):
        uploads.prepare(PDF + b"0" * uploads.MAX_BYTES, "x.pdf")


def test_too_many_pixels_are_refused_before_decoding(app, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_PIXELS", 100 * 100)
    with pytest.raises(ValidationFailed):
        uploads.prepare(photo(size=(200, 200)), "big.jpg")


@pytest.mark.parametrize(
    ("given", "ext", "kept"),
    [
        ("停水公告.pdf", "pdf", "停水公告.pdf"),
        ("Scan.PDF", "pdf", "Scan.pdf"),
        ("照片.jpeg", "jpg", "照片.jpeg"),
        ("page.html", "jpg", "page.html.jpg"),  # the name says html: the content decides
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("C:\\Users\\王\\会议\x00纪要.pdf", "pdf", "会议纪要.pdf"),
        ("", "png", "file.png"),
        ("....", "pdf", "file.pdf"),
    ],
)
def test_file_names_are_cleaned_and_end_in_the_real_type(given, ext, kept):
    assert uploads.clean_filename(given, ext) == kept


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_photos_lose_their_location_and_get_a_thumbnail(app, fmt):
    prepared = uploads.prepare(photo(fmt, size=(1600, 1200)), f"门口.{fmt.lower()}")
    assert _gps_of(prepared.data) == {}
    assert Image.open(io.BytesIO(prepared.data)).getexif() == {}
    assert b"HUAWEI" not in prepared.data and b"GPS" not in prepared.data
    assert (prepared.width, prepared.height) == (1600, 1200)
    thumb = Image.open(io.BytesIO(prepared.thumb))
    assert max(thumb.size) == 480 and thumb.format == fmt
    assert _gps_of(prepared.thumb) == {}


def test_xmp_location_goes_too(app):
    prepared = uploads.prepare(photo(xmp=True), "x.jpg")
    assert b"GPSLatitude" not in prepared.data and b"xmpmeta" not in prepared.data


def test_a_sideways_photo_is_turned_upright_before_its_exif_is_dropped(app):
    prepared = uploads.prepare(photo(size=(400, 200), orientation=6), "x.jpg")  # rotate 90°
    img = Image.open(io.BytesIO(prepared.data))
    assert img.size == (200, 400)


def test_pdfs_are_kept_byte_for_byte(app):
    prepared = uploads.prepare(PDF, "a.pdf")
    assert prepared.data == PDF and prepared.thumb is None
    assert prepared.mimetype == "application/pdf" and len(prepared.sha256) == 64


# ---- the old store()/open_path() (proxy forms, contracts) still work ----------------------------


def test_store_and_open_path(app, tmp_path):
    key = uploads.store(PDF, "proxy_forms")
    path, mimetype = uploads.open_path(key)
    assert path.read_bytes() == PDF and mimetype == "application/pdf"
    assert str(path).startswith(str(tmp_path / "uploads"))
    with pytest.raises(ValidationFailed):
        uploads.store(HTML, "proxy_forms")
    for bad in ("../secret_key", "proxy_forms/../../x.pdf", "proxy_forms/x.html", ""):
        with pytest.raises(NotFound):
            uploads.open_path(bad)


def test_store_drops_the_location_of_photos_too(app):
    """Proposals and inspection findings store photos with store(): no GPS there either."""
    for fmt in ("JPEG", "PNG"):
        path, mimetype = uploads.open_path(uploads.store(photo(fmt), "findings"))
        assert _gps_of(path.read_bytes()) == {} and mimetype == f"image/{fmt.lower()}"
    with pytest.raises(ValidationFailed):
        uploads.store(b"\xff\xd8\xff\xe0 not really a photo", "findings")


# ---- through the notice form --------------------------------------------------------------------


def _post_notice(client, compound, files, **fields):
    data = {"category": "announcement", "title": "附件测试", "body": "见附件。"}
    data.update(fields)
    data["attachments"] = files
    return client.post_form(
        f"/notices/new/compound/{compound.code}", data, content_type="multipart/form-data"
    )


def test_an_html_file_renamed_pdf_is_refused_with_a_message(client, login_as, make_compound):
    compound = make_compound()
    login_as("secretary", compound.community)
    client.set_cookie("lang", "en")
    resp = _post_notice(client, compound, [(io.BytesIO(HTML), "公告.pdf")])
    assert resp.status_code == 422
    assert "is not a PDF, JPEG or PNG file" in text_of(resp)
    assert db.session.scalar(select(Notice)) is None
    assert db.session.scalar(select(Attachment)) is None


def test_an_11_mib_upload_gets_413_with_a_translated_page(client, login_as, make_compound):
    compound = make_compound()
    login_as("secretary", compound.community)
    big = io.BytesIO(PDF + b"0" * (11 * 1024 * 1024))
    resp = _post_notice(client, compound, [(big, "big.pdf")])
    assert resp.status_code == 413
    text = text_of(resp)
    assert "文件过大" in text and "File too large" not in text
    assert db.session.scalar(select(Notice)) is None
    resp = client.post(
        f"/notices/new/compound/{compound.code}?lang=en",
        data={"attachments": [(io.BytesIO(PDF + b"0" * (11 * 1024 * 1024)), "big.pdf")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 413 and "File too large" in text_of(resp)


def test_a_photo_comes_back_without_its_gps(client, login_as, make_compound):
    compound = make_compound()
    login_as("secretary", compound.community)
    original = photo()
    resp = _post_notice(client, compound, [(io.BytesIO(original), "现场.jpg")])
    assert resp.status_code == 302, text_of(resp)
    att = db.session.scalar(select(Attachment))
    client.post_form("/logout")
    got = client.get(f"/files/{att.id}")
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    assert _gps_of(got.data) == {} and _gps_of(original) != {}
    assert att.sha256 == hashlib.sha256(got.data).hexdigest()
    thumb = client.get(f"/files/{att.id}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 480


def test_files_are_served_with_safe_headers(client, login_as, make_compound):
    compound = make_compound()
    login_as("secretary", compound.community)
    _post_notice(
        client, compound, [(io.BytesIO(PDF), "停水公告.pdf"), (io.BytesIO(photo("PNG")), "图.png")]
    )
    pdf, png = db.session.scalars(select(Attachment).order_by(Attachment.position)).all()
    client.post_form("/logout")

    resp = client.get(f"/files/{pdf.id}")
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.headers["Content-Type"] == "application/pdf"
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith("attachment;") and "filename*=UTF-8''%E5%81%9C" in cd
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]

    resp = client.get(f"/files/{png.id}")
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["Content-Disposition"].startswith("inline;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/files/999999").status_code == 404


def test_attachments_are_recorded_with_hash_size_type_and_owner(client, login_as, make_compound):
    compound = make_compound()
    secretary = login_as("secretary", compound.community)
    _post_notice(client, compound, [(io.BytesIO(PDF), "a.pdf")])
    notice = db.session.scalar(select(Notice))
    att = db.session.scalar(select(Attachment))
    assert (att.owner_type, att.owner_id, att.size, att.mimetype, att.original_name) == (
        "notice",
        notice.id,
        len(PDF),
        "application/pdf",
        "a.pdf",
    )
    assert att.sha256 == hashlib.sha256(PDF).hexdigest()
    assert att.uploaded_by_id == secretary.id
    assert not att.key.startswith("static") and att.key.endswith(".pdf")
    assert "a.pdf" not in att.key
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "upload.stored"))
    assert ev.actor_id == secretary.id and ev.detail["sha256"] == att.sha256


# ---- visibility follows the record --------------------------------------------------------------


def test_a_scheduled_notices_attachment_is_not_public_until_it_is(client, login_as, make_compound):
    compound = make_compound()
    secretary = login_as("secretary", compound.community)
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    _post_notice(client, compound, [(io.BytesIO(PDF), "a.pdf")], publish_at=later)
    att = db.session.scalar(select(Attachment))
    assert client.get(f"/files/{att.id}").status_code == 200  # its author sees it
    client.post_form("/logout")
    assert client.get(f"/files/{att.id}").status_code == 404
    login_as()  # a resident: not yet either
    assert client.get(f"/files/{att.id}").status_code == 404
    notice = db.session.scalar(select(Notice))
    notice.publish_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"/files/{att.id}").status_code == 200
    assert att.uploaded_by_id == secretary.id


def test_a_withdrawn_notices_attachment_is_no_longer_public(client, login_as, make_compound):
    compound = make_compound()
    secretary = login_as("secretary", compound.community)
    _post_notice(client, compound, [(io.BytesIO(PDF), "a.pdf")])
    att = db.session.scalar(select(Attachment))
    notice = db.session.scalar(select(Notice))
    notices.withdraw(secretary, notice, "发错了", utcnow())
    db.session.commit()
    client.post_form("/logout")
    assert client.get(f"/files/{att.id}").status_code == 404


def test_attachments_of_an_unknown_kind_of_record_are_served_to_nobody(app, client, login_as):
    prepared = uploads.prepare(PDF, "x.pdf")
    att = uploads.attach(None, prepared, "something_new", 1)
    db.session.commit()
    login_as("admin")
    assert client.get(f"/files/{att.id}").status_code == 404
