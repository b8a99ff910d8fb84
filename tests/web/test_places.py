"""Public place pages: streets, communities, compound search and the compound hub."""

import pytest

from portal.places.labels import HUB_TABS
from tests.conftest import text_of


def test_home_lists_streets_and_communities(client, make_community):
    c = make_community(name="和平里社区")
    text = text_of(client.get("/"))
    assert c.street.name in text and "和平里社区" in text


def test_home_empty_state(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert "demo" in text_of(client.get("/?lang=en")).lower()


def test_street_and_community_pages(client, make_compound):
    compound = make_compound(name="光明小区", buildings=1, units_per_building=4)
    community = compound.community
    text = text_of(client.get(f"/streets/{community.street.code}"))
    assert community.name in text and "光明小区" in text
    text = text_of(client.get(f"/communities/{community.code}"))
    assert "光明小区" in text


def test_unknown_places_are_404(client):
    assert client.get("/streets/NOPE").status_code == 404
    assert client.get("/communities/NOPE").status_code == 404
    assert client.get("/compounds/NOPE").status_code == 404


def test_compound_hub_shows_facts_and_every_tab(client, make_compound, en):
    compound = make_compound(
        name="和平花园", buildings=2, units_per_building=4, kind="resettlement"
    )
    resp = client.get(f"/compounds/{compound.code}?lang=en")
    text = text_of(resp)
    assert "和平花园" in text
    assert "Resettlement housing" in text
    assert "708.00 m²" in text  # 8 units x 88.50
    for label, _empty in HUB_TABS.values():
        assert en(label) in text


@pytest.mark.parametrize("tab", list(HUB_TABS))
def test_each_tab_has_its_own_url_and_honest_empty_state(client, make_compound, tab, en):
    compound = make_compound()
    resp = client.get(f"/compounds/{compound.code}/{tab}?lang=en")
    assert resp.status_code == 200
    text = text_of(resp)
    assert en(HUB_TABS[tab][1]) in text
    assert 'aria-current="page"' in resp.get_data(as_text=True)


def test_tab_fragment_for_htmx_and_page_otherwise(client, make_compound):
    compound = make_compound(name="和平花园")
    frag = client.hx_get(f"/compounds/{compound.code}/fees")
    assert frag.status_code == 200
    body = frag.get_data(as_text=True)
    assert "<html" not in body and 'id="tab-panel"' in body
    assert "HX-Request" in frag.headers.get("Vary", "")
    # a history restore must get the whole page
    full = client.get(
        f"/compounds/{compound.code}/fees",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in full.get_data(as_text=True)
    assert "HX-Request" in full.headers.get("Vary", "")


def test_unknown_tab_is_404(client, make_compound):
    compound = make_compound()
    assert client.get(f"/compounds/{compound.code}/nonsense").status_code == 404


def test_search_by_name(client, make_compound):
    make_compound(name="和平花园")
    make_compound(name="光明小区")
    text = text_of(client.get("/compounds?q=和平"))
    assert "和平花园" in text and "光明小区" not in text
    text = text_of(client.get("/compounds?q=不存在的名字&lang=en"))
    assert "No compound matches" in text


def test_search_treats_wildcards_literally(client, make_compound):
    make_compound(name="和平花园")
    text = text_of(client.get("/compounds?q=%25&lang=en"))
    assert "和平花园" not in text


def test_search_results_fragment_for_htmx(client, make_compound):
    make_compound(name="和平花园")
    body = client.hx_get("/compounds?q=和平").get_data(as_text=True)
    assert "<html" not in body and "和平花园" in body


def test_compound_list_is_paginated(client, make_community, make_compound):
    community = make_community()
    for i in range(25):
        make_compound(community=community, name=f"小区{i:02d}")
    first = text_of(client.get("/compounds?lang=en"))
    assert "小区00" in first and "小区24" not in first and "Page 1 of 2" in first
    second = text_of(client.get("/compounds?page=2&lang=en"))
    assert "小区24" in second


def _many_compounds(make_street, make_community, make_compound, n):
    street = make_street()
    communities = [make_community(street=street) for _ in range(3)]
    for i in range(n):
        make_compound(community=communities[i % 3], name=f"小区{i:03d}")
    return street, communities


def test_query_count_of_lists_does_not_grow(
    client, make_street, make_community, make_compound, count_queries
):
    street, communities = _many_compounds(make_street, make_community, make_compound, 10)
    pages = ["/", "/compounds", f"/streets/{street.code}", f"/communities/{communities[0].code}"]
    small = {}
    for p in pages:
        with count_queries() as q:
            assert client.get(p).status_code == 200
        small[p] = q.count
    _many_compounds(make_street, make_community, make_compound, 190)
    street2 = street  # same street grows too
    for i in range(190):
        make_compound(community=communities[i % 3], name=f"大区{i:03d}")
    for p in pages:
        with count_queries() as q:
            assert client.get(p).status_code == 200
        assert q.count == small[p], (p, q.statements)
    assert street2


def test_query_count_of_compound_page_constant(client, make_compound, count_queries):
    small = make_compound(buildings=1, units_per_building=4)
    big = make_compound(buildings=10, units_per_building=20)
    counts = []
    for c in (small, big):
        with count_queries() as q:
            assert client.get(f"/compounds/{c.code}").status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1]
    assert counts[0] <= 5


def test_public_pages_never_show_phones_or_full_owner_names(
    client, make_compound, make_user, make_claim
):
    from tests.factories import first_unit

    compound = make_compound(buildings=1, units_per_building=4)
    unit = first_unit(compound)
    make_claim(make_user(phone="13612345678", name="张建国"), unit, status="verified")
    for path in [
        "/",
        f"/compounds/{compound.code}",
        "/compounds",
        f"/compounds/{compound.code}/fees",
    ]:
        text = text_of(client.get(path))
        assert "13612345678" not in text and unit.owner.phone not in text
        assert unit.owner.name not in text and "张建国" not in text


def test_proxy_hops_trust_forwarded_for(db_url):
    from portal import create_app

    app = create_app(
        {"PORTAL_ENV": "testing", "SECRET_KEY": "x", "DATABASE_URL": db_url, "PROXY_HOPS": 1}
    )

    @app.get("/ip-test")
    def ip_test():
        from flask import request

        return request.remote_addr

    resp = app.test_client().get("/ip-test", headers={"X-Forwarded-For": "203.0.113.7"})
    assert resp.get_data(as_text=True) == "203.0.113.7"
