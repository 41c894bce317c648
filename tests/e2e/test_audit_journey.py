"""Journey 7: a farmer mistypes her password, then signs in; the platform admin finds both
on her phone in the audit log, with the address they came from."""

import pytest

from accounts.choices import Role
from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.conftest import fits_the_screen

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_finds_a_farmers_sign_ins_in_the_audit_log(phone, phone_as, live_server, output_dir):
    farmer = UserFactory(role=Role.FARMER, phone="+8613600136000")
    admin = UserFactory(role=Role.ADMIN)
    page = phone(locale="en-US")
    page.goto(f"{live_server.url}/sign-in/")
    page.fill("#id_username", "136 0013 6000")
    page.fill("#id_password", "not-my-password")
    page.click("button[type=submit]")
    page.fill("#id_username", "136 0013 6000")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/workspace/farmer/")

    audit = phone_as(admin)
    audit.goto(f"{live_server.url}/workspace/")
    audit.click("nav.mainnav a[href='/audit/']")
    audit.click("[data-testid=audit-filters] summary")
    audit.fill("#id_subject", "13600136000")
    audit.click("[data-testid=audit-filters] button[type=submit]")
    audit.wait_for_url(f"{live_server.url}/audit/?**")
    rows = audit.locator("[data-testid=audit-log] tbody tr")
    audit.screenshot(path=output_dir / "audit-log.png", full_page=True)
    assert audit.locator("[data-testid=audit-filters] details").get_attribute("open") is not None

    assert rows.count() == 2
    assert "Signed in" in rows.nth(0).inner_text()
    assert "Sign-in failed" in rows.nth(1).inner_text()
    assert "127.0.0.1" in rows.nth(0).inner_text()
    assert f"#{farmer.pk}" in rows.nth(1).inner_text()
    assert fits_the_screen(audit)
