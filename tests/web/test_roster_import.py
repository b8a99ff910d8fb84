"""The roster import through the CLI and through the secretary's upload pages."""

from __future__ import annotations

import io
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.places import roster_service
from portal.places.models import Building, Compound, RosterOwner, Unit
from tests.conftest import text_of

DATA = Path(__file__).resolve().parent.parent / "data"
GOOD = DATA / "roster-sample.csv"
BAD = DATA / "roster-sample-bad.csv"


def sample_total_area() -> Decimal:
    lines = GOOD.read_text(encoding="utf-8").splitlines()[1:]
    return sum((Decimal(line.split(",")[2]) for line in lines), Decimal("0"))


def units_of(compound) -> list[Unit]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Unit).join(Building).where(Building.compound_id == compound.id).order_by(Unit.id)
        )
    )


def count(model, compound) -> int:
    if model is Unit:
        return len(units_of(compound))
    return db.session.scalar(
        select(func.count()).select_from(model).where(model.compound_id == compound.id)
    )


def run_import(app, path: Path, code: str, *extra: str):
    runner = app.test_cli_runner()
    return runner.invoke(
        args=["roster", "import", str(path), "--compound", code, "--lang", "en", *extra]
    )


def named_lines(output: str) -> list[int]:
    """The line numbers the error list names (one "  - Line N: …" per problem)."""
    return [int(n) for n in re.findall(r"^\s+- Line (\d+):", output, flags=re.M)]


@pytest.fixture
def app_config(tmp_path):
    """Uploads waiting for confirmation go to this test's own folder."""
    return {"ROSTER_UPLOAD_FOLDER": str(tmp_path / "uploads")}


@pytest.fixture
def compound(make_compound):
    return make_compound(name="雅苑小区", code="YP")


# ---- the command line ---------------------------------------------------------------------


def test_cli_imports_the_sample(app, compound):
    result = run_import(app, GOOD, "YP")
    assert result.exit_code == 0, result.output
    assert "Buildings created: 3" in result.output
    assert "Units created: 72, updated: 0, unchanged: 0" in result.output
    assert "Owners created: 70, updated: 0" in result.output

    units = units_of(compound)
    assert len(units) == 72
    assert count(Building, compound) == 3
    db.session.refresh(compound)
    assert (compound.unit_count, compound.building_count) == (72, 3)
    assert compound.total_area_m2 == sample_total_area()

    by_label = {u.label: u for u in units}
    assert by_label["1栋 401"].owner_id == by_label["1栋 402"].owner_id
    assert by_label["1栋 401"].owner.owner_key == "YP-0013"
    dev = [u for u in units if u.developer_held]
    assert {u.label for u in dev} == {"3栋 603", "3栋 604"}
    assert {u.owner.owner_key for u in dev} == {"DEV-001"}
    assert by_label["1栋 201"].owner.phone is None
    assert by_label["1栋 101"].owner.phone == "13800000001"


def test_cli_second_run_changes_nothing(app, compound):
    assert run_import(app, GOOD, "YP").exit_code == 0
    before = {
        u.id: (u.area_m2, u.owner_id, u.developer_held, u.updated_at) for u in units_of(compound)
    }
    owners = count(RosterOwner, compound)

    again = run_import(app, GOOD, "YP")
    assert again.exit_code == 0, again.output
    assert "Units created: 0, updated: 0, unchanged: 72" in again.output
    assert "Buildings created: 0" in again.output
    assert "Owners created: 0, updated: 0" in again.output
    after = {
        u.id: (u.area_m2, u.owner_id, u.developer_held, u.updated_at) for u in units_of(compound)
    }
    assert after == before
    assert count(RosterOwner, compound) == owners
    assert count(Building, compound) == 3
    db.session.refresh(compound)
    assert compound.unit_count == 72


def test_cli_bad_file_imports_nothing_and_names_every_bad_line(app, compound):
    result = run_import(app, BAD, "YP")
    assert result.exit_code != 0
    assert named_lines(result.output) == [5, 8, 10]
    assert "nothing was imported" in result.output
    assert count(Unit, compound) == 0
    assert count(Building, compound) == 0
    assert count(RosterOwner, compound) == 0


