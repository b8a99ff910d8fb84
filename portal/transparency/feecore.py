"""The arithmetic and the rules of fee statements (pure: no Flask, no database, no floats).

* Amounts are ``Decimal`` with at most two decimals; rates are exact ``Fraction`` values and
  are compared as fractions. ``percent()`` rounds a rate to one decimal, half up, for display
  only.
* A statement's lines are unique by (direction, category, item); that key is what a revision's
  diff compares.
* A question is *overdue* when it has no answer and is older than the allowed days:
  ``now - asked_at > days`` (exactly ``days`` old is not overdue yet).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2)

DIRECTIONS = ("income", "expense")
INCOME_CATEGORIES = ("property_fees", "subsidy", "parking", "common_area", "other_income")
EXPENSE_CATEGORIES = (
    "wages",
    "cleaning",
    "greening",
    "security",
    "repairs",
    "utilities",
    "management",
    "other_expense",
)
CATEGORIES = {"income": INCOME_CATEGORIES, "expense": EXPENSE_CATEGORIES}
ALL_CATEGORIES = INCOME_CATEGORIES + EXPENSE_CATEGORIES

# The service categories of commitments; the same list as the inspections' categories.
SERVICE_CATEGORIES = (
    "cleaning",
    "greening",
    "security",
    "facilities",
    "parking",
    "fire_safety",
    "service_desk",
    "repairs",
    "other",
)
SERVICE_LEVELS = ("一级", "二级", "三级")


# ---- money --------------------------------------------------------------------------------


def parse_amount(raw, *, allow_negative: bool = False) -> Decimal | None:
    """A money amount: a number with at most two decimals (thousands separators and a leading
    ¥ allowed), not negative unless allowed; None when it is not one."""
    if raw is None:
        return None
    if isinstance(raw, Decimal):
        value = raw
    else:
        if isinstance(raw, float):
            raw = repr(raw)
        s = str(raw).strip().replace(",", "").replace("，", "")
        s = s.removeprefix("¥").removeprefix("￥").removeprefix("CNY").strip()
        if not s:
            return None
        try:
            value = Decimal(s)
        except InvalidOperation:
            return None
    if not value.is_finite():
        return None
    if value != value.quantize(CENT):
        return None
    if value < 0 and not allow_negative:
        return None
    if abs(value) > MAX_AMOUNT:
        return None
    return value.quantize(CENT) + Decimal("0.00")  # -0.00 -> 0.00


def parse_count(raw) -> int | None:
    """A whole number of households, 0 or more; None when it is not one."""
    if raw is None:
        return None
    s = str(raw).strip().replace(",", "")
    if s.endswith(".0"):
        s = s[:-2]
    if not s.isdigit() or len(s) > 9:
        return None
    return int(s)


def total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal("0.00"))


# ---- rates --------------------------------------------------------------------------------


def rate(part, whole) -> Fraction | None:
    """part / whole as an exact fraction; None when there is nothing to divide by."""
    if whole is None or part is None or whole == 0:
        return None
    return Fraction(Decimal(part)) / Fraction(Decimal(whole))


def percent(value: Fraction | None, places: int = 1) -> Decimal | None:
    """A rate as a percentage rounded half up to ``places`` decimals (for display only)."""
    if value is None:
        return None
    scaled = value * 100 * 10**places
    q, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r >= scaled.denominator:
        q += 1
    return (Decimal(q) / Decimal(10**places)).quantize(Decimal(1).scaleb(-places))


def money_places(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# ---- statements -------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    direction: str  # income | expense
    category: str
    item: str
    amount: Decimal
    note: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.direction, self.category, self.item.strip())


@dataclass(frozen=True)
class Billing:
    """Households billed and paid, and the amounts billed and collected (whole compound or one
    building); ``building`` is empty for the whole compound."""

    households_billed: int
    households_paid: int
    amount_billed: Decimal
    amount_collected: Decimal
    building: str = ""

    @property
    def collection_rate(self) -> Fraction | None:
        return rate(self.amount_collected, self.amount_billed)

    @property
    def payment_rate(self) -> Fraction | None:
        return rate(self.households_paid, self.households_billed)


@dataclass(frozen=True)
class Totals:
    income: Decimal
    expense: Decimal
    opening_balance: Decimal

    @property
    def surplus(self) -> Decimal:
        return self.income - self.expense

    @property
    def closing_balance(self) -> Decimal:
        """The balance carried forward: brought forward + income − expenses."""
        return self.opening_balance + self.income - self.expense


def totals(lines: Iterable[Line], opening_balance: Decimal = Decimal("0.00")) -> Totals:
    income = expense = Decimal("0.00")
    for line in lines:
        if line.direction == "income":
            income += line.amount
        else:
            expense += line.amount
    return Totals(income, expense, opening_balance)


def by_category(lines: Iterable[Line], direction: str) -> list[tuple[str, Decimal]]:
    """(category, sum) for one direction, in the fixed order of the categories; categories
    without lines are left out."""
    sums: dict[str, Decimal] = {}
    for line in lines:
        if line.direction == direction:
            sums[line.category] = sums.get(line.category, Decimal("0.00")) + line.amount
    return [(c, sums[c]) for c in CATEGORIES[direction] if c in sums]


@dataclass(frozen=True)
class Problem:
    """A rule a statement breaks. ``code`` names the message; ``line`` is a file line (0: none)."""

    code: str
    params: dict = field(default_factory=dict)
    line: int = 0


def check_billing(billing: Billing) -> list[Problem]:
    problems = []
    label = {"building": billing.building} if billing.building else {}
    if billing.households_paid > billing.households_billed:
        problems.append(Problem("paid_over_billed", label))
    if billing.amount_collected > billing.amount_billed:
        problems.append(Problem("collected_over_billed", label))
    return problems


def check_statement(
    lines: Sequence[Line], billing: Billing | None, buildings: Sequence[Billing]
) -> list[Problem]:
    """The rules across a statement's parts: unique lines, known categories, billing figures
    that make sense, and buildings that add up to the compound's billing."""
    problems: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()
    for line in lines:
        if line.direction not in DIRECTIONS or line.category not in CATEGORIES[line.direction]:
            problems.append(Problem("category_unknown", {"category": line.category}))
        if line.key in seen:
            problems.append(
                Problem("line_duplicate", {"category": line.category, "item": line.item})
            )
        seen.add(line.key)
    if billing is not None:
        problems.extend(check_billing(billing))
    names: set[str] = set()
    for b in buildings:
        if b.building in names:
            problems.append(Problem("building_duplicate", {"building": b.building}))
        names.add(b.building)
        problems.extend(check_billing(b))
    if buildings:
        if billing is None:
            problems.append(Problem("billing_missing"))
        else:
            sums = sum_billing(buildings)
            if (
                sums.households_billed != billing.households_billed
                or sums.households_paid != billing.households_paid
                or sums.amount_billed != billing.amount_billed
                or sums.amount_collected != billing.amount_collected
            ):
                problems.append(Problem("buildings_do_not_add_up"))
    return problems


def sum_billing(rows: Iterable[Billing]) -> Billing:
    hb = hp = 0
    ab = ac = Decimal("0.00")
    for r in rows:
        hb += r.households_billed
        hp += r.households_paid
        ab += r.amount_billed
        ac += r.amount_collected
    return Billing(hb, hp, ab, ac)


# ---- revisions: what changed --------------------------------------------------------------


@dataclass(frozen=True)
class LineChange:
    kind: str  # added | removed | changed
    key: tuple[str, str, str]
    old: Line | None
    new: Line | None

    @property
    def delta(self) -> Decimal:
        return (self.new.amount if self.new else Decimal("0.00")) - (
            self.old.amount if self.old else Decimal("0.00")
        )

    @property
    def note_changed(self) -> bool:
        return bool(self.old and self.new and self.old.note.strip() != self.new.note.strip())


def diff_lines(old: Sequence[Line], new: Sequence[Line]) -> list[LineChange]:
    """Line by line, matched by (direction, category, item): lines added, removed, or changed
    (amount or note). Unchanged lines are left out. Order: the new statement's order, then the
    removed lines in the old order."""
    old_by_key = {line.key: line for line in old}
    new_keys = set()
    changes: list[LineChange] = []
    for line in new:
        new_keys.add(line.key)
        before = old_by_key.get(line.key)
        if before is None:
            changes.append(LineChange("added", line.key, None, line))
        elif before.amount != line.amount or before.note.strip() != line.note.strip():
            changes.append(LineChange("changed", line.key, before, line))
    for line in old:
        if line.key not in new_keys:
            changes.append(LineChange("removed", line.key, line, None))
    return changes


