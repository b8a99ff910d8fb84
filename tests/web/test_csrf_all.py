"""Every POST route refuses a request without a CSRF token (400, the translated "form expired"
page), as a plain form and as an htmx request, and nothing changes in the database.

The token is checked before any view code runs (Flask-WTF's CSRFProtect), so the user is one the
route would otherwise allow. Exemptions, with their reason:

- ``accounts.set_language`` and ``accounts.set_large_text``: for a visitor (not logged in) they only
  set the visitor's own preference cookie, so that public pages carry no per-visitor token and can
  be cached; for a logged-in user they change the account, and the token is checked in the view.
"""

from __future__ import annotations

from tests.web import security_world
from tests.web.security_world import ROLES, as_user
from tests.web.test_security_audit import (
    FORM,
    POLICIES,
    POST_POLICY,
    _rules,
    fingerprint,
    url_for_rule,
)

app_config = security_world.uploads_config
world = security_world.world

# endpoint -> the roles for whom the route does not check a token, and why (see the docstring)
EXEMPT = {
    "accounts.set_language": {"visitor"},
    "accounts.set_large_text": {"visitor"},
}


def _acting_role(endpoint: str) -> str:
    allowed, _deny = POLICIES[POST_POLICY[endpoint]]
    for role in ROLES[1:]:
        if role in allowed:
            return role
    return "admin"


def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(app, client, world):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    wrong = []
    for rule in _rules(app, "POST"):
        url = url_for_rule(rule, world.ids)
        role = _acting_role(rule.endpoint)
        before = fingerprint()
        for htmx in (False, True):
            as_user(client, world.users[role])
            headers = {"HX-Request": "true"} if htmx else {}
            resp = client.post(url, data=dict(FORM), headers=headers)
            if resp.status_code != 400:
                wrong.append(f"POST {url} as {role} (htmx={htmx}): {resp.status_code}")
            elif (
                htmx is False
                and "csrf" not in resp.get_data(as_text=True).lower()
                and (
                    "表单已过期" not in resp.get_data(as_text=True)
                    and "form expired" not in resp.get_data(as_text=True).lower()
                )
            ):
                wrong.append(f"POST {url}: 400 but not the 'form expired' page")
        if fingerprint() != before:
            wrong.append(f"POST {url} without a token changed the database")
    assert wrong == [], "\n".join(wrong)


def test_a_token_from_another_session_is_refused(app, client, world):
    other = app.test_client()
    with other.session_transaction():
        pass
    import re

    html = other.get("/login").get_data(as_text=True)
    foreign = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    as_user(client, world.users["resident"])
    before = fingerprint()
    url = f"/proposals/{world.ids['proposal']}/comments"
    resp = client.post(url, data={"body": FORM["body"], "csrf_token": foreign})
    assert resp.status_code == 400
    assert fingerprint() == before


def test_exempt_preferences_still_check_the_token_for_a_logged_in_user(client, world):
    for url in ("/prefs/language", "/prefs/large-text"):
        as_user(client, world.users["resident"])
        assert client.post(url, data={"lang": "en", "large_text": "1"}).status_code == 400
        as_user(client, None)
        resp = client.post(url, data={"lang": "en", "large_text": "1"})
        assert resp.status_code == 302  # a visitor sets only their own cookie
    assert set(EXEMPT) == {"accounts.set_language", "accounts.set_large_text"}
    assert all(role == "visitor" for roles in EXEMPT.values() for role in roles)
