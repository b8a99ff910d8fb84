"""What a statement page shows, computed once for the templates: totals, the breakdown charts,
collection by building, and the trend (no database access here)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from flask import g
from flask_babel import gettext as _

from portal.transparency import charts, feecore
from portal.transparency.formatting import money, period_label, short_period
from portal.transparency.labels import CATEGORY_LABELS
from portal.transparency.models import FeeStatement


@dataclass(frozen=True)
class BuildingRow:
    name: str
    households_billed: int
    households_paid: int
    amount_billed: Decimal
    amount_collected: Decimal
    collection_rate: Fraction | None
    payment_rate: Fraction | None
    bar: int  # width of the rate bar in percent units (0–100), from the exact rate


@dataclass
class StatementView:
    statement: FeeStatement
    totals: feecore.Totals
    income: list[tuple[str, Decimal]]
    expense: list[tuple[str, Decimal]]
    income_chart: charts.Chart
    expense_chart: charts.Chart
    collection_rate: Fraction | None
    payment_rate: Fraction | None
    buildings: list[BuildingRow]
    chart_desc: str


def _bar_percent(value: Fraction | None) -> int:
    if value is None or value <= 0:
        return 0
    scaled = value * 100
    q, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r >= scaled.denominator:
        q += 1
    return min(int(q), 100)


def statement_view(s: FeeStatement) -> StatementView:
    lines = [feecore.Line(x.direction, x.category, x.item, x.amount, x.note) for x in s.lines]
    t = feecore.totals(lines, s.opening_balance)
    income = feecore.by_category(lines, "income")
    expense = feecore.by_category(lines, "expense")
    top = max([v for _c, v in income + expense] or [Decimal(0)])
    large = bool(g.get("large_text"))

    def items(pairs, kind):
        return [(str(CATEGORY_LABELS[c]), v, money(v), kind) for c, v in pairs]

    billing = feecore.Billing(
        s.households_billed, s.households_paid, s.amount_billed, s.amount_collected
    )
    rows = []
    for b in s.buildings:
        cr = feecore.rate(b.amount_collected, b.amount_billed)
        rows.append(
            BuildingRow(
                name=b.building_name,
                households_billed=b.households_billed,
                households_paid=b.households_paid,
                amount_billed=b.amount_billed,
                amount_collected=b.amount_collected,
                collection_rate=cr,
                payment_rate=feecore.rate(b.households_paid, b.households_billed),
                bar=_bar_percent(cr),
            )
        )
    desc = _(
        "Income %(income)s, expenses %(expense)s. The largest income: %(top_in)s; the largest "
        "expense: %(top_out)s.",
        income=money(t.income),
        expense=money(t.expense),
        top_in=_largest(income),
        top_out=_largest(expense),
    )
    return StatementView(
        statement=s,
        totals=t,
        income=income,
        expense=expense,
        income_chart=charts.hbars(items(income, "income"), top=top, large=large),
        expense_chart=charts.hbars(items(expense, "expense"), top=top, large=large),
        collection_rate=billing.collection_rate,
        payment_rate=billing.payment_rate,
        buildings=rows,
        chart_desc=desc,
    )


def _largest(pairs: list[tuple[str, Decimal]]) -> str:
    if not pairs:
        return "—"
    category, value = max(pairs, key=lambda cv: cv[1])
    return f"{CATEGORY_LABELS[category]} {money(value)}"


@dataclass
class TrendView:
    points: list
    chart: charts.GroupedChart
    kind: str
    desc: str


def trend_view(points) -> TrendView:
    groups = []
    for p in points:
        label, sub = short_period(p.period)
        groups.append(
            (
                label,
                sub,
                [
                    (_("Income"), p.income or Decimal(0), money(p.income), "income"),
                    (_("Expenses"), p.expense or Decimal(0), money(p.expense), "expense"),
                ],
            )
        )
    shown = [p for p in points if p.income is not None]
    desc = _(
        "Income and expenses of %(count)d periods from %(first)s to %(last)s; %(shown)d of "
        "them have a published statement.",
        count=len(points),
        first=period_label(points[0].period) if points else "",
        last=period_label(points[-1].period) if points else "",
        shown=len(shown),
    )
    return TrendView(
        points=points,
        chart=charts.vbars(groups, top_text_for=money, large=bool(g.get("large_text"))),
        kind=points[-1].period.kind if points else "month",
        desc=desc,
    )
