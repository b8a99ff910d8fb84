"""The statement import: upload → preview (or every bad line) → confirm; all or nothing."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.transparency.models import FeeLine, FeeStatement
from tests.conftest import text_of
from tests.web.test_fee_support import *  # noqa: F403
from tests.web.test_fee_support import D, publish

DATA = Path(__file__).resolve().parent.parent / "data" / "fees"


@pytest.fixture
def app_config(tmp_path):
    return {"FEE_UPLOAD_FOLDER": str(tmp_path / "uploads")}


@pytest.fixture
def buildings_named(fee_place):
    """The sample file names buildings 1栋 and 2栋, as the fixture compound has."""
    return fee_place


def upload(
    client, compound, path: Path | None = None, data: bytes | None = None, name="s.csv", **fields
):
    form = {
        "compound": str(compound.id),
        "period_kind": "month",
        "year": "2026",
        "month": "1",
        "quarter": "1",
        "revision_reason": "",
        "file": (io.BytesIO(data if data is not None else path.read_bytes()), name),
    }
    form.update(fields)
    return client.post_form("/staff/fees/import?lang=en", form, content_type="multipart/form-data")


def confirm(client, resp):
    token = re.search(r'name="token"[^>]*value="([^"]+)"', resp.get_data(as_text=True)).group(1)
    return client.post_form("/staff/fees/import/confirm?lang=en", {"token": token})


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_template_page_documents_the_columns(client, fee_place, staff, login_as):
    login_as(user=staff)
    page = text_of(client.get("/staff/fees/import?lang=en"))
    for header in (
        "部分",
        "section",
        "类别",
        "category",
        "金额",
        "amount",
        "应缴户数",
        "households_billed",
        "实收金额",
        "amount_collected",
        "结余",
    ):
        assert header in page
    sample = client.get("/staff/fees/import/sample.csv")
    assert sample.status_code == 200 and sample.mimetype == "text/csv"
    assert sample.get_data(as_text=True).lstrip("\ufeff").startswith("部分,类别,项目,金额")
    en = client.get("/staff/fees/import/sample.csv?lang=en").get_data(as_text=True)
    assert en.lstrip("\ufeff").startswith("section,category,item,amount")


def test_preview_then_confirm_creates_a_draft(client, buildings_named, staff, login_as):
    login_as(user=staff)
    resp = upload(client, buildings_named.compound, DATA / "statement-sample.csv")
    assert resp.status_code == 200, text_of(resp)[:3000]
    text = text_of(resp)
    assert "It creates the draft of this period." in text
    assert "¥106,500.00" in text  # income: 86500 + 12000 + 3000 + 5000
    assert count(FeeStatement) == 0  # nothing saved by the preview
    done = confirm(client, resp)
    assert done.status_code == 302
    s = db.session.scalar(select(FeeStatement))
    assert s.status == "draft" and s.source == "import" and s.period_key == "2026-01"
    assert len(s.lines) == 11 and s.households_billed == 240
    assert s.opening_balance == D("20000.00")
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fee.drafted"))
    assert ev.detail["source"] == "import" and len(ev.detail["sha256"]) == 64
    # the same token cannot be used twice
    assert confirm(client, resp).status_code == 302
    assert count(FeeStatement) == 1


def test_every_bad_line_is_listed_and_nothing_is_imported(client, fee_place, staff, login_as):
    login_as(user=staff)
    resp = upload(client, fee_place.compound, DATA / "statement-sample-bad.csv")
    assert resp.status_code == 422
    text = text_of(resp)
    for n in range(2, 10):
        assert f"Line {n}:" in text
    assert "contains a phone number" in text
    assert "are already on line 4" in text
    assert count(FeeStatement) == 0 and count(FeeLine) == 0


def test_an_unknown_building_is_named_with_its_line(client, fee_place, staff, login_as):
    login_as(user=staff)
    data = (DATA / "statement-sample.csv").read_text(encoding="utf-8").replace("2栋", "9栋")
    resp = upload(client, fee_place.compound, data=data.encode())
    assert resp.status_code == 422
    assert "Line 15: there is no building “9栋”" in text_of(resp)


def test_an_xlsx_with_english_headers(client, fee_place, staff, login_as):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for line in (DATA / "statement-sample-en.csv").read_text().splitlines():
        ws.append(line.split(","))
    buf = io.BytesIO()
    wb.save(buf)
    login_as(user=staff)
    resp = upload(
        client,
        fee_place.compound,
        data=buf.getvalue(),
        name="s.xlsx",
        period_kind="quarter",
        quarter="2",
    )
    assert resp.status_code == 200, text_of(resp)[:2000]
    assert confirm(client, resp).status_code == 302
    s = db.session.scalar(select(FeeStatement))
    assert s.period_key == "2026-Q2" and s.opening_balance == D("-1500.00")


def test_importing_into_a_published_period_starts_a_revision_with_its_reason(
    client, fee_place, staff, secretary, login_as
):
    publish(fee_place, staff, secretary, "2026-01")
    login_as(user=staff)
    resp = upload(client, fee_place.compound, DATA / "statement-sample.csv")
    assert resp.status_code == 422
    assert "Give the reason for the revision" in text_of(resp)
    resp = upload(
        client, fee_place.compound, DATA / "statement-sample.csv", revision_reason="按审计结果更正"
    )
    assert resp.status_code == 200
    assert "it starts revision 2" in text_of(resp)
    assert confirm(client, resp).status_code == 302
    db.session.expire_all()
    rev = db.session.scalar(select(FeeStatement).where(FeeStatement.revision == 2))
    assert rev.status == "draft" and rev.revision_reason == "按审计结果更正"
    # importing again replaces the draft's content (and keeps its reason)
    again = upload(client, fee_place.compound, DATA / "statement-sample-en.csv")
    assert "It replaces the content of the draft of this period." in text_of(again)
    assert confirm(client, again).status_code == 302
    db.session.expire_all()
    rev = db.session.scalar(select(FeeStatement).where(FeeStatement.revision == 2))
    assert len(rev.lines) == 3 and rev.revision_reason == "按审计结果更正"
    assert count(FeeStatement) == 2


def test_only_company_staff_of_the_compound_import(client, fee_place, secretary, login_as):
    login_as(user=secretary)
    assert client.get("/staff/fees/import").status_code == 403
