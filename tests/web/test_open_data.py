"""The open-data catalogue and the fee datasets: CSV, JSON and the Fiscal Data Package, which
passes the frictionless validator (in process and on the command line) and the FDP schema."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from flask_babel import lazy_gettext as _l

from portal import opendata
from portal.extensions import db
from portal.models_base import utcnow
from portal.transparency import service
from tests.conftest import text_of
from tests.web.test_fee_support import *  # noqa: F403
from tests.web.test_fee_support import D, Line, draft, publish

DATA = Path(__file__).resolve().parent.parent / "data" / "fees"
FDP_SCHEMA = DATA / "fiscal-data-package.schema.json"
FDP_SCHEMA_SHA256 = "8dfbf701eedafd876ac987088eb1c4028bba0b3f8f850b23d4aae1b0e4b0af06"
FRICTIONLESS = Path(sys.executable).with_name("frictionless")


@pytest.fixture
def accounts(fee_place, staff, secretary):
    """Two published months (January revised once), a draft and a submitted statement."""
    jan = publish(fee_place, staff, secretary, "2026-01")
    rev = service.start_revision(staff, jan, "更正停车费", utcnow())
    data = service.input_from_statement(rev)
    data.lines = [
        x if x.category != "parking" else Line("income", "parking", "", D("1300.00"))
        for x in data.lines
    ]
    service.update_draft(staff, rev, data, utcnow())
    service.submit(staff, rev, utcnow())
    service.publish(secretary, rev, utcnow())
    publish(fee_place, staff, secretary, "2026-02")
    draft(fee_place, staff, "2026-03", lines=[Line("income", "parking", "草稿", D("5.00"))])
    db.session.commit()
    return fee_place


def test_the_index_lists_every_registered_dataset_with_its_licence(client, en):
    extra = opendata.register(
        opendata.Dataset(
            slug="zz-test",
            title=_l("Roll call"),
            description=_l("Everyone who counted, filtered by ?street=<code>."),
            downloads={"CSV": "transparency.open_fees_csv"},
            licence="ODbL-1.0",
        )
    )
    try:
        resp = client.get("/open-data/?lang=en")
        page, html = text_of(resp), resp.get_data(as_text=True)
        for d in opendata.datasets():
            assert f'id="dataset-{d.slug}"' in html and en(d.title) in page
        for d in opendata.datasets():
            if d.slug.startswith("fee-") or d.slug == "zz-test":
                assert en(d.description) in page
        assert "Fee accounts as a Fiscal Data Package" in page
        assert "CC-BY-4.0" in page and "ODbL-1.0" in page
        html = client.get("/open-data/").get_data(as_text=True)
        # descriptions are text, never markup
        assert "?street=&lt;code&gt;." in html and "<code>." not in html
        assert 'href="/open-data/fees/datapackage.json"' in html
        assert (
            'href="/open-data/fees.csv"' in html and 'href="/open-data/fee-collection.json"' in html
        )
    finally:
        opendata._DATASETS.pop(extra.slug, None)


def test_csv_has_only_current_published_revisions(client, accounts):
    body = client.get("/open-data/fees.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body)))
    periods = {r["fiscal_period"] for r in rows}
    assert periods == {"2026-01", "2026-02"}  # no draft
    jan = [r for r in rows if r["fiscal_period"] == "2026-01"]
    assert {r["revision"] for r in jan} == {"2"}
    parking = next(r for r in jan if r["category"] == "parking")
    assert parking["amount"] == "1300.00" and parking["direction"] == "income"
    assert {r["direction"] for r in rows} == {"income", "expenditure"}
    assert {r["currency"] for r in rows} == {"CNY"} and {r["phase"] for r in rows} == {"executed"}
    one = client.get(f"/open-data/fees.csv?compound={accounts.compound.code}").get_data(
        as_text=True
    )
    assert one.lstrip("\ufeff") == body
    assert client.get("/open-data/fees.csv?compound=NOPE").status_code == 404


def test_json_and_collection(client, accounts):
    payload = client.get("/open-data/fees.json").get_json()
    assert payload["licence"] == "CC-BY-4.0"
    jan = next(s for s in payload["statements"] if s["period"]["key"] == "2026-01")
    assert jan["revision"] == 2 and jan["revised"] and jan["revision_reason"] == "更正停车费"
    assert jan["totals"]["income"] == "9950.00"
    assert jan["billing"]["collection_rate_percent"] == "87.5"
    assert [b["building"] for b in jan["buildings"]] == ["1栋", "2栋"]
    coll = list(
        csv.DictReader(
            io.StringIO(
                client.get("/open-data/fee-collection.csv").get_data(as_text=True).lstrip("\ufeff")
            )
        )
    )
    assert [(r["fiscal_period"], r["building"], r["collection_rate_percent"]) for r in coll] == [
        ("2026-01", "", "87.5"),
        ("2026-01", "1栋", "75.0"),
        ("2026-01", "2栋", "100.0"),
        ("2026-02", "", "87.5"),
        ("2026-02", "1栋", "75.0"),
        ("2026-02", "2栋", "100.0"),
    ]
    assert (
        client.get("/open-data/fee-collection.json").get_json()["rows"][0]["households_paid"] == 7
    )


def _download_package(client, target: Path, prefix: str) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in ("datapackage.json", "fees.csv"):
        resp = client.get(f"{prefix}/{name}")
        assert resp.status_code == 200, name
        (target / name).write_bytes(resp.get_data())
    return target / "datapackage.json"


def test_the_fiscal_data_package_validates_with_frictionless(client, accounts, tmp_path):
    from frictionless import Package, validate

    for prefix in ("/open-data/fees", f"/open-data/fees/{accounts.compound.code}"):
        path = _download_package(client, tmp_path / prefix.strip("/").replace("/", "-"), prefix)
        report = validate(str(path))
        assert report.valid, report.flatten(["type", "note", "message"])
        assert Package(str(path)).validate().valid
        descriptor = json.loads(path.read_text(encoding="utf-8"))
        model = descriptor["model"]
        assert model["measures"]["amount"] == {
            "source": "amount",
            "currency": "CNY",
            "phase": "executed",
        }
        assert set(model["dimensions"]) == {
            "direction",
            "fiscal_period",
            "phase",
            "compound",
            "category",
        }
        assert descriptor["resources"][0]["path"] == "fees.csv"
        assert descriptor["fiscalPeriod"] == {"start": "2026-01-01", "end": "2026-02-28"}
        rows = list(csv.DictReader(io.StringIO((path.parent / "fees.csv").read_text("utf-8"))))
        assert rows and not (path.parent / "fees.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_the_frictionless_command_line_says_valid(client, accounts, tmp_path):
    path = _download_package(client, tmp_path / "fdp", f"/open-data/fees/{accounts.compound.code}")
    exe = FRICTIONLESS if FRICTIONLESS.exists() else "frictionless"
    done = subprocess.run(
        [str(exe), "validate", "datapackage.json"],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "invalid" not in done.stdout.lower()


def test_the_zip_holds_a_valid_package(client, accounts, tmp_path):
    from frictionless import validate

    resp = client.get(f"/open-data/fees/{accounts.compound.code}/fiscal-data-package.zip")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(resp.get_data())) as zf:
        assert sorted(zf.namelist()) == ["datapackage.json", "fees.csv"]
        zf.extractall(tmp_path / "zip")
    assert validate(str(tmp_path / "zip" / "datapackage.json")).valid
    assert client.get("/open-data/fees/fiscal-data-package.zip").status_code == 200


def test_the_descriptor_follows_the_fiscal_data_package_schema(client, accounts):
    """Offline: the FDP JSON schema (vendored) instead of the one frictionless would fetch."""
    import jsonschema

    raw = FDP_SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == FDP_SCHEMA_SHA256
    schema = json.loads(raw)
    descriptor = client.get("/open-data/fees/datapackage.json").get_json()
    jsonschema.Draft4Validator(schema).validate(descriptor)
    # A broken model is caught by the same schema (the check can fail).
    broken = json.loads(json.dumps(descriptor))
    broken["model"]["measures"]["amount"]["currency"] = "yuan"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(broken)


def test_an_empty_district_still_gives_a_valid_package(client, tmp_path):
    from frictionless import validate

    path = _download_package(client, tmp_path / "empty", "/open-data/fees")
    assert validate(str(path)).valid


def test_query_counts_of_datasets_do_not_grow(client, fee_place, staff, secretary, count_queries):
    publish(fee_place, staff, secretary, "2026-01")
    paths = [
        "/open-data/fees.csv",
        "/open-data/fees.json",
        "/open-data/fee-collection.csv",
        "/open-data/fees/datapackage.json",
        "/open-data/",
    ]
    small = {}
    for p in paths:
        with count_queries() as q:
            assert client.get(p).status_code == 200
        small[p] = q.count
    for m in range(2, 13):
        publish(fee_place, staff, secretary, f"2026-{m:02d}")
    for p in paths:
        with count_queries() as q:
            assert client.get(p).status_code == 200
        assert q.count == small[p], p
