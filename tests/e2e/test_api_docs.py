"""Swagger UI at /api/docs/ runs under the Content-Security-Policy (no inline script or
style): the page lists the API's operations, and the browser refuses nothing (the `phone`
fixture fails the test on any refusal)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_lists_the_operations_under_the_policy(phone, live_server):
    page = phone(locale="en-US")

    response = page.goto(f"{live_server.url}/api/docs/")

    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-summary-path")
    # Swagger UI draws a long API's operations as they scroll into view: read down to the last.
    listed: set[str] = set()
    last = page.locator(".opblock-summary-path >> text=/api/wallet/")
    for _ in range(300):
        listed.update(page.locator(".opblock-summary-path").all_inner_texts())
        if last.count():
            break
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(50)
    assert {"/api/auth/token/", "/api/trace/recalls/", "/api/wallet/"} <= listed
    assert len(listed) > 100
