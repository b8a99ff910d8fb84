"""Public pages: streets, communities, compound search and the compound hub."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_login import current_user

from portal import security
from portal.htmx import render_page_or_fragment
from portal.pagecache import shared_view
from portal.places import bp, service, tabs
from portal.places.labels import COMPOUND_KIND_LABELS, HUB_TABS


@bp.get("/")
def home():
    streets = service.list_streets()
    return render_template("places/home.html", streets=streets)


@bp.get("/streets/<code>")
def street(code: str):
    street = service.get_street(code)
    return render_template("places/street.html", street=street, kinds=COMPOUND_KIND_LABELS)


@bp.get("/communities/<code>")
def community(code: str):
    community = service.get_community(code)
    return render_template("places/community.html", community=community, kinds=COMPOUND_KIND_LABELS)


@bp.get("/compounds")
def compounds():
    q = request.args.get("q", "").strip()[:50]
    page = request.args.get("page", 1, type=int)
    pagination = service.search_compounds(q, page, current_app.config["PAGE_SIZE"])
    return render_page_or_fragment(
        "places/compounds.html",
        "places/_compound_results.html",
        q=q,
        pagination=pagination,
        kinds=COMPOUND_KIND_LABELS,
    )


def _hub_audience(code: str, tab: str = "notices") -> tuple | None:
    """Signed-in viewers who get the same hub tab (see ``tabs.register``). What a tab shows
    depends on the viewer's role grants only, so everyone without a grant (most residents) is
    one audience, found without loading the compound."""
    if tab not in HUB_TABS:
        return None
    if not security.has_grants(current_user):
        return (tab, "no role") if tabs.is_shared(tab) else None
    return tabs.audience(tab, service.get_compound(code), current_user)


@bp.get("/compounds/<code>")
@bp.get("/compounds/<code>/<tab>")
@shared_view(_hub_audience)
def compound(code: str, tab: str = "notices"):
    if tab not in HUB_TABS:
        abort(404)
    compound = service.get_compound(code)
    households = service.verified_household_count(compound)
    from portal.voting.service import current_contract

    contract = current_contract(compound)
    tab_context = {"contract": contract}
    tab_context.update(tabs.load(tab, compound, current_user, request.args))
    return render_page_or_fragment(
        "places/compound.html",
        "places/_hub_tabs.html",
        compound=compound,
        tab=tab,
        tabs=HUB_TABS,
        kinds=COMPOUND_KIND_LABELS,
        households=households,
        **tab_context,
    )