def test_cli_changed_area_updates_one_unit(app, compound, tmp_path):
    assert run_import(app, GOOD, "YP").exit_code == 0
    text = GOOD.read_text(encoding="utf-8").replace("1栋,102,102.36,", "1栋,102,103.00,")
    changed = tmp_path / "changed.csv"
    changed.write_text(text, encoding="utf-8")

    result = run_import(app, changed, "YP")
    assert result.exit_code == 0, result.output
    assert "Units created: 0, updated: 1, unchanged: 71" in result.output
    unit = next(u for u in units_of(compound) if u.label == "1栋 102")
    assert unit.area_m2 == Decimal("103.00")
    db.session.refresh(compound)
    assert compound.total_area_m2 == sample_total_area() + Decimal("0.64")
    assert count(Unit, compound) == 72


def test_cli_new_owner_and_developer_flag_update_units(app, compound, tmp_path):
    assert run_import(app, GOOD, "YP").exit_code == 0
    text = GOOD.read_text(encoding="utf-8")
    text = text.replace(
        "1栋,103,56.37,YP-0003,邵芳,13800000003,否", "1栋,103,56.37,YP-0999,钱多,,否"
    )
    text = text.replace(
        "3栋,604,102.36,DEV-001,示范置业有限公司,,是", "3栋,604,102.36,DEV-001,示范置业有限公司,,否"
    )
    text = text.replace("YP-0001,邱桂,13800000001", "YP-0001,邱桂,13900000001")
    changed = tmp_path / "changed.csv"
    changed.write_text(text, encoding="utf-8")

    result = run_import(app, changed, "YP")
    assert result.exit_code == 0, result.output
    assert "Units created: 0, updated: 2, unchanged: 70" in result.output
    assert "Owners created: 1, updated: 1" in result.output
    by_label = {u.label: u for u in units_of(compound)}
    assert by_label["1栋 103"].owner.name == "钱多"
    assert by_label["3栋 604"].developer_held is False
    assert by_label["1栋 101"].owner.phone == "13900000001"


def test_cli_units_missing_from_the_file_are_kept_and_counted(app, compound, tmp_path):
    assert run_import(app, GOOD, "YP").exit_code == 0
    part = tmp_path / "part.csv"
    part.write_text("\n".join(GOOD.read_text(encoding="utf-8").splitlines()[:11]), encoding="utf-8")
    result = run_import(app, part, "YP")
    assert result.exit_code == 0, result.output
    assert "not in the file (kept): 62" in result.output
    assert count(Unit, compound) == 72


