"""Browser journeys on a 360-px phone, each person in a fresh browser context: a co-operative
applies and the platform admin approves it; a manager invites a farmer by phone and she joins.

SMS codes and links are read from the development outbox (the `sms_outbox` fixture).
"""

import io
import re

import pytest
from PIL import Image, ImageDraw

from accounts.choices import Role
from accounts.models import User
from farms.choices import ApplicationStatus, InvitationStatus
from farms.models import Cooperative, CooperativeApplication, Membership, MembershipInvitation
from tests.e2e.conftest import fits_the_screen

pytestmark = pytest.mark.django_db(transaction=True)

APPLICANT_NUMBER = "13912340020"
FARMER_NUMBER = "13712340007"


def licence_file(tmp_path):
    image = Image.new("RGB", (900, 640), (250, 247, 238))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 880, 620), outline=(170, 40, 40), width=10)
    draw.ellipse((640, 400, 820, 580), outline=(200, 30, 30), width=8)
    path = tmp_path / "licence.png"
    out = io.BytesIO()
    image.save(out, format="PNG")
    path.write_bytes(out.getvalue())
    return str(path)


def sign_up(page, sms_outbox, *, number: str, name: str) -> None:
    """On the sign-up page: ask for a code, read it from the outbox, fill in and sign up."""
    if not page.input_value("#id_phone"):
        page.fill("#id_phone", number)
    page.click("[data-testid=send-code]")
    page.wait_for_selector("[data-testid=code-sent]")
    page.fill("#id_code", sms_outbox.last_code(number))
    page.fill("#id_display_name", name)
    page.fill("#id_password", "green-fields-2026")
    page.check("#id_agree")
    page.click("[data-testid=sign-up]")


def test_a_cooperative_applies_and_the_admin_approves(
    phone, phone_as, live_server, sms_outbox, admin_user, output_dir, tmp_path
):
    # She finds the way in from the sign-in page and signs up.
    applicant = phone(locale="en-US")
    applicant.goto(f"{live_server.url}/sign-in/")
    applicant.click("[data-testid=register-cooperative-link]")
    applicant.wait_for_url(re.compile(r".*/sign-up/.*"))
    sign_up(applicant, sms_outbox, number=APPLICANT_NUMBER, name="何丽华")
    applicant.wait_for_url(f"{live_server.url}/cooperatives/apply/")

    applicant.fill("#id_name", "青州市绿源蔬菜专业合作社")
    applicant.fill("#id_registration_code", "93370781MA3C4XK27N")  # a typo in the check
    applicant.fill("#id_province", "山东省")
    applicant.fill("#id_region", "潍坊市青州市")
    applicant.set_input_files("#id_licence", licence_file(tmp_path))
    applicant.click("[data-testid=application-form] button[type=submit]")
    error = applicant.locator(".field:has(#id_registration_code) .errorlist")
    assert "check character is wrong" in error.inner_text()
    assert not CooperativeApplication.objects.exists()
    applicant.screenshot(path=output_dir / "1-bad-check-character.png", full_page=True)

    applicant.fill("#id_registration_code", "93370781MA3C4XK27M")
    applicant.set_input_files("#id_licence", licence_file(tmp_path))
    applicant.click("[data-testid=application-form] button[type=submit]")
    applicant.wait_for_url(re.compile(r".*/cooperatives/applications/\d+/$"))
    assert applicant.locator("[data-testid=application-status]").inner_text() == (
        "Waiting for review"
    )
    assert fits_the_screen(applicant)
    applicant.screenshot(path=output_dir / "2-sent.png", full_page=True)
    application = CooperativeApplication.objects.get()
    assert application.applicant.phone == f"+86{APPLICANT_NUMBER}"

    # The platform admin sees it with its licence and asks for a change.
    admin = phone_as(admin_user)
    admin.goto(f"{live_server.url}/cooperatives/applications/")
    admin.click(f"text={application.name}")
    licence = admin.locator("[data-testid=licence]")
    licence.scroll_into_view_if_needed()
    assert admin.evaluate("document.querySelector('[data-testid=licence]').naturalWidth") > 0
    admin.check("input[name=decision][value=return]")
    admin.fill("#id_reason", "请写明所在乡镇。")
    admin.screenshot(path=output_dir / "3-admin-review.png", full_page=True)
    admin.click("[data-testid=review-form] button[type=submit]")
    admin.wait_for_url(f"{live_server.url}/cooperatives/applications/")
    assert "请写明所在乡镇" in sms_outbox.messages_to(APPLICANT_NUMBER)[-1]

    # She reads why, corrects the county and sends it again.
    applicant.reload()
    assert "请写明所在乡镇。" in applicant.locator("[data-testid=application-reason]").inner_text()
    applicant.fill("#id_region", "潍坊市青州市谭坊镇")
    applicant.click("[data-testid=application-form] button[type=submit]")
    applicant.wait_for_selector("text=Your application was sent again for review.")
    applicant.screenshot(path=output_dir / "4-corrected.png", full_page=True)

    # The admin approves: the co-operative exists, with her as its manager.
    admin.goto(f"{live_server.url}/cooperatives/applications/{application.pk}/")
    admin.check("input[name=decision][value=approve]")
    admin.click("[data-testid=review-form] button[type=submit]")
    admin.wait_for_selector("text=was created, with the applicant as its manager")
    admin.screenshot(path=output_dir / "5-approved.png", full_page=True)

    cooperative = Cooperative.objects.get(registration_code="93370781MA3C4XK27M")
    assert cooperative.region == "潍坊市青州市谭坊镇"
    manager = User.objects.get(phone=f"+86{APPLICANT_NUMBER}")
    assert manager.role == Role.COOPERATIVE_MANAGER
    assert Membership.objects.get(user=manager, is_manager=True).cooperative == cooperative
    assert "was approved" in sms_outbox.messages_to(APPLICANT_NUMBER)[-1]

    # Her next page is a manager's: the members page of her co-operative.
    applicant.goto(f"{live_server.url}/members/")
    assert applicant.locator("h1").inner_text() == cooperative.name
    assert fits_the_screen(applicant)
    applicant.screenshot(path=output_dir / "6-manager.png", full_page=True)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED


