"""The farmer's certificate pages: issue from the lot's page with the form prefilled, see
the certificate and download its labels, revoke it; nobody else reaches them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from common.dates import business_today
from traceability.choices import CertificateBasis
from traceability.models import Certificate

pytestmark = pytest.mark.django_db


def form_data(**changes) -> dict:
    data = {
        "quantity_kg": "40",
        "product_name": "番茄 Tomato",
        "origin": "山东省潍坊市寿光市",
        "producer_name": "寿光市鲜丰蔬菜专业合作社",
        "producer_contact": "+8613800138000",
        "issued_on": business_today().isoformat(),
        "no_banned_substances": "on",
        "residues_within_limits": "on",
        "truthful": "on",
        "basis": CertificateBasis.SELF_COMMITMENT,
        "idempotency_key": "form-key",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_lot_page_offers_to_issue_a_certificate(english, member, lot):
    english.force_login(member)

    page = english.get(reverse("farms:lot_detail", args=[lot.pk])).content.decode()

    assert reverse("traceability:certificate_create", args=[lot.pk]) in page
    assert "Issue certificate" in page


def test_form_is_prefilled_from_the_lot_farm_and_cooperative(english, member, lot):
    english.force_login(member)

    response = english.get(reverse("traceability:certificate_create", args=[lot.pk]))

    form = response.context["form"]
    assert form["quantity_kg"].value() == Decimal("100.000")
    assert form["product_name"].value() == "番茄 Tomato"
    assert form["producer_name"].value() == lot.farm.cooperative.name
    assert form["producer_contact"].value() == member.phone
    page = response.content.decode()
    assert 'type="radio"' in page
    assert page.count('type="checkbox"') == 3
    assert "js/traceability/certificates.js" in page


def test_farmer_issues_a_certificate_and_sees_its_downloads(english, member, lot):
    english.force_login(member)

    response = english.post(
        reverse("traceability:certificate_create", args=[lot.pk]), form_data(), follow=True
    )

    certificate = Certificate.objects.get()
    assert certificate.quantity_kg == Decimal("40.000")
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse(
        "traceability:certificate_detail", args=[certificate.pk]
    )
    assert reverse("traceability:certificate_label", args=[certificate.pk]) in page
    assert reverse("traceability:certificate_qr", args=[certificate.pk]) in page
    assert "60.000 kg of the lot left to certify" in page


def test_unticked_commitment_shows_on_the_form_and_saves_nothing(english, member, lot):
    english.force_login(member)

    response = english.post(
        reverse("traceability:certificate_create", args=[lot.pk]), form_data(truthful=None)
    )

    assert response.status_code == 200
    assert response.context["form"].errors["truthful"] == [
        "Tick this commitment: a certificate carries all three."
    ]
    assert not Certificate.objects.exists()


def test_too_much_shows_how_much_is_left(english, member, lot, issue):
    issue(lot=lot, by=member, quantity_kg="90")
    english.force_login(member)

    response = english.post(
        reverse("traceability:certificate_create", args=[lot.pk]), form_data(quantity_kg="20")
    )

    assert response.context["form"].errors["quantity_kg"] == [
        "The lot has 10.000 kg left to certify; you asked for 20.000 kg."
    ]
    assert Certificate.objects.count() == 1


def test_test_basis_without_record_is_refused_on_the_field(english, member, lot):
    english.force_login(member)

    response = english.post(
        reverse("traceability:certificate_create", args=[lot.pk]),
        form_data(basis=CertificateBasis.OWN_TEST),
    )

    assert "test_report_number" in response.context["form"].errors
    assert not Certificate.objects.exists()


def test_farmer_revokes_her_certificate(english, member, lot, issue):
    certificate = issue(lot=lot, by=member)
    english.force_login(member)

    response = english.post(
        reverse("traceability:certificate_revoke", args=[certificate.pk]),
        {"reason": "Weighed wrong"},
        follow=True,
    )

    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert "Revoked" in response.content.decode()


def test_list_shows_her_certificates_only(english, member, lot, other_lot, issue, other_manager):
    mine = issue(lot=lot, by=member)
    theirs = issue(lot=other_lot, by=other_manager)
    english.force_login(member)

    page = english.get(reverse("traceability:certificate_list")).content.decode()

    assert reverse("traceability:certificate_detail", args=[mine.pk]) in page
    assert reverse("traceability:certificate_detail", args=[theirs.pk]) not in page


def test_label_downloads_are_pdfs_of_the_right_size(client, member, lot, issue):
    certificate = issue(lot=lot, by=member)
    client.force_login(member)
    url = reverse("traceability:certificate_label", args=[certificate.pk])

    label = client.get(url, {"layout": "label"})
    sheet = client.get(url, {"layout": "a4", "copies": "12"})
    png = client.get(reverse("traceability:certificate_qr", args=[certificate.pk]))

    assert label["Content-Type"] == "application/pdf"
    assert label.content.startswith(b"%PDF")
    assert b"/MediaBox [ 0 0 283.4646 198.4252 ]" in label.content
    assert "attachment" in label["Content-Disposition"]
    assert sheet.content.count(b"/Type /Page\n") == 2  # 12 labels: 8 + 4
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "name", ["certificate_detail", "certificate_label", "certificate_qr", "certificate_revoke"]
)
def test_others_get_404_for_a_certificate(client, member, lot, issue, other_manager, name):
    certificate = issue(lot=lot, by=member)
    client.force_login(other_manager)
    url = reverse(f"traceability:{name}", args=[certificate.pk])

    response = client.post(url, {"reason": "x"}) if name.endswith("revoke") else client.get(url)

    assert response.status_code == 404
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_another_farmers_lot_form_is_not_found(client, member, other_lot):
    client.force_login(member)

    response = client.get(reverse("traceability:certificate_create", args=[other_lot.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize("role_fixture", ["buyer", "market_operator", "courier", "consumer"])
def test_other_roles_may_not_open_the_certificate_pages(client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))

    response = client.get(reverse("traceability:certificate_list"))

    assert response.status_code == 403


def test_a_form_sent_twice_issues_one_certificate(english, member, lot):
    english.force_login(member)
    url = reverse("traceability:certificate_create", args=[lot.pk])
    key = english.get(url).context["form"]["idempotency_key"].value()

    first = english.post(url, form_data(idempotency_key=key))
    second = english.post(url, form_data(idempotency_key=key))

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Certificate.objects.count() == 1