def test_cli_dry_run_writes_nothing(app, compound):
    result = run_import(app, GOOD, "YP", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Units created: 72" in result.output
    assert count(Unit, compound) == 0


def test_cli_unknown_compound_fails(app, compound):
    result = run_import(app, GOOD, "NOPE")
    assert result.exit_code != 0
    assert "NOPE" in result.output


def test_buildings_sort_naturally_after_import(app, compound, tmp_path):
    rows = ["楼栋,房号,专有面积,业主编号,业主姓名"] + [
        f"{b}栋,101,80,K{b},业主{b}" for b in (10, 2, 1, 11)
    ]
    path = tmp_path / "b.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    assert run_import(app, path, "YP").exit_code == 0
    names = db.session.scalars(
        select(Building.name).where(Building.compound_id == compound.id).order_by(Building.sort_key)
    ).all()
    assert names == ["1栋", "2栋", "10栋", "11栋"]


def test_five_thousand_rows_import_in_under_ten_seconds(app, compound):
    lines = ["building,room,area_m2,owner_key,owner_name,phone,developer_held"]
    for i in range(5000):
        b, r = divmod(i, 100)
        phone = f"138{i:08d}" if i % 7 else ""
        room = f"{r // 4 + 1}{r % 4 + 1:02d}"
        area = f"{60 + i % 90}.{i % 100:02d}"
        lines.append(f"{b + 1}号楼,{room},{area},O{i},业主{i},{phone},")
    data = ("\n".join(lines) + "\n").encode()

    start = time.perf_counter()
    result = roster_service.import_roster(None, compound, data, "big.csv")
    db.session.commit()
    elapsed = time.perf_counter() - start
    assert result.units_created == 5000 and result.buildings_created == 50
    assert elapsed < 10, f"first import took {elapsed:.2f}s"

    again = roster_service.import_roster(None, compound, data, "big.csv")
    db.session.commit()
    assert again.units_unchanged == 5000
    assert again.changes == 0
    db.session.refresh(compound)
    assert compound.unit_count == 5000 and compound.building_count == 50


# ---- the upload pages ---------------------------------------------------------------------


def upload(client, compound_id, data: bytes, filename: str = "roster.csv", lang: str = "en"):
    return client.post_form(
        f"/staff/roster?lang={lang}",
        {"compound": str(compound_id), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def confirm_token(resp) -> str:
    m = re.search(r'name="token"[^>]*value="([^"]+)"', resp.get_data(as_text=True))
    assert m, "no confirm form on the preview"
    return m.group(1)


def confirm(client, token: str):
    return client.post_form("/staff/roster/confirm?lang=en", {"token": token})


@pytest.fixture
def secretary(login_as, compound):
    return login_as("secretary", compound.community)


def test_secretary_previews_then_confirms(client, secretary, compound):
    page = client.get("/staff/roster?lang=en")
    assert page.status_code == 200
    assert compound.name in text_of(page)

    preview = upload(client, compound.id, GOOD.read_bytes())
    assert preview.status_code == 200
    text = text_of(preview)
    assert "Units in the file 72" in text
    assert "New units 72" in text
    assert "New buildings 3" in text
    assert "Import 72 units" in text
    assert count(Unit, compound) == 0, "the preview must not write"

    token = confirm_token(preview)
    stash = Path(current_app.config["ROSTER_UPLOAD_FOLDER"]) / f"roster-{token}"
    assert stash.exists()

    done = confirm(client, token)
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/compounds/{compound.code}")
    assert count(Unit, compound) == 72
    assert not stash.exists(), "the uploaded file is deleted after the import"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.imported"))
    assert event is not None
    assert event.actor_id == secretary.id and event.object_id == compound.id
    assert event.detail["units_created"] == 72

    hub = client.get(done.headers["Location"] + "?lang=en")
    assert "72 units added" in text_of(hub)

    again = confirm(client, token)
    assert again.status_code == 302
    assert count(Unit, compound) == 72


def test_reupload_of_same_file_previews_as_unchanged(client, secretary, compound):
    confirm(client, confirm_token(upload(client, compound.id, GOOD.read_bytes())))
    preview = upload(client, compound.id, GOOD.read_bytes())
    text = text_of(preview)
    assert "Units unchanged 72" in text
    assert "importing it changes nothing" in text


def test_bad_file_lists_every_bad_line_and_offers_no_confirm(client, secretary, compound):
    resp = upload(client, compound.id, BAD.read_bytes())
    assert resp.status_code == 422
    text = text_of(resp)
    assert "3 problems" in text
    assert re.findall(r"Line (\d+):", text) == ["5", "8", "10"]
    assert "roster/confirm" not in resp.get_data(as_text=True)
    assert count(Unit, compound) == 0


def test_bad_file_message_in_chinese_names_the_lines(client, secretary, compound):
    resp = upload(client, compound.id, BAD.read_bytes(), lang="zh_Hans_CN")
    assert resp.status_code == 422
    text = text_of(resp)
    for n in ("5", "8", "10"):
        assert re.search(rf"(?<![\d.]){n}(?!\d)", text)


def test_xlsx_upload(client, secretary, compound):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["楼栋", "房号", "专有面积", "业主编号", "业主姓名", "联系电话"])
    ws.append(["1栋", 101, 89.5, "K1", "张三", 13800138000])
    ws.append(["1栋", 102, 70.25, "K2", "李四", None])
    buf = io.BytesIO()
    wb.save(buf)
    preview = upload(client, compound.id, buf.getvalue(), "roster.xlsx")
    assert preview.status_code == 200, text_of(preview)
    confirm(client, confirm_token(preview))
    units = {u.room: u for u in units_of(compound)}
    assert units["101"].area_m2 == Decimal("89.50")
    assert units["101"].owner.phone == "13800138000"


def test_upload_requires_a_csv_or_xlsx_file(client, secretary, compound):
    resp = upload(client, compound.id, b"hello", "notes.txt")
    assert resp.status_code == 422
    assert "CSV" in text_of(resp)
    resp = client.post_form("/staff/roster?lang=en", {"compound": str(compound.id)})
    assert resp.status_code == 422


def test_too_large_upload_says_the_limit(client, secretary, compound):
    big = b"x" * (10 * 1024 * 1024 + 1)
    resp = upload(client, compound.id, big)
    assert resp.status_code == 413
    assert "10 MB" in text_of(resp)


def test_resident_without_a_role_is_refused(client, login_as, compound):
    login_as()
    assert client.get("/staff/roster").status_code == 403
    resp = upload(client, compound.id, GOOD.read_bytes())
    assert resp.status_code == 403
    assert count(Unit, compound) == 0


def test_anonymous_is_sent_to_login(client, compound):
    resp = client.get("/staff/roster")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_secretary_of_another_community_cannot_import(
    client, login_as, make_community, make_compound, compound
):
    other = make_compound(community=make_community(), name="别处小区")
    login_as("secretary", other.community)
    page = client.get("/staff/roster")
    assert page.status_code == 200
    assert "别处小区" in text_of(page)
    assert compound.name not in text_of(page)

    resp = upload(client, compound.id, GOOD.read_bytes())
    assert resp.status_code == 403
    assert count(Unit, compound) == 0


def test_confirm_cannot_be_redirected_to_another_compound(
    client, login_as, make_community, make_compound, compound
):
    """The compound comes from the session, not from the confirm form."""
    secretary = login_as("secretary", compound.community)
    preview = upload(client, compound.id, GOOD.read_bytes())
    token = confirm_token(preview)
    other = make_compound(community=make_community())
    resp = client.post_form("/staff/roster/confirm", {"token": token, "compound": str(other.id)})
    assert resp.status_code == 302
    assert count(Unit, other) == 0
    assert count(Unit, compound) == 72
    assert secretary.id


def test_confirm_with_a_forged_token_imports_nothing(client, secretary, compound):
    upload(client, compound.id, GOOD.read_bytes())
    resp = confirm(client, "A" * 32)
    assert resp.status_code == 302
    assert count(Unit, compound) == 0


def test_admin_sees_every_compound(client, login_as, make_compound, compound):
    other = make_compound(name="第二小区")
    login_as("admin")
    text = text_of(client.get("/staff/roster"))
    assert compound.name in text and other.name in text


def test_upload_page_queries_do_not_grow_with_compounds(
    client, login_as, make_compound, make_community, count_queries
):
    login_as("admin")
    make_compound()
    client.get("/staff/roster")
    with count_queries() as few:
        assert client.get("/staff/roster").status_code == 200
    for _ in range(10):
        make_compound(community=make_community())
    with count_queries() as many:
        assert client.get("/staff/roster").status_code == 200
    assert many.count == few.count
    assert few.count <= 4


def test_counters_follow_the_import_on_the_public_page(client, app, compound):
    assert run_import(app, GOOD, "YP").exit_code == 0
    text = text_of(client.get(f"/compounds/{compound.code}?lang=en"))
    assert "Units 72" in text
    assert "Buildings 3" in text


def test_service_refuses_other_secretaries(app, compound, make_user, make_grant, make_community):
    from portal.errors import PermissionDenied

    user = make_user()
    make_grant(user, "secretary", make_community())
    with app.test_request_context():
        with pytest.raises(PermissionDenied):
            roster_service.preview(user, compound, GOOD.read_bytes(), "r.csv")
        with pytest.raises(PermissionDenied):
            roster_service.import_roster(user, compound, GOOD.read_bytes(), "r.csv")
    assert db.session.get(Compound, compound.id).unit_count == 0