def test_a_manager_invites_a_farmer_who_joins(
    phone, phone_as, live_server, sms_outbox, manager, cooperative, output_dir
):
    users_before = User.objects.count()

    office = phone_as(manager)
    office.goto(f"{live_server.url}/members/")
    office.fill("#id_phone", "137 1234 0007")
    office.click("form.card button[type=submit]")
    office.wait_for_selector("text=An invitation was sent to")
    assert office.locator("[data-testid=invitations]").inner_text().count("+8613712340007") == 1
    office.screenshot(path=output_dir / "1-invited.png", full_page=True)
    assert User.objects.count() == users_before  # no account is made for her

    text = sms_outbox.messages_to(FARMER_NUMBER)[-1]
    path = re.search(r"https?://[^/\s]+(/join/[\w-]+/)", text).group(1)

    # She opens the link on her phone, signed out: sign up with this number.
    farmer = phone(locale="en-US")
    farmer.goto(f"{live_server.url}{path}")
    assert cooperative.name in farmer.locator("h1").inner_text()
    farmer.screenshot(path=output_dir / "2-link.png", full_page=True)
    farmer.click("[data-testid=join-sign-up]")
    farmer.wait_for_url(re.compile(r".*/sign-up/.*"))
    assert farmer.input_value("#id_phone") == FARMER_NUMBER
    sign_up(farmer, sms_outbox, number=FARMER_NUMBER, name="赵春梅")

    # Back on the invitation, signed in with that number: she accepts.
    farmer.wait_for_url(f"{live_server.url}{path}")
    farmer.screenshot(path=output_dir / "3-accept.png", full_page=True)
    farmer.click("button[value=accept]")
    farmer.wait_for_url(f"{live_server.url}/cooperative/")
    assert farmer.locator("[data-testid=cooperative-name]").inner_text() == cooperative.name
    assert fits_the_screen(farmer)
    farmer.screenshot(path=output_dir / "4-member.png", full_page=True)

    joined = User.objects.get(phone=f"+86{FARMER_NUMBER}")
    assert joined.role == Role.FARMER
    assert Membership.objects.get(user=joined).cooperative == cooperative
    assert MembershipInvitation.objects.get().status == InvitationStatus.ACCEPTED

    # The manager sees her among the members.
    office.goto(f"{live_server.url}/members/")
    assert "赵春梅" in office.locator("[data-testid=members]").inner_text()
    office.screenshot(path=output_dir / "5-members.png", full_page=True)
