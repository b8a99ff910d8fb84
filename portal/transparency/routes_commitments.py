"""Staff pages of service commitments: the compound's current contract (recorded directly when
there is none), its itemised commitments (add, edit, delete, itemise from the contract text)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.places import service as places
from portal.transparency import bp, commitments, feecore, service
from portal.transparency.forms import CommitmentForm, ConfirmForm, ContractForm
from portal.transparency.routes import _labels


def _actor():
    return current_user._get_current_object()


def _compound_for_manager(code: str):
    compound = places.get_compound(code)
    if not commitments.may_manage(_actor(), compound):
        abort(403)
    return compound


def _commitment_input(form: CommitmentForm) -> commitments.CommitmentInput:
    return commitments.CommitmentInput(
        category=form.category.data,
        promise=form.promise.data or "",
        standard=form.standard.data or "",
        service_level=form.service_level.data,
        fee_per_m2=feecore.parse_amount(form.fee_per_m2.data),
    )


def _manage_page(compound, form=None, status_code=200):
    contract = commitments.current_contract(compound)
    if form is None:
        form = CommitmentForm()
        if contract is not None and request.method == "GET":
            form.service_level.data = contract.service_level
            form.fee_per_m2.data = str(contract.fee_per_m2)
    return render_template(
        "transparency/commitments_manage.html",
        compound=compound,
        contract=contract,
        items=commitments.commitments_of(contract) if contract else [],
        form=form,
        confirm=ConfirmForm(),
        **_labels(),
    ), status_code


@bp.route("/staff/compounds/<code>/commitments", methods=["GET", "POST"])
@login_required
def manage_commitments(code: str):
    compound = _compound_for_manager(code)
    if request.method == "GET":
        return _manage_page(compound)
    contract = commitments.current_contract(compound)
    if contract is None:
        return redirect(url_for("transparency.record_contract", code=code))
    form = CommitmentForm()
    if not form.validate_on_submit():
        return _manage_page(compound, form, 422)
    try:
        commitments.add_commitment(_actor(), compound, contract, _commitment_input(form), utcnow())
    except DomainError as e:
        if e.status == 403:
            raise
        db.session.rollback()
        form.promise.errors.append(e.message)
        return _manage_page(compound, form, 422)
    db.session.commit()
    flash(_("The commitment is added."), "success")
    return redirect(url_for("transparency.manage_commitments", code=code))


@bp.post("/staff/compounds/<code>/commitments/itemise")
@login_required
def itemise_commitments(code: str):
    compound = _compound_for_manager(code)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    contract = commitments.current_contract(compound)
    if contract is None:
        abort(404)
    try:
        items = commitments.itemise(_actor(), compound, contract, utcnow())
    except DomainError as e:
        if e.status == 403:
            raise
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("transparency.manage_commitments", code=code))
    db.session.commit()
    flash(
        _(
            "%(n)d commitments are itemised from the contract. Check each one's category and "
            "add its measurable standard.",
            n=len(items),
        ),
        "success",
    )
    return redirect(url_for("transparency.manage_commitments", code=code))


@bp.route("/staff/commitments/<int:commitment_id>/edit", methods=["GET", "POST"])
@login_required
def edit_commitment(commitment_id: int):
    item = db.session.get(commitments.Commitment, commitment_id)
    if item is None:
        abort(404)
    compound = item.compound
    if not commitments.may_manage(_actor(), compound):
        abort(403)
    if request.method == "GET":
        form = CommitmentForm(
            formdata=None,
            data={
                "category": item.category,
                "promise": item.promise,
                "standard": item.standard,
                "service_level": item.service_level,
                "fee_per_m2": str(item.fee_per_m2),
            },
        )
        return render_template(
            "transparency/commitment_form.html",
            compound=compound,
            item=item,
            form=form,
            **_labels(),
        )
    form = CommitmentForm()
    if form.validate_on_submit():
        try:
            commitments.update_commitment(_actor(), item, _commitment_input(form), utcnow())
        except DomainError as e:
            if e.status == 403:
                raise
            db.session.rollback()
            form.promise.errors.append(e.message)
        else:
            db.session.commit()
            flash(_("The commitment is saved."), "success")
            return redirect(url_for("transparency.manage_commitments", code=compound.code))
    return render_template(
        "transparency/commitment_form.html",
        compound=compound,
        item=item,
        form=form,
        **_labels(),
    ), 422


@bp.post("/staff/commitments/<int:commitment_id>/delete")
@login_required
def delete_commitment(commitment_id: int):
    item = db.session.get(commitments.Commitment, commitment_id)
    if item is None:
        abort(404)
    code = item.compound.code
    if not commitments.may_manage(_actor(), item.compound):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    commitments.delete_commitment(_actor(), item)
    db.session.commit()
    flash(_("The commitment is deleted."), "info")
    return redirect(url_for("transparency.manage_commitments", code=code))


@bp.route("/staff/compounds/<code>/contract", methods=["GET", "POST"])
@login_required
def record_contract(code: str):
    compound = _compound_for_manager(code)
    form = ContractForm()
    companies = service.companies()
    form.company.choices = [(0, _("Choose a company"))] + [(c.id, c.name) for c in companies]
    current = commitments.current_contract(compound)
    if form.validate_on_submit():
        data = commitments.ContractInput(
            company_id=form.company.data or None,
            new_company=form.new_company.data or "",
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            fee_per_m2=feecore.parse_amount(form.fee_per_m2.data),
            service_level=form.service_level.data,
            commitments=form.commitments.data or "",
        )
        try:
            commitments.record_contract(_actor(), compound, data, utcnow())
        except DomainError as e:
            if e.status == 403:
                raise
            db.session.rollback()
            form.company.errors.append(e.message)
        else:
            db.session.commit()
            flash(_("The contract is recorded as the compound's current contract."), "success")
            return redirect(url_for("transparency.manage_commitments", code=code))
    return render_template(
        "transparency/contract_form.html",
        compound=compound,
        form=form,
        current=current,
        **_labels(),
    ), (422 if form.errors else 200)
