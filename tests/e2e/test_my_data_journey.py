"""A consumer on her phone opens My data from her menu, downloads her copy, corrects her
name, is refused deletion while her wallet holds money (the balance shown), withdraws, and
deletes her account; she is signed out."""

from decimal import Decimal

import pytest

from accounts.choices import Role
from accounts.models import User
from settlement.accounts import wallet_of
from settlement.choices import FundingMethod
from settlement.funding import withdraw
from tests.accounts.factories import PASSWORD, UserFactory
from tests.delivery.factories import fund_wallet

from .conftest import fits_the_screen

pytestmark = pytest.mark.django_db(transaction=True)


def test_consumer_sees_downloads_corrects_and_deletes_her_data(phone_as, live_server, output_dir):
    her = UserFactory(role=Role.CONSUMER, display_name="闾丘沁蕾", phone="+8615912345678")
    fund_wallet(her, "12.30")
    page = phone_as(her)

    page.goto(f"{live_server.url}/workspace/")
    page.get_by_role("link", name="My data").first.click()
    page.wait_for_url("**/account/data/")
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "1-my-data.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")

    page.get_by_label("Display name").fill("沁蕾")
    page.get_by_role("button", name="Save corrections").click()
    page.get_by_text("Your details are corrected.").wait_for()

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.locator(".errorlist").get_by_text("¥12.30").wait_for()
    page.screenshot(path=output_dir / "2-refused-with-balance.png", full_page=True)

    withdraw(
        account=wallet_of(her),
        amount=Decimal("12.30"),
        method=FundingMethod.CASH,
        by=her,
        idempotency_key="e2e-withdraw",
    )
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.get_by_text("Your account is deleted.").wait_for()
    page.screenshot(path=output_dir / "3-deleted.png", full_page=True)
    assert User.objects.get(pk=her.pk).username.startswith("deleted-")
