"""The Content Security Policy is in force, and the console watch that the journeys rely on
(``console.assert_no_csp_violations()``) really sees a violation when there is one."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_csp_blocks_inline_script_and_the_console_watch_notices(
    live_server, new_page, place, console
):
    page = new_page()
    resp = page.goto(live_server(f"/compounds/{place.compound.code}"))
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    # htmx (an external, same-origin script) did load under the policy …
    page.wait_for_function("() => typeof window.htmx === 'object'")
    console.assert_no_csp_violations()

    # … while an injected inline script is refused, and the refusal reaches the console log.
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(
            """() => {
              const s = document.createElement('script');
              s.textContent = 'window.__inline_ran = true';
              document.body.appendChild(s);
            }"""
        )
    assert page.evaluate("window.__inline_ran === undefined"), "an inline script ran"
    assert console.csp_violations(), console.messages
    with pytest.raises(AssertionError, match="Content Security Policy"):
        console.assert_no_csp_violations()
