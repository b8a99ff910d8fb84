"""Service commitments: the itemised promises of a compound's current contract.

The community secretary (or the site admin) records them for the current contract; until
contracts are itemised at signing, ``itemise`` seeds one item per line of the contract's
commitments text. Until the voting domain's signing is used, ``record_contract`` lets the
secretary record a compound's current contract directly (a ``Contract`` without an election).

Evidence: a commitment page shows the inspection findings in its category during the contract;
they come from the ratings domain through ``evidence_for``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal import audit, security
from portal.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.places.models import Company, Compound
from portal.transparency import feecore
from portal.transparency.models import Commitment
from portal.voting.models import Contract


def may_manage(actor, compound: Compound) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return security.is_admin(actor) or compound.community_id in security.role_ids(
        actor, "secretary"
    )


def _require(actor, compound: Compound) -> None:
    if not may_manage(actor, compound):
        raise PermissionDenied(
            _("Only the community secretary records this compound's contract and commitments.")
        )


def current_contract(compound: Compound, today: date | None = None) -> Contract | None:
    from portal.voting.service import current_contract as _current

    return _current(compound, today)


def commitments_of(contract: Contract) -> list[Commitment]:
    return list(
        db.session.scalars(
            select(Commitment)
            .where(Commitment.contract_id == contract.id)
            .order_by(Commitment.position, Commitment.id)
        )
    )


def get_commitment(compound: Compound, commitment_id: int) -> Commitment:
    c = db.session.scalar(
        select(Commitment)
        .where(Commitment.id == commitment_id, Commitment.compound_id == compound.id)
        .options(joinedload(Commitment.contract).joinedload(Contract.company))
    )
    if c is None:
        raise NotFound()
    return c


@dataclass
class CommitmentInput:
    category: str
    promise: str
    standard: str
    service_level: str
    fee_per_m2: Decimal


def _check(data: CommitmentInput) -> None:
    if data.category not in feecore.SERVICE_CATEGORIES:
        raise ValidationFailed(_("Choose a service category."))
    if data.service_level not in feecore.SERVICE_LEVELS:
        raise ValidationFailed(_("Choose a service level."))
    if not (data.promise or "").strip():
        raise ValidationFailed(_("Write the promise."))
    if data.fee_per_m2 is None or data.fee_per_m2 < 0:
        raise ValidationFailed(_("The fee per m² is a number of yuan, 0 or more."))


def add_commitment(actor, compound: Compound, contract: Contract, data: CommitmentInput, now):
    _require(actor, compound)
    if contract.compound_id != compound.id:
        raise NotFound()
    _check(data)
    position = db.session.scalar(
        select(func.coalesce(func.max(Commitment.position), 0)).where(
            Commitment.contract_id == contract.id
        )
    )
    c = Commitment(
        contract_id=contract.id,
        compound_id=compound.id,
        position=position + 1,
        category=data.category,
        promise=data.promise.strip()[:300],
        standard=(data.standard or "").strip()[:300],
        service_level=data.service_level,
        fee_per_m2=data.fee_per_m2,
        created_at=now,
        updated_at=now,
        created_by_id=actor.id,
    )
    db.session.add(c)
    db.session.flush()
    audit.record("commitment.added", actor, c, contract=contract.id, category=c.category)
    return c


def update_commitment(actor, commitment: Commitment, data: CommitmentInput, now) -> None:
    _require(actor, commitment.compound)
    _check(data)
    before = {
        "category": commitment.category,
        "promise": commitment.promise,
        "standard": commitment.standard,
        "service_level": commitment.service_level,
        "fee_per_m2": str(commitment.fee_per_m2),
    }
    commitment.category = data.category
    commitment.promise = data.promise.strip()[:300]
    commitment.standard = (data.standard or "").strip()[:300]
    commitment.service_level = data.service_level
    commitment.fee_per_m2 = data.fee_per_m2
    commitment.updated_at = now
    audit.record("commitment.updated", actor, commitment, before=before)


def delete_commitment(actor, commitment: Commitment) -> None:
    _require(actor, commitment.compound)
    audit.record(
        "commitment.deleted",
        actor,
        commitment,
        contract=commitment.contract_id,
        category=commitment.category,
        promise=commitment.promise,
    )
    db.session.delete(commitment)
    db.session.flush()


def itemise(actor, compound: Compound, contract: Contract, now: datetime) -> list[Commitment]:
    """One commitment per line of the contract's commitments text (category guessed from its
    words; service level and fee from the contract). Only while the contract has no items."""
    _require(actor, compound)
    if contract.compound_id != compound.id:
        raise NotFound()
    if commitments_of(contract):
        raise Conflict(_("This contract's commitments are already itemised."))
    texts = feecore.split_commitments(contract.commitments)
    if not texts:
        raise ValidationFailed(_("The contract has no commitments text to itemise."))
    level = contract.service_level if contract.service_level in feecore.SERVICE_LEVELS else "二级"
    items = []
    for position, text in enumerate(texts, start=1):
        c = Commitment(
            contract_id=contract.id,
            compound_id=compound.id,
            position=position,
            category=feecore.guess_category(text),
            promise=text[:300],
            standard="",
            service_level=level,
            fee_per_m2=contract.fee_per_m2,
            created_at=now,
            updated_at=now,
            created_by_id=actor.id,
        )
        db.session.add(c)
        items.append(c)
    db.session.flush()
    audit.record("commitment.itemised", actor, contract, compound=compound.id, items=len(items))
    return items


@dataclass
class ContractInput:
    company_id: int | None
    new_company: str
    starts_on: date
    ends_on: date
    fee_per_m2: Decimal
    service_level: str
    commitments: str


def record_contract(actor, compound: Compound, data: ContractInput, now: datetime) -> Contract:
    """Record the compound's current contract directly (no election on the portal)."""
    _require(actor, compound)
    if data.ends_on <= data.starts_on:
        raise ValidationFailed(_("The contract must end after it starts."))
    if data.service_level not in feecore.SERVICE_LEVELS:
        raise ValidationFailed(_("Choose a service level."))
    if data.fee_per_m2 is None or data.fee_per_m2 < 0:
        raise ValidationFailed(_("The fee per m² is a number of yuan, 0 or more."))
    company = None
    if data.company_id:
        company = db.session.get(Company, data.company_id)
    elif (data.new_company or "").strip():
        name = data.new_company.strip()[:150]
        company = db.session.scalar(select(Company).where(Company.name == name))
        if company is None:
            company = Company(name=name)
            db.session.add(company)
            db.session.flush()
            audit.record("company.created", actor, company, name=name)
    if company is None:
        raise ValidationFailed(_("Choose the property company, or write its name."))
    contract = Contract(
        compound_id=compound.id,
        company_id=company.id,
        election_id=None,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        fee_per_m2=data.fee_per_m2,
        service_level=data.service_level,
        commitments=(data.commitments or "").strip(),
        signed_at=now,
        signed_by_id=actor.id,
    )
    db.session.add(contract)
    db.session.flush()
    audit.record(
        "contract.recorded",
        actor,
        contract,
        compound=compound.id,
        company=company.id,
        starts_on=data.starts_on.isoformat(),
        ends_on=data.ends_on.isoformat(),
    )
    return contract


