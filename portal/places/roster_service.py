"""The roster import: check a file against a compound's units, then apply it in bulk.

``preview`` reads and checks the file and says what an import would do, changing nothing;
``import_roster`` does it. Both take the acting user (``None``: the system, e.g. the CLI) and
check that the user may import into the compound: the site admin, or a secretary of the
compound's community. Neither commits: the route or the command does.

The import is idempotent: units are matched by (building name, room), owners by ``owner_key``;
changed areas, owners and developer flags are updated, nothing is duplicated, and units on record
but absent from the file are kept (they may carry residents' claims) and only counted.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from portal import audit, security
from portal.errors import Conflict, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.models_base import utcnow
from portal.places.models import Building, Community, Compound, RosterOwner, Unit
from portal.places.roster import RosterRow, RowError, building_sort_key, parse_roster

Progress = Callable[[int, int], None]
_CHUNK = 1000
SAMPLE_ROWS = 5


@dataclass
class ImportResult:
    """What an import did (or, from ``preview``, would do)."""

    filename: str = ""
    rows: int = 0
    buildings_created: int = 0
    units_created: int = 0
    units_updated: int = 0
    units_unchanged: int = 0
    owners_created: int = 0
    owners_updated: int = 0
    not_in_file: int = 0
    # The compound's counters after the import.
    unit_count: int = 0
    building_count: int = 0
    total_area_m2: Decimal = Decimal("0.00")
    errors: list[RowError] = field(default_factory=list)
    sample: list[RosterRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changes(self) -> int:
        return (
            self.buildings_created
            + self.units_created
            + self.units_updated
            + self.owners_created
            + self.owners_updated
        )

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "buildings_created": self.buildings_created,
            "units_created": self.units_created,
            "units_updated": self.units_updated,
            "units_unchanged": self.units_unchanged,
            "owners_created": self.owners_created,
            "owners_updated": self.owners_updated,
            "not_in_file": self.not_in_file,
        }


class RosterInvalid(ValidationFailed):
    """The file has problems; ``errors`` lists every one. Nothing was imported."""

    def __init__(self, errors: list[RowError]):
        super().__init__(
            ngettext(
                "The roster has %(num)d problem; nothing was imported.",
                "The roster has %(num)d problems; nothing was imported.",
                len(errors),
            )
        )
        self.errors = errors


# ---- permission ---------------------------------------------------------------------------


def may_import(actor, compound: Compound) -> bool:
    if actor is None:  # the system: the CLI or the demo seed
        return True
    return security.is_admin(actor) or security.is_secretary_of(actor, compound.community)


def _check_permission(actor, compound: Compound) -> None:
    if not may_import(actor, compound):
        raise PermissionDenied(_("Only this community's secretary can import its rosters."))


def importable_compounds(actor) -> list[Compound]:
    """The compounds ``actor`` may import into, with their community, in one query."""
    stmt = (
        select(Compound)
        .join(Community, Community.id == Compound.community_id)
        .options(contains_eager(Compound.community))
        .order_by(Community.name, Compound.name, Compound.id)
    )
    if not security.is_admin(actor):
        ids = security.secretary_community_ids(actor)
        if not ids:
            return []
        stmt = stmt.where(Compound.community_id.in_(ids))
    return list(db.session.scalars(stmt))


# ---- planning -----------------------------------------------------------------------------


@dataclass
class _Plan:
    result: ImportResult
    new_buildings: list[str] = field(default_factory=list)
    new_owners: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # key: name, phone
    owner_updates: list[dict] = field(default_factory=list)
    new_units: list[RosterRow] = field(default_factory=list)
    changed_units: list[tuple[int, RosterRow]] = field(default_factory=list)
    sort_key_fixes: list[dict] = field(default_factory=list)


def _owner_phones(rows: list[RosterRow]) -> dict[str, str | None]:
    """One phone per owner: the first one given for that owner key in the file."""
    phones: dict[str, str | None] = {}
    for row in rows:
        if phones.get(row.owner_key) is None:
            phones[row.owner_key] = row.phone
    return phones


def _plan(compound: Compound, rows: list[RosterRow], progress: Progress | None) -> _Plan:
    total = len(rows) * 2
    plan = _Plan(result=ImportResult(rows=len(rows), sample=rows[:SAMPLE_ROWS]))
    r = plan.result

    buildings = {
        b.name: (b.id, b.sort_key)
        for b in db.session.execute(
            select(Building.name, Building.id, Building.sort_key).where(
                Building.compound_id == compound.id
            )
        )
    }
    owners = {
        o.owner_key: (o.id, o.name, o.phone)
        for o in db.session.execute(
            select(
                RosterOwner.owner_key, RosterOwner.id, RosterOwner.name, RosterOwner.phone
            ).where(RosterOwner.compound_id == compound.id)
        )
    }
    owner_key_of = {oid: key for key, (oid, _n, _p) in owners.items()}
    units = {
        (u.building_name, u.room): (u.id, u.area_m2, u.owner_id, u.developer_held)
        for u in db.session.execute(
            select(
                Building.name.label("building_name"),
                Unit.room,
                Unit.id,
                Unit.area_m2,
                Unit.owner_id,
                Unit.developer_held,
            )
            .join(Building, Building.id == Unit.building_id)
            .where(Building.compound_id == compound.id)
        )
    }

    # owners
    phones = _owner_phones(rows)
    names: dict[str, str] = {}
    for row in rows:
        names.setdefault(row.owner_key, row.owner_name)
    for key, name in names.items():
        phone = phones.get(key)
        if key not in owners:
            plan.new_owners[key] = (name, phone)
        else:
            oid, old_name, old_phone = owners[key]
            if old_name != name or old_phone != phone:
                plan.owner_updates.append({"id": oid, "name": name, "phone": phone})
    r.owners_created = len(plan.new_owners)
    r.owners_updated = len(plan.owner_updates)

    # buildings
    seen_buildings: set[str] = set()
    for row in rows:
        if row.building in seen_buildings:
            continue
        seen_buildings.add(row.building)
        wanted_key = building_sort_key(row.building)
        if row.building not in buildings:
            plan.new_buildings.append(row.building)
        elif buildings[row.building][1] != wanted_key:
            plan.sort_key_fixes.append({"id": buildings[row.building][0], "sort_key": wanted_key})
    r.buildings_created = len(plan.new_buildings)

    # units
    in_file: set[tuple[str, str]] = set()
    area_in_file = Decimal("0")
    for i, row in enumerate(rows, start=1):
        key = (row.building, row.room)
        in_file.add(key)
        area_in_file += row.area
        existing = units.get(key)
        if existing is None:
            plan.new_units.append(row)
        else:
            uid, area, owner_id, developer = existing
            if (
                Decimal(area) != row.area
                or owner_key_of.get(owner_id) != row.owner_key
                or bool(developer) != row.developer_held
            ):
                plan.changed_units.append((uid, row))
            else:
                r.units_unchanged += 1
        if progress and i % 500 == 0:
            progress(i, total)
    r.units_created = len(plan.new_units)
    r.units_updated = len(plan.changed_units)

    kept = [v for k, v in units.items() if k not in in_file]
    r.not_in_file = len(kept)
    r.unit_count = len(units) + r.units_created
    r.building_count = len(buildings) + r.buildings_created
    r.total_area_m2 = (area_in_file + sum((Decimal(v[1]) for v in kept), Decimal("0"))).quantize(
        Decimal("0.01")
    )
    return plan


# ---- applying -----------------------------------------------------------------------------


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _apply(compound: Compound, plan: _Plan, progress: Progress | None) -> None:
    r = plan.result
    n = r.rows
    total = n * 2
    now = utcnow()

    if plan.new_buildings:
        db.session.execute(
            insert(Building),
            [
                {"compound_id": compound.id, "name": name, "sort_key": building_sort_key(name)}
                for name in plan.new_buildings
            ],
        )
    if plan.sort_key_fixes:
        db.session.execute(update(Building), plan.sort_key_fixes)
    building_ids = dict(
        db.session.execute(
            select(Building.name, Building.id).where(Building.compound_id == compound.id)
        ).all()
    )

    for chunk in _chunks(list(plan.new_owners.items())):
        db.session.execute(
            insert(RosterOwner),
            [
                {"compound_id": compound.id, "owner_key": key, "name": name, "phone": phone}
                for key, (name, phone) in chunk
            ],
        )
    for chunk in _chunks(plan.owner_updates):
        db.session.execute(update(RosterOwner), chunk)
    owner_ids = dict(
        db.session.execute(
            select(RosterOwner.owner_key, RosterOwner.id).where(
                RosterOwner.compound_id == compound.id
            )
        ).all()
    )

    done = n
    for chunk in _chunks(plan.new_units):
        db.session.execute(
            insert(Unit),
            [
                {
                    "building_id": building_ids[row.building],
                    "room": row.room,
                    "area_m2": row.area,
                    "owner_id": owner_ids[row.owner_key],
                    "developer_held": row.developer_held,
                    "updated_at": now,
                }
                for row in chunk
            ],
        )
        done += len(chunk)
        if progress:
            progress(done, total)
    for chunk in _chunks(plan.changed_units):
        db.session.execute(
            update(Unit),
            [
                {
                    "id": uid,
                    "area_m2": row.area,
                    "owner_id": owner_ids[row.owner_key],
                    "developer_held": row.developer_held,
                    "updated_at": now,
                }
                for uid, row in chunk
            ],
        )
        done += len(chunk)
        if progress:
            progress(done, total)

    # The counters the public pages read, from the database itself.
    units_q = (
        select(func.count(Unit.id), func.coalesce(func.sum(Unit.area_m2), 0))
        .join(Building, Building.id == Unit.building_id)
        .where(Building.compound_id == compound.id)
    )
    unit_count, total_area = db.session.execute(units_q).one()
    building_count = db.session.scalar(
        select(func.count(Building.id)).where(Building.compound_id == compound.id)
    )
    compound.unit_count = unit_count
    compound.building_count = building_count
    compound.total_area_m2 = Decimal(total_area).quantize(Decimal("0.01"))
    r.unit_count, r.building_count, r.total_area_m2 = (
        compound.unit_count,
        compound.building_count,
        compound.total_area_m2,
    )
    if progress:
        progress(total, total)


# ---- operations ---------------------------------------------------------------------------


def preview(actor, compound: Compound, data: bytes, filename: str = "") -> ImportResult:
    """Check the file and count what an import would change; nothing is written."""
    _check_permission(actor, compound)
    parsed = parse_roster(data, filename)
    if not parsed.ok:
        return ImportResult(filename=filename, errors=parsed.errors)
    result = _plan(compound, parsed.rows, None).result
    result.filename = filename
    return result


def import_roster(
    actor,
    compound: Compound,
    data: bytes,
    filename: str = "",
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the file into the compound, all or nothing. Raises ``RosterInvalid`` (a
    ``ValidationFailed``) listing every problem, ``PermissionDenied``, or ``Conflict`` when
    another import of the same compound got in first. Does not commit."""
    _check_permission(actor, compound)
    parsed = parse_roster(data, filename)
    if not parsed.ok:
        raise RosterInvalid(parsed.errors)
    if progress:
        progress(0, len(parsed.rows) * 2)
    plan = _plan(compound, parsed.rows, progress)
    plan.result.filename = filename
    try:
        _apply(compound, plan, progress)
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(
            _("Another import into this compound ran at the same time. Please try again.")
        ) from exc
    audit.record(
        "roster.imported",
        actor,
        compound,
        filename=filename[:100] or None,
        sha256=hashlib.sha256(data).hexdigest(),
        **plan.result.counts(),
    )
    return plan.result


# ---- the uploaded file between preview and confirmation ----------------------------------

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
STASH_MAX_AGE = 24 * 3600


def _stash_path(folder: str | Path, token: str) -> Path | None:
    if not _TOKEN.match(token or ""):
        return None
    return Path(folder) / f"roster-{token}"


def stash_upload(folder: str | Path, data: bytes) -> tuple[str, str]:
    """Keep an uploaded file until it is confirmed: returns (token, sha256).

    Files older than a day (abandoned previews) are removed on the way.
    """
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - STASH_MAX_AGE
    for old in path.glob("roster-*"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_urlsafe(24)
    target = _stash_path(path, token)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return token, hashlib.sha256(data).hexdigest()


def load_stash(folder: str | Path, token: str, sha256: str) -> bytes | None:
    """The stashed bytes, or None when gone or not the file that was previewed."""
    target = _stash_path(folder, token)
    if target is None or not target.is_file():
        return None
    data = target.read_bytes()
    if not secrets.compare_digest(hashlib.sha256(data).hexdigest(), sha256 or ""):
        return None
    return data


def discard_stash(folder: str | Path, token: str) -> None:
    target = _stash_path(folder, token)
    if target is not None:
        target.unlink(missing_ok=True)
