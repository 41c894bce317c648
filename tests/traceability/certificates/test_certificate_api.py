"""The certificates API: issue with the prefill, refusals on their fields with nothing saved,
revoke, label downloads; every role sees only its own (404 for others' certificates, 403 for
roles with no certificates)."""

from decimal import Decimal

import pytest

from traceability.choices import CertificateBasis
from traceability.codes import grouped, trace_url
from traceability.models import Certificate

pytestmark = pytest.mark.django_db

LIST = "/api/trace/certificates/"


def detail(certificate) -> str:
    return f"{LIST}{certificate.pk}/"


def body(lot, **changes) -> dict:
    data = {
        "lot": lot.pk,
        "quantity_kg": "25.5",
        "no_banned_substances": True,
        "residues_within_limits": True,
        "truthful": True,
        "basis": CertificateBasis.SELF_COMMITMENT,
    }
    data.update(changes)
    return data


def test_farmer_issues_a_certificate_prefilled_from_the_lot(api_as, member, lot):
    response = api_as(member).post(LIST, body(lot), format="json")

    assert response.status_code == 201, response.data
    certificate = Certificate.objects.get()
    data = response.data
    assert data["id"] == certificate.pk
    assert data["quantity_kg"] == "25.500"
    assert data["product_name"] == "番茄 Tomato"
    assert data["producer_name"] == lot.farm.cooperative.name
    assert data["producer_contact"] == member.phone
    assert data["code"] == grouped(certificate.trace_code.code)
    assert data["trace_url"] == trace_url(code=certificate.trace_code.code)
    assert data["is_valid"] is True
    assert data["label_pdf_url"] == f"{LIST}{certificate.pk}/label.pdf"
    assert data["qr_png_url"] == f"{LIST}{certificate.pk}/qr.png"


