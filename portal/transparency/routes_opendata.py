"""``/open-data/``: the catalogue of every domain's datasets, and the fee datasets.

Fee accounts (current revisions of published statements, no personal data):

* ``/open-data/fees.csv`` · ``/open-data/fees.json`` — every line (``?compound=CODE`` for one)
* ``/open-data/fee-collection.csv`` · ``.json`` — billing per compound and building
* ``/open-data/fees/datapackage.json`` + ``/open-data/fees/fees.csv``
  (+ ``fiscal-data-package.zip``)
  — the Fiscal Data Package of the whole district; ``/open-data/fees/<code>/…`` of one compound.
"""

from __future__ import annotations

import json

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import opendata
from portal.models_base import utcnow
from portal.places import service as places
from portal.readonly import needs_transaction
from portal.transparency import bp
from portal.transparency import opendata_service as od

opendata.register(
    opendata.Dataset(
        slug="fee-accounts",
        title=_l("Fee accounts"),
        description=_l(
            "Every line of the published fee statements of every compound: period, income or "
            "expense, category, item and amount in yuan. Only the current revision of each "
            "period; no personal data."
        ),
        downloads={"CSV": "transparency.open_fees_csv", "JSON": "transparency.open_fees_json"},
    )
)
opendata.register(
    opendata.Dataset(
        slug="fee-collection",
        title=_l("Fee collection by compound and building"),
        description=_l(
            "Households billed and paid, amounts billed and collected, and the collection "
            "rate of each published statement, for the whole compound and per building. "
            "Aggregates only: never a household's figures."
        ),
        downloads={
            "CSV": "transparency.open_collection_csv",
            "JSON": "transparency.open_collection_json",
        },
    )
)
opendata.register(
    opendata.Dataset(
        slug="fee-accounts-fdp",
        title=_l("Fee accounts as a Fiscal Data Package"),
        description=_l(
            "The same lines as a Fiscal Data Package (datapackage.json with a CSV file): "
            "currency CNY, direction income or expenditure, fiscal period, phase executed. "
            "It passes the frictionless validator."
        ),
        downloads={
            "datapackage.json": "transparency.fdp_descriptor",
            "CSV": "transparency.fdp_csv",
            "ZIP": "transparency.fdp_zip",
        },
    )
)

LICENCE_URLS = {"CC-BY-4.0": od.LICENCE_URL}


@bp.get("/open-data/")
def open_data():
    return render_template(
        "opendata/index.html", datasets=opendata.datasets(), licence_urls=LICENCE_URLS
    )


def _compound_arg():
    code = request.args.get("compound")
    return places.get_compound(code) if code else None


def _csv(rows, fields, filename: str, bom: bool = True) -> Response:
    # Built in the request (the rows come from the database session of this request).
    resp = Response("".join(od.to_csv(rows, fields, bom=bom)), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _json(payload, filename: str) -> Response:
    resp = Response(json.dumps(payload, ensure_ascii=False, indent=1), mimetype="application/json")
    resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.get("/open-data/fees.csv")
@needs_transaction  # streams the rows (a server-side cursor)
def open_fees_csv():
    compound = _compound_arg()
    return _csv(od.fee_rows(compound), od.fee_csv_fields(), "fees.csv")


@bp.get("/open-data/fees.json")
def open_fees_json():
    return _json(od.statements_json(_compound_arg(), utcnow()), "fees.json")


@bp.get("/open-data/fee-collection.csv")
@needs_transaction  # streams the rows (a server-side cursor)
def open_collection_csv():
    return _csv(od.collection_rows(_compound_arg()), od.COLLECTION_FIELDS, "fee-collection.csv")


@bp.get("/open-data/fee-collection.json")
@needs_transaction  # streams the rows (a server-side cursor)
def open_collection_json():
    rows = list(od.collection_rows(_compound_arg()))
    return _json(
        {
            "dataset": "fee-collection",
            "licence": od.LICENCE,
            "licence_url": od.LICENCE_URL,
            "generated_at": utcnow().isoformat().replace("+00:00", "Z"),
            "rows": rows,
        },
        "fee-collection.json",
    )


# ---- the Fiscal Data Package ------------------------------------------------------------------


def _package(compound):
    if compound is None:
        info = od.PackageInfo(
            name="fee-accounts",
            title=_("Fee accounts of the compounds on the portal"),
            description=_(
                "Income and expenditure of the residential compounds' property-fee accounts "
                "as published by their community secretaries (current revisions)."
            ),
            homepage=url_for("transparency.open_data", _external=True),
        )
    else:
        info = od.PackageInfo(
            name=f"fee-accounts-{compound.code.lower()}",
            title=_("Fee accounts of %(name)s", name=compound.name),
            description=_(
                "Income and expenditure of the property-fee account of %(name)s as published "
                "by the community secretary (current revisions).",
                name=compound.name,
            ),
            homepage=url_for("places.compound", code=compound.code, tab="fees", _external=True),
        )
    return od.fdp_descriptor(info, od.period_bounds(compound), utcnow())


def _valid_name(compound) -> None:
    import re

    if compound is not None and not re.match(r"^[-a-z0-9._/]+$", compound.code.lower()):
        abort(404)  # a code that cannot name a package


@bp.get("/open-data/fees/datapackage.json", defaults={"code": None})
@bp.get("/open-data/fees/<code>/datapackage.json")
def fdp_descriptor(code):
    compound = places.get_compound(code) if code else None
    _valid_name(compound)
    return _json(_package(compound), "datapackage.json")


@bp.get("/open-data/fees/fees.csv", defaults={"code": None})
@bp.get("/open-data/fees/<code>/fees.csv")
@needs_transaction  # streams the rows (a server-side cursor)
def fdp_csv(code):
    compound = places.get_compound(code) if code else None
    return _csv(od.fee_rows(compound), od.fee_csv_fields(), "fees.csv", bom=False)


@bp.get("/open-data/fees/fiscal-data-package.zip", defaults={"code": None})
@bp.get("/open-data/fees/<code>/fiscal-data-package.zip")
@needs_transaction  # streams the rows (a server-side cursor)
def fdp_zip(code):
    compound = places.get_compound(code) if code else None
    _valid_name(compound)
    data = od.fdp_zip(_package(compound), od.fdp_csv(compound))
    name = f"fee-accounts-{compound.code}.zip" if compound else "fee-accounts.zip"
    resp = Response(data, mimetype="application/zip")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp
