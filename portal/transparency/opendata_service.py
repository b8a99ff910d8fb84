"""Open data of the fee accounts: CSV and JSON of the published statements (current revisions
only), and the same lines as a Fiscal Data Package.

No personal data: no names, no phone numbers, no per-household figures — only each statement's
lines, totals, and its billing per compound and per building. Amounts are written as decimal
strings with two decimals (JSON) or plain numbers (CSV), never through floats.

The Fiscal Data Package (OpenSpending FDP 0.3): ``datapackage.json`` with one tabular resource
``fees.csv`` (a relative path, so the package works from the portal's URL and downloaded as
files) and a ``model`` whose measure is ``amount`` (currency CNY, phase executed) and whose
dimensions are the direction (income / expenditure), the fiscal period, the phase, the compound
and the category. The descriptor's ``profile`` is ``tabular-data-package``: the FDP JSON schema
itself requires that value (its first ``allOf`` part), so a package declaring
``fiscal-data-package`` fails that schema — and offline validators cannot fetch it anyway.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from sqlalchemy import select, true

from portal.extensions import db
from portal.places.models import Community, Compound, Street
from portal.transparency import feecore
from portal.transparency.labels import CATEGORY_LABELS
from portal.transparency.models import FeeBuildingBilling, FeeLine, FeeStatement
from portal.transparency.service import latest_published

LICENCE = "CC-BY-4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
FDP_DIRECTION = {"income": "income", "expense": "expenditure"}

FEE_FIELDS = [
    ("compound_code", "string", "The compound's code on the portal"),
    ("compound", "string", "The compound's name"),
    ("community", "string", "The community (社区) of the compound"),
    ("street", "string", "The street (街道) of the community"),
    ("period_type", "string", "month, quarter or year"),
    ("fiscal_period", "string", "The period: 2026-01 (month), 2026-Q1 (quarter), 2026 (year)"),
    ("period_start", "date", "First day of the period"),
    ("period_end", "date", "Last day of the period"),
    ("revision", "integer", "The statement's revision (1: as first published)"),
    ("published", "date", "The day the secretary published this revision"),
    ("direction", "string", "income or expenditure"),
    ("category", "string", "The category code"),
    ("category_zh", "string", "The category in Chinese"),
    ("category_en", "string", "The category in English"),
    ("item", "string", "The company's name for the line (may be empty)"),
    ("amount", "number", "The amount in yuan"),
    ("currency", "string", "Always CNY"),
    ("phase", "string", "Always executed: the accounts of money received and spent"),
]
COLLECTION_FIELDS = [
    "compound_code",
    "compound",
    "community",
    "street",
    "period_type",
    "fiscal_period",
    "period_start",
    "period_end",
    "revision",
    "published",
    "building",
    "households_billed",
    "households_paid",
    "amount_billed",
    "amount_collected",
    "collection_rate_percent",
]


def _category_names() -> dict[str, tuple[str, str]]:
    names = {}
    for code, label in CATEGORY_LABELS.items():
        with force_locale("zh_Hans_CN"):
            zh = str(label)
        with force_locale("en"):
            en = str(label)
        names[code] = (zh, en)
    return names


def _local_date(value: datetime | None) -> str:
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()


def _statements_query(compound: Compound | None):
    stmt = (
        select(
            FeeStatement,
            Compound.code,
            Compound.name,
            Community.name.label("community"),
            Street.name.label("street"),
        )
        .join(Compound, Compound.id == FeeStatement.compound_id)
        .join(Community, Community.id == Compound.community_id)
        .join(Street, Street.id == Community.street_id)
        .where(latest_published())
    )
    if compound is not None:
        stmt = stmt.where(FeeStatement.compound_id == compound.id)
    return stmt


def _head(row) -> dict:
    s: FeeStatement = row[0]
    return {
        "compound_code": row.code,
        "compound": row.name,
        "community": row.community,
        "street": row.street,
        "period_type": s.period_kind,
        "fiscal_period": s.period_key,
        "period_start": s.period_start.isoformat(),
        "period_end": s.period_end.isoformat(),
        "revision": s.revision,
        "published": _local_date(s.published_at),
    }


def fee_rows(compound: Compound | None = None) -> Iterator[dict]:
    """One dict per line of every current published statement (FEE_FIELDS), in the order
    compound, period, line; one query, streamed."""
    names = _category_names()
    stmt = (
        _statements_query(compound)
        .add_columns(FeeLine)
        .join(FeeLine, FeeLine.statement_id == FeeStatement.id)
        .order_by(
            Compound.code, FeeStatement.period_start, FeeStatement.period_key, FeeLine.position
        )
        .execution_options(yield_per=1000)
    )
    for row in db.session.execute(stmt):
        line: FeeLine = row[-1]
        zh, en = names[line.category]
        yield {
            **_head(row),
            "direction": FDP_DIRECTION[line.direction],
            "category": line.category,
            "category_zh": zh,
            "category_en": en,
            "item": line.item,
            "amount": str(line.amount),
            "currency": "CNY",
            "phase": "executed",
        }


def collection_rows(compound: Compound | None = None) -> Iterator[dict]:
    """One dict per statement (building empty: the whole compound) and per building."""
    stmt = (
        _statements_query(compound)
        .order_by(Compound.code, FeeStatement.period_start, FeeStatement.period_key)
        .execution_options(yield_per=500)
    )
    heads = []
    for row in db.session.execute(stmt):
        heads.append((row[0].id, _head(row), row[0]))
    buildings: dict[int, list[FeeBuildingBilling]] = {}
    if heads:
        b_stmt = (
            select(FeeBuildingBilling)
            .join(FeeStatement, FeeStatement.id == FeeBuildingBilling.statement_id)
            .join(Compound, Compound.id == FeeStatement.compound_id)
            .where(latest_published())
            .order_by(FeeBuildingBilling.statement_id, FeeBuildingBilling.sort_key)
        )
        if compound is not None:
            b_stmt = b_stmt.where(FeeStatement.compound_id == compound.id)
        for b in db.session.scalars(b_stmt):
            buildings.setdefault(b.statement_id, []).append(b)
    for sid, head, s in heads:
        yield {**head, "building": "", **_billing(s)}
        for b in buildings.get(sid, []):
            yield {**head, "building": b.building_name, **_billing(b)}


def _billing(x) -> dict:
    shown = feecore.percent(feecore.rate(x.amount_collected, x.amount_billed))
    return {
        "households_billed": x.households_billed,
        "households_paid": x.households_paid,
        "amount_billed": str(x.amount_billed),
        "amount_collected": str(x.amount_collected),
        "collection_rate_percent": "" if shown is None else str(shown),
    }


def to_csv(rows: Iterator[dict], fields: list[str], bom: bool = False) -> Iterator[str]:
    """CSV text in chunks (UTF-8; with a BOM for Excel when asked)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    if bom:
        buf.write("\ufeff")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow(row)
        n += 1
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def fee_csv_fields() -> list[str]:
    return [name for name, _t, _d in FEE_FIELDS]


def statements_json(compound: Compound | None, now: datetime) -> dict:
    """Every current published statement with its totals, billing, buildings and lines."""
    heads = list(
        db.session.execute(
            _statements_query(compound).order_by(
                Compound.code, FeeStatement.period_start, FeeStatement.period_key
            )
        )
    )
    ids = [row[0].id for row in heads]
    lines: dict[int, list] = {}
    buildings: dict[int, list] = {}
    if ids:
        cond = FeeStatement.compound_id == compound.id if compound is not None else true()
        for line in db.session.scalars(
            select(FeeLine)
            .join(FeeStatement, FeeStatement.id == FeeLine.statement_id)
            .where(latest_published(), cond)
            .order_by(FeeLine.statement_id, FeeLine.position)
        ):
            lines.setdefault(line.statement_id, []).append(line)
        for b in db.session.scalars(
            select(FeeBuildingBilling)
            .join(FeeStatement, FeeStatement.id == FeeBuildingBilling.statement_id)
            .where(latest_published(), cond)
            .order_by(FeeBuildingBilling.statement_id, FeeBuildingBilling.sort_key)
        ):
            buildings.setdefault(b.statement_id, []).append(b)
    out = []
    for row in heads:
        s: FeeStatement = row[0]
        head = _head(row)
        surplus = s.income_total - s.expense_total
        out.append(
            {
                "compound": {
                    "code": head["compound_code"],
                    "name": head["compound"],
                    "community": head["community"],
                    "street": head["street"],
                },
                "period": {
                    "type": s.period_kind,
                    "key": s.period_key,
                    "start": head["period_start"],
                    "end": head["period_end"],
                },
                "revision": s.revision,
                "revised": s.revision > 1,
                "revision_reason": s.revision_reason or None,
                "published": head["published"],
                "currency": "CNY",
                "totals": {
                    "income": str(s.income_total),
                    "expenditure": str(s.expense_total),
                    "surplus": str(surplus),
                    "balance_brought_forward": str(s.opening_balance),
                    "balance_carried_forward": str(s.opening_balance + surplus),
                },
                "billing": _billing(s),
                "buildings": [
                    {"building": b.building_name, **_billing(b)} for b in buildings.get(s.id, [])
                ],
                "lines": [
                    {
                        "direction": FDP_DIRECTION[x.direction],
                        "category": x.category,
                        "item": x.item,
                        "amount": str(x.amount),
                        "note": x.note,
                    }
                    for x in lines.get(s.id, [])
                ],
            }
        )
    return {
        "dataset": "fee-accounts",
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "generated_at": now.isoformat().replace("+00:00", "Z"),
        "amounts": "decimal strings in yuan (CNY)",
        "statements": out,
    }


# ---- the Fiscal Data Package -----------------------------------------------------------------


@dataclass(frozen=True)
class PackageInfo:
    name: str
    title: str
    description: str
    homepage: str


def period_bounds(compound: Compound | None) -> tuple[str, str] | None:
    from sqlalchemy import func

    stmt = select(func.min(FeeStatement.period_start), func.max(FeeStatement.period_end)).where(
        FeeStatement.status == "published"
    )
    if compound is not None:
        stmt = stmt.where(FeeStatement.compound_id == compound.id)
    start, end = db.session.execute(stmt).one()
    if start is None:
        return None
    return start.isoformat(), end.isoformat()


def fdp_descriptor(info: PackageInfo, bounds: tuple[str, str] | None, now: datetime) -> dict:
    categories = list(feecore.ALL_CATEGORIES)
    types = dict((n, t) for n, t, _d in FEE_FIELDS)
    descriptions = dict((n, d) for n, _t, d in FEE_FIELDS)
    constraints = {
        "period_type": {"required": True, "enum": ["month", "quarter", "year"]},
        "direction": {"required": True, "enum": ["income", "expenditure"]},
        "category": {"required": True, "enum": categories},
        "currency": {"required": True, "enum": ["CNY"]},
        "phase": {"required": True, "enum": ["executed"]},
        "amount": {"required": True, "minimum": 0},
        "compound_code": {"required": True},
        "fiscal_period": {"required": True},
        "revision": {"required": True, "minimum": 1},
    }
    fields = []
    for name, _t, _d in FEE_FIELDS:
        f = {"name": name, "type": types[name], "description": descriptions[name]}
        if name in constraints:
            f["constraints"] = constraints[name]
        fields.append(f)
    descriptor = {
        "profile": "tabular-data-package",
        "name": info.name,
        "title": info.title,
        "description": info.description,
        "homepage": info.homepage,
        "created": now.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "keywords": ["fiscal-data-package", "property fees", "物业费收支公示", "CNY"],
        "licenses": [
            {"name": LICENCE, "path": LICENCE_URL, "title": "Creative Commons Attribution 4.0"}
        ],
        "countryCode": "CN",
        "granularity": "aggregated",
        "resources": [
            {
                "name": "fees",
                "path": "fees.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": fields,
                    "missingValues": [],
                    "primaryKey": [
                        "compound_code",
                        "fiscal_period",
                        "direction",
                        "category",
                        "item",
                    ],
                },
            }
        ],
        "model": {
            "measures": {"amount": {"source": "amount", "currency": "CNY", "phase": "executed"}},
            "dimensions": {
                "direction": {
                    "dimensionType": "classification",
                    "attributes": {"direction": {"source": "direction"}},
                    "primaryKey": "direction",
                },
                "fiscal_period": {
                    "dimensionType": "datetime",
                    "attributes": {
                        "fiscal_period": {"source": "fiscal_period"},
                        "period_type": {"source": "period_type"},
                        "period_start": {"source": "period_start"},
                        "period_end": {"source": "period_end"},
                    },
                    "primaryKey": "fiscal_period",
                },
                "phase": {
                    "dimensionType": "other",
                    "attributes": {"phase": {"source": "phase"}},
                    "primaryKey": "phase",
                },
                "compound": {
                    "dimensionType": "entity",
                    "attributes": {
                        "compound_code": {"source": "compound_code"},
                        "compound": {"source": "compound", "labelfor": "compound_code"},
                        "community": {"source": "community"},
                        "street": {"source": "street"},
                    },
                    "primaryKey": "compound_code",
                },
                "category": {
                    "dimensionType": "classification",
                    "classificationType": "economic",
                    "attributes": {
                        "category": {"source": "category"},
                        "category_zh": {"source": "category_zh", "labelfor": "category"},
                        "category_en": {"source": "category_en", "labelfor": "category"},
                        "item": {"source": "item", "parent": "category"},
                    },
                    "primaryKey": ["category", "item"],
                },
            },
        },
    }
    if bounds is not None:
        descriptor["fiscalPeriod"] = {"start": bounds[0], "end": bounds[1]}
    return descriptor


def fdp_csv(compound: Compound | None) -> str:
    return "".join(to_csv(fee_rows(compound), fee_csv_fields()))


def fdp_zip(descriptor: dict, csv_text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2))
        zf.writestr("fees.csv", csv_text)
    return buf.getvalue()