def test_given_texts_override_the_prefill(api_as, member, lot):
    response = api_as(member).post(
        LIST, body(lot, product_name="樱桃番茄", origin="寿光市孙家集街道"), format="json"
    )

    assert response.data["product_name"] == "樱桃番茄"
    assert response.data["origin"] == "寿光市孙家集街道"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity_kg": "100.5"}, "quantity_kg"),
        ({"quantity_kg": "0"}, "quantity_kg"),
        ({"truthful": False}, "truthful"),
        ({"basis": CertificateBasis.COMMISSIONED_TEST}, "test_report_number"),
        ({"basis": "hearsay"}, "basis"),
        ({"issued_on": "2099-01-01"}, "issued_on"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_saved(api_as, member, lot, changes, field):
    response = api_as(member).post(LIST, body(lot, **changes), format="json")

    assert response.status_code == 400
    assert field in response.data
    assert not Certificate.objects.exists()


def test_someone_elses_lot_is_a_field_error_without_confirming_it(api_as, member, other_lot):
    response = api_as(member).post(LIST, body(other_lot), format="json")
    unknown = api_as(member).post(LIST, {**body(other_lot), "lot": 999999}, format="json")

    assert response.status_code == unknown.status_code == 400
    assert response.data == unknown.data
    assert list(response.data) == ["lot"]
    assert not Certificate.objects.exists()


def test_platform_admin_may_read_but_not_issue(api_as, admin_user, member, lot, issue):
    certificate = issue(lot=lot, by=member)
    client = api_as(admin_user)

    assert client.get(detail(certificate)).status_code == 200
    response = client.post(LIST, body(lot, quantity_kg="1"), format="json")
    assert response.status_code == 400
    assert list(response.data) == ["lot"]


def test_revoke_frees_the_quantity(api_as, member, lot, issue):
    certificate = issue(lot=lot, by=member, quantity_kg="100")
    client = api_as(member)

    revoked = client.post(f"{detail(certificate)}revoke/", {"reason": "Wrong"}, format="json")
    again = client.post(f"{detail(certificate)}revoke/", {"reason": "Wrong"}, format="json")
    reissued = client.post(LIST, body(lot, quantity_kg="100"), format="json")

    assert revoked.status_code == 200
    assert revoked.data["is_valid"] is False
    assert revoked.data["revoke_reason"] == "Wrong"
    assert again.status_code == 409
    assert reissued.status_code == 201


def test_revoke_needs_a_reason(api_as, member, lot, issue):
    certificate = issue(lot=lot, by=member)

    response = api_as(member).post(f"{detail(certificate)}revoke/", {}, format="json")

    assert response.status_code == 400
    assert "reason" in response.data


def test_list_filters_by_lot_and_validity(api_as, member, lot, issue):
    first = issue(lot=lot, by=member, quantity_kg="10")
    second = issue(lot=lot, by=member, quantity_kg="10")
    client = api_as(member)
    client.post(f"{detail(first)}revoke/", {"reason": "Wrong"}, format="json")

    valid = client.get(LIST, {"lot": lot.pk, "is_valid": "true"}).data["results"]
    every = client.get(LIST, {"lot": lot.pk}).data["results"]

    assert [row["id"] for row in valid] == [second.pk]
    assert {row["id"] for row in every} == {first.pk, second.pk}


def test_label_pdf_and_qr_png_download(api_as, member, lot, issue):
    certificate = issue(lot=lot, by=member)
    client = api_as(member)

    label = client.get(f"{detail(certificate)}label.pdf")
    sheet = client.get(f"{detail(certificate)}label.pdf", {"layout": "a4"})
    png = client.get(f"{detail(certificate)}qr.png")
    bad = client.get(f"{detail(certificate)}label.pdf", {"layout": "poster"})
    too_many = client.get(f"{detail(certificate)}label.pdf", {"layout": "a4", "copies": "1000"})

    assert label.status_code == sheet.status_code == png.status_code == 200
    assert label["Content-Type"] == sheet["Content-Type"] == "application/pdf"
    assert b"/MediaBox [ 0 0 283.4646 198.4252 ]" in label.content
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in sheet.content
    assert png["Content-Type"] == "image/png"
    assert bad.status_code == too_many.status_code == 400
    assert "layout" in bad.data
    assert "copies" in too_many.data


def test_manager_sees_her_cooperatives_certificates(api_as, manager, member, lot, issue):
    certificate = issue(lot=lot, by=member)

    response = api_as(manager).get(LIST)

    assert [row["id"] for row in response.data["results"]] == [certificate.pk]


@pytest.mark.parametrize("stranger_fixture", ["other_manager", "other_farmer"])
def test_other_farmers_and_managers_get_404(api_as, request, member, lot, issue, stranger_fixture):
    certificate = issue(lot=lot, by=member)
    client = api_as(request.getfixturevalue(stranger_fixture))

    assert client.get(LIST).data["results"] == []
    for path in (
        detail(certificate),
        f"{detail(certificate)}label.pdf",
        f"{detail(certificate)}qr.png",
    ):
        assert client.get(path).status_code == 404, path
    revoke = client.post(f"{detail(certificate)}revoke/", {"reason": "x"}, format="json")
    assert revoke.status_code == 404
    certificate.refresh_from_db()
    assert certificate.is_valid


@pytest.mark.parametrize(
    "role_fixture",
    [
        "buyer",
        "market_operator",
        "warehouse_manager",
        "courier",
        "coldchain_controller",
        "consumer",
    ],
)
def test_roles_without_certificates_get_403(api_as, request, member, lot, issue, role_fixture):
    certificate = issue(lot=lot, by=member)
    client = api_as(request.getfixturevalue(role_fixture))

    assert client.get(LIST).status_code == 403
    assert client.get(detail(certificate)).status_code == 403
    assert client.get(f"{detail(certificate)}label.pdf").status_code == 403
    assert client.get(f"{detail(certificate)}qr.png").status_code == 403
    assert client.post(LIST, body(lot), format="json").status_code == 403
    assert not Certificate.objects.exclude(pk=certificate.pk).exists()


def test_anonymous_gets_401(api_client, member, lot, issue):
    certificate = issue(lot=lot, by=member)

    assert api_client.get(LIST).status_code == 401
    assert api_client.get(f"{detail(certificate)}label.pdf").status_code == 401


def test_list_takes_a_fixed_number_of_queries(
    api_as, member, lot, issue, django_assert_max_num_queries
):
    for _ in range(5):
        issue(lot=lot, by=member, quantity_kg="5")
    client = api_as(member)

    with django_assert_max_num_queries(4):
        response = client.get(LIST)

    assert len(response.data["results"]) == 5
    assert Decimal(response.data["results"][0]["quantity_kg"]) == Decimal("5")


def test_a_retry_with_the_same_key_returns_the_first_certificate(api_as, member, lot):
    client = api_as(member)

    first = client.post(LIST, body(lot), format="json", headers={"Idempotency-Key": "k-1"})
    again = client.post(LIST, body(lot), format="json", headers={"Idempotency-Key": "k-1"})

    assert first.status_code == again.status_code == 201
    assert again.data["id"] == first.data["id"]
    assert Certificate.objects.count() == 1