# ---- evidence (the ratings domain's findings) --------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """One inspection finding shown as evidence of a commitment."""

    found_on: date
    level: str  # the inspection level as shown (community / street / district / third party)
    description: str
    outcome: str  # e.g. "rectified", "open", "failed re-inspection", as shown
    deadline: date | None = None
    url: str | None = None


def evidence_for(commitment: Commitment) -> list[Evidence]:
    """The inspection findings in the commitment's category for its compound during its
    contract, newest first (from the ratings domain; phone numbers masked)."""
    from zoneinfo import ZoneInfo

    from flask import url_for

    from portal.ratings import service as ratings
    from portal.ratings.labels import FINDING_STATUS_LABELS, LEVEL_LABELS

    compound = db.session.get(Compound, commitment.compound_id)
    contract = db.session.get(Contract, commitment.contract_id)
    shanghai = ZoneInfo("Asia/Shanghai")
    evidence = []
    for finding in ratings.findings_for_category(compound, commitment.category):
        found_on = finding.created_at.astimezone(shanghai).date()
        if contract is not None and not (contract.starts_on <= found_on <= contract.ends_on):
            continue
        level = finding.inspection.level
        evidence.append(
            Evidence(
                found_on=found_on,
                level=str(LEVEL_LABELS.get(level, level)),
                description=ratings.redact_phones(finding.description),
                outcome=str(FINDING_STATUS_LABELS.get(finding.status, finding.status)),
                deadline=finding.deadline,
                url=url_for("ratings.inspection", inspection_id=finding.inspection_id),
            )
        )
    return evidence