@dataclass(frozen=True)
class FigureChange:
    name: str  # households_billed, amount_collected, opening_balance … or building:<name>
    old: object
    new: object
    building: str = ""


_BILLING_FIELDS = ("households_billed", "households_paid", "amount_billed", "amount_collected")


def diff_figures(
    old_billing: Billing | None,
    new_billing: Billing | None,
    old_opening: Decimal,
    new_opening: Decimal,
    old_buildings: Sequence[Billing] = (),
    new_buildings: Sequence[Billing] = (),
) -> list[FigureChange]:
    """The billing figures and the balance brought forward that differ between two revisions
    (per building too; a building present on one side only shows its figures against None)."""
    changes: list[FigureChange] = []
    if old_opening != new_opening:
        changes.append(FigureChange("opening_balance", old_opening, new_opening))
    for name in _BILLING_FIELDS:
        a = getattr(old_billing, name) if old_billing else None
        b = getattr(new_billing, name) if new_billing else None
        if a != b:
            changes.append(FigureChange(name, a, b))
    old_b = {b.building: b for b in old_buildings}
    new_b = {b.building: b for b in new_buildings}
    for building in list(new_b) + [n for n in old_b if n not in new_b]:
        for name in _BILLING_FIELDS:
            a = getattr(old_b[building], name) if building in old_b else None
            b = getattr(new_b[building], name) if building in new_b else None
            if a != b:
                changes.append(FigureChange(name, a, b, building))
    return changes


# ---- questions ------------------------------------------------------------------------------


def is_overdue(asked_at: datetime, answered_at: datetime | None, now: datetime, days: int) -> bool:
    """Unanswered and older than ``days`` days at ``now`` (exactly ``days`` old: not yet)."""
    if answered_at is not None:
        return False
    return now - asked_at > timedelta(days=days)


def overdue_since(asked_at: datetime, days: int) -> datetime:
    """The moment after which an unanswered question is overdue."""
    return asked_at + timedelta(days=days)


# ---- personal data in free text -------------------------------------------------------------

_PHONE_IN_TEXT = re.compile(
    r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)"  # a mobile, spaced or not
    r"|(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)"  # a landline with its area code
)


def contains_phone(text: str | None) -> bool:
    """True when the text carries something that looks like a phone number."""
    return bool(text) and bool(_PHONE_IN_TEXT.search(text))


# ---- commitments from a contract's text -----------------------------------------------------

_BULLET = re.compile(
    r"^\s*(?:[-*•·●▪]|\(?\d{1,3}[.)、）．]|（\d{1,3}）|[一二三四五六七八九十]{1,3}[、.．])\s*"
)
_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fire_safety", ("消防", "灭火", "fire")),
    ("repairs", ("维修", "报修", "修缮", "repair")),
    ("cleaning", ("保洁", "清洁", "垃圾", "卫生", "清扫", "clean", "garbage", "rubbish")),
    ("greening", ("绿化", "绿地", "草坪", "花木", "green", "garden")),
    ("security", ("安保", "保安", "门岗", "巡逻", "监控", "秩序", "security", "patrol", "guard")),
    ("parking", ("停车", "车辆", "车位", "parking", "car")),
    ("service_desk", ("客服", "服务台", "前台", "接待", "投诉", "service desk", "reception")),
    ("facilities", ("设施", "设备", "电梯", "水泵", "供水", "照明", "lift", "elevator", "facilit")),
)


def split_commitments(text: str | None) -> list[str]:
    """A contract's commitments text as items: one per non-empty line, bullets and numbering
    ("1.", "（2）", "三、", "-") removed."""
    items = []
    for raw in (text or "").splitlines():
        line = _BULLET.sub("", raw).strip()
        if line:
            items.append(line)
    return items


def guess_category(text: str) -> str:
    """The service category a commitment's words suggest; "other" when none does."""
    low = text.lower()
    for category, words in _CATEGORY_WORDS:
        if any(w in low for w in words):
            return category
    return "other"
