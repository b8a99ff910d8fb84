from tests.conftest import text_of


def test_home_lists_streets_in_chinese(client, make_compound):
    compound = make_compound(name="和平花园")
    resp = client.get("/")
    assert resp.status_code == 200
    assert compound.community.street.name in text_of(resp)


def test_compound_page_shows_counts(client, make_compound):
    compound = make_compound(name="和平花园", buildings=2, units_per_building=4)
    resp = client.get(f"/compounds/{compound.code}")
    assert resp.status_code == 200
    assert "和平花园" in text_of(resp)
